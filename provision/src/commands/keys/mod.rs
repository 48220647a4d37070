//! `dtops keys generate`, `dtops keys rotate`, `dtops keys reissue` and `dtops keys show`.

mod generate;
mod reissue;
mod rotate;
mod show;

pub use generate::generate;
pub use reissue::run as reissue;
pub use rotate::run as rotate;
pub use show::show;
