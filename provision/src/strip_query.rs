//! URLs in errors and log lines without their query string. reqwest's errors carry the full
//! URL, and dtops' URLs carry secrets there (the Gumroad Ping URL's `?secret=`) or a buyer's
//! address (`?email=`): every request error goes through [`from_error`], and every message
//! dtops prints at the end through [`from_text`], as a second net.

/// The error with its URL's query (and fragment) removed.
pub fn from_error(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut() {
        url.set_query(None);
        url.set_fragment(None);
    }
    error
}

/// `text` with the query (and fragment) cut from every `http://` and `https://` URL in it.
pub fn from_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = next_url(rest) {
        out.push_str(&rest[..start]);
        let url = &rest[start..];
        let end = url.find(ends_url).unwrap_or(url.len());
        let kept = url[..end].find(['?', '#']).unwrap_or(end);
        out.push_str(&url[..kept]);
        rest = &url[end..];
    }
    out.push_str(rest);
    out
}

/// Where the next URL starts (case-insensitive scheme).
fn next_url(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    [lower.find("http://"), lower.find("https://")]
        .into_iter()
        .flatten()
        .min()
}

/// What ends a URL in running text: whitespace, quotes, brackets, and a comma or semicolon.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || "\"'<>()[]{}`,;".contains(c)
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;
    use std::time::Duration;

    use crate::strip_query::*;

    const SECRET: &str = "s3cret-0123456789abcdef";

    fn url(port: u16) -> String {
        format!("http://127.0.0.1:{port}/webhooks/gumroad?secret={SECRET}&email=a%40b.example#x")
    }

    /// A request to `url` with a short timeout, its error as dtops would print it.
    fn failed_request(url: &str) -> (String, String) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime
            .block_on(async {
                reqwest::Client::builder()
                    .timeout(Duration::from_millis(300))
                    .build()
                    .unwrap()
                    .post(url)
                    .send()
                    .await
            })
            .map_err(from_error)
            .expect_err("the request must fail");
        let error = anyhow::Error::from(error).context("the test ping could not reach it");
        (format!("{error:#}"), format!("{error:?}"))
    }

    fn assert_no_query(text: &str) {
        assert!(!text.contains(SECRET), "the secret is in: {text}");
        assert!(!text.contains("secret="), "the query is in: {text}");
        assert!(!text.contains("a%40b"), "the address is in: {text}");
    }

    #[test]
    fn a_refused_connection_keeps_the_query_out_of_the_error() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let (display, debug) = failed_request(&url(port));
        assert!(
            display.contains(&format!("127.0.0.1:{port}/webhooks/gumroad")),
            "{display}"
        );
        assert_no_query(&display);
        assert_no_query(&debug);
    }

    #[test]
    fn a_timeout_keeps_the_query_out_of_the_error() {
        // Accepts the connection and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            while stream.read(&mut buf).is_ok_and(|n| n > 0) {}
        });
        let (display, debug) = failed_request(&url(port));
        assert!(display.contains("timed out"), "{display}");
        assert_no_query(&display);
        assert_no_query(&debug);
        drop(silent);
    }

    #[test]
    fn text_loses_every_urls_query_and_keeps_the_rest() {
        assert_eq!(
            from_text(&format!(
                "x {} (HTTPS://h/p?a=1), https://h/q?b=2; end?",
                url(8)
            ),),
            "x http://127.0.0.1:8/webhooks/gumroad (HTTPS://h/p), https://h/q; end?"
        );
        assert_eq!(from_text("no url? none"), "no url? none");
        assert_eq!(
            from_text("error sending request for url (http://h:1/x?secret=s)"),
            "error sending request for url (http://h:1/x)"
        );
    }
}
