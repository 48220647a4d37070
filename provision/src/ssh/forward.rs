//! An SSH local port forward to the box's api, open for as long as a command needs it: `ssh -N
//! -L 127.0.0.1:<free port>:127.0.0.1:<ports.api>`, waited for until it accepts and the api
//! answers through it, and closed (ssh killed and reaped) when dropped, on every path out:
//! an error, a panic, Ctrl-C or SIGTERM (`cleanup`).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::cleanup;
use super::client::Ssh;
use super::diagnose::{self, Doing, CONNECT_TIMEOUT_SECONDS};

/// A port forward that is up; dropping it closes it.
#[derive(Debug)]
pub struct Forward {
    handle: Arc<duct::Handle>,
    local: SocketAddr,
    /// ssh's standard error (an unlinked file: nothing stays on disk).
    stderr: File,
}

/// How often a bind clash with another program (which took the free port between dtops
/// picking it and ssh binding it) is retried with another port.
const BIND_ATTEMPTS: usize = 3;

impl Forward {
    /// Forwards a free local port to `127.0.0.1:remote_port` on the box, and checks that the
    /// api answers there.
    pub fn open(ssh: &Ssh, remote_port: u16) -> anyhow::Result<Forward> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start(ssh, remote_port)? {
                Started::Up(forward) => {
                    forward.check_api(ssh, remote_port)?;
                    return Ok(forward);
                }
                Started::PortTaken if attempt < BIND_ATTEMPTS => continue,
                Started::PortTaken => anyhow::bail!(
                    "ssh could not listen on a free local port {BIND_ATTEMPTS} times running \
                     (another program took each first)"
                ),
            }
        }
    }

    /// The forwarded api's base URL on this machine.
    pub fn url(&self) -> String {
        format!("http://{}", self.local)
    }

    fn start(ssh: &Ssh, remote_port: u16) -> anyhow::Result<Started> {
        let local = free_local_port()?;
        let (stderr, for_ssh) = unlinked_file()?;
        let spec = format!("{}:127.0.0.1:{remote_port}", local);
        let handle = ssh
            .expression(
                &[
                    "-N",
                    "-o",
                    "ExitOnForwardFailure=yes",
                    // A multiplexing master of the operator's config would keep the forward
                    // after this ssh is gone: this one has its own connection.
                    "-o",
                    "ControlMaster=no",
                    "-o",
                    "ControlPath=none",
                    "-L",
                    &spec,
                ],
                None,
            )
            .stdin_null()
            .stdout_null()
            .stderr_file(for_ssh)
            .start()
            .with_context(|| "cannot run ssh (Debian/Ubuntu: apt-get install openssh-client)")?;
        let forward = Forward {
            handle: cleanup::register(handle),
            local,
            stderr,
        };
        // Logging in, then the listener: bounded by ssh's own connect timeout plus the login.
        let patience = u64::from(CONNECT_TIMEOUT_SECONDS) + 20;
        let deadline = Instant::now() + Duration::from_secs(patience);
        loop {
            if forward.handle.try_wait()?.is_some() {
                let text = forward.stderr_text();
                if text.contains("Address already in use") {
                    return Ok(Started::PortTaken);
                }
                return Err(diagnose::failure(ssh.destination(), &text, Doing::Connect));
            }
            if TcpStream::connect_timeout(&local, Duration::from_millis(200)).is_ok() {
                return Ok(Started::Up(forward));
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "the SSH port forward to {host} did not come up within {patience} seconds: \
                     `ssh -v {host}` shows where it stops",
                    host = ssh.destination()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One `GET /health` through the forward: any HTTP answer means the api is there. Without
    /// one, ssh's words say why (the box refused the port: the api is down).
    fn check_api(&self, ssh: &Ssh, remote_port: u16) -> anyhow::Result<()> {
        if http_answers(self.local) {
            return Ok(());
        }
        // ssh writes "open failed" as it closes the connection; give it a moment to land.
        let deadline = Instant::now() + Duration::from_secs(2);
        let host = ssh.destination();
        loop {
            let text = self.stderr_text();
            if text.contains("open failed") || text.contains("connect failed") {
                anyhow::bail!(
                    "the api on {host} does not answer on its port 127.0.0.1:{remote_port} (the \
                     SSH connection works; the box refused that port): is it running? `ssh \
                     {host} sudo dtops status` says, `sudo dtops provision` there starts it"
                );
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "nothing answered HTTP through the SSH forward to 127.0.0.1:{remote_port} on \
                     {host}: is ports.api in this site.toml the box's, and the api running? \
                     (`ssh {host} sudo dtops status`)"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr_text(&self) -> String {
        let mut file = &self.stderr;
        let mut text = String::new();
        let _ = file.rewind();
        let _ = file.read_to_string(&mut text);
        text
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        cleanup::close(&self.handle);
    }
}

enum Started {
    Up(Forward),
    PortTaken,
}

fn free_local_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free local port")?;
    Ok(listener.local_addr()?)
}

/// A file for ssh's standard error, already unlinked; one handle to read, one for ssh.
fn unlinked_file() -> anyhow::Result<(File, File)> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut name = [0u8; 8];
    getrandom::getrandom(&mut name).map_err(|e| anyhow::anyhow!("OS random generator: {e}"))?;
    let path = std::env::temp_dir().join(format!("dtops-ssh-{}.err", hex::encode(name)));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let _ = std::fs::remove_file(&path);
    let for_ssh = file.try_clone()?;
    Ok((file, for_ssh))
}

/// Whether an HTTP server answers `GET /health` at `addr` (any status).
fn http_answers(addr: SocketAddr) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(15)))?;
        stream.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut head = [0u8; 8];
        let mut read = 0;
        while read < head.len() {
            match stream.read(&mut head[read..])? {
                0 => break,
                n => read += n,
            }
        }
        Ok(head[..read].starts_with(b"HTTP/1."))
    };
    attempt().unwrap_or(false)
}
