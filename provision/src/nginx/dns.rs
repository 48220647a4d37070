//! The DNS preflight's lookup: A records of a name, from a given DNS server (one UDP question,
//! RFC 1035) or from the system resolver.

use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);
const TRIES: usize = 2;

/// The IPv4 addresses `name` resolves to; `Err` says why there are none.
pub fn resolve_ipv4(name: &str, server: Option<SocketAddr>) -> Result<Vec<Ipv4Addr>, String> {
    let Some(server) = server else {
        return system(name);
    };
    let mut last = String::new();
    for _ in 0..TRIES {
        match ask(name, server) {
            Ok(addrs) => return Ok(addrs),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn system(name: &str) -> Result<Vec<Ipv4Addr>, String> {
    let addrs = (name, 0)
        .to_socket_addrs()
        .map_err(|e| format!("the system resolver cannot resolve {name}: {e}"))?;
    Ok(addrs
        .filter_map(|a| match a {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        })
        .collect())
}

fn ask(name: &str, server: SocketAddr) -> Result<Vec<Ipv4Addr>, String> {
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let socket = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut id = [0u8; 2];
    getrandom::getrandom(&mut id).map_err(|e| e.to_string())?;
    let id = u16::from_be_bytes(id);
    socket
        .send_to(&query(id, name)?, server)
        .map_err(|e| format!("cannot ask {server}: {e}"))?;
    let mut buf = [0u8; 1500];
    loop {
        let (len, from) = socket
            .recv_from(&mut buf)
            .map_err(|e| format!("no answer from the DNS server {server}: {e}"))?;
        if from != server {
            continue;
        }
        return parse(id, &buf[..len]).map_err(|e| format!("{server} answered: {e}"));
    }
}

/// A standard query with recursion desired: one question, `name` IN A.
fn query(id: u16, name: &str) -> Result<Vec<u8>, String> {
    let mut q = Vec::with_capacity(name.len() + 18);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("{name:?} is not a DNS name"));
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&[0, 1, 0, 1]);
    Ok(q)
}

pub(crate) fn parse(id: u16, msg: &[u8]) -> Result<Vec<Ipv4Addr>, String> {
    let short = || "a truncated message".to_string();
    if msg.len() < 12 || u16::from_be_bytes([msg[0], msg[1]]) != id || msg[2] & 0x80 == 0 {
        return Err("not an answer to our question".into());
    }
    match msg[3] & 0x0f {
        0 => {}
        3 => return Err("NXDOMAIN (no such name)".into()),
        2 => return Err("SERVFAIL".into()),
        code => return Err(format!("error code {code}")),
    }
    let questions = u16::from_be_bytes([msg[4], msg[5]]) as usize;
    let answers = u16::from_be_bytes([msg[6], msg[7]]) as usize;
    let mut at = 12;
    for _ in 0..questions {
        at = skip_name(msg, at).ok_or_else(short)? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..answers {
        at = skip_name(msg, at).ok_or_else(short)?;
        let header = msg.get(at..at + 10).ok_or_else(short)?;
        let (kind, class) = (
            u16::from_be_bytes([header[0], header[1]]),
            u16::from_be_bytes([header[2], header[3]]),
        );
        let len = u16::from_be_bytes([header[8], header[9]]) as usize;
        let data = msg.get(at + 10..at + 10 + len).ok_or_else(short)?;
        if kind == 1 && class == 1 && len == 4 {
            out.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        at += 10 + len;
    }
    Ok(out)
}

/// The offset after a (possibly compressed) name starting at `at`.
fn skip_name(msg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *msg.get(at)? as usize;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2),
            l => at += 1 + l,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::nginx::dns::*;

    #[test]
    fn answers_are_parsed_including_compressed_names() {
        let q = query(0x1234, "a.example.test").unwrap();
        let mut answer = q.clone();
        answer[2] = 0x81;
        answer[3] = 0x80;
        answer[7] = 2; // two answers
        for ip in [[127, 0, 0, 1], [10, 0, 0, 2]] {
            answer.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            answer.extend_from_slice(&ip);
        }
        assert_eq!(
            parse(0x1234, &answer).unwrap(),
            vec![Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]
        );
        let mut nx = q.clone();
        nx[2] = 0x81;
        nx[3] = 0x83;
        assert!(parse(0x1234, &nx).unwrap_err().contains("NXDOMAIN"));
        assert!(parse(0x9999, &answer).is_err());
        assert!(parse(0x1234, &answer[..answer.len() - 3]).is_err());
    }
}
