//! The two things a step's SQL text adds to its schemas: the indexes, triggers and views it
//! drops by name, and the columns it renames (`RENAME COLUMN`, or a rebuild's copy of a
//! column into one of another name).

use crate::schema::shape::ObjectKind;
use crate::sql;
use crate::sql::tokens::{Token, TokenKind, lex};

/// What the text of a step says outright.
#[derive(Debug, Default)]
pub(super) struct StepText {
    /// `DROP INDEX|TRIGGER|VIEW [IF EXISTS] [schema.]name`, names in lower case.
    dropped: Vec<(ObjectKind, String)>,
    /// `ALTER TABLE … RENAME [COLUMN] old TO new`, and the columns a rebuild copies under
    /// another name (`INSERT INTO t (new) SELECT old FROM …`), names in lower case.
    pub(super) column_renames: Vec<(String, String)>,
}

impl StepText {
    pub(super) fn read(sql: &str) -> StepText {
        let tokens = lex(sql);
        let name = |i: usize| {
            tokens
                .get(i)
                .and_then(Token::identifier)
                .map(str::to_ascii_lowercase)
        };
        let dot = |i: usize| {
            tokens
                .get(i)
                .is_some_and(|t| t.kind == TokenKind::Punct('.'))
        };
        let kw = |i: usize, k: &str| tokens.get(i).is_some_and(|t| t.is_keyword(k));
        let mut text = StepText::default();
        for (i, token) in tokens.iter().enumerate() {
            if token.is_keyword("drop") {
                let kind = match tokens.get(i + 1) {
                    Some(t) if t.is_keyword("index") => ObjectKind::Index,
                    Some(t) if t.is_keyword("trigger") => ObjectKind::Trigger,
                    Some(t) if t.is_keyword("view") => ObjectKind::View,
                    _ => continue,
                };
                let mut at = i + 2;
                if kw(at, "if") && kw(at + 1, "exists") {
                    at += 2;
                }
                if dot(at + 1) {
                    at += 2;
                }
                if let Some(dropped) = name(at) {
                    text.dropped.push((kind, dropped));
                }
            } else if token.is_keyword("insert") {
                text.column_renames
                    .extend(copied_under_new_names(&tokens, i));
            } else if token.is_keyword("alter") && kw(i + 1, "table") {
                let mut at = i + 3;
                if dot(at) {
                    at += 2;
                }
                if !kw(at, "rename") || kw(at + 1, "to") {
                    continue;
                }
                at += 1;
                if kw(at, "column") {
                    at += 1;
                }
                if let (Some(old), true, Some(new)) = (name(at), kw(at + 1, "to"), name(at + 2)) {
                    text.column_renames.push((old, new));
                }
            }
        }
        text
    }

    /// Whether the step drops the `kind` named `name` (lower case).
    pub(super) fn drops(&self, kind: ObjectKind, name: &str) -> bool {
        self.dropped.iter().any(|(k, n)| *k == kind && n == name)
    }
}

/// `text` (SQL) with each name `old` of `renames` written `new`, normalized; and whether it
/// names any of `gone`. Names compare in lower case.
pub(super) fn rename_words(text: &str, renames: &[(&str, &str)], gone: &[&str]) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut names_gone = false;
    for token in lex(text) {
        let Some(word) = token.identifier() else {
            continue;
        };
        let word = word.to_ascii_lowercase();
        if gone.contains(&word.as_str()) {
            names_gone = true;
        }
        if let Some((_, new)) = renames.iter().find(|(old, _)| *old == word) {
            out.push_str(&text[last..token.start]);
            out.push_str(new);
            last = token.end;
        }
    }
    out.push_str(&text[last..]);
    (sql::normalize(&out), names_gone)
}

/// The `(old, new)` names of the columns that the `INSERT` at `tokens[at]` copies under
/// another name: `INSERT INTO t (a, kind) SELECT a, flag FROM …` copies `flag` into `kind`.
/// Only a written column list and bare column names in the select list count.
fn copied_under_new_names(tokens: &[Token], at: usize) -> Vec<(String, String)> {
    let punct = |i: usize, c: char| tokens.get(i).is_some_and(|t| t.kind == TokenKind::Punct(c));
    let Some(open) = (at..tokens.len().min(at + 8)).find(|&i| punct(i, '(')) else {
        return Vec::new();
    };
    if tokens[at..open]
        .iter()
        .any(|t| t.is_keyword("select") || t.is_keyword("values"))
    {
        return Vec::new();
    }
    let mut targets = Vec::new();
    let mut i = open + 1;
    while let Some(name) = tokens.get(i).and_then(Token::identifier) {
        targets.push(name.to_ascii_lowercase());
        i += 1;
        if punct(i, ',') {
            i += 1;
        } else {
            break;
        }
    }
    if !punct(i, ')') || !tokens.get(i + 1).is_some_and(|t| t.is_keyword("select")) {
        return Vec::new();
    }
    // Each item of the select list, up to FROM: a bare (or qualified) column name, or not.
    let mut sources: Vec<Option<String>> = Vec::new();
    let mut item: Vec<&Token> = Vec::new();
    let mut depth = 0usize;
    for token in &tokens[i + 2..] {
        match token.kind {
            TokenKind::Punct('(') => depth += 1,
            TokenKind::Punct(')') => depth = depth.saturating_sub(1),
            _ => {}
        }
        let end = depth == 0 && (token.is_keyword("from") || token.kind == TokenKind::Punct(';'));
        if end || (depth == 0 && token.kind == TokenKind::Punct(',')) {
            let bare = match item.as_slice() {
                [name] => name.identifier(),
                [_, dot, name] if dot.kind == TokenKind::Punct('.') => name.identifier(),
                _ => None,
            };
            sources.push(bare.map(str::to_ascii_lowercase));
            item.clear();
            if end {
                break;
            }
        } else {
            item.push(token);
        }
    }
    if sources.len() != targets.len() {
        return Vec::new();
    }
    targets
        .into_iter()
        .zip(sources)
        .filter_map(|(new, old)| old.filter(|old| *old != new).map(|old| (old, new)))
        .collect()
}
