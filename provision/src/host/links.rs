//! Symbolic links (nginx's sites-enabled/NAME -> sites-available/NAME). In a sandbox the target
//! is relocated too, so the link works for a program that reads the sandbox (a private nginx).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::sandbox::Host;

impl Host {
    /// Where the symlink at `real` points (as stored); `None` when there is no symlink there.
    pub fn link_target(&self, real: &Path) -> io::Result<Option<PathBuf>> {
        match fs::read_link(self.path(real)) {
            Ok(target) => Ok(Some(target)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            // Something that is not a symlink (EINVAL): report it as no link.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Makes `real` a symlink to the host path `target_real` (relocated in a sandbox),
    /// replacing whatever is at `real` in one rename.
    pub fn symlink_atomic(&self, real: &Path, target_real: &Path) -> io::Result<()> {
        self.symlink_to(real, &self.path(target_real))
    }

    /// Makes `real` a symlink whose stored target is exactly `stored` (to put one back).
    pub fn symlink_to(&self, real: &Path, stored: &Path) -> io::Result<()> {
        let link = self.path(real);
        let name = link.file_name().unwrap_or_default().to_string_lossy();
        let temp = link.with_file_name(format!(".{name}.dtops-{}", std::process::id()));
        let _ = fs::remove_file(&temp);
        std::os::unix::fs::symlink(stored, &temp)
            .and_then(|()| fs::rename(&temp, &link))
            .inspect_err(|_| {
                let _ = fs::remove_file(&temp);
            })
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", real.display())))
    }
}

#[cfg(test)]
mod tests {
    use crate::host::links::*;

    #[test]
    fn links_point_at_the_relocated_target_and_replace_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let host = Host::new(Some(dir.path().to_path_buf()));
        let link = Path::new("/etc/nginx/sites-enabled/app");
        let target = Path::new("/etc/nginx/sites-available/app");
        host.create_parents(link).unwrap();
        assert_eq!(host.link_target(link).unwrap(), None);
        host.symlink_atomic(link, target).unwrap();
        assert_eq!(host.link_target(link).unwrap(), Some(host.path(target)));
        host.symlink_atomic(link, Path::new("/elsewhere")).unwrap();
        assert_eq!(
            host.link_target(link).unwrap(),
            Some(dir.path().join("elsewhere"))
        );
        assert_eq!(
            fs::read_dir(dir.path().join("etc/nginx/sites-enabled"))
                .unwrap()
                .count(),
            1
        );
    }
}
