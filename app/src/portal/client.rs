//! The client network a portal request came from, as the per-client limits count it.
//!
//! nginx passes the buyer's address in `X-Real-IP` (behind Cloudflare, the address Cloudflare
//! saw, through nginx's real-ip module); the api listens on loopback only, so nobody else can set
//! it. An IPv6 address stands for its /64: one home or phone gets a whole /64 and can use any
//! address in it. A request without the header did not come through nginx (`dtops dev`, a
//! process on the box) and is not limited per client.

use std::net::{IpAddr, Ipv6Addr};

/// The header nginx sets on every request it forwards to us (templates/nginx-phase2.conf.j2).
pub(crate) const REAL_IP_HEADER: &str = "x-real-ip";

/// The client key for a request whose `X-Real-IP` is `header` (None: no header).
pub(crate) fn client_key(header: Option<&[u8]>) -> Option<String> {
    let text = std::str::from_utf8(header?).ok()?.trim();
    Some(match text.parse::<IpAddr>() {
        Ok(ip) => match ip.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
        // Not an address: one bucket for all such (nginx always sends one).
        Err(_) => "unparsed".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::client_key;

    #[test]
    fn addresses_and_networks() {
        assert_eq!(client_key(None), None);
        assert_eq!(
            client_key(Some(b"203.0.113.7")).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            client_key(Some(b"::ffff:203.0.113.7")).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            client_key(Some(b"2001:db8:1:2:aaaa::1")),
            client_key(Some(b"2001:db8:1:2:bbbb::9"))
        );
        assert_eq!(
            client_key(Some(b"2001:db8:1:2::1")).as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_ne!(
            client_key(Some(b"2001:db8:1:3::1")),
            client_key(Some(b"2001:db8:1:2::1"))
        );
        assert_eq!(client_key(Some(b"junk")).as_deref(), Some("unparsed"));
    }
}
