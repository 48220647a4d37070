//! The admin API's request and response bodies, shared by the server and `dtops` (its client),
//! so both sides agree on every field by construction.

mod email_change;
mod error;
mod events;
mod gumroad_sync;
mod licenses;
mod reissue;
mod statuses;

pub use email_change::{EmailChangeRequest, EmailChangeResponse};
pub use error::ErrorBody;
pub use events::{Event, EventDetail, EventList};
pub use gumroad_sync::{GumroadSync, GumroadSyncRequest, SyncSkipped, SyncedEvent};
pub use licenses::{
    LicenseRecord, MintRequest, MintResponse, ResendRequest, ResendResponse, RevokeRequest,
};
pub use reissue::{ReissueJob, ReissueProblem, ReissueRequest};
pub use statuses::{
    EmailStatus, EventStatus, ItemStatus, JobState, ReissueStep, Resource, UnknownStatus,
};
