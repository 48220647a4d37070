//! A private OpenSSH server on 127.0.0.1 playing the box's sshd (Debian's openssh-server): its
//! own throwaway host key, config, authorized keys and log in a temp dir, never the machine's
//! /etc/ssh or anyone's ~/.ssh. Clients get `-F` configs (`DTOPS_SSH_CONFIG`) naming the server
//! `box`: one with the authorized key, one with a key it does not know, one whose known_hosts
//! holds another host key, one that knows no host key at all. Root logs in with a key
//! (`PermitRootLogin prohibit-password`); `ThrowawayUser` is an account with no sudo rights.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, require_package};

const SSHD: &str = "/usr/sbin/sshd";

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

/// The client configurations (files for `ssh -F`), each naming the server `box`.
pub enum Client {
    /// The authorized key, the server's host key known.
    Good,
    /// A key the server was never told about.
    WrongKey,
    /// The authorized key, but known_hosts holds another key for the server.
    ChangedHostKey,
    /// The authorized key, and no host key known.
    UnknownHost,
}

impl Sshd {
    /// Starts the server; panics with its log when it does not come up.
    pub fn start() -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: scripts/test installs openssh-server (apt-get install -y \
             openssh-server); these tests never pass without it"
        );
        require_package("ssh", "openssh-client");
        require_package("ssh-keygen", "openssh-client");
        require_package("sudo", "sudo");
        assert!(
            is_root(),
            "the SSH tests run sshd, sudo and a throwaway account: run them as root (as CI does)"
        );
        // sshd's privilege-separation directory (the package's service creates it at boot).
        std::fs::create_dir_all("/run/sshd").unwrap();

        let dir = tempfile::tempdir().unwrap();
        // The throwaway account reads its authorized keys from here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = |name: &str| dir.path().join(name);
        for key in ["host_key", "other_host_key", "client_key", "wrong_key"] {
            keygen(&path(key));
        }
        std::fs::create_dir(path("authorized_keys")).unwrap();
        std::fs::set_permissions(
            path("authorized_keys"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let port = free_port();
        std::fs::write(
            path("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {pid}\n\
                 AuthorizedKeysFile {keys}/%u\nStrictModes no\n\
                 PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 AllowTcpForwarding yes\nAcceptEnv LANG LC_*\nX11Forwarding no\nPrintMotd no\n\
                 LogLevel VERBOSE\n",
                host_key = path("host_key").display(),
                pid = path("sshd.pid").display(),
                keys = path("authorized_keys").display(),
            ),
        )
        .unwrap();
        let client_pub = std::fs::read_to_string(path("client_key.pub")).unwrap();
        std::fs::write(path("authorized_keys/root"), &client_pub).unwrap();
        let host_pub = std::fs::read_to_string(path("host_key.pub")).unwrap();
        let other_pub = std::fs::read_to_string(path("other_host_key.pub")).unwrap();
        std::fs::write(path("known_hosts"), format!("box-test {host_pub}")).unwrap();
        std::fs::write(path("changed_known_hosts"), format!("box-test {other_pub}")).unwrap();
        std::fs::write(path("empty_known_hosts"), "").unwrap();
        for (name, key, known) in [
            ("good.conf", "client_key", "known_hosts"),
            ("wrong_key.conf", "wrong_key", "known_hosts"),
            ("changed_host.conf", "client_key", "changed_known_hosts"),
            ("unknown_host.conf", "client_key", "empty_known_hosts"),
        ] {
            std::fs::write(
                path(name),
                format!(
                    "Host box\n  HostName 127.0.0.1\n  Port {port}\n  HostKeyAlias box-test\n  \
                     IdentityFile {key}\n  IdentitiesOnly yes\n  IdentityAgent none\n  \
                     UserKnownHostsFile {known}\n  GlobalKnownHostsFile /dev/null\n  \
                     CheckHostIP no\n  StrictHostKeyChecking yes\n  SendEnv LC_ALL\n",
                    key = path(key).display(),
                    known = path(known).display(),
                ),
            )
            .unwrap();
        }
        let mut sshd = Sshd {
            dir,
            port,
            child: None,
        };
        sshd.resume();
        sshd
    }

    /// The `-F` file for `client`.
    pub fn config(&self, client: Client) -> PathBuf {
        self.dir.path().join(match client {
            Client::Good => "good.conf",
            Client::WrongKey => "wrong_key.conf",
            Client::ChangedHostKey => "changed_host.conf",
            Client::UnknownHost => "unknown_host.conf",
        })
    }

    /// Lets `user` log in with the authorized client key.
    pub fn authorize(&self, user: &str) {
        let key = self.dir.path().join("client_key.pub");
        let file = self.dir.path().join("authorized_keys").join(user);
        std::fs::copy(key, &file).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    /// Stops the server (a box whose sshd is down); `resume` starts it again.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn resume(&mut self) {
        let log = self.dir.path().join("sshd.log");
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-f")
            .arg(self.dir.path().join("sshd_config"))
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on 127.0.0.1:{}: {}",
                self.port,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What sshd logged (for a failing assertion's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The processes whose command line mentions `needle` (e.g. a test's own `-F` file): an ssh
/// left running after dtops ended would show here.
pub fn processes_mentioning(needle: &Path) -> Vec<String> {
    let needle = needle.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (text.contains(&needle) && super::process_alive(pid)).then(|| format!("{pid}: {text}"))
        })
        .collect()
}

/// An account with a login shell and no sudo rights (`sudo -n` asks it for a password), removed
/// on drop.
pub struct ThrowawayUser {
    pub name: String,
}

impl ThrowawayUser {
    pub fn create() -> ThrowawayUser {
        require_package("useradd", "passwd");
        let name = format!("dtops-ssh-{}", std::process::id());
        let status = Command::new("useradd")
            .args(["--no-create-home", "--home-dir", "/", "--shell", "/bin/sh"])
            .arg(&name)
            .status()
            .unwrap();
        assert!(status.success(), "useradd {name}");
        // "*": no password, but not a locked account (sshd refuses a locked one's key login).
        let status = Command::new("usermod")
            .args(["-p", "*", &name])
            .status()
            .unwrap();
        assert!(status.success(), "usermod {name}");
        ThrowawayUser { name }
    }
}

impl Drop for ThrowawayUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).status();
    }
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "dtops-test", "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen: {out:?}");
}

fn is_root() -> bool {
    // The id of the owner of /proc/self: this process' effective user.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1)
        == 0
}
