//! certbot's renewal configuration (`renewal/<cert_name>.conf`, configobj syntax): what
//! certbot.timer's renewals will do. dtops insists on three things there: the webroot
//! authenticator, our webroot for both names (phase 2 serves challenges from nothing else), and
//! the deploy hook that tests and reloads nginx. A lineage obtained by hand (the original
//! runbook: /var/www/html, no hook) would otherwise fail to renew, or renew without nginx
//! noticing.

use std::collections::BTreeMap;

use super::command::deploy_hook;
use crate::env::Env;

/// The parts of a renewal configuration dtops reads.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Renewal {
    /// `[renewalparams]` keys (values unquoted).
    pub params: BTreeMap<String, String>,
    /// `[[webroot_map]]`: name -> webroot.
    pub webroot_map: BTreeMap<String, String>,
}

/// What renewals must use.
pub struct Wanted {
    pub hook: String,
    pub webroot: String,
    pub names: Vec<String>,
}

pub fn wanted(env: &Env) -> Wanted {
    Wanted {
        hook: deploy_hook(env),
        webroot: env
            .host
            .path(env.site.nginx.webroot.as_path())
            .display()
            .to_string(),
        names: env.site.tls_names().iter().map(|n| n.to_string()).collect(),
    }
}

/// The lineage's renewal configuration, if it exists: its text and what it says.
pub fn read(env: &Env) -> anyhow::Result<Option<(String, Renewal)>> {
    let Some(bytes) = env.host.read(&env.site.cert_renewal_conf())? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let renewal = parse(&text);
    Ok(Some((text, renewal)))
}

/// `[renewalparams]` of `renewal/<cert_name>.conf` (key -> value), if the file exists.
pub fn renewal_params(env: &Env) -> anyhow::Result<Option<BTreeMap<String, String>>> {
    Ok(read(env)?.map(|(_, r)| r.params))
}

/// A section header's name and depth (`[a]` is 1, `[[b]]` is 2).
fn header(line: &str) -> Option<(usize, &str)> {
    let line = line.trim();
    if !line.starts_with('[') {
        return None;
    }
    let depth = line.bytes().take_while(|b| *b == b'[').count();
    Some((depth, line.trim_matches(|c| c == '[' || c == ']').trim()))
}

fn key_value(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    Some((key.trim(), unquote(value.trim())))
}

pub fn parse(text: &str) -> Renewal {
    let mut renewal = Renewal::default();
    let mut path: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some((depth, name)) = header(line) {
            path.truncate(depth - 1);
            path.push(name.to_string());
            continue;
        }
        let Some((key, value)) = key_value(line) else {
            continue;
        };
        match path.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["renewalparams"] => {
                renewal.params.insert(key.into(), value.into());
            }
            ["renewalparams", "webroot_map"] => {
                renewal.webroot_map.insert(key.into(), value.into());
            }
            _ => {}
        }
    }
    renewal
}

/// configobj quotes values holding `,`, `#` or quotes.
pub fn unquote(value: &str) -> &str {
    for quote in ["\"\"\"", "'''", "\"", "'"] {
        if value.len() >= 2 * quote.len() && value.starts_with(quote) && value.ends_with(quote) {
            return &value[quote.len()..value.len() - quote.len()];
        }
    }
    value
}

/// configobj's quoting for a single value.
fn quote(value: &str) -> String {
    if !value.contains('"') {
        format!("\"{value}\"")
    } else {
        format!("'''{value}'''")
    }
}

/// What differs from `wanted`, as phrases (empty: nothing).
pub fn drift(renewal: &Renewal, wanted: &Wanted) -> Vec<String> {
    let mut out = Vec::new();
    let params = &renewal.params;
    match params.get("authenticator").map(String::as_str) {
        Some("webroot") => {}
        other => out.push(format!(
            "authenticator {} instead of webroot",
            other.unwrap_or("unset")
        )),
    }
    let webroot_path = params
        .get("webroot_path")
        .map(|v| v.trim().trim_end_matches(',').trim().to_string());
    if webroot_path.as_deref() != Some(wanted.webroot.as_str()) {
        out.push(format!(
            "webroot_path {} instead of {}",
            webroot_path.as_deref().unwrap_or("unset"),
            wanted.webroot
        ));
    }
    for name in &wanted.names {
        if renewal.webroot_map.get(name) != Some(&wanted.webroot) {
            out.push(format!(
                "webroot for {name} {} instead of {}",
                renewal
                    .webroot_map
                    .get(name)
                    .map_or("unset", String::as_str),
                wanted.webroot
            ));
        }
    }
    match params.get("renew_hook") {
        Some(hook) if *hook == wanted.hook => {}
        Some(_) => out.push("a deploy hook other than dtops' (nginx may not reload)".into()),
        None => out.push("no deploy hook (renewals would not reload nginx)".into()),
    }
    out
}

/// `text` with the authenticator, webroot, webroot map and deploy hook set as `wanted`; every
/// other line is kept in its place.
pub fn with_settings(text: &str, wanted: &Wanted) -> String {
    const OURS: &[&str] = &["authenticator", "webroot_path", "renew_hook"];
    let ours = [
        "authenticator = webroot".to_string(),
        format!("webroot_path = {},", wanted.webroot),
        format!("renew_hook = {}", quote(&wanted.hook)),
    ];
    let mut map = vec!["[[webroot_map]]".to_string()];
    map.extend(
        wanted
            .names
            .iter()
            .map(|name| format!("{name} = {}", wanted.webroot)),
    );

    // before [renewalparams] | its keys | its other subsections | whatever follows it
    let (mut before, mut keys, mut subs, mut after) = (vec![], vec![], vec![], vec![]);
    // Lines end at '\n' only: a line's '\r' (a CRLF file) is kept as it is, so editing the
    // result again changes nothing.
    let lines = text.split_terminator('\n');
    let mut place = 0; // 0 before, 1 keys, 2 a kept subsection, 3 webroot_map (dropped), 4 after
    for line in lines {
        if let Some((depth, name)) = header(line) {
            place = match (place, depth, name) {
                (_, 1, "renewalparams") => 1,
                (1..=3, 1, _) => 4,
                (1..=3, _, "webroot_map") => 3,
                (1..=3, _, _) => 2,
                (p, _, _) => p,
            };
        } else if place == 1 && key_value(line).is_some_and(|(k, _)| OURS.contains(&k)) {
            continue;
        }
        match place {
            0 => before.push(line.to_string()),
            1 => keys.push(line.to_string()),
            2 => subs.push(line.to_string()),
            // The old map is dropped, but not its blank lines: they are where the new map's
            // trailing blank lines came from (so a second edit gives the same file).
            3 if line.trim().is_empty() => keys.push(line.to_string()),
            3 => {}
            _ => after.push(line.to_string()),
        }
    }
    if keys.is_empty() {
        keys.push("[renewalparams]".into());
    }
    // Keep trailing blank lines after our keys, where they were.
    let blank_tail = keys
        .iter()
        .rev()
        .take_while(|l| l.trim().is_empty())
        .count();
    let tail = keys.split_off(keys.len() - blank_tail);
    let mut out = before;
    out.extend(keys);
    out.extend(ours);
    out.extend(subs);
    out.extend(map);
    out.extend(tail);
    out.extend(after);
    let mut text = out.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use crate::certbot::renewal::*;

    const RUNBOOK: &str = "# renew_before_expiry = 30 days\nversion = 2.1.0\n\
        archive_dir = /etc/letsencrypt/archive/a.test\n\n\
        # Options used in the renewal process\n[renewalparams]\naccount = abc\n\
        authenticator = webroot\nwebroot_path = /var/www/html,\n\
        server = https://acme-v02.api.letsencrypt.org/directory\nkey_type = ecdsa\n\
        [[webroot_map]]\na.test = /var/www/html\nb.test = /var/www/html\n";

    fn wanted() -> Wanted {
        Wanted {
            hook: "flock -w 120 /run/lock/x sh -c 'nginx -t && systemctl reload nginx'".into(),
            webroot: "/var/www/app/acme".into(),
            names: vec!["a.test".into(), "b.test".into()],
        }
    }

    #[test]
    fn a_runbook_lineage_is_set_to_our_webroot_and_hook_keeping_everything_else() {
        let before = parse(RUNBOOK);
        assert_eq!(before.params["webroot_path"], "/var/www/html,");
        assert_eq!(before.webroot_map["b.test"], "/var/www/html");
        let found = drift(&before, &wanted());
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[3].starts_with("no deploy hook"), "{found:?}");

        let text = with_settings(RUNBOOK, &wanted());
        let after = parse(&text);
        assert!(drift(&after, &wanted()).is_empty(), "{text}");
        assert_eq!(after.params["account"], "abc");
        assert_eq!(after.params["key_type"], "ecdsa");
        assert_eq!(after.params["renew_hook"], wanted().hook);
        assert!(text.starts_with("# renew_before_expiry = 30 days\nversion = 2.1.0\n"));
        assert!(text.ends_with(
            "[[webroot_map]]\na.test = /var/www/app/acme\nb.test = /var/www/app/acme\n"
        ));
        // Applying it again changes nothing.
        assert_eq!(with_settings(&text, &wanted()), text);
    }

    /// Found by the certbot_output fuzz target: a line ending in '\r' came back as a CRLF
    /// line, which the next edit cut to '\n', so the edit was not stable.
    #[test]
    fn an_edit_of_a_crlf_file_is_stable_and_keeps_its_other_lines() {
        for text in ["\0\0\0\r", &RUNBOOK.replace('\n', "\r\n"), "a = 1\r"] {
            let once = with_settings(text, &wanted());
            assert_eq!(with_settings(&once, &wanted()), once, "{text:?}");
            assert!(drift(&parse(&once), &wanted()).is_empty(), "{once:?}");
        }
        let crlf = with_settings(&RUNBOOK.replace('\n', "\r\n"), &wanted());
        assert!(crlf.starts_with("# renew_before_expiry = 30 days\r\nversion = 2.1.0\r\n"));
    }

    /// Found by the certbot_output fuzz target: blank lines at the end of [renewalparams] went
    /// after the new map, where the next edit dropped them with the old map.
    #[test]
    fn an_edit_keeps_trailing_blank_lines_and_is_stable() {
        for text in [
            "[renewalparams]\na = 1\n\n",
            &format!("{RUNBOOK}\n\n"),
            "\n",
        ] {
            let once = with_settings(text, &wanted());
            assert_eq!(with_settings(&once, &wanted()), once, "{text:?}");
            assert!(drift(&parse(&once), &wanted()).is_empty(), "{once:?}");
        }
    }

    #[test]
    fn quoted_values_are_read_as_configobj_writes_them() {
        let r = parse("[renewalparams]\nrenew_hook = \"a 'b' && c\"\nx = '''q\"'''\n");
        assert_eq!(r.params["renew_hook"], "a 'b' && c");
        assert_eq!(r.params["x"], "q\"");
    }
}
