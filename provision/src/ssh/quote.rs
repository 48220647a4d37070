//! ssh hands the box one string, which the remote user's shell splits: every word is quoted so
//! it arrives as it was given (a psql query, a path with spaces), whatever it holds.

/// `words` as one POSIX shell command line.
pub fn remote_command<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|word| quote(word.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use crate::ssh::quote::*;

    #[test]
    fn every_word_reaches_the_remote_shell_as_given() {
        let words = [
            "psql",
            "--",
            "-c",
            "select 'it''s'; $HOME `id` \"x\" \\ * ~",
            "",
            "a b",
        ];
        let line = remote_command(&words);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("for w in {line}; do printf '%s\\n' \"[$w]\"; done"))
            .output()
            .unwrap();
        let printed = String::from_utf8(out.stdout).unwrap();
        let expected: String = words.iter().map(|w| format!("[{w}]\n")).collect();
        assert_eq!(printed, expected);
    }
}
