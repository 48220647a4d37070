//! The blob as a person hands it to `dtops verify`: pasted from an email (wrapped at 72 or 76
//! columns, perhaps quoted with `> `), in a file (the email's attachment), or on standard input.

/// The text `arg` stands for: standard input for `-`, a file's content when `arg` names an
/// existing file, else `arg` itself.
pub fn text_of(arg: &str) -> anyhow::Result<String> {
    use std::io::Read;
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok(text);
    }
    let path = std::path::Path::new(arg);
    if !arg.starts_with(datatools_license::license::PREFIX) && path.is_file() {
        return std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()));
    }
    Ok(arg.to_string())
}

/// An Ed25519 signature in unpadded base64url: the blob ends after this many characters past
/// its last `.`.
const SIGNATURE_CHARS: usize = 86;

/// The blob in `text`: from `DTLIC2:` on, with the line breaks, spaces and `>` quote marks a
/// mail client adds removed, up to the end of the signature (or a blank line, or a character
/// no blob has). The result is then checked strictly; only the wrapping is forgiven. `None`
/// when there is no `DTLIC2:` at all.
pub fn blob_in(text: &str) -> Option<String> {
    let prefix = datatools_license::license::PREFIX;
    let start = text.find(prefix)?;
    let mut blob = String::from(prefix);
    let mut signature: Option<usize> = None;
    for (n, line) in text[start + prefix.len()..].split('\n').enumerate() {
        let line = if n == 0 {
            line
        } else {
            line.trim_start_matches(|c: char| c == '>' || c.is_whitespace())
        };
        if n > 0 && line.trim().is_empty() {
            break;
        }
        for c in line.chars() {
            match c {
                '.' => {
                    signature = Some(0);
                    blob.push(c);
                }
                'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' => {
                    blob.push(c);
                    if let Some(count) = signature.as_mut() {
                        *count += 1;
                        if *count == SIGNATURE_CHARS {
                            return Some(blob);
                        }
                    }
                }
                ' ' | '\t' | '\r' => {}
                _ => return Some(blob),
            }
        }
    }
    Some(blob)
}

#[cfg(test)]
mod tests {
    use crate::commands::verify::input::blob_in;

    #[test]
    fn wrapping_and_quoting_are_undone_and_nothing_else() {
        let signature = "S".repeat(86);
        let blob = format!("DTLIC2:eyJ2IjoyfQ.{signature}");
        let (a, b) = signature.split_at(40);
        let wrapped = format!("Your license:\n\n  DTLIC2:eyJ2Ij\n  oyfQ.{a}\n  {b}\nThanks!");
        assert_eq!(blob_in(&wrapped).unwrap(), blob);
        let quoted = format!("> DTLIC2:eyJ2IjoyfQ.{a}\r\n> {b}\r\n> \r\n> Thanks");
        assert_eq!(blob_in(&quoted).unwrap(), blob);
        assert_eq!(blob_in(&blob).unwrap(), blob);
        // A blank line ends a short (broken) blob before the prose after it.
        assert_eq!(blob_in("DTLIC2:ab.cd\n\nThanks").unwrap(), "DTLIC2:ab.cd");
        // A character no blob has ends it (the strict check then judges what is left).
        assert_eq!(blob_in("DTLIC2:abc$def").unwrap(), "DTLIC2:abc");
        assert!(blob_in("no blob here").is_none());
    }
}
