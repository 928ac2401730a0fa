//! `check --format github`: one GitHub Actions workflow command per finding, which GitHub
//! shows as an annotation on the file and line of a pull request:
//!
//! ```text
//! ::error file=migrations/V2__posts.sql,line=3,title=released-migration-changed::V2__posts was released …
//! ```

use crate::annotation::{Annotation, Level, display_path};

/// The workflow command of one annotation; `failing` ones are `::error`, the others
/// `::warning` (informational) or `::notice` (notes, baselined or released findings).
pub(crate) fn command(annotation: &Annotation, failing: bool) -> String {
    let kind = match annotation.level {
        Level::Error if failing => "error",
        Level::Error | Level::Warning => "warning",
        Level::Note => "notice",
    };
    let mut properties = Vec::new();
    if let Some(file) = &annotation.file {
        properties.push(format!("file={}", property(&display_path(file))));
        if let Some(line) = annotation.line {
            properties.push(format!("line={line}"));
        }
    }
    properties.push(format!("title={}", property(&annotation.code)));
    format!(
        "::{kind} {}::{}",
        properties.join(","),
        data(&annotation.message)
    )
}

/// The message of a workflow command, escaped as GitHub's toolkit does.
pub(crate) fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value of a workflow command: also `:` and `,`, which end it.
pub(crate) fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped_as_the_toolkit_does() {
        assert_eq!(data("50% of\r\nrows"), "50%25 of%0D%0Arows");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn a_failing_finding_is_an_error_with_its_file_line_and_code() {
        let mut a = Annotation::error("must-apply", "must apply", "line one\nline two");
        a.file = Some("migrations/V2__x.sql".into());
        a.line = Some(4);
        assert_eq!(
            command(&a, true),
            "::error file=migrations/V2__x.sql,line=4,title=must-apply::line one%0Aline two"
        );
        assert!(command(&a, false).starts_with("::warning file="));
    }
}
