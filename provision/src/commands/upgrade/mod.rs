//! `dtops upgrade`: deploy another commit of the license server safely. `flow` runs it in
//! order; `checks` says whether the box is ready and the schema allows the new version; `swap`
//! points `.env` at an image and recreates the api; `smoke` mints, verifies and revokes; `report`
//! says what the box is left in when it stops.

mod checks;
mod flow;
mod report;
mod smoke;
mod swap;

pub use flow::run;
