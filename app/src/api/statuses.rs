//! The words the `gumroad_events` table and the API use for an event's state, as enums.
//! Migration 0002 constrains `status` and `email_status` to exactly these values.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A status word the database or a client sent that this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}")]
pub struct UnknownStatus(pub String);

/// Stores a word enum in a `text` column: encoded as its word, decoded by parsing it.
macro_rules! text_column {
    ($name:ident) => {
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                Ok(Self::from_word(text)?)
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }
    };
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The database's (and the API's) word for it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl $name {
            fn from_word(text: &str) -> Result<Self, UnknownStatus> {
                text.parse()
            }
        }

        impl FromStr for $name {
            type Err = UnknownStatus;
            fn from_str(text: &str) -> Result<Self, UnknownStatus> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownStatus(other.to_string())),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownStatus;
            fn try_from(text: String) -> Result<Self, UnknownStatus> {
                text.parse()
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        text_column!($name);
    };
}

text_enum! {
    /// Where an event is in its processing.
    EventStatus {
        /// Stored, not yet taken by a worker.
        Received = "received",
        /// A worker holds it (until its lease runs out).
        Processing = "processing",
        /// Waiting for its next attempt after a retryable failure.
        Retrying = "retrying",
        Done = "done",
        /// Needs a human: see `last_error`, then replay.
        Failed = "failed",
        /// Nothing to do (another seller, a resource this server does not act on, ...).
        Ignored = "ignored",
        /// A repeat of an earlier delivery (`duplicate_of`); never processed.
        Duplicate = "duplicate",
    }
}

text_enum! {
    /// What happened to the license email of an event.
    EmailStatus {
        Sent = "sent",
        Retrying = "retrying",
        Failed = "failed",
        /// Not sent on purpose (a test ping).
        Skipped = "skipped",
    }
}

text_enum! {
    /// What one entry of an event's history records (`gumroad_event_history.step`).
    HistoryStep {
        /// A worker's or a replay's attempt ended (with the event status it ended with).
        Attempt = "attempt",
        /// A replay was asked for through the admin API (with the status the event had).
        Replay = "replay",
        /// A license email about the event was sent, or failed (with the email status).
        Email = "email",
    }
}

text_enum! {
    /// Where a background job (a re-issue, a Gumroad sync) is.
    JobState {
        /// Work is left; workers are on it.
        Running = "running",
        /// Everything finished (some items may have failed: see the counts).
        Done = "done",
        /// A re-issue whose key was replaced before it finished; a newer job takes over.
        Superseded = "superseded",
        /// A Gumroad sync that stopped on an error (its `error` says which).
        Failed = "failed",
    }
}

text_enum! {
    /// Where one license of a re-issue job is (migration 0006).
    ItemStatus {
        Pending = "pending",
        /// A worker holds it (until its lease runs out).
        Processing = "processing",
        Done = "done",
        Failed = "failed",
        /// Revoked or expired since the job started: left alone.
        Skipped = "skipped",
    }
}

text_enum! {
    /// The step of a re-issue that failed for a license.
    ReissueStep {
        Resign = "re-sign",
        Email = "email",
    }
}

text_enum! {
    /// What an alert is about (`alerts.kind`); its key adds the thing it names.
    AlertKind {
        /// Sales of a product products.toml does not know: no license was minted.
        UnknownProduct = "unknown_product",
        /// A license email the provider refused for good (inactive recipient, invalid address).
        EmailBounced = "email_bounced",
        /// An event still retrying after `DATATOOLS_ALERT_RETRY_MINUTES`.
        EventRetrying = "event_retrying",
        /// An event that failed for another reason: a human must look, then replay.
        EventFailed = "event_failed",
        /// Deliveries waiting with nothing processing them.
        QueueStalled = "queue_stalled",
        /// A Gumroad worker whose loop stopped beating.
        WorkerStopped = "worker_stopped",
        /// The last backup run failed.
        BackupFailed = "backup_failed",
        /// No verified backup, or none recent.
        BackupMissing = "backup_missing",
        /// The certificate expires within 14 days (or there is none).
        CertExpiring = "cert_expiring",
        /// certbot's renewal settings would make the next renewal fail.
        CertRenewal = "cert_renewal",
        /// dtops has not reported the host's facts for hours.
        HostReportStale = "host_report_stale",
        /// The portal's limits refused many sign-in requests within the hour: a flood.
        PortalFlooded = "portal_flooded",
        /// The day's sign-in mail budget is spent: buyers are refused until it frees up.
        PortalMailBudget = "portal_mail_budget",
        /// A revocation feed is too long for verifiers and is not served.
        FeedTooLong = "feed_too_long",
        /// A revocation feed is getting near the length verifiers accept.
        FeedNearLimit = "feed_near_limit",
        /// A revoked license could not be listed in a revocation feed.
        FeedRowSkipped = "feed_row_skipped",
        /// WAL has waited more than 5 minutes to be archived: the recovery point falls behind.
        ArchiveStalled = "archive_stalled",
        /// The off-site WAL archive is more than 15 minutes behind the box's (or unreadable).
        ArchiveOffsiteBehind = "archive_offsite_behind",
        /// The secrets have no current copy off the box (no escrow, or a failed daily copy).
        EscrowStale = "escrow_stale",
    }
}

/// Gumroad's `resource_name`: what a delivery is about. Names this server does not act on are
/// kept as they came.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Resource {
    Sale,
    Refund,
    Dispute,
    DisputeWon,
    Cancellation,
    SubscriptionEnded,
    SubscriptionRestarted,
    SubscriptionUpdated,
    /// A delivery that could not be decoded (stored as failed).
    Unknown,
    Other(String),
}

impl Resource {
    pub fn as_str(&self) -> &str {
        match self {
            Resource::Sale => "sale",
            Resource::Refund => "refund",
            Resource::Dispute => "dispute",
            Resource::DisputeWon => "dispute_won",
            Resource::Cancellation => "cancellation",
            Resource::SubscriptionEnded => "subscription_ended",
            Resource::SubscriptionRestarted => "subscription_restarted",
            Resource::SubscriptionUpdated => "subscription_updated",
            Resource::Unknown => "unknown",
            Resource::Other(name) => name,
        }
    }
}

impl From<&str> for Resource {
    fn from(name: &str) -> Self {
        match name {
            "sale" => Resource::Sale,
            "refund" => Resource::Refund,
            "dispute" => Resource::Dispute,
            "dispute_won" => Resource::DisputeWon,
            "cancellation" => Resource::Cancellation,
            "subscription_ended" => Resource::SubscriptionEnded,
            "subscription_restarted" => Resource::SubscriptionRestarted,
            "subscription_updated" => Resource::SubscriptionUpdated,
            "unknown" => Resource::Unknown,
            other => Resource::Other(other.to_string()),
        }
    }
}

impl From<String> for Resource {
    fn from(name: String) -> Self {
        Resource::from(name.as_str())
    }
}

impl From<Resource> for String {
    fn from(resource: Resource) -> String {
        resource.as_str().to_string()
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Resource {
    fn from_word(text: &str) -> Result<Self, UnknownStatus> {
        Ok(Resource::from(text))
    }
}

text_column!(Resource);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for status in EventStatus::ALL {
            assert_eq!(status.as_str().parse::<EventStatus>().unwrap(), *status);
        }
        for status in EmailStatus::ALL {
            assert_eq!(status.as_str().parse::<EmailStatus>().unwrap(), *status);
        }
        assert!("sending".parse::<EmailStatus>().is_err());
        for name in ["sale", "dispute_won", "unknown", "gift_card"] {
            assert_eq!(Resource::from(name).as_str(), name);
        }
        assert_eq!(
            serde_json::to_string(&EventStatus::Retrying).unwrap(),
            "\"retrying\""
        );
    }
}
