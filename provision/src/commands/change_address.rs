//! `dtops change-address KEY --to ADDRESS --reason ...`: a buyer asked to move a license to
//! another address (ADMIN.md, "Answering an address-change request"). The server re-signs it
//! with the new address, records the change, and emails it there unless --no-notify. The new
//! blob is printed (stdout), the summary goes to stderr.

use std::process::ExitCode;

use anyhow::bail;
use datatools_license::api::EmailChangeRequest;

use super::api_text::license_key;
use crate::admin_client::AdminClient;
use crate::cli::{ChangeAddressArgs, GlobalArgs};

pub async fn run(global: &GlobalArgs, args: ChangeAddressArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let key = license_key(&args.license_key)?;
    if args.reason.trim().is_empty() {
        bail!(
            "--reason is empty; say how the buyer asked (e.g. \"asked from the old address on \
             2026-05-01\"), it is kept with the change"
        );
    }
    let moved = client
        .change_email(
            &key,
            &EmailChangeRequest {
                email: args.to.trim().to_string(),
                reason: args.reason.trim().to_string(),
                notify: !args.no_notify,
            },
        )
        .await?;
    println!("{}", moved.license.blob);
    eprintln!(
        "{} moved from {} to {} (change {}), re-signed with the new address",
        moved.license.license_key, moved.old_email, moved.license.email, moved.change_id
    );
    match &moved.message_id {
        Some(id) => eprintln!("emailed to {} (message id {id})", moved.license.email),
        None => eprintln!(
            "not emailed (--no-notify); `dtops resend {}` sends it",
            moved.license.license_key
        ),
    }
    eprintln!(
        "tell the buyer to change the address in their Gumroad account too: renewals arrive \
         with the address Gumroad knows"
    );
    Ok(ExitCode::SUCCESS)
}
