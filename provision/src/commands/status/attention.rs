//! The "attention" section of `dtops status` and its exit code: every open problem, from the
//! server (sales, emails, workers; asked through the admin API) and from the host itself (the
//! backups, the certificate, the api and the database running). dtops sends the host's facts
//! to the server on the way (`POST /internal/host-report`), so the server, which mails, knows
//! them too.
//!
//! Exit codes (ADMIN.md "Alerts and monitoring", `dtops status --help`): 0 nothing needs you,
//! 1 something needs you, 2 cannot tell (the api or the database is down or unreachable, or
//! status itself failed): a monitor or cron treats anything but 0 as "look".

use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use datatools_license::api::{AlertKind, AlertList, HostReport, Problem};

use super::host_facts::host_report;
use crate::admin_client::AdminClient;
use crate::env::Env;

/// What `dtops status` saw of the api and the database.
pub struct Liveness {
    /// Continuous archiving's facts are read only where it runs (compose, Postgres up).
    pub archiving: bool,
    pub api_running: bool,
    /// `Err(why)` when /health did not say the api and its database are fine.
    pub healthy: Result<(), String>,
    pub db_running: bool,
}

struct Item {
    /// The alert's key, when it is one the server or the host rules name.
    key: Option<String>,
    text: String,
    action: String,
    /// Cannot tell (exit 2) rather than needs you (exit 1).
    unknown: bool,
    acknowledged: bool,
}

pub struct Attention {
    /// The host's facts, as sent to the server (the status rows reuse them); none in the api's
    /// view from elsewhere (`api_view`).
    pub report: Option<HostReport>,
    items: Vec<Item>,
    /// What the server says about mailing, when it could be asked.
    mailing: Option<String>,
}

/// Problems the host's own facts decide (the server only repeats what dtops reported), and the
/// server's "no report lately", which this very run has just answered.
const HOST_KINDS: [AlertKind; 7] = [
    AlertKind::BackupFailed,
    AlertKind::BackupMissing,
    AlertKind::CertExpiring,
    AlertKind::CertRenewal,
    AlertKind::HostReportStale,
    AlertKind::ArchiveOffsiteBehind,
    AlertKind::EscrowStale,
];

impl Attention {
    pub fn gather(env: &Env, live: &Liveness) -> Attention {
        let report = host_report(env, live.archiving);
        let mut attention = Attention {
            items: report
                .problems(Utc::now())
                .into_iter()
                .map(Item::problem)
                .collect(),
            mailing: None,
            report: Some(report.clone()),
        };
        if !live.db_running {
            attention.unknown(
                "the database is not running: what the server knows (sales, emails, workers) \
                 cannot be checked",
                "`sudo dtops provision` starts it; `sudo dtops logs postgres` says why it \
                 stopped",
            );
        }
        if !live.api_running {
            attention.unknown(
                "the api is not running: no sale is processed and nothing is mailed",
                "`sudo dtops provision` starts it; `sudo dtops logs api` says why it stopped",
            );
            return attention;
        }
        if let Err(why) = &live.healthy {
            attention.unknown(
                &format!("the api does not answer as it should ({why})"),
                "`sudo dtops logs api`; `sudo dtops provision` restarts what is down",
            );
            return attention;
        }
        match ask_server(env, &report) {
            Ok(list) => attention.add_server(list, false),
            Err(e) => attention.unknown(
                &format!("cannot ask the api for its alerts: {e:#}"),
                "`sudo dtops status` again; `sudo dtops logs api`",
            ),
        }
        attention
    }

    /// The api's view alone (`dtops status --admin-url`): every problem it has open, the host's
    /// as the box last reported them; `health` and `alerts` as asked.
    pub fn from_api(health: Result<(), String>, alerts: anyhow::Result<AlertList>) -> Attention {
        let mut attention = Attention {
            report: None,
            items: Vec::new(),
            mailing: None,
        };
        if let Err(why) = health {
            attention.unknown(
                &format!("the api is not healthy ({why})"),
                "`sudo dtops status` on the box (or `dtops status --ssh user@host`) says why",
            );
        }
        match alerts {
            Ok(list) => attention.add_server(list, true),
            Err(e) => attention.unknown(
                &format!("cannot ask the api for its alerts: {e:#}"),
                "check --admin-url and the token; `dtops alerts` asks the same",
            ),
        }
        attention
    }

    fn unknown(&mut self, text: &str, action: &str) {
        self.items.push(Item {
            key: None,
            text: text.into(),
            action: action.into(),
            unknown: true,
            acknowledged: false,
        });
    }

    /// The server's open alerts; the host's kinds only with `host_kinds` (on the box, this run's
    /// own look at the host replaces them).
    fn add_server(&mut self, list: AlertList, host_kinds: bool) {
        for alert in list.open {
            if HOST_KINDS.contains(&alert.kind) && !host_kinds {
                continue;
            }
            let mut text = alert.summary;
            if let Some(at) = alert.notified_at {
                text.push_str(&format!(
                    " (alert {}, mailed {})",
                    alert.id,
                    at.format("%Y-%m-%d %H:%M UTC")
                ));
            } else if let Some(error) = &alert.notify_error {
                text.push_str(&format!(" (alert {}, NOT mailed: {error})", alert.id));
            } else {
                text.push_str(&format!(" (alert {})", alert.id));
            }
            self.items.push(Item {
                key: Some(alert.key),
                text,
                action: alert.action,
                unknown: false,
                acknowledged: alert.acknowledged_at.is_some(),
            });
        }
        // Three passes missed. Counted from the start when none finished yet: a first pass
        // before `dtops provision` migrated the database fails, the next one a pass later works.
        let every = Duration::from_secs(list.check_every_seconds.max(1));
        let last = list.checked_at.unwrap_or(list.server_started_at);
        let stale = (Utc::now() - last).to_std().unwrap_or_default() > every * 3;
        if stale {
            self.items.push(Item {
                key: None,
                text: format!(
                    "the api's alert checks have not run since {}: problems are neither found \
                     nor mailed",
                    list.checked_at
                        .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                        .unwrap_or_else(|| "it started".into())
                ),
                action: "restart the api slot that serves (`docker compose restart api-<slot>`, \
                         the slot `dtops status` names); its log says why"
                    .into(),
                unknown: false,
                acknowledged: false,
            });
        }
        self.mailing = Some(match list.email {
            Some(email) => format!("new problems are mailed to {email}"),
            None => "new problems are NOT mailed: set [alerts] email in site.toml, then `sudo \
                     dtops provision`"
                .into(),
        });
    }

    /// 0: nothing needs you; 1: something does; 2: cannot tell.
    pub fn exit_code(&self) -> ExitCode {
        if self.items.iter().any(|i| i.unknown) {
            ExitCode::from(2)
        } else if self.items.iter().any(|i| !i.acknowledged) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    /// The section; with `quiet`, nothing at all when nothing needs you.
    pub fn print(&self, quiet: bool) {
        let open: Vec<&Item> = self.items.iter().filter(|i| !i.acknowledged).collect();
        if quiet && open.is_empty() {
            return;
        }
        if open.is_empty() {
            println!("attention: nothing needs you");
        } else {
            println!("attention ({}):", open.len());
        }
        for item in &open {
            let mark = if item.unknown { "?" } else { "!" };
            match &item.key {
                Some(key) => println!("  {mark} [{key}] {}", item.text),
                None => println!("  {mark} {}", item.text),
            }
            println!("      do: {}", item.action);
        }
        for item in self.items.iter().filter(|i| i.acknowledged) {
            println!(
                "  - acknowledged [{}] {}",
                item.key.as_deref().unwrap_or(""),
                item.text
            );
        }
        if let Some(mailing) = &self.mailing {
            println!("  ({mailing})");
        }
    }
}

impl Item {
    fn problem(problem: Problem) -> Item {
        Item {
            key: Some(problem.key),
            text: problem.summary,
            action: problem.action,
            unknown: false,
            acknowledged: false,
        }
    }
}

/// Sends the host's facts, then reads the open problems.
fn ask_server(env: &Env, report: &datatools_license::api::HostReport) -> anyhow::Result<AlertList> {
    let client = AdminClient::for_site(env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        client.host_report(report).await?;
        client.alerts().await
    })
}
