//! Session variables: `SET`, `SHOW`, `RESET`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rivulet_sql::Literal;

use crate::error::{Error, Result};

/// Every variable a session knows, with its default. Names are lower-case.
const DEFAULTS: &[(&str, &str)] = &[
    ("application_name", ""),
    ("background_ddl", "false"),
    ("batch_parallelism", "0"),
    ("bytea_output", "hex"),
    ("client_encoding", "UTF8"),
    ("client_min_messages", "notice"),
    ("datestyle", "ISO, MDY"),
    ("default_table_access_method", "heap"),
    ("default_transaction_isolation", "read committed"),
    ("default_transaction_read_only", "off"),
    ("extra_float_digits", "1"),
    ("idle_in_transaction_session_timeout", "0"),
    ("integer_datetimes", "on"),
    ("intervalstyle", "postgres"),
    ("is_superuser", "on"),
    ("lock_timeout", "0"),
    ("max_identifier_length", "63"),
    ("max_index_keys", "32"),
    ("query_mode", "auto"),
    ("quote_all_identifiers", "off"),
    ("rw_implicit_flush", "false"),
    ("row_security", "on"),
    ("rw_streaming_enable_delta_join", "false"),
    ("search_path", "public"),
    ("server_encoding", "UTF8"),
    ("server_version", crate::startup::SERVER_VERSION),
    ("server_version_num", "150000"),
    ("sink_decouple", "default"),
    ("standard_conforming_strings", "on"),
    ("statement_timeout", "0"),
    ("streaming_parallelism", "default"),
    ("synchronize_seqscans", "on"),
    ("timezone", "UTC"),
    ("transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("visibility_mode", "default"),
];

/// RisingWave's boolean settings, which it shows as `true`/`false`.
/// Rivulet accepts them so RisingWave's tools can set them: writes are
/// always visible when acknowledged (what `rw_implicit_flush` asks for),
/// DDL always waits for its back-fill, and one machine has one degree of
/// parallelism.
const RW_BOOLEANS: &[&str] = &[
    "background_ddl",
    "rw_implicit_flush",
    "rw_streaming_enable_delta_join",
];

/// PostgreSQL's boolean settings, shown as `on`/`off`.
const PG_BOOLEANS: &[&str] = &[
    "default_transaction_read_only",
    "quote_all_identifiers",
    "row_security",
    "synchronize_seqscans",
    "transaction_read_only",
];

/// A boolean setting's value as PostgreSQL reads one.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" | "t" | "y" => Some(true),
        "off" | "false" | "no" | "0" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// Variables that can be shown but not changed.
const READ_ONLY: &[&str] = &[
    "integer_datetimes",
    "is_superuser",
    "max_identifier_length",
    "max_index_keys",
    "server_encoding",
    "server_version",
    "server_version_num",
];

/// A variable as `pg_settings` shows it.
#[derive(Debug, Clone)]
pub struct Setting {
    /// Its name, spelled as PostgreSQL spells it.
    pub name: &'static str,
    /// The session's value.
    pub value: String,
    /// `bool`, `enum`, `integer` or `string`.
    pub vartype: &'static str,
    /// Whether `SET` may change it.
    pub settable: bool,
    /// Its value at start.
    pub default: &'static str,
}

/// One session's variables. The lock is never held across `.await`.
#[derive(Debug, Default)]
pub struct SessionVars {
    set: Mutex<BTreeMap<String, String>>,
    /// The session's transaction block.
    pub transaction: crate::transaction::Transaction,
    /// The session's open cursors.
    pub cursors: std::sync::Arc<crate::cursor::Cursors>,
    /// The session's SQL-level prepared statements.
    pub prepared: crate::prepared::Prepared,
    /// A `COPY FROM STDIN` waiting for its data.
    pub copy_in: Mutex<Option<crate::copy_in::CopyIn>>,
}

fn known(name: &str) -> Result<&'static str> {
    DEFAULTS
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| Error::UnknownSetting(name.to_string()))
}

impl SessionVars {
    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Result<String> {
        let name = name.to_ascii_lowercase();
        let default = known(&name)?;
        let set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        Ok(set
            .get(&name)
            .cloned()
            .unwrap_or_else(|| default.to_string()))
    }

    /// Every variable as `pg_settings` lists it: PostgreSQL's spelling of
    /// its name, its value, its type (`bool`, `enum`, `integer` or
    /// `string`),
    /// whether a session may change it, and its default.
    pub fn settings(&self) -> Vec<Setting> {
        DEFAULTS
            .iter()
            .map(|(k, default)| {
                let vartype = if RW_BOOLEANS.contains(k)
                    || PG_BOOLEANS.contains(k)
                    || matches!(
                        *k,
                        "integer_datetimes" | "standard_conforming_strings" | "is_superuser"
                    ) {
                    "bool"
                } else if matches!(
                    *k,
                    "intervalstyle"
                        | "client_min_messages"
                        | "bytea_output"
                        | "default_transaction_isolation"
                        | "transaction_isolation"
                ) {
                    "enum"
                } else if default.parse::<i64>().is_ok() {
                    "integer"
                } else {
                    "string"
                };
                Setting {
                    name: match *k {
                        "datestyle" => "DateStyle",
                        "intervalstyle" => "IntervalStyle",
                        "timezone" => "TimeZone",
                        other => other,
                    },
                    value: self.get(k).unwrap_or_default(),
                    vartype,
                    settable: !READ_ONLY.contains(k),
                    default,
                }
            })
            .collect()
    }

    /// Every variable and its value.
    pub fn all(&self) -> Vec<(String, String)> {
        DEFAULTS
            .iter()
            .map(|(k, _)| (k.to_string(), self.get(k).unwrap_or_default()))
            .collect()
    }

    /// `SET name = value`, checking values Rivulet cannot honour.
    pub fn set(&self, name: &str, value: &[Literal]) -> Result<()> {
        let name = name.to_ascii_lowercase();
        known(&name)?;
        if READ_ONLY.contains(&name.as_str()) {
            return Err(Error::ReadOnlySetting(name.to_string()));
        }
        let text = value
            .iter()
            .map(|v| match v {
                Literal::String(s) | Literal::Number(s) => s.clone(),
                Literal::Boolean(b) => if *b { "on" } else { "off" }.to_string(),
                Literal::Null => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        if text.eq_ignore_ascii_case("default") {
            return self.reset(&name);
        }
        let invalid = || {
            Error::InvalidSetting(format!(
                "invalid value for parameter \"{name}\": \"{text}\""
            ))
        };
        match name.as_str() {
            "client_encoding"
                if !matches!(
                    text.to_ascii_uppercase().replace('-', "").as_str(),
                    "UTF8" | "UNICODE"
                ) =>
            {
                return Err(Error::InvalidSetting(format!(
                    "conversion to encoding \"{text}\" is not supported"
                )));
            }
            "timezone"
                if !matches!(
                    text.to_ascii_uppercase().as_str(),
                    "UTC" | "ETC/UTC" | "GMT" | "Z" | "ZULU" | "UCT"
                ) =>
            {
                return Err(Error::InvalidSetting(format!(
                    "time zone \"{text}\" is not supported; Rivulet sessions use UTC"
                )));
            }
            "extra_float_digits" if text.parse::<i64>().is_err() => return Err(invalid()),
            n if RW_BOOLEANS.contains(&n) || PG_BOOLEANS.contains(&n) => {
                let b = parse_bool(&text).ok_or_else(|| {
                    if PG_BOOLEANS.contains(&n) {
                        // PostgreSQL's own words for its booleans.
                        Error::InvalidSetting(format!(
                            "parameter \"{name}\" requires a Boolean value"
                        ))
                    } else {
                        invalid()
                    }
                })?;
                let shown = match (RW_BOOLEANS.contains(&n), b) {
                    (true, true) => "true",
                    (true, false) => "false",
                    (false, true) => "on",
                    (false, false) => "off",
                };
                self.set
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name, shown.to_string());
                return Ok(());
            }
            "statement_timeout" if parse_duration_ms(&text).is_none() => return Err(invalid()),
            "datestyle" if !text.to_ascii_uppercase().contains("ISO") => {
                return Err(Error::InvalidSetting(format!(
                    "DateStyle \"{text}\" is not supported; Rivulet prints dates in ISO style"
                )));
            }
            _ => {}
        }
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, text);
        Ok(())
    }

    /// `statement_timeout` as a duration (`None` when 0, i.e. no limit).
    /// Plain numbers are milliseconds; `ms`, `s`, `min`, `h` and `d` units
    /// are accepted, as in PostgreSQL.
    pub fn statement_timeout(&self) -> Result<Option<std::time::Duration>> {
        let v = self.get("statement_timeout")?;
        let ms = parse_duration_ms(&v).ok_or_else(|| {
            Error::InvalidSetting(format!(
                "invalid value for parameter \"statement_timeout\": \"{v}\""
            ))
        })?;
        Ok((ms > 0).then(|| std::time::Duration::from_millis(ms)))
    }

    /// `RESET name` (or `RESET ALL`).
    pub fn reset(&self, name: &str) -> Result<()> {
        let name = name.to_ascii_lowercase();
        let mut set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        if name == "all" {
            set.clear();
            return Ok(());
        }
        known(&name)?;
        set.remove(&name);
        Ok(())
    }
}

/// Milliseconds in a PostgreSQL time setting such as `500`, `5s`, `1min`.
fn parse_duration_ms(v: &str) -> Option<u64> {
    let v = v.trim().trim_matches('\'');
    let split = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1.0,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    (n >= 0.0).then_some((n * factor) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("0"), Some(0));
        assert_eq!(parse_duration_ms("250"), Some(250));
        assert_eq!(parse_duration_ms("5s"), Some(5000));
        assert_eq!(parse_duration_ms("1min"), Some(60_000));
        assert_eq!(parse_duration_ms("soon"), None);
    }
}
