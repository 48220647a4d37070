//! The key window row of `dtops status`: old license keys still trusted after a rotation.

use chrono::Utc;

use crate::env::Env;
use crate::keyring;

/// The `dtops status` line for the key rotation window.
pub fn key_window_line(env: &Env) -> String {
    match keyring::read(env.host, env.site) {
        Ok(keys) if keys.is_empty() => "no rotation: only the current key is trusted".into(),
        Ok(keys) => {
            let now = Utc::now();
            keys.iter()
                .map(|k| {
                    let until = k.until.format("%Y-%m-%d %H:%M UTC");
                    if k.until > now {
                        format!("old key {} trusted until {until}", k.key_id)
                    } else {
                        format!("old key {} window ended {until}", k.key_id)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        Err(e) => format!("unreadable: {e:#}"),
    }
}
