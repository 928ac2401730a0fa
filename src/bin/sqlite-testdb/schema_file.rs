//! `check --schema FILE` (or `schema-file` in the config file): the committed schema must be
//! what the migrations produce, as `sqlite-testdb schema DIR` prints it.

use std::path::Path;

use sqlite_testdb::Schema;

use crate::annotation::{Annotation, first_changed_line};
use crate::failure::Failure;

/// `schema-file-drift` when `file` is not the text of `schema`, with the unified diff
/// from the file to the migrations.
pub(crate) fn compare(schema: &Schema, file: &Path) -> Result<Option<Annotation>, Failure> {
    let committed = std::fs::read_to_string(file).map_err(|e| {
        Failure::InputText(format!("cannot read schema file {}: {e}", file.display()))
    })?;
    let committed = committed.replace("\r\n", "\n");
    let produced = schema.to_string();
    if committed.trim_end() == produced.trim_end() {
        return Ok(None);
    }
    let (old, new) = (
        format!("{}\n", committed.trim_end()),
        format!("{}\n", produced.trim_end()),
    );
    let shown = file.display().to_string();
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&shown, "migrations")
        .to_string();
    let mut a = Annotation::error(
        "schema-file-drift",
        format!("{shown} is not the schema the migrations produce"),
        format!(
            "{shown} differs from the schema the migrations produce (- only in the file, + only \
             from the migrations); rewrite it with `sqlite-testdb schema DIR > {shown}`:\n{diff}"
        ),
    );
    a.file = Some(file.to_path_buf());
    a.line = first_changed_line(&new, &old);
    a.subject = Some(shown);
    Ok(Some(a))
}
