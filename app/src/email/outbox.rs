//! The outbox: each message becomes a file in a directory, for `dtops dev` and for a server
//! without a mail provider. The files are plain RFC 5322-style text a person can read.

use std::path::{Path, PathBuf};

use chrono::Utc;

use super::message::{Email, MailError, Sent};

#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Outbox { dir }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `<UTC time>-<random>.eml` (written to a temporary name, then renamed, so a
    /// reader never sees half a message).
    pub(crate) async fn send(&self, email: &Email) -> Result<Sent, MailError> {
        let mut suffix = [0u8; 4];
        getrandom::getrandom(&mut suffix)
            .map_err(|e| MailError::Retryable(format!("outbox: random name: {e}")))?;
        let name = format!(
            "{}-{}.eml",
            Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            hex::encode(suffix)
        );
        let text = render(email, &name);
        let dir = self.dir.clone();
        let file = name.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let temp = dir.join(format!(".{file}.tmp"));
            std::fs::write(&temp, text)?;
            std::fs::rename(&temp, dir.join(&file))
        })
        .await
        .map_err(|e| MailError::Retryable(format!("outbox: {e}")))?
        .map_err(|e| {
            MailError::Configuration(format!(
                "outbox: cannot write in {}: {e}",
                self.dir.display()
            ))
        })?;
        Ok(Sent { message_id: name })
    }
}

fn render(email: &Email, id: &str) -> String {
    let mut out = format!(
        "Message-ID: <{id}@outbox>\nDate: {}\nFrom: {}\nTo: {}\nSubject: {}\n",
        Utc::now().to_rfc2822(),
        email.from,
        email.to,
        email.subject
    );
    if let Some(reply_to) = &email.reply_to {
        out.push_str(&format!("Reply-To: {reply_to}\n"));
    }
    if let Some(tag) = &email.tag {
        out.push_str(&format!("X-Tag: {tag}\n"));
    }
    out.push_str("Content-Type: text/plain; charset=utf-8\n\n");
    out.push_str(&email.text_body);
    if let Some(a) = &email.attachment {
        out.push_str(&format!(
            "\n\n----- attachment: {} ({}) -----\n{}\n",
            a.name,
            a.content_type,
            String::from_utf8_lossy(&a.content)
        ));
    }
    out
}
