//! ssh's, sudo's and the box's failures as one line each, naming the host and what to do. The
//! words matched are OpenSSH's and sudo's own in the C locale (`Ssh` runs ssh with LC_ALL=C).

use crate::site::SshDestination;

/// Seconds ssh waits for the box's SSH port (`ConnectTimeout`): an unreachable host fails within
/// this, and the timeout's message names it.
pub const CONNECT_TIMEOUT_SECONDS: u32 = 10;

/// What dtops was doing over SSH when it failed (the advice depends on it).
#[derive(Debug, Clone, Copy)]
pub enum Doing<'a> {
    /// Only connecting (a probe, a port forward).
    Connect,
    /// `sudo -n cat` of the admin token at this path.
    ReadToken(&'a str),
    /// `sudo -n` of dtops (this program) on the box, without a terminal.
    RunDtops(&'a str),
}

/// The one-line error for a failed ssh run whose standard error was `stderr`.
pub fn failure(host: &SshDestination, stderr: &str, doing: Doing<'_>) -> anyhow::Error {
    anyhow::anyhow!("{}", explain(host, stderr, doing))
}

fn explain(host: &SshDestination, stderr: &str, doing: Doing<'_>) -> String {
    let has = |needle: &str| stderr.contains(needle);
    let user = host
        .as_str()
        .trim_start_matches("ssh://")
        .split_once('@')
        .map_or("YOUR_USER", |(user, _)| user);
    if has("Could not resolve hostname") || has("Name or service not known") {
        return format!(
            "cannot resolve the host name of {host} (DNS): check the name in [admin] ssh / \
             --ssh, or its HostName in ~/.ssh/config"
        );
    }
    if has("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        return format!(
            "the SSH host key of {host} has CHANGED since you last connected (a reinstalled box, \
             or someone in between): check the new key's fingerprint on the box, then \
             `ssh-keygen -R HOST` and `ssh {host}` once by hand to accept it"
        );
    }
    if has("Host key verification failed") || has("host key is known") {
        return format!(
            "the SSH host key of {host} is not in your known_hosts (dtops never accepts one \
             for you): `ssh {host}` once by hand, check the fingerprint, and accept it"
        );
    }
    if has("Permission denied (") {
        return format!(
            "{host} refused your SSH key (publickey authentication failed): `ssh {host}` must log in \
             without a password prompt (your key loaded in ssh-agent or named by IdentityFile \
             in ~/.ssh/config, its public half in the box's ~/.ssh/authorized_keys)"
        );
    }
    if has("Connection refused") {
        return format!(
            "{host} refused the SSH connection (nothing listens on its SSH port): is the box \
             up and sshd running, and is the port right (Port in ~/.ssh/config)?"
        );
    }
    if has("No route to host") || has("Network is unreachable") {
        return format!(
            "{host} is unreachable (no route to host): is the box up, the address right, and \
             your network (or VPN) connected?"
        );
    }
    if has("timed out") {
        return format!(
            "{host} did not answer on its SSH port within {} seconds (connection timed out): is \
             the box up, the address right, and the port open in its firewall?",
            CONNECT_TIMEOUT_SECONDS
        );
    }
    if has("Connection closed by") || has("Connection reset") || has("kex_exchange_identification")
    {
        return format!(
            "{host} closed the SSH connection before logging in (its sshd or a firewall \
             refused this client): `ssh -v {host}` shows where"
        );
    }
    let sudo_wants_password = has("a password is required")
        || has("a terminal is required")
        || has("no tty present")
        || has("not in the sudoers file")
        || has("is not allowed to execute");
    match doing {
        Doing::ReadToken(path) if sudo_wants_password => format!(
            "sudo on {host} wants a password to read the admin token ({path}), and dtops asks \
             with `sudo -n`: allow that one command without one (`sudo visudo -f \
             /etc/sudoers.d/dtops-token` on the box: `{user} ALL=(root) NOPASSWD: /usr/bin/cat \
             -- {path}`), or keep a copy of the token on this machine and pass --token-file \
             FILE (or DATATOOLS_ADMIN_TOKEN)"
        ),
        Doing::RunDtops(program) if sudo_wants_password => format!(
            "sudo on {host} wants a password to run {program}, and this is not a terminal to \
             type it in: run the command from a terminal (ssh -t asks for it there), or allow \
             it without one (`{user} ALL=(root) NOPASSWD: /usr/local/bin/dtops` in \
             /etc/sudoers.d/ on the box)"
        ),
        Doing::ReadToken(path) if has("No such file") => format!(
            "there is no admin token at {path} on {host}: is the site provisioned there, and \
             paths.root in this site.toml the box's? (`ssh {host} sudo dtops status`)"
        ),
        Doing::RunDtops(program) if has("command not found") || has("No such file") => {
            format!(
                "{program} is not installed on {host} where sudo looks (its secure_path): \
                 install it there (SETUP-LICENSE-SERVER.md), or set [admin] dtops in site.toml \
                 to its full path"
            )
        }
        _ => {
            let last = stderr
                .lines()
                .map(str::trim)
                .rfind(|l| !l.is_empty())
                .unwrap_or("no message");
            format!("ssh to {host} failed: {last} (`ssh -v {host}` shows more)")
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ssh::diagnose::*;

    fn host() -> SshDestination {
        "ops@box.example.com".parse().unwrap()
    }

    #[test]
    fn each_failure_is_one_line_naming_the_host_and_what_to_do() {
        let cases = [
            (
                "ssh: connect to host box.example.com port 22: Connection refused\r\n",
                Doing::Connect,
                "refused the SSH connection",
            ),
            (
                "ops@box.example.com: Permission denied (publickey).\r\n",
                Doing::Connect,
                "refused your SSH key",
            ),
            (
                "No ED25519 host key is known for [box]:22 and you have requested strict \
                 checking.\r\nHost key verification failed.\r\n",
                Doing::Connect,
                "not in your known_hosts",
            ),
            (
                "sudo: a password is required\n",
                Doing::ReadToken("/srv/x/secrets/admin_token"),
                "NOPASSWD: /usr/bin/cat -- /srv/x/secrets/admin_token",
            ),
            (
                "sudo: dtops: command not found\n",
                Doing::RunDtops("dtops"),
                "[admin] dtops",
            ),
            (
                "ssh: Could not resolve hostname nowhere: Name or service not known\r\n",
                Doing::Connect,
                "(DNS)",
            ),
            (
                "ssh: connect to host 10.0.0.1 port 22: Connection timed out\r\n",
                Doing::Connect,
                "timed out",
            ),
        ];
        for (stderr, doing, expected) in cases {
            let line = explain(&host(), stderr, doing);
            assert!(line.contains("ops@box.example.com"), "{line}");
            assert!(line.contains(expected), "{expected}: {line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
