//! The docs an operator follows stay true to themselves and to what dtops prints: ADMIN.md's
//! table of contents lists every section; every `ADMIN.md "Section"`,
//! `SETUP-LICENSE-SERVER.md "Section"` or `SETUP-LICENSE-SERVER.md §N` a message or template
//! points at exists; every link between the docs lands on a file and a heading that exist; and
//! nothing cites a section of "the runbook" by number, a runbook the repository does not have.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo().join(relative)).unwrap()
}

/// `(level, title)` of every `##`/`###` heading outside code blocks.
fn headings(markdown: &str) -> Vec<(usize, String)> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code {
            let level = line.chars().take_while(|c| *c == '#').count();
            if (2..=3).contains(&level) && line[level..].starts_with(' ') {
                found.push((level, line[level + 1..].to_string()));
            }
        }
    }
    found
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn admin_md_contents_lists_every_section_with_its_anchor() {
    let admin = read("ADMIN.md");
    let sections: Vec<(usize, String)> = headings(&admin)
        .into_iter()
        .filter(|(_, title)| title != "Contents")
        .collect();
    assert!(sections.len() > 20, "{sections:?}");
    let contents = admin
        .split("## Contents\n\n")
        .nth(1)
        .expect("ADMIN.md has a \"## Contents\" section")
        .split("\n\n")
        .next()
        .unwrap();
    let expected: Vec<String> = sections
        .iter()
        .map(|(level, title)| format!("{}- [{title}](#{})", "  ".repeat(level - 2), anchor(title)))
        .collect();
    let listed: Vec<&str> = contents.lines().collect();
    assert_eq!(
        listed,
        expected,
        "ADMIN.md's contents differ from its headings; the expected list:\n{}",
        expected.join("\n")
    );
}

/// Every source file under `dir` (recursively) with one of `extensions`.
fn sources(dir: &Path, extensions: &[&str], found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, extensions, found);
        } else if extensions.contains(&path.extension().map_or("", |e| e.to_str().unwrap_or("?"))) {
            found.push(path);
        }
    }
}

#[test]
fn every_doc_section_a_message_names_exists() {
    let admin_titles: Vec<String> = headings(&read("ADMIN.md"))
        .into_iter()
        .map(|(_, title)| title)
        .collect();
    let setup_titles: Vec<String> = headings(&read("SETUP-LICENSE-SERVER.md"))
        .into_iter()
        .map(|(_, title)| title)
        .collect();
    let setup_numbers: Vec<String> = headings(&read("SETUP-LICENSE-SERVER.md"))
        .into_iter()
        .filter_map(|(_, title)| Some(title.split_once(". ")?.0.to_string()))
        .flat_map(|number| {
            // "5–6" covers 5 and 6.
            number.split('–').map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    let mut files = Vec::new();
    for dir in ["provision/src", "app/src", "templates", "scripts"] {
        sources(
            &repo().join(dir),
            &["rs", "j2", "sh", "toml", ""],
            &mut files,
        );
    }
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        // In Rust strings the quotes may be escaped.
        let text = text.replace("\\\"", "\"");
        for (at, _) in text.match_indices("ADMIN.md") {
            let rest = text[at + "ADMIN.md".len()..].trim_start_matches([',', ' ']);
            if let Some(quoted) = rest.strip_prefix('"') {
                let title = quoted.split('"').next().unwrap();
                assert!(
                    admin_titles.iter().any(|t| t == title),
                    "{} points at ADMIN.md \"{title}\", which has no such section",
                    file.display()
                );
                checked += 1;
            }
        }
        for (at, _) in text.match_indices("SETUP-LICENSE-SERVER.md") {
            let rest = text[at + "SETUP-LICENSE-SERVER.md".len()..].trim_start_matches([',', ' ']);
            if let Some(quoted) = rest.strip_prefix('"') {
                let title = quoted.split('"').next().unwrap();
                assert!(
                    setup_titles.iter().any(|t| t == title),
                    "{} points at SETUP-LICENSE-SERVER.md \"{title}\", which has no such section",
                    file.display()
                );
                checked += 1;
            }
        }
        for (at, _) in text.match_indices("SETUP-LICENSE-SERVER.md §") {
            let rest = &text[at + "SETUP-LICENSE-SERVER.md §".len()..];
            let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
            assert!(
                setup_numbers.contains(&number),
                "{} points at SETUP-LICENSE-SERVER.md §{number}, which has no such section \
                 (sections: {setup_numbers:?})",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked > 5,
        "only {checked} references found: is the scan broken?"
    );
}

/// The operator's docs: the top-level Markdown files and docs/.
fn markdown_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["README.md", "ADMIN.md", "SETUP-LICENSE-SERVER.md"]
        .iter()
        .map(|name| repo().join(name))
        .collect();
    sources(&repo().join("docs"), &["md"], &mut files);
    files
}

/// The anchors GitHub gives a file's headings (every level, outside code blocks); a repeated
/// heading gets `-1`, `-2`, ...
fn anchors(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found: Vec<String> = Vec::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let level = line.chars().take_while(|c| *c == '#').count();
        if in_code || !(1..=6).contains(&level) || !line[level..].starts_with(' ') {
            continue;
        }
        let base = anchor(line[level + 1..].trim());
        let repeats = found
            .iter()
            .filter(|a| {
                **a == base
                    || a.strip_prefix(&format!("{base}-"))
                        .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .count();
        found.push(if repeats == 0 {
            base
        } else {
            format!("{base}-{repeats}")
        });
    }
    found
}

/// Every `[text](target)` outside code blocks that points inside the repository:
/// `(line number, path, anchor)`; the path is empty for a link within the file.
fn local_links(markdown: &str) -> Vec<(usize, String, Option<String>)> {
    let mut in_code = false;
    let mut links = Vec::new();
    for (number, line) in markdown.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        for (at, _) in line.match_indices("](") {
            let target = &line[at + 2..];
            let Some(end) = target.find(')') else {
                continue;
            };
            let target = &target[..end];
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment.to_string())),
                None => (target, None),
            };
            links.push((number + 1, path.to_string(), fragment));
        }
    }
    links
}

#[test]
fn every_link_between_the_docs_lands_on_a_file_and_heading_that_exist() {
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, path, fragment) in local_links(&text) {
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(&path)
            };
            assert!(
                target.exists(),
                "{}:{line} links to {path}, which does not exist",
                file.display()
            );
            if let Some(fragment) = fragment {
                let known = anchors(&std::fs::read_to_string(&target).unwrap_or_default());
                assert!(
                    known.contains(&fragment),
                    "{}:{line} links to {path}#{fragment}, but {} has no such heading \
                     (its anchors: {known:?})",
                    file.display(),
                    target.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked > 50,
        "only {checked} links found: is the scan broken?"
    );
}

#[test]
fn nothing_cites_a_runbook_section_the_repository_does_not_have() {
    let mut files = markdown_files();
    for dir in [
        "provision/src",
        "app/src",
        "templates",
        "scripts",
        "provision/tests",
        "app/tests",
    ] {
        sources(
            &repo().join(dir),
            &["rs", "j2", "sh", "toml", "md", ""],
            &mut files,
        );
    }
    // Spelled apart so that this file does not cite one itself.
    let citation = format!("runbook {}", '§');
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            assert!(
                !line.to_lowercase().contains(&citation),
                "{}:{}: cites {citation:?}, a runbook this repository does not have; name the \
                 section instead (e.g. SETUP-LICENSE-SERVER.md \"5–6. nginx and TLS\"): {line}",
                file.display(),
                number + 1
            );
        }
    }
}
