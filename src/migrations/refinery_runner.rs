//! [`RefineryRunner`]: what [`Migrations::from_runner`](super::Migrations::from_runner)
//! takes, and what the compiler says when a runner of another refinery version is given.

use refinery::Runner;

/// A refinery 0.10 [`Runner`], or a reference to one: what [`Migrations::from_runner`](crate::Migrations::from_runner)
/// takes.
///
/// refinery 0.8 and 0.9 runners are other types, even where they look the same; for them
/// (and for 0.10 too) [`migrations!`](crate::migrations!) reads a runner of any refinery
/// version in one call.
///
/// # Examples
///
/// ```
/// use sqlite_testdb::{Migrations, RefineryRunner};
///
/// let runner = refinery::Runner::new(&[
///     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
/// ]);
/// assert_eq!(runner.runner().get_migrations().len(), 1);
/// let m = Migrations::from_runner(&runner)?;
/// assert_eq!(m.latest(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`Migrations::from_runner` takes a refinery 0.10 `Runner`, not `{Self}`",
    label = "not a refinery 0.10 runner: from refinery 0.8 or 0.9?",
    note = "for an embedded runner of any refinery version (0.8, 0.9, 0.10), use \
            `sqlite_testdb::migrations!(embedded::migrations::runner())`"
)]
pub trait RefineryRunner {
    /// The runner.
    ///
    /// # Examples
    ///
    /// ```
    /// use sqlite_testdb::RefineryRunner;
    ///
    /// let runner = refinery::Runner::new(&[]);
    /// assert!((&runner).runner().get_migrations().is_empty());
    /// ```
    fn runner(&self) -> &Runner;
}

impl RefineryRunner for Runner {
    fn runner(&self) -> &Runner {
        self
    }
}

impl RefineryRunner for &Runner {
    fn runner(&self) -> &Runner {
        self
    }
}

impl RefineryRunner for &mut Runner {
    fn runner(&self) -> &Runner {
        self
    }
}
