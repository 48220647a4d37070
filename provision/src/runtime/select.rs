//! The runtime `--runtime` names.

use std::path::Path;

use super::compose::ComposeRuntime;
use super::kind::RuntimeKind;
use super::native::NativeRuntime;
use super::seam::Runtime;

/// The runtime for `--runtime` (`native_bin`: `--native-bin`; default: the
/// `datatools-license` binary next to dtops).
pub fn build(kind: RuntimeKind, native_bin: Option<&Path>) -> anyhow::Result<Box<dyn Runtime>> {
    Ok(match kind {
        RuntimeKind::Compose => Box::new(ComposeRuntime),
        RuntimeKind::Native => {
            let api_bin = match native_bin {
                Some(path) => path.to_path_buf(),
                None => std::env::current_exe()?.with_file_name("datatools-license"),
            };
            Box::new(NativeRuntime::new(api_bin))
        }
    })
}
