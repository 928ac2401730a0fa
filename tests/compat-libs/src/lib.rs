//! An application's migrations for each library: sqlx's and diesel's folders live in
//! `migrations/`, rusqlite_migration's are here, in code.

use rusqlite_migration::{Migrations, M};

/// The SQL of each rusqlite_migration migration, up then down: the key of
/// `sqlite_testdb::Migrations::from_fn`, which changes whenever they change.
pub const STEPS: [(&str, &str); 3] = [
    (
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
        "DROP TABLE users;",
    ),
    (
        "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT NOT NULL);",
        "DROP TABLE posts;",
    ),
    (
        "CREATE INDEX posts_by_user ON posts(user_id);",
        "DROP INDEX posts_by_user;",
    ),
];

/// The application's rusqlite_migration migrations, versions in `PRAGMA user_version`.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(
        STEPS
            .iter()
            .map(|(up, down)| M::up(up).down(down))
            .collect(),
    )
}

/// Where a library's migration folder is: `migrations/sqlx` or `migrations/diesel`.
pub fn folder(library: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(library)
}
