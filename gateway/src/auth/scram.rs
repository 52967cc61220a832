//! SCRAM-SHA-256 (RFC 5802 / RFC 7677) against several stored verifiers sharing one salt.
//!
//! pgwire's SCRAM state machine checks one known secret; here the client's user name does not
//! say which token it holds, so the proof is checked against every stored key of the token
//! file. Channel binding is not offered (only `SCRAM-SHA-256`, never `-PLUS`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const MECHANISM: &str = "SCRAM-SHA-256";

pub fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// `Hi(token, salt, iterations)`.
pub fn salted_password(token: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2::<Hmac<Sha256>>(token.as_bytes(), salt, iterations, &mut out)
        .expect("HMAC accepts any key length");
    out
}

/// A stored verifier: `(StoredKey, ServerKey)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier(<redacted>)")
    }
}

impl Verifier {
    pub fn derive(token: &str, salt: &[u8], iterations: u32) -> Self {
        let sp = salted_password(token, salt, iterations);
        Verifier {
            stored_key: sha256(&hmac(&sp, b"Client Key")),
            server_key: hmac(&sp, b"Server Key"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScramError {
    #[error("malformed SCRAM message")]
    Malformed,
    #[error("channel binding is not supported")]
    ChannelBinding,
    #[error("SCRAM nonce mismatch")]
    Nonce,
}

/// Server state after the client-first message.
pub struct Exchange {
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

fn attr(part: &str, key: char) -> Option<&str> {
    part.strip_prefix(key)?.strip_prefix('=')
}

impl Exchange {
    /// Handle client-first (`n,,n=user,r=nonce`); returns the state and the server-first message.
    pub fn start(
        client_first: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<(Self, String), ScramError> {
        let text = std::str::from_utf8(client_first).map_err(|_| ScramError::Malformed)?;
        let mut parts = text.splitn(3, ',');
        let cbind = parts.next().ok_or(ScramError::Malformed)?;
        let _authzid = parts.next().ok_or(ScramError::Malformed)?;
        let bare = parts.next().ok_or(ScramError::Malformed)?;
        match cbind {
            "n" | "y" => {}
            _ if cbind.starts_with("p=") => return Err(ScramError::ChannelBinding),
            _ => return Err(ScramError::Malformed),
        }
        let client_nonce = bare
            .split(',')
            .find_map(|p| attr(p, 'r'))
            .filter(|n| !n.is_empty())
            .ok_or(ScramError::Malformed)?;
        let mut server_nonce = [0u8; 18];
        rand::fill(&mut server_nonce);
        let nonce = format!("{client_nonce}{}", B64.encode(server_nonce));
        let server_first = format!("r={nonce},s={},i={iterations}", B64.encode(salt));
        Ok((
            Exchange {
                client_first_bare: bare.to_owned(),
                server_first: server_first.clone(),
                nonce,
            },
            server_first,
        ))
    }

    /// Handle client-final (`c=biws,r=nonce,p=proof`): returns the index of the matching
    /// verifier (if any) and, for it, the server-final message. Every verifier is checked so
    /// the time taken does not depend on which one matched.
    pub fn finish(
        &self,
        client_final: &[u8],
        verifiers: &[Verifier],
    ) -> Result<Option<(usize, String)>, ScramError> {
        let text = std::str::from_utf8(client_final).map_err(|_| ScramError::Malformed)?;
        let (without_proof, proof) = text.rsplit_once(",p=").ok_or(ScramError::Malformed)?;
        let mut cbind = None;
        let mut nonce = None;
        for p in without_proof.split(',') {
            if let Some(v) = attr(p, 'c') {
                cbind = Some(v);
            } else if let Some(v) = attr(p, 'r') {
                nonce = Some(v);
            }
        }
        // "biws" = base64("n,,"), "eSws" = base64("y,,"): no channel binding data
        if !matches!(cbind, Some("biws") | Some("eSws")) {
            return Err(ScramError::ChannelBinding);
        }
        if nonce != Some(self.nonce.as_str()) {
            return Err(ScramError::Nonce);
        }
        let proof = B64.decode(proof).map_err(|_| ScramError::Malformed)?;
        if proof.len() != 32 {
            return Err(ScramError::Malformed);
        }
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let mut found = None;
        for (i, v) in verifiers.iter().enumerate() {
            let signature = hmac(&v.stored_key, auth_message.as_bytes());
            let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
            let matches: bool = sha256(&client_key).ct_eq(&v.stored_key).into();
            if matches && found.is_none() {
                found = Some(i);
            }
        }
        Ok(found.map(|i| {
            let server_signature = hmac(&verifiers[i].server_key, auth_message.as_bytes());
            (i, format!("v={}", B64.encode(server_signature)))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client side of the exchange, written from RFC 5802, to test the server against.
    fn client_final(token: &str, client_first_bare: &str, server_first: &str) -> (String, Vec<u8>) {
        let fields: Vec<&str> = server_first.split(',').collect();
        let nonce = attr(fields[0], 'r').unwrap();
        let salt = B64.decode(attr(fields[1], 's').unwrap()).unwrap();
        let iters: u32 = attr(fields[2], 'i').unwrap().parse().unwrap();
        let sp = salted_password(token, &salt, iters);
        let client_key = hmac(&sp, b"Client Key");
        let stored = sha256(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth = format!("{client_first_bare},{server_first},{without_proof}");
        let sig = hmac(&stored, auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
        let server_sig = hmac(&hmac(&sp, b"Server Key"), auth.as_bytes());
        (
            format!("{without_proof},p={}", B64.encode(proof)),
            server_sig,
        )
    }

    #[test]
    fn finds_the_right_token_among_several() {
        let salt = b"0123456789abcdef";
        let verifiers: Vec<Verifier> = ["tok-a", "tok-b", "tok-c"]
            .iter()
            .map(|t| Verifier::derive(t, salt, 4096))
            .collect();
        let first = "n,,n=anyone,r=clientnonce";
        let (ex, server_first) = Exchange::start(first.as_bytes(), salt, 4096).unwrap();
        let (fin, expected_sig) = client_final("tok-b", "n=anyone,r=clientnonce", &server_first);
        let (idx, server_final) = ex.finish(fin.as_bytes(), &verifiers).unwrap().unwrap();
        assert_eq!(idx, 1);
        assert_eq!(server_final, format!("v={}", B64.encode(expected_sig)));

        let (ex, server_first) = Exchange::start(first.as_bytes(), salt, 4096).unwrap();
        let (fin, _) = client_final("wrong", "n=anyone,r=clientnonce", &server_first);
        assert_eq!(ex.finish(fin.as_bytes(), &verifiers).unwrap(), None);
    }

    #[test]
    fn rejects_malformed_and_replayed_messages() {
        let salt = b"s";
        assert_eq!(
            Exchange::start(b"garbage", salt, 4096).err(),
            Some(ScramError::Malformed)
        );
        assert_eq!(
            Exchange::start(b"p=tls-server-end-point,,n=,r=x", salt, 4096).err(),
            Some(ScramError::ChannelBinding)
        );
        let (ex, _) = Exchange::start(b"n,,n=,r=abc", salt, 4096).unwrap();
        assert_eq!(
            ex.finish(b"c=biws,r=othernonce,p=AAAA", &[]).err(),
            Some(ScramError::Nonce)
        );
        assert_eq!(
            ex.finish(b"no proof here", &[]).err(),
            Some(ScramError::Malformed)
        );
    }
}
