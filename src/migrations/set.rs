//! [`Migrations`]: a set of refinery migrations, with the down scripts that sit beside them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use refinery::Migration;
use uuid::Uuid;

use super::digest;
use super::down_script::DownScript;
use super::folder;
use super::layout::Layout;
use super::library::{MigrateFn, Record};
use super::refinery_runner::RefineryRunner;
use crate::error::{Error, Result};
use crate::version::Version;

/// A set of refinery migrations, ordered by version, loaded once and shared by every test
/// database made from it.
///
/// Cloning is cheap (the set is reference-counted), so a `Migrations` can live in a
/// `static` or an rstest `#[once]` fixture.
///
/// # Examples
///
/// ```
/// use sqlite_testdb::Migrations;
///
/// let m = Migrations::from_migrations([
///     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
///     refinery::Migration::unapplied("V2__emails", "ALTER TABLE users ADD COLUMN email TEXT;")?,
/// ])?;
/// assert_eq!(m.len(), 2);
/// assert_eq!(m.latest(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Migrations {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) origin: String,
    dir: Option<PathBuf>,
    pub(super) layout: Layout,
    entries: Vec<Entry>,
    /// The function of a set made with `from_fn`, which migrates to the latest version.
    pub(super) closure: Option<Arc<MigrateFn>>,
}

pub(super) struct Entry {
    migration: Migration,
    file: Option<PathBuf>,
    down: Option<DownScript>,
    /// What the migration's library records about it.
    pub(super) record: Record,
    /// Digest of this migration and every one before it: a template's fingerprint starts
    /// from the digest of its last migration, so it costs nothing per test.
    digest: Uuid,
}

impl Migrations {
    /// Loads the refinery SQL migrations in `dir` (and its sub-folders, as refinery does),
    /// with the down scripts beside them.
    ///
    /// A folder in diesel's layout, one sub-folder per migration
    /// (`2024-01-15-120000_create_users/up.sql` and `down.sql`), or in sqlx's
    /// (`20240101000000_create_users.sql`, or `.up.sql` with `.down.sql`) is read too: its
    /// migrations become versions 1, 2, 3, … in their library's order, and a test database
    /// carries that library's history table, so its own migrator finds nothing to do (see
    /// [`Layout`](crate::Layout) and [`from_dir_as`](Self::from_dir_as)).
    ///
    /// Files are found and parsed by refinery's own loader. Where refinery would skip a file
    /// with a log warning, this is an error: a `.sql` file whose name does not match
    /// `V{version}__{name}.sql` is almost always a typo that leaves a migration out. Files
    /// that are not `.sql` (a `README.md`, a `.gitkeep`) are ignored.
    ///
    /// # Errors
    ///
    /// - [`Error::Io`] when `dir` does not exist or a file cannot be read (not UTF-8, say);
    /// - [`Error::NoMigrations`] when `dir` holds no migration;
    /// - [`Error::BadMigrationName`] for a `.sql` file refinery would skip;
    /// - [`Error::RustMigrationInFolder`] for a `V{n}__{name}.rs` migration;
    /// - [`Error::DuplicateVersion`] when two files share a version;
    /// - [`Error::OrphanDownScript`] for a down script without its up file.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
    /// use sqlite_testdb::Migrations;
    ///
    /// let m = Migrations::from_dir(dir.path())?;
    /// assert_eq!(m.versions().collect::<Vec<_>>(), [1]);
    /// assert!(m.down_script(1).is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load(dir.as_ref(), None)
    }

    pub(super) fn load(dir: &Path, layout: Option<Layout>) -> Result<Self> {
        let folder = folder::load(dir, layout)?;
        Self::assemble_with(
            folder.dir.display().to_string(),
            Some(folder.dir),
            folder.layout,
            folder.entries,
            folder.records,
            None,
        )
    }

    /// Takes the migrations of a refinery 0.10 [`Runner`](refinery::Runner) (this crate's refinery), such as
    /// the one `refinery::embed_migrations!` generates: `embedded::migrations::runner()`.
    ///
    /// A runner of refinery 0.8 or 0.9 is another type, and the compiler says so, naming the
    /// versions: for a runner of any refinery version, use
    /// [`migrations!`](crate::migrations!), which also reads it only once per process. A
    /// runner carries no down scripts.
    ///
    /// # Errors
    ///
    /// [`Error::NoMigrations`] for an empty runner, [`Error::DuplicateVersion`] when two
    /// migrations share a version (refinery itself notices only when it runs them).
    ///
    /// # Examples
    ///
    /// ```
    /// use sqlite_testdb::Migrations;
    ///
    /// let runner = refinery::Runner::new(&[
    ///     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// ]);
    /// let m = Migrations::from_runner(runner)?;
    /// assert_eq!(m.latest(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_runner(runner: impl RefineryRunner) -> Result<Self> {
        let entries = runner
            .runner()
            .get_migrations()
            .iter()
            .map(|m| (m.clone(), None, None))
            .collect();
        Self::assemble(
            "refinery runner".to_owned(),
            None,
            Layout::Refinery,
            entries,
        )
    }

    /// Takes migrations built in code, in any order.
    ///
    /// # Errors
    ///
    /// [`Error::NoMigrations`] when there are none, [`Error::DuplicateVersion`] when two
    /// share a version.
    ///
    /// # Examples
    ///
    /// ```
    /// use sqlite_testdb::Migrations;
    ///
    /// let m = Migrations::from_migrations(vec![
    ///     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// ])?;
    /// assert_eq!(m.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_migrations(migrations: impl IntoIterator<Item = Migration>) -> Result<Self> {
        let entries = migrations.into_iter().map(|m| (m, None, None)).collect();
        Self::assemble(
            "migrations given in code".to_owned(),
            None,
            Layout::Refinery,
            entries,
        )
    }

    /// Takes migrations as `(version, name, sql)`: the way to hand over migrations embedded
    /// by any refinery version (0.8, 0.9, 0.10) without naming this crate's refinery types.
    /// The name is the part after `V{version}__`.
    ///
    /// # Errors
    ///
    /// [`Error::BadMigration`] for a version or name refinery does not accept (the name
    /// must be letters, digits and `_`), [`Error::NoMigrations`] when there are none,
    /// [`Error::DuplicateVersion`] when two share a version.
    ///
    /// # Examples
    ///
    /// With the runner of the application's own refinery, whatever its version (what
    /// [`migrations!`](crate::migrations!) does in one call, reading the runner once):
    ///
    /// ```
    /// # let runner = refinery::Runner::new(&[refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?]);
    /// // mod embedded { refinery::embed_migrations!("migrations"); }
    /// // let runner = embedded::migrations::runner();
    /// let m = sqlite_testdb::Migrations::from_parts(
    ///     runner.get_migrations().iter().map(|m| (m.version(), m.name(), m.sql().unwrap_or_default())),
    /// )?;
    /// assert_eq!(m.latest(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// From plain values:
    ///
    /// ```
    /// use sqlite_testdb::Migrations;
    ///
    /// let m = Migrations::from_parts([
    ///     (1, "users", "CREATE TABLE users(id INTEGER PRIMARY KEY);"),
    ///     (2, "emails", "ALTER TABLE users ADD COLUMN email TEXT;"),
    /// ])?;
    /// assert_eq!(m.latest(), 2);
    /// assert_eq!(m.get(2).map(ToString::to_string).as_deref(), Some("V2__emails"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_parts<V, N, S>(migrations: impl IntoIterator<Item = (V, N, S)>) -> Result<Self>
    where
        V: Into<i64>,
        N: AsRef<str>,
        S: AsRef<str>,
    {
        let migrations = migrations
            .into_iter()
            .map(|(version, name, sql)| {
                let (version, name) = (version.into(), name.as_ref());
                let bad = |reason: String| Error::BadMigration {
                    version,
                    name: name.to_owned(),
                    reason,
                };
                let checked = Version::try_from(version).map_err(|_| {
                    bad(format!(
                        "the version does not fit refinery's version type ({})",
                        std::any::type_name::<Version>()
                    ))
                })?;
                let migration = Migration::unapplied(&format!("V{checked}__{name}"), sql.as_ref())
                    .map_err(|e| bad(e.to_string()))?;
                // refinery reads the longest prefix of letters, digits and `_` and drops
                // the rest without a word.
                if migration.name() != name {
                    return Err(bad(format!(
                        "refinery would read the name as {:?}: use letters, digits and _",
                        migration.name()
                    )));
                }
                Ok(migration)
            })
            .collect::<Result<Vec<_>>>()?;
        Self::from_migrations(migrations)
    }

    fn assemble(
        origin: String,
        dir: Option<PathBuf>,
        layout: Layout,
        raw: Vec<(Migration, Option<PathBuf>, Option<DownScript>)>,
    ) -> Result<Self> {
        Self::assemble_with(origin, dir, layout, raw, Vec::new(), None)
    }

    /// [`assemble`](Self::assemble) with the library's record of each migration (in the
    /// order given, which must be the versions' order; empty for refinery's) and the
    /// function of a `from_fn` set.
    pub(super) fn assemble_with(
        origin: String,
        dir: Option<PathBuf>,
        layout: Layout,
        mut raw: Vec<(Migration, Option<PathBuf>, Option<DownScript>)>,
        records: Vec<Record>,
        closure: Option<(Arc<MigrateFn>, Uuid)>,
    ) -> Result<Self> {
        if raw.is_empty() {
            return Err(Error::NoMigrations { origin });
        }
        raw.sort_by_key(|(m, _, _)| m.version());
        for pair in raw.windows(2) {
            if pair[0].0.version() == pair[1].0.version() {
                return Err(Error::DuplicateVersion {
                    version: pair[0].0.version(),
                    first: describe(&pair[0].0, pair[0].1.as_deref()),
                    second: describe(&pair[1].0, pair[1].1.as_deref()),
                });
            }
        }
        // refinery's sets keep the digests they always had; another library's, or a
        // function's, start from a root of their own.
        let mut digest = match (&closure, layout) {
            (Some((_, key)), _) => *key,
            (None, Layout::Refinery) => digest::MIGRATIONS_ROOT,
            (None, other) => Uuid::new_v5(&digest::MIGRATIONS_ROOT, other.tag().as_bytes()),
        };
        let mut records = records.into_iter();
        let entries = raw
            .into_iter()
            .map(|(migration, file, down)| {
                digest = digest::chain(&digest, &migration);
                let record = records.next().unwrap_or(Record::Refinery);
                if record != Record::Refinery {
                    let mut bytes = digest::Encoder::default();
                    record.encode(&mut bytes);
                    digest = Uuid::new_v5(&digest, &bytes.0);
                }
                Entry {
                    migration,
                    file,
                    down,
                    record,
                    digest,
                }
            })
            .collect();
        Ok(Migrations {
            inner: Arc::new(Inner {
                origin,
                dir,
                layout,
                entries,
                closure: closure.map(|(f, _)| f),
            }),
        })
    }

    /// The folder the set was loaded from (canonical), `None` for a runner or code.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
    /// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
    /// use sqlite_testdb::Migrations;
    ///
    /// let m = Migrations::from_dir(dir.path())?;
    /// assert_eq!(m.dir(), Some(dir.path().canonicalize()?.as_path()));
    /// let in_code = Migrations::from_migrations(m.iter().cloned())?;
    /// assert_eq!(in_code.dir(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    /// How many migrations the set holds (never zero).
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V3__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// assert_eq!(m.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.inner.entries.len()
    }

    /// Always `false`: an empty set is rejected when loaded. Present for API convention.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V3__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// use sqlite_testdb::{Error, Migrations};
    ///
    /// assert!(!m.is_empty());
    /// let none = Migrations::from_migrations(Vec::new());
    /// assert!(matches!(none, Err(Error::NoMigrations { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.entries.is_empty()
    }

    /// The migrations, ordered by version.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V3__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// let names: Vec<&str> = m.iter().map(|m| m.name()).collect();
    /// assert_eq!(names, ["users", "posts"]); // by version, not in the order given
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Migration> + ExactSizeIterator + '_ {
        self.inner.entries.iter().map(|e| &e.migration)
    }

    /// The versions, in ascending order.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V3__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// assert_eq!(m.versions().collect::<Vec<_>>(), [1, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn versions(&self) -> impl DoubleEndedIterator<Item = Version> + ExactSizeIterator + '_ {
        self.iter().map(Migration::version)
    }

    /// The highest version.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V3__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// assert_eq!(m.latest(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn latest(&self) -> Version {
        self.inner
            .entries
            .last()
            .map_or(0, |e| e.migration.version())
    }

    /// The migration with this version.
    ///
    /// # Examples
    ///
    /// ```
    /// # let m = sqlite_testdb::Migrations::from_migrations([
    /// #     refinery::Migration::unapplied("V3__posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?,
    /// #     refinery::Migration::unapplied("V1__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
    /// # ])?;
    /// assert_eq!(m.get(3).map(|m| m.name()), Some("posts"));
    /// assert!(m.get(2).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, version: Version) -> Option<&Migration> {
        self.entry(version).map(|e| &e.migration)
    }

    /// The file a migration was loaded from, `None` for a runner's or one built in code.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
    /// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
    /// use sqlite_testdb::Migrations;
    ///
    /// let m = Migrations::from_dir(dir.path())?;
    /// assert!(m.file(2).is_some_and(|p| p.ends_with("V2__posts.sql")));
    /// let in_code = Migrations::from_migrations(m.iter().cloned())?;
    /// assert_eq!(in_code.file(2), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file(&self, version: Version) -> Option<&Path> {
        self.entry(version).and_then(|e| e.file.as_deref())
    }

    /// The down script of a migration, if it has one.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # std::fs::write(dir.path().join("V1__users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);")?;
    /// # std::fs::write(dir.path().join("V1__users.down.sql"), "DROP TABLE users;")?;
    /// # std::fs::write(dir.path().join("V2__posts.sql"), "CREATE TABLE posts(id INTEGER PRIMARY KEY);")?;
    /// let m = sqlite_testdb::Migrations::from_dir(dir.path())?;
    /// assert_eq!(m.down_script(1).map(|d| d.sql()), Some("DROP TABLE users;"));
    /// assert!(m.down_script(2).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn down_script(&self, version: Version) -> Option<&DownScript> {
        self.entry(version).and_then(|e| e.down.as_ref())
    }

    /// Where the down script of a migration loaded from a file is, or would be.
    pub(crate) fn expected_down_path(&self, version: Version) -> Option<PathBuf> {
        Some(folder::expected_down_path(
            self.inner.layout,
            self.file(version)?,
        ))
    }

    pub(super) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub(super) fn entry(&self, version: Version) -> Option<&Entry> {
        let entries = &self.inner.entries;
        entries
            .binary_search_by_key(&version, |e| e.migration.version())
            .ok()
            .map(|i| &entries[i])
    }

    /// Checks that `version` is one of the set's versions: refinery's `Target::Version`
    /// silently runs to the latest for an unknown one.
    pub(crate) fn check_version(&self, version: Version) -> Result<()> {
        self.require_steps("stopping at a version")?;
        match self.entry(version) {
            Some(_) => Ok(()),
            None => Err(Error::UnknownVersion {
                version,
                available: self.available(),
            }),
        }
    }

    fn available(&self) -> String {
        let versions: Vec<String> = self.versions().map(|v| v.to_string()).collect();
        versions.join(", ")
    }

    /// The digest of every migration up to and including `version`, which must exist.
    pub(crate) fn digest_to(&self, version: Version) -> Result<Uuid> {
        match self.entry(version) {
            Some(entry) => Ok(entry.digest),
            None => Err(Error::UnknownVersion {
                version,
                available: self.available(),
            }),
        }
    }

    /// Where the set came from: its folder, or `refinery runner`.
    pub(crate) fn origin(&self) -> &str {
        &self.inner.origin
    }
}

impl fmt::Debug for Migrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.iter().map(ToString::to_string).collect();
        f.debug_struct("Migrations")
            .field("origin", &self.inner.origin)
            .field("migrations", &names)
            .finish()
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = Box<dyn Iterator<Item = &'a Migration> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

fn describe(migration: &Migration, file: Option<&Path>) -> String {
    match file {
        Some(file) => format!("{migration} ({})", file.display()),
        None => migration.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, sql: &str) -> Migration {
        Migration::unapplied(name, sql).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn migrations_are_sorted_and_duplicates_rejected() {
        let set = Migrations::from_migrations([m("V2__b", "SELECT 1;"), m("V1__a", "SELECT 1;")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.versions().collect::<Vec<_>>(), [1, 2]);

        let err =
            Migrations::from_migrations([m("V1__a", "SELECT 1;"), m("V1__b", "SELECT 2;")]).err();
        assert!(
            matches!(err, Some(Error::DuplicateVersion { version: 1, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn unknown_version_lists_the_available_ones() {
        let set = Migrations::from_migrations([m("V1__a", "SELECT 1;"), m("V3__c", "SELECT 1;")])
            .unwrap_or_else(|e| panic!("{e}"));
        let err = set.check_version(2).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("version 2 is not a migration of this set (versions: 1, 3)")
        );
    }

    #[test]
    fn digests_chain_so_a_prefix_ignores_later_migrations() {
        let a = Migrations::from_migrations([m("V1__a", "SELECT 1;"), m("V2__b", "SELECT 2;")])
            .unwrap_or_else(|e| panic!("{e}"));
        let b = Migrations::from_migrations([m("V1__a", "SELECT 1;"), m("V2__b", "SELECT 3;")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.digest_to(1).ok(), b.digest_to(1).ok());
        assert_ne!(a.digest_to(2).ok(), b.digest_to(2).ok());
    }
}
