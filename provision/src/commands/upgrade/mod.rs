//! `dtops upgrade`: deploy another commit of the license server safely. `flow` runs it in
//! order; `checks` says whether the box is ready and the schema allows the new version; the
//! change itself is a blue/green rollout (`crate::bluegreen`); `report` says what the box is
//! left in when it stops; `dtops_install` builds the dtops of the same commit and installs it
//! once the new version serves.

mod checks;
mod dtops_install;
mod flow;
mod report;

pub use flow::run;
