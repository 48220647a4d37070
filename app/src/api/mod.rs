//! The admin API's request and response bodies, shared by the server and `dtops` (its client),
//! so both sides agree on every field by construction.

mod alerts;
mod archive_facts;
mod build;
mod email_change;
mod email_preview;
mod error;
mod events;
mod gumroad_sync;
mod history;
mod host_report;
mod keys;
mod licenses;
mod reissue;
mod search;
mod statuses;

pub use alerts::{AckResponse, Alert, AlertList, Problem};
pub use archive_facts::{
    ArchiveFacts, EscrowFacts, WalPoint, ESCROW_STALE_HOURS, OFFSITE_BEHIND_MINUTES,
};
pub use build::{BuildInfo, BUILD_HEADER};
pub use email_change::{EmailChangeRequest, EmailChangeResponse};
pub use email_preview::{EmailKind, EmailPreview};
pub use error::ErrorBody;
pub use events::{Event, EventDetail, EventList, HistoryEntry};
pub use gumroad_sync::{GumroadSync, GumroadSyncRequest, SyncSkipped, SyncedEvent};
pub use history::{ChangeAction, LicenseChange, LicenseHistory, ReinstateRequest};
pub use host_report::{
    BackupFacts, BackupFailure, CertFacts, HostReport, BACKUP_MAX_AGE_HOURS, CERT_WARN_DAYS,
};
pub use keys::{KeyList, TrustedKey};
pub use licenses::{
    LicenseRecord, MintRequest, MintResponse, ResendRequest, ResendResponse, RevokeRequest,
};
pub use reissue::{ReissueJob, ReissueProblem, ReissueRequest};
pub use search::{LicenseMatch, LicensePage, LicenseSearch, StatusFilter, MAX_PAGE};
pub use statuses::{
    AlertKind, EmailStatus, EventStatus, HistoryStep, ItemStatus, JobState, ReissueStep, Resource,
    UnknownStatus,
};
