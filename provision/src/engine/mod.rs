//! The desired-state engine: each step observes the host, says what would change, and acts only
//! on a difference; checks only observe. `plan` (dry run) and `apply` run the same list.

mod converge;
mod ctx;
mod lock;
mod pending;
mod redact;
mod report;
mod step;

pub use converge::converge;
pub use ctx::Ctx;
pub use lock::AppLock;
pub use pending::Handler;
pub use report::Report;
pub use step::{Change, Check, Plan, Step, Task, Verdict};
