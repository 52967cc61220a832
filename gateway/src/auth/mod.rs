//! Token authentication: the token file, cleartext and SCRAM verification, per-address rate
//! limiting of failures, and `token create`.

pub mod scram;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use base64::Engine;
use duckgate_config::tokens::{TokenEntry, TokenFile};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use scram::Verifier;

/// Who a valid token says the client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub databases: Vec<String>,
    pub read_only: bool,
}

impl Identity {
    pub fn allows_database(&self, name: &str) -> bool {
        self.databases.iter().any(|d| d == "*" || d == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read token file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid token file {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot write token file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A parsed token file.
struct Loaded {
    salt: Vec<u8>,
    iterations: u32,
    entries: Vec<TokenEntry>,
    verifiers: Vec<Verifier>,
    digest: Vec<u8>,
}

fn parse(path: &Path, text: &str) -> Result<Loaded, AuthError> {
    let invalid = |reason: String| AuthError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let file = TokenFile::from_yaml(text).map_err(|e| invalid(e.to_string()))?;
    let salt = B64
        .decode(&file.scram_salt)
        .map_err(|_| invalid("scramSalt is not base64".into()))?;
    if salt.len() < 8 {
        return Err(invalid("scramSalt must be at least 8 bytes".into()));
    }
    if file.scram_iterations < 4096 {
        return Err(invalid("scramIterations must be at least 4096".into()));
    }
    let mut verifiers = Vec::with_capacity(file.tokens.len());
    for t in &file.tokens {
        let stored_key = B64.decode(&t.stored_key).ok().filter(|k| k.len() == 32);
        let server_key = B64.decode(&t.server_key).ok().filter(|k| k.len() == 32);
        match (stored_key, server_key) {
            (Some(stored_key), Some(server_key)) => verifiers.push(Verifier {
                stored_key,
                server_key,
            }),
            _ => return Err(invalid(format!("token {:?} has invalid keys", t.name))),
        }
    }
    Ok(Loaded {
        salt,
        iterations: file.scram_iterations,
        entries: file.tokens,
        verifiers,
        digest: Sha256::digest(text.as_bytes()).to_vec(),
    })
}

/// The token file, reloaded when its content changes (a Kubernetes Secret update).
pub struct TokenStore {
    path: PathBuf,
    current: RwLock<Arc<Loaded>>,
}

impl TokenStore {
    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(TokenStore {
            path: path.to_owned(),
            current: RwLock::new(Arc::new(parse(path, &text)?)),
        })
    }

    fn snapshot(&self) -> Arc<Loaded> {
        self.current.read().unwrap().clone()
    }

    /// Re-read the file; a file that does not parse keeps the previous tokens in force.
    pub fn reload_if_changed(&self) -> Result<bool, AuthError> {
        let text = std::fs::read_to_string(&self.path).map_err(|source| AuthError::Read {
            path: self.path.clone(),
            source,
        })?;
        if Sha256::digest(text.as_bytes()).as_slice() == self.snapshot().digest.as_slice() {
            return Ok(false);
        }
        let loaded = parse(&self.path, &text)?;
        tracing::info!(path = %self.path.display(), tokens = loaded.entries.len(), "token file reloaded");
        *self.current.write().unwrap() = Arc::new(loaded);
        Ok(true)
    }

    pub fn spawn_watcher(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let s = store.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || s.reload_if_changed()).await
                {
                    tracing::warn!(error = %e, "token file not reloaded; previous tokens stay in force");
                }
            }
        })
    }

    fn identity(entry: &TokenEntry) -> Identity {
        Identity {
            name: entry.name.clone(),
            databases: entry.databases.clone(),
            read_only: entry.read_only,
        }
    }

    /// Check a cleartext password. Every entry is compared, in constant time each.
    pub fn verify_password(&self, token: &str) -> Option<Identity> {
        let loaded = self.snapshot();
        let candidate = Verifier::derive(token, &loaded.salt, loaded.iterations);
        let mut found = None;
        for (i, v) in loaded.verifiers.iter().enumerate() {
            let eq: bool = v.stored_key.ct_eq(&candidate.stored_key).into();
            if eq && found.is_none() {
                found = Some(i);
            }
        }
        found.map(|i| Self::identity(&loaded.entries[i]))
    }

    /// Start a SCRAM exchange with the file's salt.
    pub fn scram_start(
        &self,
        client_first: &[u8],
    ) -> Result<(ScramSession, String), scram::ScramError> {
        let loaded = self.snapshot();
        let (exchange, server_first) =
            scram::Exchange::start(client_first, &loaded.salt, loaded.iterations)?;
        Ok((ScramSession { exchange, loaded }, server_first))
    }
}

/// A SCRAM exchange in progress, pinned to the token file it started with.
pub struct ScramSession {
    exchange: scram::Exchange,
    loaded: Arc<Loaded>,
}

impl ScramSession {
    /// `Ok(Some((identity, server_final)))` when a token matched.
    pub fn finish(
        &self,
        client_final: &[u8],
    ) -> Result<Option<(Identity, String)>, scram::ScramError> {
        Ok(self
            .exchange
            .finish(client_final, &self.loaded.verifiers)?
            .map(|(i, server_final)| (TokenStore::identity(&self.loaded.entries[i]), server_final)))
    }
}

/// Counts failed logins per client address; too many in a minute blocks further attempts.
pub struct FailureLimiter {
    per_minute: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new(per_minute: u32) -> Self {
        FailureLimiter {
            per_minute,
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_blocked(&self, ip: IpAddr) -> bool {
        let seen = self.seen.lock().unwrap();
        matches!(seen.get(&ip), Some((since, n)) if since.elapsed() < Duration::from_secs(60) && *n >= self.per_minute)
    }

    pub fn record_failure(&self, ip: IpAddr) {
        let mut seen = self.seen.lock().unwrap();
        if seen.len() > 100_000 {
            seen.retain(|_, (since, _)| since.elapsed() < Duration::from_secs(60));
        }
        let e = seen.entry(ip).or_insert((Instant::now(), 0));
        if e.0.elapsed() >= Duration::from_secs(60) {
            *e = (Instant::now(), 0);
        }
        e.1 += 1;
    }
}

/// A new random token: `dg_` followed by 32 random bytes, URL-safe base64.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("dg_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Add a token to a token file (created with a fresh salt if missing). Returns the token,
/// which is stored nowhere.
pub fn create_token(
    path: &Path,
    name: &str,
    databases: Vec<String>,
    read_only: bool,
) -> Result<String, AuthError> {
    let mut file = match std::fs::read_to_string(path) {
        Ok(text) => TokenFile::from_yaml(&text).map_err(|e| AuthError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut salt = [0u8; 16];
            rand::fill(&mut salt);
            TokenFile {
                scram_salt: B64.encode(salt),
                scram_iterations: 4096,
                tokens: Vec::new(),
            }
        }
        Err(source) => {
            return Err(AuthError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    if file.tokens.iter().any(|t| t.name == name) {
        return Err(AuthError::Invalid {
            path: path.to_owned(),
            reason: format!("a token named {name:?} already exists"),
        });
    }
    let salt = B64
        .decode(&file.scram_salt)
        .map_err(|_| AuthError::Invalid {
            path: path.to_owned(),
            reason: "scramSalt is not base64".into(),
        })?;
    let token = generate_token();
    let v = Verifier::derive(&token, &salt, file.scram_iterations);
    file.tokens.push(TokenEntry {
        name: name.to_owned(),
        databases: if databases.is_empty() {
            vec!["*".into()]
        } else {
            databases
        },
        read_only,
        stored_key: B64.encode(&v.stored_key),
        server_key: B64.encode(&v.server_key),
    });
    write_private(path, &file.to_yaml()).map_err(|source| AuthError::Write {
        path: path.to_owned(),
        source,
    })?;
    Ok(token)
}

/// Write a file readable by its owner only, atomically (write + rename).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_tokens_verify_and_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.yaml");
        let a = create_token(&path, "alice", vec![], false).unwrap();
        let b = create_token(&path, "bob", vec!["sales".into()], true).unwrap();
        assert!(create_token(&path, "bob", vec![], false).is_err());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&a) && !text.contains(&b));
        let store = TokenStore::load(&path).unwrap();
        let ida = store.verify_password(&a).unwrap();
        assert_eq!(ida.name, "alice");
        assert!(ida.allows_database("anything"));
        let idb = store.verify_password(&b).unwrap();
        assert!(idb.read_only && idb.allows_database("sales") && !idb.allows_database("hr"));
        assert_eq!(store.verify_password("dg_nope"), None);
        assert_eq!(store.verify_password(""), None);
    }

    #[test]
    fn reload_picks_up_new_tokens_and_keeps_old_on_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.yaml");
        let a = create_token(&path, "a", vec![], false).unwrap();
        let store = TokenStore::load(&path).unwrap();
        assert!(!store.reload_if_changed().unwrap());
        let b = create_token(&path, "b", vec![], false).unwrap();
        assert!(store.verify_password(&b).is_none());
        assert!(store.reload_if_changed().unwrap());
        assert!(store.verify_password(&b).is_some());
        std::fs::write(&path, "scramSalt: [broken").unwrap();
        assert!(store.reload_if_changed().is_err());
        assert!(store.verify_password(&a).is_some());
    }

    #[test]
    fn failures_are_limited_per_address() {
        let l = FailureLimiter::new(3);
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        let other: IpAddr = "10.1.2.4".parse().unwrap();
        for _ in 0..3 {
            assert!(!l.is_blocked(ip));
            l.record_failure(ip);
        }
        assert!(l.is_blocked(ip));
        assert!(!l.is_blocked(other));
    }
}
