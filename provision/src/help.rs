//! `dtops --help` with the commands in the three places they run: this computer, the admin API
//! through the SSH tunnel, and the box itself (clap lists subcommands in one flat list).

use clap::{Arg, ArgAction, Command, CommandFactory};

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

/// The flags sandboxes and tests use (their ids): hidden from `--help`, shown by `--help-all`.
const SANDBOX_FLAGS: &[&str] = &["root", "templates", "runtime", "native_bin"];

/// The flag showing every option, the sandbox and testing ones too.
pub const HELP_ALL: &str = "--help-all";

/// The command line's definition: grouped help, the sandbox flags hidden unless `all`.
pub fn command(all: bool) -> Command {
    let mut command = grouped(crate::cli::Cli::command()).arg(
        Arg::new("help_all")
            .long(&HELP_ALL[2..])
            .global(true)
            .action(ArgAction::SetTrue)
            .help("Print help with the sandbox and testing options too"),
    );
    for id in SANDBOX_FLAGS {
        // Shown, they join the options: the root's grouped template lists no other heading.
        command = command.mut_arg(*id, |arg| {
            if all {
                arg.hide(false).help_heading(None)
            } else {
                arg.hide(true)
            }
        });
    }
    command
}

/// A command's summary (its doc comment's first paragraph), whole: wrapped onto indented lines
/// when wider than `max`, never cut (a test keeps every one within a line).
fn summary(about: &str, max: usize, indent: usize) -> String {
    let mut lines = vec![String::new()];
    for word in about.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join(&format!("\n{}", " ".repeat(indent)))
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
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        format!(
            "  {:<width$}{}\n",
            c.get_name(),
            summary(&about, 96 - width, width + 2)
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
    fn every_command_is_in_a_group_and_its_summary_fits_a_line() {
        let root = grouped(crate::cli::Cli::command());
        let help = root.clone().render_help().to_string();
        assert!(
            !help.contains("Other commands"),
            "a command in no group:\n{help}"
        );
        assert!(help.contains("Commands on the box (sudo):"), "{help}");
        assert!(help.contains("  mint "), "{help}");
        let width = root
            .get_subcommands()
            .map(|c| c.get_name().len())
            .max()
            .unwrap()
            + 2;
        for command in root.get_subcommands() {
            let about = command
                .get_about()
                .map(|a| a.to_string())
                .unwrap_or_default();
            assert!(
                !about.is_empty() && about.chars().count() <= 96 - width,
                "`{}`'s summary is empty or wider than a line: give its doc comment a short \
                 first paragraph: {about:?}",
                command.get_name()
            );
        }
        assert_eq!(
            summary("one two three four", 9, 2),
            "one two\n  three\n  four"
        );
    }
}
