//! Local stand-ins (Postmark, Gumroad) reachable from inside a container at 127.0.0.1, the way
//! the api reaches a relay on its own box. The server refuses plain http to anything but a
//! loopback address (app/src/config/outbound_url.rs), and its TLS client trusts only the public
//! roots, so a stand-in on the Docker bridge cannot be used as it is: instead, for every
//! container of the given name (each start has a new network namespace), a listener is bound
//! to 127.0.0.1:PORT *inside* the container's network namespace and every connection it
//! accepts is piped to 127.0.0.1:PORT on this host, where the stand-in listens. The stand-ins
//! keep binding 127.0.0.1 only; the api runs unchanged with loopback URLs.
//!
//! How: a watcher polls the container's PID; for a new one a thread enters its network
//! namespace (setns affects only the calling thread), binds the listeners there, and hands each
//! accepted connection to a thread that stayed in the host's namespace, which connects and
//! copies both ways. A socket keeps the namespace it was made in, whichever thread uses it.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub struct LoopbackRelay {
    stop: Arc<AtomicBool>,
    watcher: Option<JoinHandle<()>>,
}

impl LoopbackRelay {
    /// From now on, in every container named `container` on the engine `engine_env` points
    /// at, 127.0.0.1:`port` reaches this host's 127.0.0.1:`port`, for each of `ports`.
    pub fn start(engine_env: Vec<(String, String)>, container: &str, ports: Vec<u16>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let container = container.to_string();
        let watcher = {
            let stop = stop.clone();
            std::thread::spawn(move || watch(&engine_env, &container, &ports, &stop))
        };
        LoopbackRelay {
            stop,
            watcher: Some(watcher),
        }
    }
}

impl Drop for LoopbackRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

fn container_pid(engine_env: &[(String, String)], container: &str) -> Option<u32> {
    let out = Command::new("/usr/bin/docker")
        .envs(engine_env.iter().map(|(k, v)| (k, v)))
        .args(["inspect", "--format", "{{.State.Pid}}", container])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let pid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    (out.status.success() && pid > 0).then_some(pid)
}

fn watch(engine_env: &[(String, String)], container: &str, ports: &[u16], stop: &Arc<AtomicBool>) {
    let (connections, incoming) = channel::<(TcpStream, u16)>();
    let connector = std::thread::spawn(move || connect_each(incoming));
    let mut relayed = None;
    let mut listeners = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        if let Some(pid) = container_pid(engine_env, container) {
            if relayed != Some(pid) {
                if let Some(handle) = listen_in(pid, ports, connections.clone(), stop) {
                    listeners.push(handle);
                    relayed = Some(pid);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(connections);
    for handle in listeners {
        let _ = handle.join();
    }
    let _ = connector.join();
}

/// Binds the listeners inside `pid`'s network namespace; `None` when the process went away.
fn listen_in(
    pid: u32,
    ports: &[u16],
    connections: Sender<(TcpStream, u16)>,
    stop: &Arc<AtomicBool>,
) -> Option<JoinHandle<()>> {
    let namespace = File::open(format!("/proc/{pid}/ns/net")).ok()?;
    let ports = ports.to_vec();
    let stop = stop.clone();
    let (bound, ready) = channel();
    let handle = std::thread::spawn(move || {
        let entered = rustix::thread::move_into_link_name_space(
            namespace.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        );
        if entered.is_err() {
            let _ = bound.send(false);
            return;
        }
        let listeners: Vec<(TcpListener, u16)> = ports
            .iter()
            .filter_map(|&port| {
                let listener = TcpListener::bind(("127.0.0.1", port)).ok()?;
                listener.set_nonblocking(true).ok()?;
                Some((listener, port))
            })
            .collect();
        let _ = bound.send(listeners.len() == ports.len());
        while !stop.load(Ordering::SeqCst) {
            let mut idle = true;
            for (listener, port) in &listeners {
                match listener.accept() {
                    Ok((stream, _)) => {
                        idle = false;
                        let _ = stream.set_nonblocking(false);
                        if connections.send((stream, *port)).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => {}
                }
            }
            if idle {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    });
    if ready.recv().unwrap_or(false) {
        Some(handle)
    } else {
        let _ = handle.join();
        None
    }
}

/// In the host's namespace: for each accepted connection, the stand-in's, piped both ways.
fn connect_each(incoming: Receiver<(TcpStream, u16)>) {
    for (inside, port) in incoming {
        std::thread::spawn(move || {
            let Ok(outside) = TcpStream::connect(("127.0.0.1", port)) else {
                let _ = inside.shutdown(Shutdown::Both);
                return;
            };
            pipe_both_ways(inside, outside);
        });
    }
}

fn pipe_both_ways(a: TcpStream, b: TcpStream) {
    let (a2, b2) = match (a.try_clone(), b.try_clone()) {
        (Ok(a2), Ok(b2)) => (a2, b2),
        _ => return,
    };
    let forward = std::thread::spawn(move || copy(a, b));
    copy(b2, a2);
    let _ = forward.join();
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
