//! Waiting for something on the host to become true, with a deadline: a reload to take effect,
//! the api to answer, a lock to be free, a process to exit.

use std::time::{Duration, Instant};

/// Calls `attempt` until it returns `Ok`, pausing `every` between tries, for at most `wait`
/// (at least one try, even when `wait` is zero). Time up: the last try's error.
///
/// To stop early on an error that waiting cannot fix, return it inside the `Ok`
/// (`Ok(Err(fatal))`) and let the caller unwrap it.
pub fn until<T, E>(
    wait: Duration,
    every: Duration,
    mut attempt: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let deadline = Instant::now() + wait;
    loop {
        match attempt() {
            Ok(done) => return Ok(done),
            Err(last) if Instant::now() >= deadline => return Err(last),
            Err(_) => {
                // A wait is a long command too: the running step shows it is alive.
                crate::progress::tick();
                std::thread::sleep(every)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::poll::until;

    #[test]
    fn retries_until_ok_or_time_is_up() {
        let mut tries = 0;
        let done: Result<u32, u32> = until(Duration::from_secs(5), Duration::ZERO, || {
            tries += 1;
            if tries < 3 {
                Err(tries)
            } else {
                Ok(tries)
            }
        });
        assert_eq!(done, Ok(3));

        let mut tries = 0;
        let gave_up: Result<(), u32> = until(Duration::ZERO, Duration::ZERO, || {
            tries += 1;
            Err(tries)
        });
        assert_eq!(gave_up, Err(1), "one try, then the last error");
    }
}
