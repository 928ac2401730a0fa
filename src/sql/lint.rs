//! What a migration's SQL text alone tells: PRAGMAs that do nothing (or fail) inside the
//! transaction a runner wraps each migration in, and SQL features newer than the oldest
//! SQLite the project runs on. Each with the 1-based line of the script it is on.
//!
//! Everything else about a step (what it did to tables, columns, indexes) is read from the
//! schemas before and after it, never from the text.

use super::sqlite_version::SqliteVersion;
use super::tokens::{Token, TokenKind, lex};

/// What a [`Lint`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// A PRAGMA that has no effect, or fails, inside a transaction.
    PragmaInTransaction,
    /// A feature that SQLite releases before `needs` do not have.
    NewerSqliteFeature { needs: SqliteVersion },
}

/// A finding in a script's text, at its 1-based `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lint {
    pub(crate) rule: Rule,
    pub(crate) line: usize,
    /// One line naming what was found and why it matters.
    pub(crate) detail: String,
}

/// The PRAGMAs that do not do inside a transaction what they say, each checked against
/// SQLite itself (see the tests): set inside `BEGIN … COMMIT`, then read back.
///
/// Not listed because they do work inside one: `legacy_alter_table`, `recursive_triggers`,
/// `defer_foreign_keys` (meant for it), `user_version`.
const PRAGMAS: [(&str, &str); 5] = [
    (
        "foreign_keys",
        "SQLite ignores it inside a transaction: foreign key enforcement stays as it was",
    ),
    (
        "journal_mode",
        "changing into or out of WAL mode is an error inside a transaction",
    ),
    (
        "synchronous",
        "changing the safety level is an error inside a transaction",
    ),
    (
        "page_size",
        "SQLite ignores it inside a transaction: a new page size takes a VACUUM, which cannot run in one",
    ),
    (
        "auto_vacuum",
        "SQLite ignores it inside a transaction: switching it takes a VACUUM, which cannot run in one",
    ),
];

/// Every PRAGMA of `sql` that sets one of [`PRAGMAS`], when the script runs inside a
/// transaction (`in_transaction`, as refinery runs each migration); none otherwise.
pub(crate) fn pragmas_in_transaction(sql: &str, in_transaction: bool) -> Vec<Lint> {
    if !in_transaction {
        return Vec::new();
    }
    let tokens = lex(sql);
    let inside = transaction_states(&tokens);
    let lines = Lines::of(sql);
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if !token.is_keyword("pragma") || !inside[i] {
            continue;
        }
        // PRAGMA [schema.]name = value | PRAGMA [schema.]name(value)
        let mut at = i + 1;
        if punct(&tokens, at + 1, '.') {
            at += 2;
        }
        let Some(name) = tokens.get(at).and_then(Token::identifier) else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        let sets = punct(&tokens, at + 1, '=') || punct(&tokens, at + 1, '(');
        let Some((_, why)) = PRAGMAS.iter().find(|(p, _)| *p == name) else {
            continue;
        };
        if sets {
            found.push(Lint {
                rule: Rule::PragmaInTransaction,
                line: lines.line(token.start),
                detail: format!("`PRAGMA {name}` in the migration's transaction: {why}"),
            });
        }
    }
    found
}

/// For each token of a script that starts inside a transaction, whether it is still inside
/// one: a migration may end the runner's transaction (`COMMIT;`), do what only works
/// outside one, and open another (`BEGIN;`). The `BEGIN … END` of a trigger's body and the
/// `CASE … END` of an expression are not transactions.
fn transaction_states(tokens: &[Token]) -> Vec<bool> {
    let mut states = Vec::with_capacity(tokens.len());
    let mut inside = true;
    let mut statement_start = true;
    // In a CREATE TRIGGER statement: before its body (`Some(false)`), or in it.
    let mut trigger: Option<bool> = None;
    let mut cases = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        let at_start = statement_start;
        statement_start = punct(tokens, i, ';') && trigger != Some(true);
        if token.is_keyword("case") {
            cases += 1;
        } else if token.is_keyword("end") && cases > 0 {
            cases -= 1;
        } else if token.is_keyword("trigger") && trigger.is_none() {
            trigger = Some(false);
        } else if token.is_keyword("begin") && trigger == Some(false) {
            trigger = Some(true);
        } else if token.is_keyword("end") && trigger == Some(true) {
            trigger = None;
        } else if at_start && trigger.is_none() {
            if token.is_keyword("begin") {
                inside = true;
            } else if token.is_keyword("commit")
                || token.is_keyword("end")
                || (token.is_keyword("rollback")
                    && !tokens.get(i + 1).is_some_and(|t| t.is_keyword("to")))
            {
                inside = false;
            }
        }
        if punct(tokens, i, ';') && trigger == Some(false) {
            // A CREATE TRIGGER that never reached its body (not one after all).
            trigger = None;
        }
        states.push(inside);
    }
    states
}

/// Every use in `sql` of a feature that SQLite `min` does not have, once per feature and
/// line. The releases are those of SQLite's release history (sqlite.org/changes.html).
pub(crate) fn newer_features(sql: &str, min: SqliteVersion) -> Vec<Lint> {
    let tokens = lex(sql);
    let lines = Lines::of(sql);
    let mut found: Vec<Lint> = Vec::new();
    for (at, what, needs) in features(&tokens) {
        if needs <= min {
            continue;
        }
        let line = lines.line(tokens[at].start);
        let detail = format!("{what} needs SQLite {needs}; the project's minimum is {min}");
        if !found.iter().any(|l| l.line == line && l.detail == detail) {
            found.push(Lint {
                rule: Rule::NewerSqliteFeature { needs },
                line,
                detail,
            });
        }
    }
    found
}

const fn v(minor: u32) -> SqliteVersion {
    SqliteVersion::new(3, minor, 0)
}

/// Where each dated feature is used: the token it starts at, its name, its release.
fn features(tokens: &[Token]) -> Vec<(usize, &'static str, SqliteVersion)> {
    let depth = depths(tokens);
    let kw = |i: usize, k: &str| tokens.get(i).is_some_and(|t| t.is_keyword(k));
    let mut statement = 0;
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if punct(tokens, i, ';') {
            statement = i + 1;
            continue;
        }
        let creates_table = kw(statement, "create")
            && (kw(statement + 1, "table")
                || (kw(statement + 2, "table")
                    && (kw(statement + 1, "temp") || kw(statement + 1, "temporary"))));
        let TokenKind::Word(word) = &token.kind else {
            if punct(tokens, i, '-')
                && punct(tokens, i + 1, '>')
                && tokens[i + 1].start == token.end
            {
                found.push((i, "the `->` and `->>` operators", v(38)));
            }
            continue;
        };
        let call = punct(tokens, i + 1, '(');
        match word.to_ascii_lowercase().as_str() {
            "returning" => found.push((i, "`RETURNING`", v(35))),
            "alter" if kw(i + 1, "table") => {
                let mut at = i + 3;
                if punct(tokens, at, '.') {
                    at += 2;
                }
                if kw(at, "drop") {
                    found.push((i, "`ALTER TABLE … DROP COLUMN`", v(35)));
                } else if kw(at, "rename") && !kw(at + 1, "to") {
                    found.push((i, "`ALTER TABLE … RENAME COLUMN`", v(25)));
                }
            }
            "strict"
                if creates_table
                    && i > 0
                    && (punct(tokens, i - 1, ')') || punct(tokens, i - 1, ','))
                    && (i + 1 == tokens.len()
                        || punct(tokens, i + 1, ';')
                        || punct(tokens, i + 1, ',')) =>
            {
                found.push((i, "`STRICT` tables", v(37)));
            }
            "generated" if kw(i + 1, "always") => {
                found.push((i, "generated columns", v(31)));
            }
            "as" if call && creates_table && depth[i] == 1 => {
                found.push((i, "generated columns", v(31)));
            }
            "as" if (kw(i + 1, "materialized")
                || (kw(i + 1, "not") && kw(i + 2, "materialized"))) =>
            {
                found.push((i, "`MATERIALIZED` hints on common table expressions", v(35)));
            }
            "do" if kw(i + 1, "nothing") || kw(i + 1, "update") => {
                found.push((i, "`ON CONFLICT … DO` (upsert)", v(24)));
            }
            "over" if call || tokens.get(i + 1).and_then(Token::identifier).is_some() => {
                found.push((i, "window functions (`OVER`)", v(25)));
            }
            "filter" if call && kw(i + 2, "where") => {
                found.push((i, "`FILTER` on aggregate functions", v(30)));
            }
            "nulls" if kw(i + 1, "first") || kw(i + 1, "last") => {
                found.push((i, "`NULLS FIRST`/`NULLS LAST`", v(30)));
            }
            "iif" if call => found.push((i, "`iif()`", v(32))),
            "unixepoch" if call => found.push((i, "`unixepoch()`", v(38))),
            "right" | "full" if kw(i + 1, "join") || (kw(i + 1, "outer") && kw(i + 2, "join")) => {
                found.push((i, "`RIGHT` and `FULL OUTER JOIN`", v(39)));
            }
            "is" if kw(i + 1, "distinct") || (kw(i + 1, "not") && kw(i + 2, "distinct")) => {
                found.push((i, "`IS [NOT] DISTINCT FROM`", v(39)));
            }
            "update" => {
                if let Some(from) = update_from(tokens, &depth, i) {
                    found.push((from, "`UPDATE … FROM`", v(33)));
                }
            }
            _ => {}
        }
    }
    found
}

/// For an `UPDATE [OR …] table [AS alias] SET …` statement at `i`, the `FROM` of its own
/// level, if it has one.
fn update_from(tokens: &[Token], depth: &[usize], i: usize) -> Option<usize> {
    let kw = |i: usize, k: &str| tokens.get(i).is_some_and(|t| t.is_keyword(k));
    let mut at = i + 1;
    if kw(at, "or") {
        at += 2;
    }
    tokens.get(at).and_then(Token::identifier)?;
    at += 1;
    if punct(tokens, at, '.') {
        at += 2;
    }
    if kw(at, "as") {
        at += 2;
    } else if !kw(at, "set") && tokens.get(at).and_then(Token::identifier).is_some() {
        at += 1;
    }
    if !kw(at, "set") {
        return None;
    }
    for (j, token) in tokens.iter().enumerate().skip(at + 1) {
        if depth[j] < depth[i] {
            return None;
        }
        if depth[j] > depth[i] {
            continue;
        }
        if punct(tokens, j, ';')
            || ["where", "returning", "end", "order", "limit"]
                .iter()
                .any(|k| token.is_keyword(k))
        {
            return None;
        }
        if token.is_keyword("from") {
            return Some(j);
        }
    }
    None
}

/// The parenthesis depth each token is at (an opening parenthesis is at its outer depth).
fn depths(tokens: &[Token]) -> Vec<usize> {
    let mut depth = 0usize;
    tokens
        .iter()
        .map(|t| match t.kind {
            TokenKind::Punct('(') => {
                depth += 1;
                depth - 1
            }
            TokenKind::Punct(')') => {
                depth = depth.saturating_sub(1);
                depth
            }
            _ => depth,
        })
        .collect()
}

fn punct(tokens: &[Token], i: usize, c: char) -> bool {
    tokens.get(i).is_some_and(|t| t.kind == TokenKind::Punct(c))
}

/// Byte offsets to 1-based line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A PRAGMA set inside `BEGIN … COMMIT` on a file database with a table: `Err` with
    /// SQLite's message when setting it fails, else its value inside and after.
    fn set_in_transaction(
        set: &str,
        read: &str,
    ) -> Result<Result<(String, String), String>, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let conn = Connection::open(dir.path().join("pragma.sqlite"))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t(a); BEGIN;")?;
        let value = |conn: &Connection| -> rusqlite::Result<String> {
            conn.query_row(&format!("PRAGMA {read}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
                    .map(|v| format!("{v:?}"))
            })
        };
        if let Err(e) = conn.execute_batch(&format!("PRAGMA {set}")) {
            return Ok(Err(e.to_string()));
        }
        let inside = value(&conn)?;
        conn.execute_batch("COMMIT")?;
        Ok(Ok((inside, value(&conn)?)))
    }

    #[test]
    fn the_listed_pragmas_do_nothing_or_fail_inside_a_transaction() -> TestResult {
        let before = |read: &str| -> Result<String, Box<dyn std::error::Error>> {
            let dir = tempfile::tempdir()?;
            let conn = Connection::open(dir.path().join("pragma.sqlite"))?;
            conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t(a);")?;
            Ok(conn.query_row(&format!("PRAGMA {read}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
                    .map(|v| format!("{v:?}"))
            })?)
        };
        let cases = [
            ("foreign_keys", "foreign_keys = ON", "foreign_keys = OFF"),
            ("journal_mode", "journal_mode", "journal_mode = DELETE"),
            ("synchronous", "synchronous", "synchronous = OFF"),
            ("page_size", "page_size", "page_size = 8192"),
            ("auto_vacuum", "auto_vacuum", "auto_vacuum = FULL"),
        ];
        assert_eq!(
            cases.map(|c| c.0),
            PRAGMAS.map(|p| p.0),
            "every listed pragma is checked"
        );
        for (name, _, set) in cases {
            let unchanged = before(name)?;
            match set_in_transaction(set, name)? {
                Err(message) => assert!(!message.is_empty(), "{name} fails: {message}"),
                Ok((inside, after)) => {
                    assert_eq!(
                        (&inside, &after),
                        (&unchanged, &unchanged),
                        "{set} took effect"
                    );
                }
            }
        }
        // foreign_keys: set OFF while ON, still ON inside and after.
        let dir = tempfile::tempdir()?;
        let conn = Connection::open(dir.path().join("fk.sqlite"))?;
        conn.execute_batch("PRAGMA foreign_keys = ON; BEGIN; PRAGMA foreign_keys = OFF;")?;
        let on: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        assert_eq!(on, 1);
        Ok(())
    }

    #[test]
    fn pragmas_that_work_inside_a_transaction_are_not_listed() -> TestResult {
        for (set, read, expected) in [
            (
                "legacy_alter_table = ON",
                "legacy_alter_table",
                "Integer(1)",
            ),
            (
                "recursive_triggers = ON",
                "recursive_triggers",
                "Integer(1)",
            ),
            ("user_version = 7", "user_version", "Integer(7)"),
        ] {
            let Ok((inside, _)) = set_in_transaction(set, read)? else {
                return Err(format!("{set} failed").into());
            };
            assert_eq!(inside, expected, "{set}");
            assert!(PRAGMAS.iter().all(|(p, _)| *p != read));
        }
        Ok(())
    }

    #[test]
    fn pragmas_that_set_a_listed_one_are_found_at_their_line() {
        let sql = "-- rebuild users\nPRAGMA foreign_keys = OFF;\nPRAGMA foreign_keys;\n\
                   PRAGMA legacy_alter_table = ON;\nPRAGMA main.journal_mode(WAL);";
        let found = pragmas_in_transaction(sql, true);
        let lines: Vec<usize> = found.iter().map(|l| l.line).collect();
        assert_eq!(lines, [2, 5]);
        assert!(
            found[0]
                .detail
                .starts_with("`PRAGMA foreign_keys` in the migration's transaction")
        );
        assert!(found[1].detail.contains("WAL"));
        assert!(found.iter().all(|l| l.rule == Rule::PragmaInTransaction));
    }

    #[test]
    fn outside_a_transaction_no_pragma_is_flagged() {
        assert!(pragmas_in_transaction("PRAGMA foreign_keys = OFF;", false).is_empty());
    }

    #[test]
    fn a_migration_that_ends_the_runners_transaction_sets_pragmas_outside_it() {
        let sql = "COMMIT;\nPRAGMA foreign_keys = OFF;\nBEGIN;\nPRAGMA foreign_keys = ON;\n\
                   END;\nPRAGMA journal_mode = WAL;\nBEGIN TRANSACTION;\n\
                   ROLLBACK TO sp;\nPRAGMA synchronous = OFF;";
        let lines: Vec<usize> = pragmas_in_transaction(sql, true)
            .iter()
            .map(|l| l.line)
            .collect();
        assert_eq!(lines, [4, 9]);
    }

    #[test]
    fn trigger_bodies_and_case_expressions_do_not_end_the_transaction() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n\
                   SELECT CASE WHEN new.x THEN 1 END;\nUPDATE a SET x = 1;\nEND;\n\
                   PRAGMA foreign_keys = OFF;";
        let lines: Vec<usize> = pragmas_in_transaction(sql, true)
            .iter()
            .map(|l| l.line)
            .collect();
        assert_eq!(lines, [5]);
    }

    /// Each feature's sample: valid SQL (it runs on the bundled SQLite), flagged with its
    /// release below it and not from it on.
    const SAMPLES: [(&str, &str, u32); 18] = [
        ("INSERT INTO t(a) VALUES (1) RETURNING a", "`RETURNING`", 35),
        ("ALTER TABLE t DROP COLUMN b", "DROP COLUMN", 35),
        ("ALTER TABLE main.t RENAME b TO c", "RENAME COLUMN", 25),
        ("CREATE TABLE s(a INTEGER) STRICT", "`STRICT`", 37),
        (
            "CREATE TABLE s(a INTEGER PRIMARY KEY) WITHOUT ROWID, STRICT",
            "`STRICT`",
            37,
        ),
        ("SELECT '{\"x\":1}' ->> '$.x'", "`->`", 38),
        (
            "CREATE TABLE g(a INT, b INT GENERATED ALWAYS AS (a * 2))",
            "generated",
            31,
        ),
        (
            "CREATE TABLE g(a INT, b INT AS (a * 2) STORED)",
            "generated",
            31,
        ),
        (
            "INSERT INTO t(a) VALUES (1) ON CONFLICT(a) DO NOTHING",
            "upsert",
            24,
        ),
        ("SELECT row_number() OVER (ORDER BY a) FROM t", "window", 25),
        (
            "SELECT count(*) FILTER (WHERE a > 1) FROM t",
            "`FILTER`",
            30,
        ),
        ("SELECT a FROM t ORDER BY a NULLS LAST", "`NULLS", 30),
        ("SELECT iif(a, 1, 2) FROM t", "`iif()`", 32),
        ("SELECT unixepoch('now')", "`unixepoch()`", 38),
        (
            "UPDATE t SET b = u.a FROM t AS u WHERE t.a = u.a",
            "`UPDATE … FROM`",
            33,
        ),
        ("SELECT * FROM t RIGHT JOIN t AS u ON 1", "`RIGHT`", 39),
        ("SELECT 1 IS NOT DISTINCT FROM 2", "DISTINCT", 39),
        (
            "WITH x AS MATERIALIZED (SELECT 1) SELECT * FROM x",
            "`MATERIALIZED`",
            35,
        ),
    ];

    #[test]
    fn every_dated_feature_is_flagged_below_its_release_only() -> TestResult {
        for (sql, what, minor) in SAMPLES {
            let conn = Connection::open_in_memory()?;
            conn.execute_batch("CREATE TABLE t(a INTEGER UNIQUE, b INTEGER)")?;
            conn.execute_batch(sql).map_err(|e| format!("{sql}: {e}"))?;
            let below = newer_features(sql, SqliteVersion::new(3, minor - 1, 4));
            assert_eq!(below.len(), 1, "{sql}: {below:?}");
            assert!(below[0].detail.contains(what), "{sql}: {}", below[0].detail);
            assert_eq!(
                below[0].rule,
                Rule::NewerSqliteFeature {
                    needs: SqliteVersion::new(3, minor, 0)
                }
            );
            assert!(
                newer_features(sql, SqliteVersion::new(3, minor, 0)).is_empty(),
                "{sql}"
            );
        }
        Ok(())
    }

    #[test]
    fn older_look_alikes_are_not_flagged() {
        for sql in [
            "CREATE TABLE t(a INTEGER UNIQUE ON CONFLICT REPLACE, strict INTEGER)",
            "ALTER TABLE t RENAME TO u",
            "ALTER TABLE t ADD COLUMN c TEXT",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "CREATE TABLE c AS SELECT 1 AS a",
            "UPDATE t SET a = (SELECT max(b) FROM t) WHERE b IN (SELECT b FROM t)",
            "CREATE TRIGGER tr AFTER UPDATE ON t BEGIN UPDATE t SET b = 1 WHERE a = new.a; END",
            "SELECT a - -1, a->b FROM t", // a->b is flagged: the operator, glued
        ] {
            let found = newer_features(sql, SqliteVersion::new(3, 20, 0));
            let expected = usize::from(sql.contains("->"));
            assert_eq!(found.len(), expected, "{sql}: {found:?}");
        }
    }

    #[test]
    fn findings_carry_their_line_once_per_feature() {
        let sql = "CREATE TABLE t(a);\n\nINSERT INTO t VALUES (1) RETURNING a, a RETURNING;\n\
                   ALTER TABLE t DROP COLUMN a;";
        let found = newer_features(sql, SqliteVersion::new(3, 31, 0));
        let lines: Vec<usize> = found.iter().map(|l| l.line).collect();
        assert_eq!(lines, [3, 4]);
        assert_eq!(
            found[1].detail,
            "`ALTER TABLE … DROP COLUMN` needs SQLite 3.35.0; the project's minimum is 3.31.0"
        );
    }
}
