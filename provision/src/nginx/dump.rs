//! Reading `nginx -T` (the whole configuration, file by file) for one fact: whether another
//! server shares an address:port we listen on without HTTP/2.
//!
//! Before nginx 1.25.1, HTTP/2 is a property of the address:port: one `listen 443 ssl http2`
//! anywhere switches every server on 443 to HTTP/2. Adding it to our file on a shared port
//! would silently change another tenant's site, so we only write it where the port already
//! has it (1.25.1 and later have the per-server `http2 on;`).

use std::path::Path;

use crate::site::Listen;

/// A `listen` directive's address, normalised: `None` is every IPv4 address (`443`,
/// `*:443`, `0.0.0.0:443`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    ip: Option<std::net::IpAddr>,
    port: u16,
}

impl Address {
    fn of(listen: &Listen) -> Address {
        Address {
            ip: listen
                .ip
                .filter(|ip| !(ip.is_ipv4() && ip.is_unspecified())),
            port: listen.port,
        }
    }

    /// The address part of a `listen` directive (`443`, `*:443`, `[::]:443`, `1.2.3.4:443`);
    /// None for a Unix socket or a name.
    fn parse(word: &str) -> Option<Address> {
        if let Ok(port) = word.parse::<u16>() {
            return Some(Address { ip: None, port });
        }
        if let Some(port) = word.strip_prefix("*:") {
            return Some(Address {
                ip: None,
                port: port.parse().ok()?,
            });
        }
        let addr: std::net::SocketAddr = word.parse().ok()?;
        Some(Address::of(&Listen {
            ip: Some(addr.ip()),
            port: addr.port(),
        }))
    }
}

/// Our HTTPS addresses that other servers share without HTTP/2: a `listen ... http2` of ours
/// there would switch those servers to HTTP/2. Empty: `http2` on our listens changes nobody
/// (the port is ours alone, or HTTP/2 is already on for it).
/// `our_files`: how nginx names our site (the enabled link and the file it points at).
pub fn http2_would_spread(dump: &str, our_files: &[&Path], ours: &[Listen]) -> Vec<Listen> {
    let others: Vec<(Address, bool)> = files(dump)
        .filter(|(path, _)| !our_files.contains(&Path::new(path)))
        .flat_map(|(_, text)| listens(text))
        .filter_map(|words| {
            let address = Address::parse(words.first()?)?;
            Some((address, words.iter().any(|w| w == "http2")))
        })
        .collect();
    ours.iter()
        .filter(|listen| {
            let address = Address::of(listen);
            let sharing: Vec<bool> = others
                .iter()
                .filter(|(a, _)| *a == address)
                .map(|(_, http2)| *http2)
                .collect();
            !sharing.is_empty() && !sharing.contains(&true)
        })
        .cloned()
        .collect()
}

/// `nginx -T`'s sections: `# configuration file PATH:` then that file's text.
fn files(dump: &str) -> impl Iterator<Item = (&str, &str)> {
    const HEADER: &str = "# configuration file ";
    let mut starts: Vec<(usize, &str, usize)> = Vec::new();
    let mut offset = 0;
    for line in dump.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(HEADER) {
            let path = rest.trim_end().trim_end_matches(':');
            starts.push((offset, path, offset + line.len()));
        }
        offset += line.len();
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|(start, _, _)| *start)
        .chain(std::iter::once(dump.len()))
        .collect();
    starts
        .into_iter()
        .zip(ends)
        .map(move |((_, path, body), end)| (path, &dump[body..end]))
}

/// The arguments of every `listen` directive in a file (comments and quoted strings handled).
fn listens(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut statement: Vec<String> = Vec::new();
    for token in tokens(text) {
        match token.as_str() {
            ";" => {
                if statement.first().map(String::as_str) == Some("listen") {
                    found.push(statement[1..].to_vec());
                }
                statement.clear();
            }
            "{" | "}" => statement.clear(),
            _ => statement.push(token),
        }
    }
    found
}

/// nginx's lexical tokens: words, quoted strings (unquoted), and `;` `{` `}`; `#` comments
/// dropped.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            ';' | '{' | '}' => out.push(c.to_string()),
            '"' | '\'' => {
                let mut word = String::new();
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => word.extend(chars.next()),
                        d if d == c => break,
                        d => word.push(d),
                    }
                }
                out.push(word);
            }
            c if c.is_whitespace() => {}
            c => {
                let mut word = c.to_string();
                while let Some(&d) = chars.peek() {
                    if d.is_whitespace() || matches!(d, ';' | '{' | '}' | '"' | '\'') {
                        break;
                    }
                    word.push(d);
                    chars.next();
                }
                out.push(word);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::nginx::dump::http2_would_spread;
    use crate::site::Listen;

    const DUMP: &str = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
# configuration file /etc/nginx/nginx.conf:
http {
    include /etc/nginx/sites-enabled/*;
}

# configuration file /etc/nginx/sites-enabled/invixiom:
server {
    listen 443 ssl; # listen 443 ssl http2; (a comment)
    server_name kasm.example;
}
server {
    listen [::]:443 ssl http2;
    server_name \"files.example\";
}

# configuration file /etc/nginx/sites-enabled/unalogix:
server {
    listen 443 ssl http2;
}
";

    fn listen(text: &str) -> Listen {
        Listen::try_from(text.to_string()).unwrap()
    }

    #[test]
    fn only_other_files_on_the_same_address_count() {
        let ours = Path::new("/etc/nginx/sites-enabled/unalogix");
        let spread = |listens: &[&str], file: &Path| {
            let listens: Vec<Listen> = listens.iter().map(|l| listen(l)).collect();
            http2_would_spread(DUMP, &[file], &listens)
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
        };
        // 443 is shared with kasm (no http2; the commented-out one does not count).
        assert_eq!(spread(&["443"], ours), ["443"]);
        assert_eq!(spread(&["0.0.0.0:443"], ours), ["0.0.0.0:443"]);
        // [::]:443 already has http2 (files.example): adding ours changes nobody.
        assert!(spread(&["[::]:443"], ours).is_empty());
        assert_eq!(spread(&["443", "[::]:443"], ours), ["443"]);
        // A port nobody else uses.
        assert!(spread(&["127.0.0.1:8443"], ours).is_empty());
        assert!(http2_would_spread("", &[ours], &[listen("443")]).is_empty());
    }
}
