//! License keys: the human-typable identifier of a license.
//!
//! 24 characters of Crockford base32 in four groups of six (`7K3QX9-...`): 120 random bits from the
//! OS RNG, read aloud or typed without ambiguity (no I, L, O or U). Parsing accepts lowercase and
//! the look-alikes Crockford allows (`O`->0, `I`/`L`->1) so a buyer's typo still finds the license.

use std::fmt;
use std::str::FromStr;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const GROUPS: usize = 4;
const GROUP_LEN: usize = 6;
const CHARS: usize = GROUPS * GROUP_LEN;
/// 24 characters x 5 bits.
const RANDOM_BYTES: usize = 15;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LicenseKey(String);

impl LicenseKey {
    /// A fresh key from the OS random number generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; RANDOM_BYTES];
        getrandom::getrandom(&mut bytes).expect("the OS random number generator is unavailable");
        Self::from_random_bytes(bytes)
    }

    fn from_random_bytes(bytes: [u8; RANDOM_BYTES]) -> Self {
        let mut bits: u128 = 0;
        for b in bytes {
            bits = (bits << 8) | u128::from(b);
        }
        let mut out = String::with_capacity(CHARS + GROUPS - 1);
        for i in 0..CHARS {
            if i > 0 && i % GROUP_LEN == 0 {
                out.push('-');
            }
            let shift = 5 * (CHARS - 1 - i);
            out.push(char::from(ALPHABET[((bits >> shift) & 31) as usize]));
        }
        LicenseKey(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LicenseKey({})", self.0)
    }
}

impl FromStr for LicenseKey {
    type Err = String;

    /// Normalises what a person typed into the canonical form.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut chars = String::with_capacity(CHARS);
        for c in s.chars().filter(|c| *c != '-' && *c != ' ') {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(format!(
                    "license key contains {c:?}; keys use 0-9 and A-Z except I, L, O, U"
                ));
            }
            chars.push(c);
        }
        if chars.len() != CHARS {
            return Err(format!(
                "license key has {} characters; expected {CHARS} (four groups of {GROUP_LEN})",
                chars.len()
            ));
        }
        let grouped: Vec<&str> = (0..GROUPS)
            .map(|g| &chars[g * GROUP_LEN..(g + 1) * GROUP_LEN])
            .collect();
        Ok(LicenseKey(grouped.join("-")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_grouped_crockford_and_differ() {
        let a = LicenseKey::generate();
        let b = LicenseKey::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 27);
        assert_eq!(a.as_str().matches('-').count(), 3);
        assert_eq!(a.as_str().parse::<LicenseKey>().unwrap(), a);
    }

    #[test]
    fn encodes_every_bit() {
        assert_eq!(
            LicenseKey::from_random_bytes([0; 15]).as_str(),
            "000000-000000-000000-000000"
        );
        assert_eq!(
            LicenseKey::from_random_bytes([0xff; 15]).as_str(),
            "ZZZZZZ-ZZZZZZ-ZZZZZZ-ZZZZZZ"
        );
        let mut one = [0; 15];
        one[14] = 1;
        assert_eq!(
            LicenseKey::from_random_bytes(one).as_str(),
            "000000-000000-000000-000001"
        );
    }

    #[test]
    fn parsing_forgives_case_and_lookalikes_but_not_junk() {
        let key: LicenseKey = "abcdef-ghjkmn-pqrstv-wxyzo1".parse().unwrap();
        assert_eq!(key.as_str(), "ABCDEF-GHJKMN-PQRSTV-WXYZ01");
        let same: LicenseKey = "ABCDEFGHJKMNPQRSTVWXYZ0I".parse().unwrap();
        assert_eq!(same.as_str(), "ABCDEF-GHJKMN-PQRSTV-WXYZ01");
        assert!("ABCDEF-GHJKMN-PQRSTV-WXYZU1".parse::<LicenseKey>().is_err());
        assert!("ABCDEF"
            .parse::<LicenseKey>()
            .unwrap_err()
            .contains("6 characters"));
    }
}
