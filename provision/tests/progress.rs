//! Live progress, as an operator sees it: each step when it starts, and what a long command
//! prints while it runs: plain lines in a pipe (cron, CI, `| tee`), a spinner line on a terminal.

mod common;

use common::web::WebSandbox;

#[test]
fn a_pipe_gets_plain_lines_a_terminal_gets_a_spinner() {
    let web = WebSandbox::start();
    // In a pipe (this test's stdout): the step's start line, then certbot's own lines while
    // it talks to the CA, then the result.
    let first = web.provision(&[]);
    let lines: Vec<&str> = first.lines().collect();
    let started = lines
        .iter()
        .position(|l| *l == "      ...  certificate")
        .unwrap_or_else(|| panic!("no start line for the certificate step:\n{first}"));
    let finished = lines
        .iter()
        .position(|l| l.contains("changed  certificate: issued by"))
        .unwrap_or_else(|| panic!("no result line:\n{first}"));
    assert!(started < finished);
    let streamed: Vec<&&str> = lines[started..finished]
        .iter()
        .filter(|l| l.starts_with("           | "))
        .collect();
    assert!(
        streamed
            .iter()
            .any(|l| l.contains("Requesting a certificate")),
        "certbot's output is not shown live:\n{first}"
    );
    // Every step says when it starts, quick ones too.
    for step in ["preflight", "system user", "nginx site"] {
        assert!(
            lines.iter().any(|l| *l == format!("      ...  {step}")),
            "{step}:\n{first}"
        );
    }
    assert!(
        !first.contains('\u{1b}'),
        "escape codes in a pipe:\n{first:?}"
    );

    // On a terminal (a pty from `script`): a spinner redrawn in place, no plain start lines.
    let sandbox = &web.sandbox;
    let command = format!(
        "{} --site {} --root {} --runtime native provision",
        common::DTOPS,
        sandbox.site.display(),
        sandbox.root().display()
    );
    let out = std::process::Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" 0 changed, 0 failed"), "{text}");
    assert!(
        !text.contains("      ...  "),
        "plain start lines on a terminal:\n{text}"
    );
    assert!(
        text.contains('\u{1b}'),
        "no spinner drawing on a terminal:\n{text:?}"
    );
}
