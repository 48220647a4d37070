//! The certbot command lines dtops runs, with the site's directories, CA bundle and the deploy
//! hook that makes nginx serve each new certificate.

use std::path::PathBuf;

use crate::env::Env;
use crate::process::CommandLine;

/// A word for a shell command line (certbot runs hooks with the shell).
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn shell_line<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// certbot's `--deploy-hook`, run after every issuance and renewal (certbot.timer's too):
/// under the host-wide nginx lock, test nginx's configuration and reload it, so nginx serves
/// the new certificate. Without it nginx keeps the old one until it expires.
pub fn deploy_hook(env: &Env) -> String {
    let commands = &env.site.commands;
    let mut test = commands.nginx.clone();
    test.push("-t".into());
    let inner = format!(
        "{} && {}",
        shell_line(&test),
        shell_line(&commands.reload_nginx)
    );
    let lock = env.host.path(&env.site.nginx_lock_file());
    shell_line(&[
        "flock".to_string(),
        "-w".into(),
        "120".into(),
        lock.display().to_string(),
        "sh".into(),
        "-c".into(),
        inner,
    ])
}

/// certbot with the site's directories and CA bundle.
fn certbot(env: &Env) -> CommandLine {
    let tls = &env.site.tls;
    let dir = |p: &crate::site::AbsPath| env.host.path(p.as_path());
    let mut command = CommandLine::new(&env.site.commands.certbot);
    command = command
        .arg("--config-dir")
        .arg(dir(&tls.letsencrypt_dir))
        .arg("--work-dir")
        .arg(dir(&tls.work_dir))
        .arg("--logs-dir")
        .arg(dir(&tls.logs_dir));
    if let Some(bundle) = &tls.ca_bundle {
        command = command.env(
            "REQUESTS_CA_BUNDLE",
            env.host.path(bundle.as_path()).display().to_string(),
        );
    }
    command
}

/// `certbot certonly --webroot` for both names, pinned to `cert_name`, with the deploy hook.
pub fn certonly(env: &Env, server: &str, force_renewal: bool) -> CommandLine {
    let site = env.site;
    // certbot's subcommand must come first among the arguments certbot parses.
    let mut command = certbot(env);
    command
        .argv
        .insert(site.commands.certbot.len(), "certonly".into());
    command = command
        .args(["--non-interactive", "--agree-tos", "--no-eff-email"])
        .arg("--email")
        .arg(site.tls.acme_email.as_str())
        .arg("--server")
        .arg(server)
        .arg("--cert-name")
        .arg(site.tls.cert_name.as_str())
        .arg("--webroot")
        .arg("--webroot-path")
        .arg(env.host.path(site.nginx.webroot.as_path()));
    for name in site.tls_names() {
        command = command.arg("--domain").arg(name.as_str());
    }
    command = command.arg("--deploy-hook").arg(deploy_hook(env));
    if force_renewal {
        command = command.arg("--force-renewal");
    }
    // Talking to the CA takes a while: its progress is shown live.
    command.streamed()
}

/// `certbot delete --cert-name NAME`.
pub fn delete(env: &Env) -> CommandLine {
    let mut command = certbot(env);
    command
        .argv
        .insert(env.site.commands.certbot.len(), "delete".into());
    command
        .args(["--non-interactive", "--cert-name"])
        .arg(env.site.tls.cert_name.as_str())
}

/// Where certbot's log is, for messages.
pub fn log_file(env: &Env) -> PathBuf {
    env.site.tls.logs_dir.as_path().join("letsencrypt.log")
}

#[cfg(test)]
mod tests {
    use crate::certbot::command::*;

    #[test]
    fn the_deploy_hook_quotes_for_the_shell() {
        assert_eq!(
            shell_line(&["nginx", "-p", "/a b", "it's"]),
            "nginx -p '/a b' 'it'\\''s'"
        );
    }
}
