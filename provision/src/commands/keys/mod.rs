//! `dtops keys generate` and `dtops keys rotate`.

mod generate;
mod rotate;

pub use generate::generate;
pub use rotate::run as rotate;
