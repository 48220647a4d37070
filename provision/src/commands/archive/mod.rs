//! `dtops archive credentials|backup`, `dtops escrow init|push`, `dtops recover` and
//! `dtops restore --at`: continuous archiving and the way back from it.

mod backup;
mod credentials;
mod escrow;
mod gumroad_catch_up;
mod recover;
mod recover_check;
mod recover_steps;
mod recovery_point;

pub use backup::run as backup;
pub use credentials::run as credentials;
pub use escrow::{init as escrow_init, push as escrow_push};
pub use recover::run as recover;
