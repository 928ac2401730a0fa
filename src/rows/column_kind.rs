//! What a column's name and declared type say its values look like: an email, a
//! timestamp, a flag, a URL….

use super::affinity::Affinity;

/// What a column's name says its values look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Email,
    /// A timestamp; the rank orders the columns of one row (created before expires).
    Time(u8),
    /// A date without time.
    Date(u8),
    Bool,
    Url,
    Ip,
    Hash,
    Uuid,
    Json,
    Name,
    Plain,
}

impl Kind {
    pub(crate) fn of(name: &str, declared: &str, affinity: Affinity) -> Kind {
        let n = name.to_ascii_lowercase();
        let t = declared.to_ascii_uppercase();
        let textual = matches!(
            affinity,
            Affinity::Text | Affinity::Blob | Affinity::Numeric
        );
        let timeish = n.ends_with("_at")
            || n.ends_with("_on")
            || n.ends_with("_until")
            || n.contains("timestamp")
            || (n.contains("time") && !n.contains("zone"))
            || t.contains("TIMESTAMP")
            || t.contains("DATETIME");
        if timeish && affinity != Affinity::Blob {
            return Kind::Time(time_rank(&n));
        }
        if (n.contains("date") || t == "DATE") && affinity != Affinity::Blob {
            return Kind::Date(time_rank(&n));
        }
        let boolish = t.contains("BOOL")
            || n.starts_with("is_")
            || n.starts_with("has_")
            || n.starts_with("can_")
            || n.ends_with("_flag")
            || n.ends_with("verified")
            || n.ends_with("enabled")
            || matches!(n.as_str(), "active" | "enabled" | "deleted" | "archived");
        if boolish && matches!(affinity, Affinity::Integer | Affinity::Numeric) {
            return Kind::Bool;
        }
        if !textual {
            return Kind::Plain;
        }
        if n.contains("email") || n == "mail" {
            Kind::Email
        } else if n.contains("url") || n.contains("uri") || n == "website" || n == "homepage" {
            Kind::Url
        } else if n == "ip" || n.starts_with("ip_") || n.ends_with("_ip") {
            Kind::Ip
        } else if n.contains("uuid") || n.contains("guid") {
            Kind::Uuid
        } else if n.contains("hash") || n.contains("digest") || n.contains("secret") {
            Kind::Hash
        } else if n.contains("json") || n == "metadata" || t.contains("JSON") {
            Kind::Json
        } else if n.contains("name") {
            Kind::Name
        } else {
            Kind::Plain
        }
    }

    pub(crate) fn is_temporal(self) -> bool {
        matches!(self, Kind::Time(_) | Kind::Date(_))
    }
}

/// Orders the timestamps of one row: `created_at` < `updated_at` < `revoked_at` <
/// `expires_at`, so checks such as `expires_at > created_at` hold.
pub(crate) fn time_rank(name: &str) -> u8 {
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&[
        "created",
        "inserted",
        "issued",
        "start",
        "begin",
        "from",
        "opened",
        "registered",
        "joined",
        "born",
        "birth",
    ]) {
        0
    } else if has(&["expire", "expiry", "until", "deadline", "due", "valid_to"]) {
        5
    } else if has(&[
        "revoked",
        "ended",
        "ends",
        "end_",
        "_end",
        "consumed",
        "deleted",
        "closed",
        "finished",
        "completed",
        "cancel",
        "used",
        "archived",
    ]) {
        4
    } else if has(&["updated", "modified", "seen", "login", "last", "changed"]) {
        3
    } else {
        2
    }
}
