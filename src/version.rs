//! [`Version`]: the type of a migration's version.

/// A migration version: refinery's own version type (`i32`, or `i64` with refinery's
/// `int8-versions` feature).
///
/// # Examples
///
/// ```
/// let m = sqlite_testdb::Migrations::from_migrations([
///     refinery::Migration::unapplied("V20240115__users", "CREATE TABLE users(id INTEGER PRIMARY KEY);")?,
/// ])?;
/// let latest: sqlite_testdb::Version = m.latest();
/// assert_eq!(latest, 20240115);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Version = refinery::SchemaVersion;
