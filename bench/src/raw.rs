//! A lean PostgreSQL-protocol reader for W3's streams, next to the tokio-postgres client.
//!
//! tokio-postgres builds a `Row` (or `SimpleQueryRow`) with its own allocations for every
//! DataRow; streaming 10M rows it spends about twice the CPU the gateway does, on the same
//! cores, so its rows/s measure the client more than the server. This reader decodes the same
//! values (both integers parsed from text or read as int8, every byte of the text column
//! counted) straight from the receive buffer, as a C client over libpq would, so rows/s
//! follow the server. Plain TCP and trust or cleartext-password authentication only, which is
//! what the driver's W3 connections use.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::{Buf, BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one stream delivered.
pub struct Streamed {
    pub rows: u64,
    pub bytes: u64,
    pub sum: i64,
    pub first_row: Option<Duration>,
}

/// The first complete backend message in `buf`: type byte, body and the bytes it takes.
fn frame(buf: &[u8]) -> Option<(u8, &[u8], usize)> {
    if buf.len() < 5 {
        return None;
    }
    let len = (&buf[1..5]).get_i32() as usize;
    if buf.len() < 1 + len {
        return None;
    }
    Some((buf[0], &buf[5..1 + len], 1 + len))
}

fn put_message(out: &mut BytesMut, ty: u8, body: &[u8]) {
    out.put_u8(ty);
    out.put_i32(body.len() as i32 + 4);
    out.put_slice(body);
}

fn error_text(body: &[u8]) -> String {
    body.split(|&b| b == 0)
        .filter(|f| f.first() == Some(&b'M'))
        .map(|f| String::from_utf8_lossy(&f[1..]).into_owned())
        .next()
        .unwrap_or_else(|| "server error".into())
}

/// ASCII decimal to i64 (what a client's text decoder does for int8).
fn parse_i64(s: &[u8]) -> anyhow::Result<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        bail!("empty integer");
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            bail!("not an integer: {:?}", String::from_utf8_lossy(s));
        }
        v = v.wrapping_mul(10).wrapping_add((d - b'0') as i64);
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

pub struct Conn {
    socket: TcpStream,
    /// Received bytes; `buf[at..]` is not parsed yet.
    buf: Vec<u8>,
    at: usize,
    /// From BackendKeyData: PostgreSQL's backend process for this connection.
    pub backend_pid: Option<u32>,
}

impl Conn {
    /// Handle every backend message as it arrives until `each` returns `Ok(false)`; the
    /// messages are read in place from the receive buffer.
    async fn each(
        &mut self,
        mut each: impl FnMut(u8, &[u8]) -> anyhow::Result<bool>,
    ) -> anyhow::Result<()> {
        loop {
            while let Some((ty, body, used)) = frame(&self.buf[self.at..]) {
                self.at += used;
                if !each(ty, body)? {
                    return Ok(());
                }
            }
            // keep the incomplete tail, then read more after it
            self.buf.drain(..self.at);
            self.at = 0;
            if self.buf.capacity() - self.buf.len() < 64 * 1024 {
                self.buf.reserve(256 * 1024);
            }
            if self.socket.read_buf(&mut self.buf).await? == 0 {
                bail!("server closed the connection");
            }
        }
    }
}

/// Connect with a `key=value` connection string (host, port, user, dbname, password).
pub async fn connect(conn: &str) -> anyhow::Result<Conn> {
    let kv: std::collections::HashMap<&str, &str> = conn
        .split_whitespace()
        .filter_map(|p| p.split_once('='))
        .collect();
    let host = kv.get("host").copied().unwrap_or("127.0.0.1");
    let port = kv.get("port").context("port")?;
    let socket = TcpStream::connect(format!("{host}:{port}")).await?;
    socket.set_nodelay(true)?;
    let mut c = Conn {
        socket,
        buf: Vec::with_capacity(256 * 1024),
        at: 0,
        backend_pid: None,
    };
    let mut body = BytesMut::new();
    body.put_i32(196608); // protocol 3.0
    for key in ["user", "database"] {
        let v = kv.get(if key == "database" { "dbname" } else { key });
        if let Some(v) = v {
            body.put_slice(key.as_bytes());
            body.put_u8(0);
            body.put_slice(v.as_bytes());
            body.put_u8(0);
        }
    }
    body.put_u8(0);
    let mut out = BytesMut::new();
    out.put_i32(body.len() as i32 + 4);
    out.put_slice(&body);
    c.socket.write_all(&out).await?;
    // until ReadyForQuery; a cleartext password request stops the reading to answer it
    let mut pid = None;
    let mut password_sent = false;
    loop {
        let mut password_asked = false;
        c.each(|ty, mut m| match ty {
            b'R' => match m.get_i32() {
                0 => Ok(true),
                3 if !password_sent => {
                    password_asked = true;
                    Ok(false)
                }
                code => bail!("authentication method {code} is not supported"),
            },
            b'K' => {
                pid = Some(m.get_i32() as u32);
                Ok(true)
            }
            b'E' => bail!(error_text(m)),
            b'Z' => Ok(false),
            _ => Ok(true),
        })
        .await?;
        if !password_asked {
            break;
        }
        let pw = kv
            .get("password")
            .context("the server asks for a password")?;
        let mut p = pw.as_bytes().to_vec();
        p.push(0);
        let mut out = BytesMut::new();
        put_message(&mut out, b'p', &p);
        c.socket.write_all(&out).await?;
        password_sent = true;
    }
    c.backend_pid = pid;
    Ok(c)
}

/// Run `query` and decode every row: `binary` asks for binary results over the extended
/// protocol, otherwise the simple query protocol's text. The result must be (int8, int8, text).
pub async fn stream(c: &mut Conn, query: &str, binary: bool) -> anyhow::Result<Streamed> {
    let mut out = BytesMut::new();
    let mut q = query.as_bytes().to_vec();
    q.push(0);
    if binary {
        let mut parse = vec![0u8]; // unnamed statement
        parse.extend_from_slice(&q);
        parse.extend_from_slice(&0i16.to_be_bytes());
        put_message(&mut out, b'P', &parse);
        let mut bind = vec![0u8, 0u8]; // unnamed portal, unnamed statement
        bind.extend_from_slice(&0i16.to_be_bytes()); // parameter formats
        bind.extend_from_slice(&0i16.to_be_bytes()); // parameters
        bind.extend_from_slice(&1i16.to_be_bytes()); // one result format for all columns:
        bind.extend_from_slice(&1i16.to_be_bytes()); // binary
        put_message(&mut out, b'B', &bind);
        put_message(&mut out, b'E', &[0, 0, 0, 0, 0]);
        put_message(&mut out, b'S', &[]);
    } else {
        put_message(&mut out, b'Q', &q);
    }
    let t = Instant::now();
    c.socket.write_all(&out).await?;
    let mut s = Streamed {
        rows: 0,
        bytes: 0,
        sum: 0,
        first_row: None,
    };
    let mut error = None;
    c.each(|ty, mut m| {
        match ty {
            b'D' => {
                if s.first_row.is_none() {
                    s.first_row = Some(t.elapsed());
                }
                if m.get_i16() != 3 {
                    bail!("expected 3 columns");
                }
                for i in 0..3 {
                    let len = m.get_i32();
                    if len < 0 {
                        continue;
                    }
                    let (v, rest) = m.split_at(len as usize);
                    m = rest;
                    if i == 2 {
                        s.bytes += v.len() as u64;
                    } else if binary {
                        s.sum = s.sum.wrapping_add((&v[..]).get_i64());
                    } else {
                        s.sum = s.sum.wrapping_add(parse_i64(v)?);
                    }
                }
                s.rows += 1;
            }
            b'E' => error = Some(error_text(m)),
            b'Z' => return Ok(false),
            _ => {}
        }
        Ok(true)
    })
    .await?;
    match error {
        Some(e) => bail!(e),
        None => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_as_a_client_would() {
        assert_eq!(parse_i64(b"0").unwrap(), 0);
        assert_eq!(parse_i64(b"-9223372036854775808").unwrap(), i64::MIN);
        assert_eq!(parse_i64(b"9223372036854775807").unwrap(), i64::MAX);
        assert!(parse_i64(b"12a").is_err());
        assert!(parse_i64(b"-").is_err());
    }

    #[test]
    fn frames_wait_for_the_whole_message() {
        let mut b = BytesMut::new();
        put_message(&mut b, b'D', &[1, 2, 3]);
        assert!(frame(&b[..6]).is_none());
        assert_eq!(frame(&b), Some((b'D', &[1u8, 2, 3][..], 8)));
    }
}
