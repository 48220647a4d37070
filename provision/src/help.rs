//! `dtops --help` with the commands in the three places they run: this computer, the admin API
//! through the SSH tunnel, and the box itself (clap lists subcommands in one flat list).

use clap::Command;

const GROUPS: &[(&str, &[&str])] = &[
    (
        "Commands on this computer",
        &["dev", "verify", "keys", "render"],
    ),
    (
        "Commands through the admin API (ssh -L 8090:127.0.0.1:8090 <box> -N)",
        &[
            "mint",
            "licenses",
            "license",
            "revoke",
            "reinstate",
            "change-address",
            "resend",
            "events",
            "event",
            "replay",
            "gumroad",
            "alerts",
            "email",
        ],
    ),
    (
        "Commands on the box (sudo)",
        &[
            "provision",
            "plan",
            "status",
            "cutover",
            "upgrade",
            "backup",
            "restore",
            "archive",
            "escrow",
            "recover",
            "rollback",
            "docker-logs",
            "logs",
            "psql",
        ],
    ),
];

/// The first sentence of `about` ("e.g." does not end one), at most `max` characters (cut at
/// a word, with "...").
fn summary(about: &str, max: usize) -> String {
    let mut end = about.len();
    let mut from = 0;
    while let Some(at) = about[from..].find(". ") {
        let at = from + at;
        let word = about[..at]
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .trim_start_matches(|c: char| !c.is_alphanumeric());
        if !matches!(word, "e.g" | "i.e" | "etc") {
            end = at;
            break;
        }
        from = at + 2;
    }
    let sentence = about[..end].trim_end_matches('.');
    if sentence.chars().count() <= max {
        return sentence.to_string();
    }
    let mut cut: String = sentence.chars().take(max.saturating_sub(3)).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    format!("{}...", cut.trim_end_matches([',', ';', ':']))
}

/// The root command with its help listing the commands by group. A command in no group is
/// listed under "Other commands" (a test insists there is none).
pub fn grouped(command: Command) -> Command {
    let width = command
        .get_subcommands()
        .map(|c| c.get_name().len())
        .max()
        .unwrap_or(10)
        + 2;
    let line = |c: &Command| {
        let about = c
            .get_long_about()
            .or(c.get_about())
            .map(|a| a.to_string().replace('\n', " "))
            .unwrap_or_default();
        format!(
            "  {:<width$}{}\n",
            c.get_name(),
            summary(&about, 96 - width)
        )
    };
    let mut text = String::new();
    for (heading, names) in GROUPS {
        let listed: String = command
            .get_subcommands()
            .filter(|c| names.contains(&c.get_name()))
            .map(line)
            .collect();
        if !listed.is_empty() {
            text.push_str(&format!("{heading}:\n{listed}\n"));
        }
    }
    let others: String = command
        .get_subcommands()
        .filter(|c| {
            c.get_name() != "help" && !GROUPS.iter().any(|(_, n)| n.contains(&c.get_name()))
        })
        .map(line)
        .collect();
    if !others.is_empty() {
        text.push_str(&format!("Other commands:\n{others}\n"));
    }
    command.help_template(format!(
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{text}Options:\n{{options}}{{after-help}}"
    ))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::help::{grouped, summary};

    #[test]
    fn every_command_is_in_a_group_and_summaries_are_short() {
        let help = grouped(crate::cli::Cli::command())
            .render_help()
            .to_string();
        assert!(
            !help.contains("Other commands"),
            "a command in no group:\n{help}"
        );
        assert!(help.contains("Commands on the box (sudo):"), "{help}");
        assert!(help.contains("  mint "), "{help}");
        assert_eq!(
            summary("Mint a comp (e.g. for a reviewer). More.", 80),
            "Mint a comp (e.g. for a reviewer)"
        );
        assert_eq!(summary("one two three four", 12), "one two...");
    }
}
