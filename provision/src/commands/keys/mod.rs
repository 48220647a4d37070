//! `dtops keys generate`, `dtops keys rotate` and `dtops keys reissue`.

mod generate;
mod reissue;
mod rotate;

pub use generate::generate;
pub use reissue::run as reissue;
pub use rotate::run as rotate;
