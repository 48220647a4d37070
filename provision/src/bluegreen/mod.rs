//! Zero-downtime changes to the api: two slots on two loopback ports (`site::Slot`), one
//! serving behind our nginx upstream. `rollout` is one change (new slot started beside the old,
//! checked there, nginx switched, the old one drained and stopped); `converge` is what
//! `dtops provision` makes of the slots it finds (a fresh box, a changed setting, an interrupted
//! change); `smoke` is the signed-license check a new slot passes before it gets traffic.

mod converge;
mod rollout;
mod smoke;

pub use converge::{apply, assess, Needed};
pub use rollout::{rollout, Done, Rollout, Serving};
