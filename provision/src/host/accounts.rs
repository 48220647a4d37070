//! System users: looked up in (DIR)/etc/passwd, created with useradd (`--root DIR` in a sandbox).

use std::io;
use std::path::Path;

use super::sandbox::Host;
use crate::process::{CommandLine, ProcessError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub gid: u32,
}

impl Host {
    /// The account named `name`, if it exists.
    pub fn account(&self, name: &str) -> io::Result<Option<Account>> {
        let passwd = match self.read(Path::new("/etc/passwd"))? {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => return Ok(None),
        };
        Ok(passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() < 4 || fields[0] != name {
                return None;
            }
            Some(Account {
                uid: fields[2].parse().ok()?,
                gid: fields[3].parse().ok()?,
            })
        }))
    }

    /// The login shell of `name` (to check it has none).
    pub fn account_shell(&self, name: &str) -> io::Result<Option<String>> {
        let passwd = self
            .read(Path::new("/etc/passwd"))?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Ok(passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() >= 7 && fields[0] == name).then(|| fields[6].to_string())
        }))
    }

    /// A system user and its group: no login shell, no home directory (SETUP-LICENSE-SERVER.md
    /// §4).
    pub fn create_system_user(&self, name: &str) -> Result<(), ProcessError> {
        let mut command = CommandLine::new(["useradd"]);
        if let Some(root) = self.sandbox() {
            command = command.arg("--root").arg(root);
        }
        let command = command.args([
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ]);
        self.run(&command).map(|_| ())
    }

    /// Whether a group named `name` exists in (DIR)/etc/group.
    pub fn group_exists(&self, name: &str) -> io::Result<bool> {
        let group = self
            .read(Path::new("/etc/group"))?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Ok(group.lines().any(|l| l.split(':').next() == Some(name)))
    }

    /// Deletes a system user and then its group (userdel leaves the group when login.defs says
    /// so). Files the user owns stay where they are.
    pub fn remove_system_user(&self, name: &str) -> Result<(), ProcessError> {
        let with_root = |program: &str| {
            let mut command = CommandLine::new([program]);
            if let Some(root) = self.sandbox() {
                command = command.arg("--root").arg(root);
            }
            command
        };
        if self.account(name).ok().flatten().is_some() {
            self.run(&with_root("userdel").arg(name))?;
        }
        if self.group_exists(name).unwrap_or(false) {
            self.run(&with_root("groupdel").arg(name))?;
        }
        Ok(())
    }
}
