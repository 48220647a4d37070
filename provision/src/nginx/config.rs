//! nginx's own verdict on its whole configuration (`nginx -t`, `nginx -T`), reloads, and reading
//! who is to blame when it fails.

use std::fmt;
use std::path::PathBuf;

use crate::env::Env;
use crate::process::CommandLine;
use crate::render::NginxVersion;

/// nginx's own words when its configuration fails a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFailure {
    pub words: String,
}

impl ConfigFailure {
    /// The config file nginx blames, if it names one.
    pub fn blamed_file(&self) -> Option<PathBuf> {
        blamed_file(&self.words)
    }

    /// Whether the failure is about our own site: nginx blames one of our files, or our
    /// certificate is missing (deleted behind dtops' back while phase 2 referenced it). Ours to
    /// repair; anything else is another tenant's to fix.
    pub fn is_ours(&self, env: &Env) -> bool {
        let site = env.site;
        let ours = [
            site.nginx.site_file.as_path().to_path_buf(),
            site.nginx.enabled_link.as_path().to_path_buf(),
            site.nginx_http_include(),
        ];
        let blamed = self.blamed_file();
        let live = env.host.path(&site.cert_live_dir()).display().to_string();
        ours.iter()
            .any(|p| blamed.as_deref() == Some(env.host.path(p).as_path()))
            || (blamed.is_none() && self.words.contains(&format!("{live}/")))
    }
}

impl fmt::Display for ConfigFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words)
    }
}

fn nginx(env: &Env) -> CommandLine {
    CommandLine::new(&env.site.commands.nginx)
}

/// `nginx -v`.
pub fn version(env: &Env) -> anyhow::Result<NginxVersion> {
    let out = env.host.run(&nginx(env).arg("-v"))?;
    let text = format!("{}{}", out.stderr, out.stdout);
    NginxVersion::parse(&text)
        .ok_or_else(|| anyhow::anyhow!("cannot read nginx's version from `{}`", text.trim()))
}

/// `nginx -t`: `Ok` when the whole configuration passes, else nginx's own words.
pub fn test(env: &Env) -> anyhow::Result<Result<(), ConfigFailure>> {
    let out = env.host.probe(&nginx(env).arg("-t"))?;
    Ok(if out.success {
        Ok(())
    } else {
        Err(nginx_words(&out.stderr, &out.stdout))
    })
}

/// `nginx -T` (test and dump): the dump, or nginx's own words.
pub fn dump(env: &Env) -> anyhow::Result<Result<String, ConfigFailure>> {
    let out = env.host.probe(&nginx(env).arg("-T"))?;
    Ok(if out.success {
        Ok(out.stdout)
    } else {
        Err(nginx_words(&out.stderr, &out.stdout))
    })
}

/// nginx's messages without the final "test failed" line's noise.
pub(crate) fn nginx_words(stderr: &str, stdout: &str) -> ConfigFailure {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    ConfigFailure {
        words: text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// The config file nginx blames (`... in /etc/nginx/sites-enabled/x:12`), if it names one.
pub fn blamed_file(message: &str) -> Option<PathBuf> {
    message.lines().find_map(|line| {
        let at = line.rfind(" in /")?;
        let rest = &line[at + 4..];
        let path = match rest.rfind(':') {
            Some(colon) if rest[colon + 1..].bytes().all(|b| b.is_ascii_digit()) => &rest[..colon],
            _ => rest,
        };
        Some(PathBuf::from(path))
    })
}

/// Tests, then reloads through site.toml's `commands.reload_nginx`. A HUP with a failing
/// configuration is accepted silently by nginx (it keeps the old one), so test first.
pub fn reload(env: &Env) -> anyhow::Result<()> {
    if let Err(words) = test(env)? {
        anyhow::bail!("nginx -t fails, so nginx was not reloaded:\n{words}");
    }
    env.host
        .run(&CommandLine::new(&env.site.commands.reload_nginx))
        .map_err(|e| anyhow::anyhow!("{e}\nis nginx running? (`systemctl status nginx`)"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::nginx::config::*;

    #[test]
    fn the_blamed_file_is_read_from_nginx_messages() {
        let msg = "nginx: [emerg] unknown directive \"bogus\" in /etc/nginx/sites-enabled/x:3\n\
                   nginx: configuration file /etc/nginx/nginx.conf test failed";
        assert_eq!(
            blamed_file(msg),
            Some(PathBuf::from("/etc/nginx/sites-enabled/x"))
        );
        let msg =
            "nginx: [emerg] cannot load certificate \"/etc/letsencrypt/live/a/fullchain.pem\"";
        assert_eq!(blamed_file(msg), None);
    }
}
