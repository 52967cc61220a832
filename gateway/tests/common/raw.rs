//! A minimal frontend speaking the wire protocol byte by byte, for what drivers hide:
//! pipelines, exact message sequences, and counting rows without keeping them.
#![allow(dead_code)]

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Raw {
    pub r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    pub w: tokio::net::tcp::OwnedWriteHalf,
}

/// One backend message: its type byte and body.
#[derive(Debug, Clone)]
pub struct Msg {
    pub tag: u8,
    pub body: Vec<u8>,
}

impl Msg {
    /// The SQLSTATE field of an ErrorResponse.
    pub fn sqlstate(&self) -> Option<String> {
        self.field(b'C')
    }

    pub fn field(&self, code: u8) -> Option<String> {
        let mut i = 0;
        while i < self.body.len() && self.body[i] != 0 {
            let k = self.body[i];
            let end = self.body[i + 1..].iter().position(|&b| b == 0)? + i + 1;
            if k == code {
                return Some(String::from_utf8_lossy(&self.body[i + 1..end]).into_owned());
            }
            i = end + 1;
        }
        None
    }
}

fn cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

impl Raw {
    pub async fn connect(port: u16, params: &[(&str, &str)]) -> (Raw, Vec<Msg>) {
        let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.set_nodelay(true).unwrap();
        let (r, w) = s.into_split();
        let mut raw = Raw {
            r: BufReader::new(r),
            w,
        };
        let mut body = Vec::new();
        body.extend_from_slice(&196_608i32.to_be_bytes());
        for (k, v) in params {
            cstr(&mut body, k);
            cstr(&mut body, v);
        }
        body.push(0);
        let mut pkt = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        pkt.extend_from_slice(&body);
        raw.w.write_all(&pkt).await.unwrap();
        let msgs = raw.until_ready().await;
        (raw, msgs)
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.unwrap();
    }

    pub fn query(sql: &str) -> Vec<u8> {
        let mut b = Vec::new();
        cstr(&mut b, sql);
        frame(b'Q', &b)
    }

    pub fn parse(name: &str, sql: &str, oids: &[u32]) -> Vec<u8> {
        let mut b = Vec::new();
        cstr(&mut b, name);
        cstr(&mut b, sql);
        b.extend_from_slice(&(oids.len() as i16).to_be_bytes());
        for o in oids {
            b.extend_from_slice(&o.to_be_bytes());
        }
        frame(b'P', &b)
    }

    /// Bind with text parameters (None = NULL) and one result format code for all columns.
    pub fn bind(portal: &str, stmt: &str, params: &[Option<&str>], result_format: i16) -> Vec<u8> {
        let mut b = Vec::new();
        cstr(&mut b, portal);
        cstr(&mut b, stmt);
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&(params.len() as i16).to_be_bytes());
        for p in params {
            match p {
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(v) => {
                    b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    b.extend_from_slice(v.as_bytes());
                }
            }
        }
        b.extend_from_slice(&1i16.to_be_bytes());
        b.extend_from_slice(&result_format.to_be_bytes());
        frame(b'B', &b)
    }

    pub fn describe(kind: u8, name: &str) -> Vec<u8> {
        let mut b = vec![kind];
        cstr(&mut b, name);
        frame(b'D', &b)
    }

    pub fn execute(portal: &str, max_rows: i32) -> Vec<u8> {
        let mut b = Vec::new();
        cstr(&mut b, portal);
        b.extend_from_slice(&max_rows.to_be_bytes());
        frame(b'E', &b)
    }

    pub fn close(kind: u8, name: &str) -> Vec<u8> {
        let mut b = vec![kind];
        cstr(&mut b, name);
        frame(b'C', &b)
    }

    pub fn sync() -> Vec<u8> {
        frame(b'S', &[])
    }

    pub fn flush() -> Vec<u8> {
        frame(b'H', &[])
    }

    pub async fn read(&mut self) -> Msg {
        let tag = self.r.read_u8().await.unwrap();
        let len = self.r.read_i32().await.unwrap() as usize;
        let mut body = vec![0; len - 4];
        self.r.read_exact(&mut body).await.unwrap();
        Msg { tag, body }
    }

    /// Read messages up to and including ReadyForQuery.
    pub async fn until_ready(&mut self) -> Vec<Msg> {
        let mut out = Vec::new();
        loop {
            let m = self.read().await;
            let done =
                m.tag == b'Z' || (m.tag == b'E' && m.field(b'S').as_deref() == Some("FATAL"));
            out.push(m);
            if done {
                return out;
            }
        }
    }

    /// Count DataRows up to ReadyForQuery without keeping them; also returns bytes received.
    pub async fn count_rows_until_ready(&mut self) -> (u64, u64, Vec<Msg>) {
        let mut rows = 0;
        let mut bytes = 0;
        let mut other = Vec::new();
        loop {
            let m = self.read().await;
            bytes += m.body.len() as u64 + 5;
            match m.tag {
                b'D' => rows += 1,
                b'Z' => {
                    other.push(m);
                    return (rows, bytes, other);
                }
                _ => other.push(m),
            }
        }
    }
}

/// The sequence of message type letters.
pub fn tags(msgs: &[Msg]) -> String {
    msgs.iter().map(|m| m.tag as char).collect()
}
