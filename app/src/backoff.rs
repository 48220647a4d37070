//! When to try again: exponential backoff with jitter, shared by the background queues (the
//! Gumroad worker, re-issue jobs).

use std::time::Duration;

const BACKOFF_BASE: Duration = Duration::from_secs(30);
const BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// Exponential backoff from 30 s, doubling per attempt, at most an hour, with ±20% jitter so
/// queued work does not all retry at the same instant.
pub(crate) fn backoff(attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
    jitter(BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX))
}

/// `base` ±20%.
pub(crate) fn jitter(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = getrandom::getrandom(&mut byte);
    // 0.8 .. 1.2
    let factor = 0.8 + 0.4 * f64::from(byte[0]) / 255.0;
    base.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use crate::backoff::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let secs = |a| backoff(a).as_secs_f64();
        assert!((24.0..=36.0).contains(&secs(1)), "{}", secs(1));
        assert!((48.0..=72.0).contains(&secs(2)));
        assert!(secs(30) <= 3600.0 * 1.2);
        assert!(secs(30) >= 3600.0 * 0.8);
    }
}
