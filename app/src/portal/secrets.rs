//! The portal's random secrets: sign-in link tokens, short codes, session ids and CSRF cookies.
//! Each is made from the OS random number generator; the database only ever sees its SHA-256.
//! None of them has a `Display`, and `Debug` never shows the value.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// A 256-bit secret in unpadded base64url (43 characters): a link token, a session id, or a
/// CSRF cookie.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    pub(crate) fn generate() -> Token {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).expect("the OS random number generator is unavailable");
        Token(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as it came back (a URL, a form, a cookie), if it has the right shape.
    pub(crate) fn parse(text: &str) -> Option<Token> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        (bytes.len() == 32).then(|| Token(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The value, for the one place that must carry it (a mail, a cookie, a form field).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores.
    pub(crate) fn hash(&self) -> [u8; 32] {
        hash(&self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// SHA-256 of a secret's text. A fast hash is enough: every secret here carries at least 40
/// random bits and is tried a handful of times at most (codes), or 256 bits (tokens).
pub(crate) fn hash(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The short code printed under the link, for mail programs that mangle links: 8 characters of
/// Crockford base32 (40 bits), shown as `ABCD-EFGH`. It works only in the browser that asked
/// for the link, and only a few times (see `limits::CODE_ATTEMPTS`).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Code(String);

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl Code {
    pub(crate) fn generate() -> Code {
        let mut bytes = [0u8; 5];
        getrandom::getrandom(&mut bytes).expect("the OS random number generator is unavailable");
        let bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let text = (0..8)
            .map(|i| char::from(ALPHABET[((bits >> (35 - 5 * i)) & 31) as usize]))
            .collect();
        Code(text)
    }

    /// What a person typed: case, spaces and dashes do not matter; O, I and L read as 0, 1, 1.
    pub(crate) fn parse(text: &str) -> Option<Code> {
        let mut out = String::with_capacity(8);
        for c in text.chars().filter(|c| !matches!(c, '-' | ' ')) {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            out.push(c);
        }
        (out.len() == 8).then_some(Code(out))
    }

    /// `ABCD-EFGH`, as the email shows it.
    pub(crate) fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }

    pub(crate) fn hash(&self) -> [u8; 32] {
        hash(&self.0)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes_round_trip_and_never_print() {
        let token = Token::generate();
        assert_eq!(token.expose().len(), 43);
        assert_eq!(Token::parse(token.expose()), Some(token.clone()));
        assert_eq!(Token::parse("short"), None);
        assert!(!format!("{token:?}").contains(token.expose()));

        let code = Code::generate();
        let shown = code.display();
        assert_eq!(Code::parse(&shown.to_lowercase()), Some(code.clone()));
        assert_eq!(Code::parse(&shown.replace('-', " ")), Some(code.clone()));
        assert_eq!(Code::parse("ABCD-EFG"), None);
        assert_eq!(Code::parse("ABCD-EFGU"), None);
        assert_eq!(Code::parse("oilo-0110"), Code::parse("0110-0110"));
        assert!(!format!("{code:?}").contains(&shown[..4]));
    }
}
