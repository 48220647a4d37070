//! `dtops keys show`: the public keys the box signs with and still trusts, with their ids, as
//! the admin API reports them (the server's own configuration, not a file on this computer).

use std::process::ExitCode;

use super::super::api_text::{print_json, print_table};
use crate::admin_client::AdminClient;
use crate::cli::{GlobalArgs, KeysShowArgs};

pub async fn show(global: &GlobalArgs, args: KeysShowArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let keys = client.keys().await?;
    if args.json {
        print_json(&keys)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 3]> = keys
        .keys
        .iter()
        .map(|key| {
            [
                key.key_id.clone(),
                key.public_key.clone(),
                if key.signing {
                    "signing: new licenses carry it"
                } else {
                    "trusted: an older key, still accepted"
                }
                .to_string(),
            ]
        })
        .collect();
    print_table(&["KEY ID", "PUBLIC KEY (Ed25519, hex)", "ROLE"], &rows);
    eprintln!(
        "{} key(s); a desktop build must list every one (`sudo dtops status` on the box shows \
         until when an older key stays trusted)",
        keys.keys.len()
    );
    Ok(ExitCode::SUCCESS)
}
