//! `dtops email preview [KIND]`: each email a buyer can get, rendered by the server with sample
//! data from the texts it sends now (built in, or the files replacing them on the box), shown
//! as a mail program would: the headers, then the text.

use std::process::ExitCode;

use anyhow::bail;
use datatools_license::api::{EmailKind, EmailPreview};

use super::api_text::{print_json, terminal_safe};
use crate::admin_client::AdminClient;
use crate::cli::{EmailPreviewArgs, GlobalArgs};

pub async fn preview(global: &GlobalArgs, args: EmailPreviewArgs) -> anyhow::Result<ExitCode> {
    let kinds = match &args.kind {
        None => EmailKind::ALL.to_vec(),
        Some(text) => match EmailKind::parse(text.trim()) {
            Some(kind) => vec![kind],
            None => bail!(
                "{text:?} is not an email; one of {} (or none for all)",
                EmailKind::ALL.map(EmailKind::as_str).join(", ")
            ),
        },
    };
    let client = AdminClient::connect(global, &args.admin)?;
    let mut previews = Vec::new();
    for kind in kinds {
        previews.push(client.email_preview(kind).await?);
    }
    if args.json {
        print_json(&previews)?;
        return Ok(ExitCode::SUCCESS);
    }
    for (n, preview) in previews.iter().enumerate() {
        if n > 0 {
            println!();
        }
        print_preview(preview);
    }
    if let Some(first) = previews.first() {
        for file in &first.unknown_files {
            eprintln!(
                "warning: {} is not an email text the server reads; rename or remove it",
                terminal_safe(file)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_preview(preview: &EmailPreview) {
    println!(
        "===== {} (from {}) =====",
        preview.kind.as_str(),
        terminal_safe(&preview.template)
    );
    println!("From: {}", terminal_safe(&preview.from));
    if let Some(reply_to) = &preview.reply_to {
        println!("Reply-To: {}", terminal_safe(reply_to));
    }
    println!("To: {}", terminal_safe(&preview.to));
    println!("Subject: {}", terminal_safe(&preview.subject));
    if let Some(attachment) = &preview.attachment {
        println!("Attachment: {}", terminal_safe(attachment));
    }
    println!();
    // The body line by line: each line's own characters made safe, the line breaks kept.
    for line in preview.text_body.lines() {
        println!("{}", terminal_safe(line));
    }
}
