//! Requests to nginx as a client would make them, addressed to a name but sent to a chosen
//! address (so a probe never depends on, or leaks a query to, anything but what it tests).
//! HTTP goes through reqwest; HTTPS through curl and openssl, which the box has anyway.

use std::net::SocketAddr;
use std::time::Duration;

use crate::process::CommandLine;

const TIMEOUT: Duration = Duration::from_secs(5);

/// How long a probe waits for a reload to take effect (reloads are asynchronous: old workers
/// answer for a moment).
pub const RELOAD_WAIT: Duration = Duration::from_secs(15);

/// An HTTP answer: status, `Location` (redirects are not followed), body, protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub version: String,
}

fn url(scheme: &str, name: &str, addr: SocketAddr, path: &str) -> String {
    format!("{scheme}://{name}:{}{path}", addr.port())
}

/// GET http://NAME:PORT/PATH, connecting to `addr`.
pub fn http_get(name: &str, addr: SocketAddr, path: &str) -> Result<HttpAnswer, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(name, addr)
            .no_proxy()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        let response = client
            .get(url("http", name, addr, path))
            .send()
            .await
            .map_err(|e| error_chain(&crate::strip_query::from_error(e)))?;
        let status = response.status().as_u16();
        let version = format!("{:?}", response.version());
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.text().await.unwrap_or_default();
        Ok(HttpAnswer {
            status,
            location,
            body,
            version,
        })
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// `--resolve NAME:PORT:IP` for curl.
fn resolve_arg(name: &str, addr: SocketAddr) -> String {
    let ip = match addr {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    };
    format!("{name}:{}:{ip}", addr.port())
}

/// GET https://NAME:PORT/PATH over HTTP/2 when offered, connecting to `addr`. The certificate
/// is not verified here: `served_serial` compares it with the one on disk instead.
pub fn https_get(name: &str, addr: SocketAddr, path: &str) -> Result<HttpAnswer, String> {
    const MARK: &str = "\n--dtops-probe--";
    let out = CommandLine::new(["curl", "--silent", "--show-error", "--insecure", "--http2"])
        .args(["--noproxy", "*", "--max-time", "10", "--resolve"])
        .arg(resolve_arg(name, addr))
        .args(["--output", "-", "--write-out"])
        .arg(format!(
            "{MARK} %{{http_code}} %{{http_version}} %{{redirect_url}}"
        ))
        .arg(url("https", name, addr, path))
        .run_unchecked()
        .map_err(|e| e.to_string())?;
    if !out.success {
        return Err(format!("curl: {}", out.stderr.trim()));
    }
    let (body, tail) = out
        .stdout
        .rsplit_once(MARK)
        .ok_or_else(|| format!("curl printed no status: {}", out.stdout))?;
    let mut words = tail.split_whitespace();
    let status = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("curl printed no status: {tail}"))?;
    let version = words.next().unwrap_or_default().to_string();
    let location = words.next().map(str::to_string);
    Ok(HttpAnswer {
        status,
        location,
        body: body.to_string(),
        version: format!("HTTP/{version}"),
    })
}

/// The serial number of the certificate nginx serves for `name` (SNI) at `addr`.
pub fn served_serial(name: &str, addr: SocketAddr) -> Result<String, String> {
    // s_client has no connect or read timeout of its own.
    let out = CommandLine::new(["timeout", "10", "openssl", "s_client", "-connect"])
        .arg(addr.to_string())
        .args(["-servername", name])
        .stdin(Vec::new())
        .run_unchecked()
        .map_err(|e| e.to_string())?;
    let begin = out
        .stdout
        .find("-----BEGIN CERTIFICATE-----")
        .ok_or_else(|| {
            format!(
                "no certificate from {addr} for {name}: {}",
                out.stderr.lines().last().unwrap_or_default()
            )
        })?;
    let pem = &out.stdout[begin..];
    let end = pem
        .find("-----END CERTIFICATE-----")
        .ok_or("a truncated certificate")?
        + "-----END CERTIFICATE-----".len();
    crate::certbot::pem_serial(&pem[..end]).map_err(|e| format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use crate::nginx::probe::*;

    #[test]
    fn curl_resolve_arguments_bracket_ipv6() {
        assert_eq!(
            resolve_arg("a.test", "127.0.0.1:8443".parse().unwrap()),
            "a.test:8443:127.0.0.1"
        );
        assert_eq!(
            resolve_arg("a.test", "[::1]:443".parse().unwrap()),
            "a.test:443:[::1]"
        );
    }
}
