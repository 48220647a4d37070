//! Switching site.toml's stage and features with toml_edit: comments, order and formatting
//! kept, the result checked before it replaces the file, written atomically.

use std::path::Path;

use anyhow::{bail, Context};
use toml_edit::{value, DocumentMut, Item};

use crate::site::Stage;

/// Sets `[app] stage` and `[features]` in site.toml with toml_edit (comments, order and
/// formatting kept), atomically. Returns a sentence when the file changed.
pub(super) fn flip_site_toml(
    path: &Path,
    stage: Stage,
    features: bool,
) -> anyhow::Result<Option<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let stage = stage.to_string();
    let current_stage = doc["app"]["stage"].as_str().map(str::to_string);
    // Each target is an explicit stage: `cutover pr2` from pr3 turns the portal off again.
    let set_stage = match current_stage.as_deref() {
        Some(current) => current != stage,
        None => bail!("{}: [app] stage is missing", path.display()),
    };
    if set_stage {
        set_keeping_decor(&mut doc["app"]["stage"], value(stage.as_str()));
    }
    for feature in ["gumroad", "postmark"] {
        if doc["features"][feature].as_bool() != Some(features) {
            set_keeping_decor(&mut doc["features"][feature], value(features));
        }
    }
    let new = doc.to_string();
    if new == text {
        return Ok(None);
    }
    // The result must still be a site dtops accepts before it replaces the file.
    crate::site::Site::parse(&new, &path.display().to_string())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_atomic(path, new.as_bytes())?;
    Ok(Some(format!(
        "{}: stage {}, features gumroad = {} and postmark = {} (comments kept)",
        path.display(),
        doc["app"]["stage"].as_str().unwrap_or("?"),
        features,
        features
    )))
}

/// Replaces a value, keeping the whitespace and any comment at the end of its line.
fn set_keeping_decor(item: &mut Item, new: Item) {
    let decor = item.as_value().map(|v| v.decor().clone());
    *item = new;
    if let (Some(decor), Some(value)) = (decor, item.as_value_mut()) {
        *value.decor_mut() = decor;
    }
}

/// site.toml is the operator's file, not a host path: replaced where it is, keeping its mode.
fn write_atomic(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    crate::host::replace_file(path, content, mode, None)
        .with_context(|| format!("cannot replace {}", path.display()))
}
