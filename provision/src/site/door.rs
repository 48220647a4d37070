//! Who stands in front of nginx and how much traffic each door lets through: `[nginx] behind`,
//! Cloudflare's address ranges, and the request-rate limits of the webhook and the portal.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// What forwards requests to this nginx.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Behind {
    /// Clients connect to nginx themselves: `$remote_addr` is the buyer.
    #[default]
    Direct,
    /// Cloudflare's proxy ("orange cloud", SETUP §1c): every request comes from one of
    /// Cloudflare's ranges, and the buyer's address is in `CF-Connecting-IP`.
    Cloudflare,
}

/// An address range in CIDR notation (`173.245.48.0/20`, `2400:cb00::/32`), as nginx's
/// `set_real_ip_from` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpRange {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl TryFrom<String> for IpRange {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let bad = || {
            format!(
                "{value:?} is not an address range; expected CIDR such as \
                 \"173.245.48.0/20\" or \"2400:cb00::/32\""
            )
        };
        let (addr, prefix) = value.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad());
        }
        Ok(IpRange { addr, prefix })
    }
}

impl From<IpRange> for String {
    fn from(value: IpRange) -> String {
        value.to_string()
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Cloudflare's published ranges (https://www.cloudflare.com/ips/, as of 2026-12); site.toml's
/// `nginx.cloudflare_ranges` replaces them when Cloudflare publishes new ones.
pub const CLOUDFLARE_RANGES: &[&str] = &[
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
];

pub fn default_cloudflare_ranges() -> Vec<IpRange> {
    CLOUDFLARE_RANGES
        .iter()
        .map(|r| IpRange::try_from(r.to_string()).expect("the built-in ranges parse"))
        .collect()
}

/// A `limit_req` rate: requests per second or per minute, and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// `"30r/s"` or `"30r/m"`.
    pub rate: RequestRate,
    /// Requests beyond the rate answered at once (nginx's `burst`, with `nodelay`).
    pub burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestRate {
    pub count: u32,
    pub per_minute: bool,
}

impl TryFrom<String> for RequestRate {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let bad =
            || format!("{value:?} is not a request rate; expected e.g. \"30r/s\" or \"30r/m\"");
        let (count, unit) = value.split_once("r/").ok_or_else(bad)?;
        let count: u32 = count.parse().map_err(|_| bad())?;
        if count == 0 || count > 100_000 {
            return Err(bad());
        }
        let per_minute = match unit {
            "s" => false,
            "m" => true,
            _ => return Err(bad()),
        };
        Ok(RequestRate { count, per_minute })
    }
}

impl From<RequestRate> for String {
    fn from(value: RequestRate) -> String {
        value.to_string()
    }
}

impl fmt::Display for RequestRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}r/{}",
            self.count,
            if self.per_minute { "m" } else { "s" }
        )
    }
}

/// Gumroad delivers every sale from a few addresses, in bursts (a launch, a sale): generous,
/// so a real burst never meets the limit; it only stops a flood. 600 at once, then 50 a second.
pub fn default_webhook_limit() -> RateLimit {
    RateLimit {
        rate: RequestRate {
            count: 50,
            per_minute: false,
        },
        burst: 600,
    }
}

/// People: 30 a minute per address, 10 at once.
pub fn default_portal_limit() -> RateLimit {
    RateLimit {
        rate: RequestRate {
            count: 30,
            per_minute: true,
        },
        burst: 10,
    }
}

#[cfg(test)]
mod tests {
    use crate::site::door::*;

    #[test]
    fn ranges_and_rates_parse_and_print_as_nginx_takes_them() {
        for text in ["173.245.48.0/20", "2400:cb00::/32", "127.0.0.1/32"] {
            assert_eq!(
                IpRange::try_from(text.to_string()).unwrap().to_string(),
                text
            );
        }
        for bad in [
            "173.245.48.0",
            "1.2.3.4/33",
            "::/129",
            "x/8",
            "1.2.3.4/8;",
            "",
        ] {
            assert!(IpRange::try_from(bad.to_string()).is_err(), "{bad}");
        }
        assert_eq!(default_cloudflare_ranges().len(), CLOUDFLARE_RANGES.len());
        for text in ["30r/m", "50r/s"] {
            assert_eq!(
                RequestRate::try_from(text.to_string()).unwrap().to_string(),
                text
            );
        }
        for bad in ["0r/s", "30r/h", "30", "r/s", "30r/s;"] {
            assert!(RequestRate::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }
}
