//! The one renderer of findings and reports: [`Finding`]'s and [`ReplayReport`]'s
//! `Display`, [`Error::Findings`](crate::Error::Findings)' one line and the command's text
//! all come from here.

use std::fmt::{self, Write as _};

use super::finding::Finding;
use super::generated_rows::GeneratedRows;
use super::replay_report::ReplayReport;
use super::step::{Down, StepReport};

impl Finding {
    /// The finding in full, as its `Display` shows it, with `hint` as the line under a
    /// finding that lost data (see [`ReplayReport::render`](crate::replay::ReplayReport::render)).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let err = replay::check_with_data(&m, DataOptions::default()).unwrap_err();
    /// let finding = err.report().ok_or("no report")?.findings()[0];
    /// assert!(!finding.render(None).contains("expect_changes"));
    /// assert_eq!(finding.to_string(), finding.render(finding.lost_data_hint().as_deref()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn render(&self, hint: Option<&str>) -> String {
        finding(self, hint)
    }

    /// The line its `Display` shows under a finding that lost data: how to mark the
    /// migration as changing data on purpose, with
    /// [`Replay::expect_changes`](crate::replay::Replay::expect_changes) (which covers
    /// [`check_with_data`](crate::replay::check_with_data) and
    /// [`check_from`](crate::replay::check_from) alike); `None` for any other finding.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let err = replay::check_with_data(&m, DataOptions::default()).unwrap_err();
    /// let hint = err.report().ok_or("no report")?.findings()[0].lost_data_hint();
    /// assert!(hint.is_some_and(|h| h.ends_with("Replay::expect_changes(2)")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lost_data_hint(&self) -> Option<String> {
        self.lost_data.then(|| {
            format!(
                "if the migration deletes or changes them on purpose, mark it: \
                 Replay::expect_changes({})",
                self.version
            )
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(self.lost_data_hint().as_deref()))
    }
}

impl ReplayReport {
    /// One line per migration (what it passed, or the checks it failed), then the whole
    /// set and the rows at the latest version: the report without its findings in full.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?])?;
    /// let report = sqlite_testdb::replay::check(&m)?;
    /// assert_eq!(
    ///     report.overview(),
    ///     "V1__users  applies; integrity ok; foreign keys ok; no down script\n\
    ///      step by step = all at once; re-running the runner changes nothing\n"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn overview(&self) -> String {
        overview(self)
    }

    /// The whole report as its `Display` shows it (the [`overview`](Self::overview), every
    /// finding in full, where the reproduction scripts are, the [`summary`](Self::summary)),
    /// with `hint` giving the line under a finding that lost data (the `Display` names
    /// [`Replay::expect_changes`](crate::replay::Replay::expect_changes); the command names
    /// its `--expect-changes` and config file). Every text of a report, the command's
    /// included, is rendered by this one function.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);")?,
    /// #     refinery::Migration::unapplied("V2__upper", "UPDATE users SET name = upper(name);")?,
    /// # ])?;
    /// use sqlite_testdb::{DataOptions, replay};
    ///
    /// let err = replay::check_with_data(&m, DataOptions::default()).unwrap_err();
    /// let report = err.report().ok_or("no report")?;
    /// let text = report.render(&|f| Some(format!("or list V{} as deliberate", f.version())));
    /// assert!(text.contains("\n(or list V2 as deliberate)\n"));
    /// assert_eq!(report.to_string(), report.render(&|f| replay::Finding::lost_data_hint(f)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn render(&self, hint: &dyn Fn(&Finding) -> Option<String>) -> String {
        report(self, hint)
    }

    /// The one line of [`Error::Findings`](crate::Error::Findings): `3 findings in 2
    /// migrations of <folder>: V2 down-leaves-trace, …`.
    pub(crate) fn error_line(&self) -> String {
        error_line(self)
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&Finding::lost_data_hint))
    }
}

/// A finding in full: what failed where, what was found, `hint` (how to mark a deliberate
/// change of data), how to reproduce it.
pub(crate) fn finding(finding: &Finding, hint: Option<&str>) -> String {
    let mut text = finding.headline();
    let detail = finding.detail.trim_end();
    if !detail.is_empty() {
        text.push('\n');
        text.push_str(detail);
    }
    if let Some(hint) = hint {
        text.push_str(&format!("\n({hint})"));
    }
    if let Some(command) = finding.reproduce_command() {
        text.push_str(&format!("\nreproduce with: {command}"));
    }
    text
}

/// The report in full: the overview, every finding with `hint`, where the scripts are, the
/// summary.
pub(crate) fn report(report: &ReplayReport, hint: &dyn Fn(&Finding) -> Option<String>) -> String {
    let mut text = overview(report);
    for found in report.findings() {
        text.push('\n');
        text.push_str(&finding(found, hint(found).as_deref()));
        text.push('\n');
    }
    if let Some(dir) = report.scripts_folder() {
        writeln!(text, "\nreproduction scripts in {}", dir.display()).ok();
    }
    if !report.passed() {
        writeln!(text, "\n{}", report.summary()).ok();
    }
    text
}

/// `3 findings in 2 migrations of <folder>: V2 down-leaves-trace, V3 data-lost, …`, with the
/// versions not checked.
pub(crate) fn error_line(report: &ReplayReport) -> String {
    let findings: Vec<&Finding> = report
        .findings()
        .into_iter()
        .filter(|f| f.fails())
        .collect();
    let migrations = report
        .steps
        .iter()
        .filter(|s| s.findings.iter().any(Finding::fails))
        .count();
    let origin = report.origin.as_ref().map_or_else(
        || "the migrations".to_owned(),
        |dir| dir.display().to_string(),
    );
    let upgrade = report
        .upgraded
        .as_ref()
        .map_or_else(String::new, |(path, _)| {
            format!(" (upgrade of a copy of {})", path.display())
        });
    let codes: Vec<String> = findings
        .iter()
        .map(|f| format!("V{} {}", f.version, f.check.code()))
        .collect();
    let mut line = format!(
        "{} finding{} in {migrations} migration{} of {origin}{upgrade}: {}",
        findings.len(),
        plural(findings.len()),
        plural(migrations),
        codes.join(", ")
    );
    let unchecked: Vec<&StepReport> = report.steps.iter().filter(|s| !s.checked).collect();
    if let (Some(first), Some(last)) = (unchecked.first(), unchecked.last()) {
        if first.version == last.version {
            write!(line, "; V{} not checked", first.version).ok();
        } else {
            write!(
                line,
                "; V{} to V{} not checked",
                first.version, last.version
            )
            .ok();
        }
    }
    line
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One line per migration (what it passed, or the checks it failed), then the whole set
/// and the rows at the latest version.
pub(crate) fn overview(report: &ReplayReport) -> String {
    let mut out = String::new();
    if let Some((path, version)) = &report.upgraded {
        let at = version.as_deref().unwrap_or("no migration");
        writeln!(out, "upgrade of a copy of {} (at {at})", path.display()).ok();
    }
    let width = report
        .steps
        .iter()
        .map(|s| s.migration.len())
        .max()
        .unwrap_or(0);
    for step in &report.steps {
        if !step.checked {
            writeln!(out, "{:width$}  not checked", step.migration).ok();
            continue;
        }
        let listed: Vec<String> = step
            .findings
            .iter()
            .filter(|x| !x.fails())
            .map(|x| {
                let how = if x.acknowledged {
                    "acknowledged"
                } else {
                    "note"
                };
                format!("{how}: {}", x.check.code())
            })
            .collect();
        let listed = if listed.is_empty() {
            String::new()
        } else {
            format!("\n{:width$}  ({})", "", listed.join("; "))
        };
        if step.findings.iter().any(Finding::fails) {
            let mut checks: Vec<&str> = Vec::new();
            for wording in step
                .findings
                .iter()
                .filter(|x| x.fails())
                .map(|x| x.check.wording(x.kind))
            {
                if !checks.contains(&wording) {
                    checks.push(wording);
                }
            }
            writeln!(
                out,
                "{:width$}  FAILED: {}{listed}",
                step.migration,
                checks.join("; ")
            )
            .ok();
            continue;
        }
        let down = match step.down {
            Down::Reverses => "down reverses it",
            Down::Missing => "no down script",
            Down::Irreversible => "down script is only comments: irreversible",
            Down::Fails | Down::NotChecked => "down script not checked",
        };
        write!(
            out,
            "{:width$}  applies; integrity ok; foreign keys ok; {down}",
            step.migration
        )
        .ok();
        match &step.data {
            None => {
                writeln!(out).ok();
            }
            Some(data) if data.generated.tables().is_empty() && report.upgraded.is_none() => {
                writeln!(out, "; no table to fill before it").ok();
            }
            Some(data) => {
                let outcome = if data.changes.is_empty() {
                    " kept"
                } else {
                    ", changed as expected:"
                };
                let rows = if report.upgraded.is_some() {
                    "the rows".to_owned()
                } else {
                    rows_summary(&data.generated)
                };
                writeln!(out, "; {rows}{outcome}").ok();
                for change in &data.changes {
                    writeln!(out, "    {change}").ok();
                }
            }
        }
        if let Some(listed) = listed.strip_prefix('\n') {
            writeln!(out, "{listed}").ok();
        }
    }
    if report.whole_set {
        writeln!(
            out,
            "step by step = all at once; re-running the runner changes nothing"
        )
        .ok();
    }
    if let (Some(latest), Some(last)) = (&report.latest, report.steps.last()) {
        writeln!(
            out,
            "at {}: {}; integrity ok; foreign keys ok",
            last.migration,
            rows_summary(latest)
        )
        .ok();
    }
    out
}

/// `150 generated rows in 3 tables (2 skipped)`.
fn rows_summary(rows: &GeneratedRows) -> String {
    let tables = rows.tables().len();
    let mut text = format!(
        "{} generated rows in {tables} table{}",
        rows.inserted(),
        if tables == 1 { "" } else { "s" }
    );
    if rows.skipped() > 0 {
        text.push_str(&format!(" ({} skipped)", rows.skipped()));
    }
    text
}
