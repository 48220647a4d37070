//! nginx's processes, as a blue/green switch needs them: the master (from its pid file) and the
//! workers it runs. A reload that took starts a new generation of workers; the workers from
//! before it finish the requests they hold (still proxied to the old slot) and exit: once they
//! are gone, nothing reaches the old slot any more.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::config::dump;
use crate::env::Env;
use crate::process::CommandLine;

/// nginx's master process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Master(pub u32);

impl Master {
    /// The master of the nginx site.toml's `commands.nginx` runs, or why it cannot be found.
    pub fn find(env: &Env) -> Result<Master, String> {
        let file = pid_file(env);
        // The real path: nginx's own file, never relocated by --root.
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read nginx's pid file {}: {e}", file.display()))?;
        let pid: u32 = text
            .trim()
            .parse()
            .map_err(|_| format!("{} holds {:?}, not a pid", file.display(), text.trim()))?;
        let title = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&title).starts_with("nginx: master process") {
            return Err(format!(
                "process {pid} (from {}) is not nginx's master",
                file.display()
            ));
        }
        Ok(Master(pid))
    }

    /// The processes it runs now (workers, cache managers).
    pub fn children(self) -> BTreeSet<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return BTreeSet::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| parent(*pid) == Some(self.0))
            .collect()
    }
}

/// The parent of `pid`, from /proc/PID/stat (its fourth field, after the `(comm)`).
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// nginx's pid file: the `pid` directive of its configuration, else the path it was built with.
fn pid_file(env: &Env) -> PathBuf {
    if let Ok(Ok(text)) = dump(env) {
        if let Some(path) = pid_directive(&text) {
            return PathBuf::from(path);
        }
    }
    let built = env
        .host
        .probe(&CommandLine::new(&env.site.commands.nginx).arg("-V"))
        .map(|out| format!("{}{}", out.stderr, out.stdout))
        .unwrap_or_default();
    built
        .split_whitespace()
        .find_map(|word| word.strip_prefix("--pid-path="))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/nginx.pid"))
}

/// The path of the first `pid PATH;` line in `nginx -T`'s dump (only the main context has it).
fn pid_directive(dump: &str) -> Option<&str> {
    dump.lines().find_map(|line| {
        let line = line.split('#').next()?.trim();
        let rest = line.strip_prefix("pid")?;
        if !rest.starts_with(char::is_whitespace) {
            return None;
        }
        rest.trim().strip_suffix(';').map(str::trim)
    })
}

#[cfg(test)]
mod tests {
    use crate::nginx::workers::*;

    #[test]
    fn the_pid_directive_is_read_from_the_dump() {
        let dump = "# configuration file /etc/nginx/nginx.conf:\nuser www-data;\n\
                    worker_processes auto;\npid /run/nginx.pid; # the pid\n\
                    pidfile_unrelated on;\n";
        assert_eq!(pid_directive(dump), Some("/run/nginx.pid"));
        assert_eq!(pid_directive("# pid /x;\nuser a;\n"), None);
        assert_eq!(pid_directive("pidx /y;\n"), None);
    }

    #[test]
    fn this_process_parent_is_read_from_proc() {
        let me = std::process::id();
        assert_eq!(parent(me), Some(rustix_parent()));
    }

    fn rustix_parent() -> u32 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}
