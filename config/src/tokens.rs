//! The token file format: access tokens stored as salted SCRAM-SHA-256 verifiers only.
//!
//! One salt per file lets a SCRAM exchange send the salt before it knows which token the
//! client holds (the user name is free text); the server then checks the proof against each
//! stored key. The same verifier checks cleartext passwords, so the token itself is never
//! stored anywhere.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenFile {
    /// Base64 SCRAM salt shared by every token in this file.
    pub scram_salt: String,
    /// PBKDF2 iterations (at least 4096, as SCRAM requires).
    pub scram_iterations: u32,
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenEntry {
    /// Identity reported in logs and metrics (never the token).
    pub name: String,
    /// Databases this token may open; `["*"]` means all.
    pub databases: Vec<String>,
    /// Read-only tokens cannot write.
    #[serde(default)]
    pub read_only: bool,
    /// Base64 `SHA-256(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: String,
    /// Base64 `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: String,
}

impl TokenEntry {
    pub fn allows_database(&self, name: &str) -> bool {
        self.databases.iter().any(|d| d == "*" || d == name)
    }
}

impl TokenFile {
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }

    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("token file serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_database_scope() {
        let f = TokenFile {
            scram_salt: "c2FsdA==".into(),
            scram_iterations: 4096,
            tokens: vec![TokenEntry {
                name: "alice".into(),
                databases: vec!["sales".into()],
                read_only: true,
                stored_key: "a".into(),
                server_key: "b".into(),
            }],
        };
        let back = TokenFile::from_yaml(&f.to_yaml()).unwrap();
        assert_eq!(back, f);
        assert!(back.tokens[0].allows_database("sales"));
        assert!(!back.tokens[0].allows_database("hr"));
        let all = TokenEntry {
            databases: vec!["*".into()],
            ..back.tokens[0].clone()
        };
        assert!(all.allows_database("anything"));
    }
}
