//! PostgreSQL session settings the gateway implements itself (SET / RESET / SHOW, startup
//! parameters, `options=-c ...`).
//!
//! These change how the gateway talks (time zone, float digits, timeouts) or what clients
//! expect to read back; none of them reaches DuckDB's own configuration except
//! `search_path`, which is translated.

use crate::sql::{quote_literal, SetValue};
use crate::types::text::SessionTimeZone;

/// The server version we advertise: modern enough for every driver's feature checks.
pub const SERVER_VERSION: &str = "16.6";
pub const SERVER_VERSION_NUM: &str = "160006";

#[derive(Debug, Clone, PartialEq)]
pub struct SessionSettings {
    pub application_name: String,
    pub time_zone: SessionTimeZone,
    pub date_style: String,
    pub interval_style: String,
    pub extra_float_digits: i32,
    pub statement_timeout_ms: u64,
    pub lock_timeout_ms: u64,
    pub idle_in_transaction_session_timeout_ms: u64,
    pub idle_session_timeout_ms: u64,
    pub search_path: String,
    pub default_transaction_read_only: bool,
    pub bytea_output: String,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            application_name: String::new(),
            time_zone: SessionTimeZone::default(),
            date_style: "ISO, MDY".into(),
            interval_style: "postgres".into(),
            extra_float_digits: 1,
            statement_timeout_ms: 0,
            lock_timeout_ms: 0,
            idle_in_transaction_session_timeout_ms: 0,
            idle_session_timeout_ms: 0,
            search_path: DEFAULT_SEARCH_PATH.into(),
            default_transaction_read_only: false,
            bytea_output: "hex".into(),
        }
    }
}

/// Why a setting could not be changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingError {
    #[error("unrecognized configuration parameter \"{0}\"")]
    Unknown(String),
    #[error("invalid value for parameter \"{name}\": \"{value}\"")]
    InvalidValue { name: String, value: String },
    #[error("parameter \"{0}\" cannot be changed")]
    ReadOnly(String),
}

impl SettingError {
    pub fn sqlstate(&self) -> &'static str {
        match self {
            SettingError::Unknown(_) => "42704",
            SettingError::InvalidValue { .. } => "22023",
            SettingError::ReadOnly(_) => "55P02",
        }
    }
}

/// Parameters clients read back with ParameterStatus; sent at startup and whenever they change.
pub const REPORTED: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
];

/// Every name SET/SHOW/RESET handles here (lower case).
const KNOWN: &[&str] = &[
    "application_name",
    "timezone",
    "datestyle",
    "intervalstyle",
    "extra_float_digits",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "idle_session_timeout",
    "search_path",
    "client_encoding",
    "server_encoding",
    "standard_conforming_strings",
    "server_version",
    "server_version_num",
    "integer_datetimes",
    "transaction_isolation",
    "default_transaction_isolation",
    "transaction_read_only",
    "default_transaction_read_only",
    "is_superuser",
    "session_authorization",
    "bytea_output",
    "max_identifier_length",
    "in_hot_standby",
    "client_min_messages",
    "row_security",
    "synchronous_commit",
    "jit",
];

pub fn is_session_setting(name: &str) -> bool {
    KNOWN.contains(&name)
}

/// Parse a duration setting in milliseconds: `500`, `5s`, `2min`, `1h`, `250ms`.
pub fn parse_duration_ms(v: &str) -> Option<u64> {
    let t = v.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" => 1,
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// What applying a setting requires beyond updating the struct.
#[derive(Debug, Default, PartialEq)]
pub struct SetEffect {
    /// ParameterStatus to send: (name, value).
    pub report: Option<(&'static str, String)>,
    /// A DuckDB statement that mirrors the change (search_path).
    pub duckdb: Option<String>,
}

impl SessionSettings {
    /// Apply `SET name = value` (or DEFAULT / RESET, against `defaults`).
    pub fn set(
        &mut self,
        name: &str,
        value: &SetValue,
        defaults: &SessionSettings,
    ) -> Result<SetEffect, SettingError> {
        let values = match value {
            SetValue::Default => None,
            SetValue::Values(v) => Some(v),
        };
        let one = || -> String { values.map(|v| v.join(", ")).unwrap_or_default() };
        let invalid = |v: String| SettingError::InvalidValue {
            name: name.to_owned(),
            value: v,
        };
        let mut effect = SetEffect::default();
        match name {
            "application_name" => {
                self.application_name = match values {
                    None => defaults.application_name.clone(),
                    Some(_) => one(),
                };
                effect.report = Some(("application_name", self.application_name.clone()));
            }
            "timezone" => {
                self.time_zone = match values {
                    None => defaults.time_zone.clone(),
                    Some(_) => SessionTimeZone::parse(&one()).ok_or_else(|| invalid(one()))?,
                };
                effect.report = Some(("TimeZone", self.time_zone.name()));
            }
            "datestyle" => {
                let v = match values {
                    None => defaults.date_style.clone(),
                    Some(_) => normalize_datestyle(&one()).ok_or_else(|| invalid(one()))?,
                };
                self.date_style = v;
                effect.report = Some(("DateStyle", self.date_style.clone()));
            }
            "intervalstyle" => {
                let v = match values {
                    None => defaults.interval_style.clone(),
                    Some(_) => one().to_ascii_lowercase(),
                };
                // Only PostgreSQL's default output style is implemented.
                if v != "postgres" {
                    return Err(invalid(v));
                }
                self.interval_style = v;
                effect.report = Some(("IntervalStyle", self.interval_style.clone()));
            }
            "extra_float_digits" => {
                self.extra_float_digits = match values {
                    None => defaults.extra_float_digits,
                    Some(_) => one()
                        .trim()
                        .parse::<i32>()
                        .ok()
                        .filter(|v| (-15..=3).contains(v))
                        .ok_or_else(|| invalid(one()))?,
                };
            }
            "statement_timeout"
            | "lock_timeout"
            | "idle_in_transaction_session_timeout"
            | "idle_session_timeout" => {
                let ms = match values {
                    None => match name {
                        "statement_timeout" => defaults.statement_timeout_ms,
                        "lock_timeout" => defaults.lock_timeout_ms,
                        "idle_in_transaction_session_timeout" => {
                            defaults.idle_in_transaction_session_timeout_ms
                        }
                        _ => defaults.idle_session_timeout_ms,
                    },
                    Some(_) => parse_duration_ms(&one()).ok_or_else(|| invalid(one()))?,
                };
                match name {
                    "statement_timeout" => self.statement_timeout_ms = ms,
                    "lock_timeout" => self.lock_timeout_ms = ms,
                    "idle_in_transaction_session_timeout" => {
                        self.idle_in_transaction_session_timeout_ms = ms
                    }
                    _ => self.idle_session_timeout_ms = ms,
                }
            }
            "search_path" => {
                self.search_path = match values {
                    None => defaults.search_path.clone(),
                    Some(v) => v
                        .iter()
                        .map(|s| {
                            if s.starts_with('$') {
                                format!("\"{s}\"")
                            } else {
                                s.clone()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                effect.duckdb = Some(duckdb_search_path(&self.search_path));
            }
            "client_encoding" => {
                let v = one();
                if values.is_some() && !is_utf8_name(&v) {
                    return Err(invalid(v));
                }
                effect.report = Some(("client_encoding", "UTF8".into()));
            }
            "bytea_output" => {
                let v = one().to_ascii_lowercase();
                if values.is_some() && v != "hex" {
                    return Err(invalid(v));
                }
            }
            "standard_conforming_strings" => {
                let v = one().to_ascii_lowercase();
                if values.is_some() && v != "on" && v != "true" {
                    return Err(invalid(v));
                }
            }
            "default_transaction_read_only" => {
                self.default_transaction_read_only = match values {
                    None => defaults.default_transaction_read_only,
                    Some(_) => {
                        crate::types::params::parse_bool(&one()).ok_or_else(|| invalid(one()))?
                    }
                };
            }
            // accepted for compatibility; DuckDB has a single isolation level and no equivalents
            "transaction_isolation"
            | "default_transaction_isolation"
            | "client_min_messages"
            | "row_security"
            | "synchronous_commit"
            | "jit"
            | "transaction_read_only" => {}
            "server_version"
            | "server_version_num"
            | "server_encoding"
            | "integer_datetimes"
            | "is_superuser"
            | "session_authorization"
            | "max_identifier_length"
            | "in_hot_standby" => return Err(SettingError::ReadOnly(name.to_owned())),
            _ => return Err(SettingError::Unknown(name.to_owned())),
        }
        Ok(effect)
    }

    /// The value `SHOW name` prints.
    pub fn show(&self, name: &str, user: &str) -> Option<String> {
        Some(match name {
            "application_name" => self.application_name.clone(),
            "timezone" => self.time_zone.name(),
            "datestyle" => self.date_style.clone(),
            "intervalstyle" => self.interval_style.clone(),
            "extra_float_digits" => self.extra_float_digits.to_string(),
            "statement_timeout" => format_ms(self.statement_timeout_ms),
            "lock_timeout" => format_ms(self.lock_timeout_ms),
            "idle_in_transaction_session_timeout" => {
                format_ms(self.idle_in_transaction_session_timeout_ms)
            }
            "idle_session_timeout" => format_ms(self.idle_session_timeout_ms),
            "search_path" => self.search_path.clone(),
            "client_encoding" | "server_encoding" => "UTF8".into(),
            "standard_conforming_strings" | "integer_datetimes" => "on".into(),
            "server_version" => SERVER_VERSION.into(),
            "server_version_num" => SERVER_VERSION_NUM.into(),
            // DuckDB gives snapshot isolation, which PostgreSQL calls REPEATABLE READ
            // (`serializable` would promise protection from write skew it does not give)
            "transaction_isolation" | "default_transaction_isolation" => "repeatable read".into(),
            "transaction_read_only" | "default_transaction_read_only" => {
                on_off(self.default_transaction_read_only)
            }
            "is_superuser" | "in_hot_standby" | "row_security" | "jit" => "off".into(),
            "session_authorization" => user.to_owned(),
            "bytea_output" => self.bytea_output.clone(),
            "max_identifier_length" => "63".into(),
            "client_min_messages" => "notice".into(),
            "synchronous_commit" => "on".into(),
            _ => return None,
        })
    }

    /// Every setting for `SHOW ALL`.
    pub fn show_all(&self, user: &str) -> Vec<(String, String)> {
        KNOWN
            .iter()
            .filter_map(|n| self.show(n, user).map(|v| (n.to_string(), v)))
            .collect()
    }

    /// ParameterStatus values for the startup reply.
    pub fn reported(&self, user: &str) -> Vec<(&'static str, String)> {
        REPORTED
            .iter()
            .map(|&name| {
                let v = match name {
                    "TimeZone" => self.time_zone.name(),
                    "DateStyle" => self.date_style.clone(),
                    "IntervalStyle" => self.interval_style.clone(),
                    "client_encoding" | "server_encoding" => "UTF8".into(),
                    "application_name" => self.application_name.clone(),
                    other => self
                        .show(&other.to_ascii_lowercase(), user)
                        .unwrap_or_default(),
                };
                (name, v)
            })
            .collect()
    }
}

/// What `pg_settings` says about a setting the session answers, besides its value (PostgreSQL
/// 15's wording, so that tools showing them read what they know).
pub struct SettingDoc {
    /// PostgreSQL's spelling (`DateStyle`, `TimeZone`).
    pub name: &'static str,
    pub unit: Option<&'static str>,
    pub category: &'static str,
    pub short_desc: &'static str,
    pub extra_desc: Option<&'static str>,
    pub context: &'static str,
    pub vartype: &'static str,
    pub min_val: Option<&'static str>,
    pub max_val: Option<&'static str>,
    pub enumvals: Option<&'static [&'static str]>,
}

/// The settings `pg_settings` lists for the session: every name SHOW answers (but
/// `is_superuser` and `session_authorization`, which PostgreSQL does not list either) and the
/// constants `current_setting` answers (`sql::catalog`).
pub const PG_SETTINGS: &[SettingDoc] = &[
    SettingDoc {
        name: "application_name",
        unit: None,
        category: "Reporting and Logging / What to Log",
        short_desc: "Sets the application name to be reported in statistics and logs.",
        extra_desc: None,
        context: "user",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "TimeZone",
        unit: None,
        category: "Client Connection Defaults / Locale and Formatting",
        short_desc: "Sets the time zone for displaying and interpreting time stamps.",
        extra_desc: None,
        context: "user",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "DateStyle",
        unit: None,
        category: "Client Connection Defaults / Locale and Formatting",
        short_desc: "Sets the display format for date and time values.",
        extra_desc: Some("Also controls interpretation of ambiguous date inputs."),
        context: "user",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "IntervalStyle",
        unit: None,
        category: "Client Connection Defaults / Locale and Formatting",
        short_desc: "Sets the display format for interval values.",
        extra_desc: None,
        context: "user",
        vartype: "enum",
        min_val: None,
        max_val: None,
        enumvals: Some(&["postgres", "postgres_verbose", "sql_standard", "iso_8601"]),
    },
    SettingDoc {
        name: "extra_float_digits",
        unit: None,
        category: "Client Connection Defaults / Locale and Formatting",
        short_desc: "Sets the number of digits displayed for floating-point values.",
        extra_desc: Some("This affects real, double precision, and geometric data types. A zero or negative parameter value is added to the standard number of digits (FLT_DIG or DBL_DIG as appropriate). Any value greater than zero selects precise output mode."),
        context: "user",
        vartype: "integer",
        min_val: Some("-15"),
        max_val: Some("3"),
        enumvals: None,
    },
    SettingDoc {
        name: "statement_timeout",
        unit: Some("ms"),
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the maximum allowed duration of any statement.",
        extra_desc: Some("A value of 0 turns off the timeout."),
        context: "user",
        vartype: "integer",
        min_val: Some("0"),
        max_val: Some("2147483647"),
        enumvals: None,
    },
    SettingDoc {
        name: "lock_timeout",
        unit: Some("ms"),
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the maximum allowed duration of any wait for a lock.",
        extra_desc: Some("A value of 0 turns off the timeout."),
        context: "user",
        vartype: "integer",
        min_val: Some("0"),
        max_val: Some("2147483647"),
        enumvals: None,
    },
    SettingDoc {
        name: "idle_in_transaction_session_timeout",
        unit: Some("ms"),
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the maximum allowed idle time between queries, when in a transaction.",
        extra_desc: Some("A value of 0 turns off the timeout."),
        context: "user",
        vartype: "integer",
        min_val: Some("0"),
        max_val: Some("2147483647"),
        enumvals: None,
    },
    SettingDoc {
        name: "idle_session_timeout",
        unit: Some("ms"),
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the maximum allowed idle time between queries, when not in a transaction.",
        extra_desc: Some("A value of 0 turns off the timeout."),
        context: "user",
        vartype: "integer",
        min_val: Some("0"),
        max_val: Some("2147483647"),
        enumvals: None,
    },
    SettingDoc {
        name: "search_path",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the schema search order for names that are not schema-qualified.",
        extra_desc: None,
        context: "user",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "client_encoding",
        unit: None,
        category: "Client Connection Defaults / Locale and Formatting",
        short_desc: "Sets the client's character set encoding.",
        extra_desc: None,
        context: "user",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "server_encoding",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows the server (database) character set encoding.",
        extra_desc: None,
        context: "internal",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "standard_conforming_strings",
        unit: None,
        category: "Version and Platform Compatibility / Previous PostgreSQL Versions",
        short_desc: "Causes '...' strings to treat backslashes literally.",
        extra_desc: None,
        context: "user",
        vartype: "bool",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "server_version",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows the server version.",
        extra_desc: None,
        context: "internal",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "server_version_num",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows the server version as an integer.",
        extra_desc: None,
        context: "internal",
        vartype: "integer",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "integer_datetimes",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows whether datetimes are integer based.",
        extra_desc: None,
        context: "internal",
        vartype: "bool",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "transaction_isolation",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the current transaction's isolation level.",
        extra_desc: None,
        context: "user",
        vartype: "enum",
        min_val: None,
        max_val: None,
        enumvals: Some(&["serializable", "repeatable read", "read committed", "read uncommitted"]),
    },
    SettingDoc {
        name: "default_transaction_isolation",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the transaction isolation level of each new transaction.",
        extra_desc: None,
        context: "user",
        vartype: "enum",
        min_val: None,
        max_val: None,
        enumvals: Some(&["serializable", "repeatable read", "read committed", "read uncommitted"]),
    },
    SettingDoc {
        name: "transaction_read_only",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the current transaction's read-only status.",
        extra_desc: None,
        context: "user",
        vartype: "bool",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "default_transaction_read_only",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the default read-only status of new transactions.",
        extra_desc: None,
        context: "user",
        vartype: "bool",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "bytea_output",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the output format for bytea.",
        extra_desc: None,
        context: "user",
        vartype: "enum",
        min_val: None,
        max_val: None,
        enumvals: Some(&["escape", "hex"]),
    },
    SettingDoc {
        name: "max_identifier_length",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows the maximum identifier length.",
        extra_desc: None,
        context: "internal",
        vartype: "integer",
        min_val: Some("63"),
        max_val: Some("63"),
        enumvals: None,
    },
    SettingDoc {
        name: "in_hot_standby",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows whether hot standby is currently active.",
        extra_desc: None,
        context: "internal",
        vartype: "bool",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "client_min_messages",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the message levels that are sent to the client.",
        extra_desc: Some("Each level includes all the levels that follow it. The later the level, the fewer messages are sent."),
        context: "user",
        vartype: "enum",
        min_val: None,
        max_val: None,
        enumvals: Some(&["debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error"]),
    },
    SettingDoc {
        name: "row_security",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Enable row security.",
        extra_desc: Some("When enabled, row security will be applied to all users."),
        context: "user",
        vartype: "bool",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "synchronous_commit",
        unit: None,
        category: "Write-Ahead Log / Settings",
        short_desc: "Sets the current transaction's synchronization level.",
        extra_desc: None,
        context: "user",
        vartype: "enum",
        min_val: None,
        max_val: None,
        enumvals: Some(&["local", "remote_write", "remote_apply", "on", "off"]),
    },
    SettingDoc {
        name: "jit",
        unit: None,
        category: "Query Tuning / Other Planner Options",
        short_desc: "Allow JIT compilation.",
        extra_desc: None,
        context: "user",
        vartype: "bool",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "block_size",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows the size of a disk block.",
        extra_desc: None,
        context: "internal",
        vartype: "integer",
        min_val: Some("8192"),
        max_val: Some("8192"),
        enumvals: None,
    },
    SettingDoc {
        name: "default_table_access_method",
        unit: None,
        category: "Client Connection Defaults / Statement Behavior",
        short_desc: "Sets the default table access method for new tables.",
        extra_desc: None,
        context: "user",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "lc_collate",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows the collation order locale.",
        extra_desc: None,
        context: "internal",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },
    SettingDoc {
        name: "lc_ctype",
        unit: None,
        category: "Preset Options",
        short_desc: "Shows the character classification and case conversion locale.",
        extra_desc: None,
        context: "internal",
        vartype: "string",
        min_val: None,
        max_val: None,
        enumvals: None,
    },

];

impl SessionSettings {
    /// `pg_settings.setting`: what SHOW prints, but durations in the unit's plain number
    /// (`statement_timeout` 5s is `5000`, unit `ms`); `None` for a name the session does not
    /// answer.
    pub fn pg_setting(&self, name: &str, user: &str) -> Option<String> {
        Some(match name {
            "statement_timeout" => self.statement_timeout_ms.to_string(),
            "lock_timeout" => self.lock_timeout_ms.to_string(),
            "idle_in_transaction_session_timeout" => {
                self.idle_in_transaction_session_timeout_ms.to_string()
            }
            "idle_session_timeout" => self.idle_session_timeout_ms.to_string(),
            _ => match self.show(name, user) {
                Some(v) => v,
                None => crate::sql::catalog::constant_setting(name)?.to_owned(),
            },
        })
    }

    /// The session's rows of `pg_settings` as a DuckDB statement: `duckgate_settings`, a list
    /// of (name, setting, shown, source, boot_val, reset_val) that the catalog's `pg_settings` and
    /// `current_setting` read. `source` is `default` for the gateway's default value, `client`
    /// for the value the connection started with, else `session` (a SET).
    pub fn published(&self, reset: &SessionSettings, user: &str) -> String {
        let boot = SessionSettings::default();
        let rows: Vec<String> = PG_SETTINGS
            .iter()
            .filter_map(|d| {
                let n = d.name.to_ascii_lowercase();
                let setting = self.pg_setting(&n, user)?;
                let shown = match self.show(&n, user) {
                    Some(v) => v,
                    None => setting.clone(),
                };
                let boot_val = boot.pg_setting(&n, user).unwrap_or_default();
                let reset_val = reset.pg_setting(&n, user).unwrap_or_default();
                let source = if setting == boot_val && reset_val == boot_val {
                    "default"
                } else if setting == reset_val {
                    "client"
                } else {
                    "session"
                };
                Some(format!(
                    "{{'name': {}, 'setting': {}, 'shown': {}, 'source': '{source}', 'boot_val': {}, 'reset_val': {}}}",
                    quote_literal(d.name),
                    quote_literal(&setting),
                    quote_literal(&shown),
                    quote_literal(&boot_val),
                    quote_literal(&reset_val)
                ))
            })
            .collect();
        format!("SET VARIABLE duckgate_settings = [{}]", rows.join(", "))
    }
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.into()
}

fn format_ms(ms: u64) -> String {
    if ms == 0 {
        "0".into()
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Encoding names compare like PostgreSQL's `clean_encoding_name`: only letters and digits
/// count, so asyncpg's startup value `'utf-8'` (quotes included) is UTF8.
fn is_utf8_name(v: &str) -> bool {
    let clean: String = v
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    matches!(clean.as_str(), "utf8" | "unicode")
}

/// Only ISO output is implemented; accept any ISO DateStyle (the order part only affects input).
fn normalize_datestyle(v: &str) -> Option<String> {
    let parts: Vec<String> = v
        .split(',')
        .map(|p| p.trim().to_ascii_uppercase())
        .filter(|p| !p.is_empty())
        .collect();
    let mut order = "MDY";
    for p in &parts {
        match p.as_str() {
            "ISO" => {}
            "MDY" | "DMY" | "YMD" => {
                order = if p == "MDY" {
                    "MDY"
                } else if p == "DMY" {
                    "DMY"
                } else {
                    "YMD"
                }
            }
            "US" | "NONEURO" | "NONEUROPEAN" => order = "MDY",
            "EURO" | "EUROPEAN" => order = "DMY",
            _ => return None,
        }
    }
    Some(format!("ISO, {order}"))
}

/// PostgreSQL's default search_path, which the catalog macros assume while the session's
/// `duckgate_search_path` variable is unset.
pub const DEFAULT_SEARCH_PATH: &str = "\"$user\", public";

/// The statements that give a new session its search path: nothing to record for the
/// default (one statement per connection start; see [`duckdb_search_path`]).
pub fn startup_search_path(pg: &str) -> String {
    if pg == DEFAULT_SEARCH_PATH {
        return "SET search_path = 'main'".into();
    }
    duckdb_search_path(pg)
}

/// PostgreSQL's search_path in DuckDB terms: `$user` dropped, `public` is DuckDB's `main`, and
/// schemas that do not exist left out (PostgreSQL ignores them; DuckDB refuses the whole path,
/// which failed connections with `options=-c search_path=app,public` before `app` existed);
/// `main` when none is left. The PostgreSQL value is kept as the DuckDB variable
/// `duckgate_search_path`, for `current_setting('search_path')` inside larger queries
/// (`sql::catalog`; Grafana's query builder).
pub fn duckdb_search_path(pg: &str) -> String {
    let schemas: Vec<String> = pg
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty() && !s.starts_with('$') && s != "pg_catalog")
        .map(|s| if s == "public" { "main".to_owned() } else { s })
        .collect();
    // the default ("$user", public) and the like name only `main`, which always exists: no
    // catalog scan (it ran at every connection's start and tripled the setup time)
    if schemas.iter().all(|s| s == "main") {
        return format!(
            "SET VARIABLE duckgate_search_path = {}; SET search_path = 'main'",
            quote_literal(pg)
        );
    }
    format!(
        "SET VARIABLE duckgate_search_path = {}; \
         SET VARIABLE duckgate_duckdb_search_path = (SELECT array_to_string(list_filter([{}]::VARCHAR[], \
           dg_x -> list_contains(dg_e, lower(dg_x))), ',') FROM (SELECT list(lower(schema_name)) \
           || list(lower(database_name)) || list(lower(database_name || '.' || schema_name)) AS dg_e \
           FROM duckdb_schemas())); \
         SET search_path = COALESCE(NULLIF(getvariable('duckgate_duckdb_search_path'), ''), 'main')",
        quote_literal(pg),
        schemas
            .iter()
            .map(|s| quote_literal(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(v: &str) -> SetValue {
        SetValue::Values(vec![v.to_owned()])
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("250"), Some(250));
        assert_eq!(parse_duration_ms("5s"), Some(5000));
        assert_eq!(parse_duration_ms("2min"), Some(120_000));
        assert_eq!(parse_duration_ms("abc"), None);
    }

    #[test]
    fn set_and_reset() {
        let d = SessionSettings::default();
        let mut s = d.clone();
        let e = s.set("timezone", &vals("Europe/Berlin"), &d).unwrap();
        assert_eq!(e.report, Some(("TimeZone", "Europe/Berlin".to_owned())));
        assert_eq!(s.show("timezone", "u").unwrap(), "Europe/Berlin");
        s.set("timezone", &SetValue::Default, &d).unwrap();
        assert_eq!(s.show("timezone", "u").unwrap(), "UTC");
        s.set("statement_timeout", &vals("1s"), &d).unwrap();
        assert_eq!(s.statement_timeout_ms, 1000);
        assert_eq!(s.show("statement_timeout", "u").unwrap(), "1s");
        assert_eq!(
            s.set("timezone", &vals("Nowhere/Land"), &d)
                .unwrap_err()
                .sqlstate(),
            "22023"
        );
        assert_eq!(
            s.set("server_version", &vals("1"), &d)
                .unwrap_err()
                .sqlstate(),
            "55P02"
        );
        assert_eq!(
            s.set("datestyle", &vals("ISO, DMY"), &d).unwrap().report,
            Some(("DateStyle", "ISO, DMY".into()))
        );
        assert!(s.set("datestyle", &vals("SQL"), &d).is_err());
        assert!(s.set("client_encoding", &vals("LATIN1"), &d).is_err());
        assert!(s.set("client_encoding", &vals("utf-8"), &d).is_ok());
        assert!(s.set("client_encoding", &vals("'utf-8'"), &d).is_ok());
    }

    #[test]
    fn search_path_translation() {
        assert_eq!(
            startup_search_path(DEFAULT_SEARCH_PATH),
            "SET search_path = 'main'"
        );
        assert_eq!(startup_search_path("public"), duckdb_search_path("public"));
        let sql = duckdb_search_path("\"$user\", public");
        assert_eq!(
            sql,
            "SET VARIABLE duckgate_search_path = '\"$user\", public'; SET search_path = 'main'"
        );
        assert_eq!(
            duckdb_search_path(""),
            "SET VARIABLE duckgate_search_path = ''; SET search_path = 'main'"
        );
        let sql = duckdb_search_path("analytics, public, pg_catalog, \"it's\"");
        assert!(
            sql.starts_with(
                "SET VARIABLE duckgate_search_path = 'analytics, public, pg_catalog, \"it''s\"'; "
            ) && sql.contains("list_filter(['analytics', 'main', 'it''s']::VARCHAR[]"),
            "{sql}"
        );
    }

    #[test]
    fn pg_settings_covers_every_shown_setting_with_its_value() {
        let mut s = SessionSettings::default();
        let d = SessionSettings::default();
        // every name SHOW answers is a row, but those PostgreSQL keeps out of pg_settings
        for n in KNOWN {
            let listed = PG_SETTINGS
                .iter()
                .any(|doc| doc.name.eq_ignore_ascii_case(n));
            assert_eq!(
                listed,
                !matches!(*n, "is_superuser" | "session_authorization"),
                "{n}"
            );
        }
        for doc in PG_SETTINGS {
            assert!(
                s.pg_setting(&doc.name.to_ascii_lowercase(), "u").is_some(),
                "{}",
                doc.name
            );
        }
        s.set("statement_timeout", &vals("5s"), &d).unwrap();
        assert_eq!(s.pg_setting("statement_timeout", "u").unwrap(), "5000");
        assert_eq!(s.show("statement_timeout", "u").unwrap(), "5s");
        assert_eq!(s.pg_setting("block_size", "u").unwrap(), "8192");
        let reset = SessionSettings {
            application_name: "app".into(),
            ..Default::default()
        };
        s.application_name = "app".into();
        let sql = s.published(&reset, "u");
        assert!(sql.starts_with("SET VARIABLE duckgate_settings = [{'name': 'application_name', 'setting': 'app', 'shown': 'app', 'source': 'client', 'boot_val': '', 'reset_val': 'app'}"), "{sql}");
        assert!(sql.contains("{'name': 'statement_timeout', 'setting': '5000', 'shown': '5s', 'source': 'session', 'boot_val': '0', 'reset_val': '0'}"), "{sql}");
        assert!(
            sql.contains(
                "{'name': 'TimeZone', 'setting': 'UTC', 'shown': 'UTC', 'source': 'default',"
            ),
            "{sql}"
        );
        // values are quoted literals
        s.application_name = "it's".into();
        assert!(s.published(&reset, "u").contains("'setting': 'it''s'"));
    }

    #[test]
    fn startup_report_has_what_jdbc_needs() {
        let r = SessionSettings::default().reported("alice");
        let get = |n: &str| r.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
        assert_eq!(get("client_encoding").as_deref(), Some("UTF8"));
        assert!(get("DateStyle").unwrap().starts_with("ISO"));
        assert_eq!(get("standard_conforming_strings").as_deref(), Some("on"));
        assert_eq!(get("integer_datetimes").as_deref(), Some("on"));
        assert_eq!(get("server_version").as_deref(), Some(SERVER_VERSION));
        assert_eq!(get("session_authorization").as_deref(), Some("alice"));
    }
}
