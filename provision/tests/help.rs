//! `dtops --help` as an operator reads it: routine options only (the sandbox and testing flags
//! appear with `--help-all`), and every command's one-line summary whole, never cut.

mod common;

use common::{dtops, stderr, stdout};

/// The flags only sandboxes and tests use.
const SANDBOX_FLAGS: &[&str] = &["--root", "--templates", "--runtime", "--native-bin"];

fn help(args: &[&str]) -> String {
    let out = dtops()
        .args(args)
        .env_remove("DTOPS_RUNTIME")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn routine_help_hides_the_sandbox_flags_and_help_all_shows_them() {
    for args in [
        &["--help"][..],
        &["upgrade", "--help"],
        &["status", "-h"],
        &["mint", "--help"],
    ] {
        let text = help(args);
        for flag in SANDBOX_FLAGS {
            assert!(!text.contains(flag), "{args:?} shows {flag}:\n{text}");
        }
        assert!(!text.contains("Sandbox and testing"), "{args:?}:\n{text}");
        assert!(
            text.contains("--help-all"),
            "{args:?} does not offer --help-all:\n{text}"
        );
    }
    for args in [
        &["--help-all"][..],
        &["upgrade", "--help-all"],
        &["provision", "--help-all"],
    ] {
        let text = help(args);
        for flag in [
            "--root <DIR>",
            "--templates <DIR>",
            "--runtime <RUNTIME>",
            "--native-bin <FILE>",
        ] {
            assert!(text.contains(flag), "{args:?} lacks {flag}:\n{text}");
        }
    }
    // Hidden is not gone: a sandbox run still takes them.
    let out = dtops()
        .args([
            "--root",
            "/nonexistent-sandbox",
            "--runtime",
            "native",
            "render",
            "--help",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn every_command_summary_in_help_is_a_whole_first_paragraph_on_one_line() {
    let text = help(&["--help"]);
    let commands = text
        .split("\nOptions:")
        .next()
        .unwrap()
        .split_once("\n\n")
        .unwrap()
        .1
        .split_once("\n\n")
        .unwrap()
        .1;
    let mut seen = 0;
    for line in commands.lines() {
        if line.is_empty() || !line.starts_with("  ") {
            assert!(
                line.is_empty() || line.ends_with(':'),
                "a stray line {line:?}:\n{text}"
            );
            continue;
        }
        let (name, summary) = line
            .trim_start()
            .split_once(' ')
            .unwrap_or_else(|| panic!("a summary wrapped onto a second line: {line:?}\n{text}"));
        let summary = summary.trim();
        assert!(!summary.is_empty(), "{name} has no summary");
        assert!(
            !summary.contains("..."),
            "{name}'s summary is cut: {summary:?}"
        );
        let last = summary.rsplit(' ').next().unwrap();
        assert!(
            !summary.ends_with([',', ';', ':', '-'])
                && !["a", "an", "and", "or", "the", "to", "of", "with", "for", "its"]
                    .contains(&last),
            "{name}'s summary stops mid-sentence: {summary:?}"
        );
        // The summary is the command's whole first paragraph, as its own help opens.
        let own = help(&[name, "--help"]);
        let first = own.split("\n\n").next().unwrap().replace('\n', " ");
        assert_eq!(
            first.trim_end_matches('.'),
            summary.trim_end_matches('.'),
            "`dtops {name} --help` opens differently"
        );
        seen += 1;
    }
    assert!(seen >= 25, "only {seen} commands listed:\n{text}");
}
