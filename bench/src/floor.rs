//! The bare cost of the wire: a PostgreSQL-protocol server that answers every statement with a
//! canned one-row result and does nothing else (no parsing, no planning, no engine).
//!
//! W1 and W2 measure it with the same pgbench commands as the gateway and PostgreSQL. What
//! pgbench sees from it is the floor any server pays on this machine: the loopback round
//! trip, waking a tokio task, and pgbench's own CPU on the same cores. The physical
//! limit for the gateway is in-process DuckDB plus this floor.

use std::io;

use bytes::{Buf, BufMut, BytesMut};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(clap::Args)]
pub struct FloorArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
}

/// Prints `{"port": N}` once listening, then serves until killed.
pub async fn serve(a: FloorArgs) -> anyhow::Result<Value> {
    let listener = TcpListener::bind(&a.listen).await?;
    println!("{}", json!({"port": listener.local_addr()?.port()}));
    loop {
        let (socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        tokio::spawn(async move {
            let _ = connection(socket).await;
        });
    }
}

/// Append one backend message: type byte, length, body.
fn message(out: &mut BytesMut, ty: u8, body: impl FnOnce(&mut BytesMut)) {
    out.put_u8(ty);
    let at = out.len();
    out.put_i32(0);
    body(out);
    let len = (out.len() - at) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

fn cstr(out: &mut BytesMut, s: &str) {
    out.put_slice(s.as_bytes());
    out.put_u8(0);
}

/// One int4 column, as `SELECT 1` describes it.
fn row_description(out: &mut BytesMut) {
    message(out, b'T', |b| {
        b.put_i16(1);
        cstr(b, "?column?");
        b.put_i32(0); // table
        b.put_i16(0); // attribute
        b.put_i32(23); // int4
        b.put_i16(4);
        b.put_i32(-1);
        b.put_i16(0); // text
    });
}

fn data_and_complete(out: &mut BytesMut) {
    message(out, b'D', |b| {
        b.put_i16(1);
        b.put_i32(1);
        b.put_u8(b'1');
    });
    message(out, b'C', |b| cstr(b, "SELECT 1"));
}

fn ready(out: &mut BytesMut) {
    message(out, b'Z', |b| b.put_u8(b'I'));
}

async fn connection(mut s: TcpStream) -> io::Result<()> {
    let mut inp = BytesMut::with_capacity(8192);
    let mut out = BytesMut::with_capacity(8192);
    // startup: SSL and GSS encryption requests are declined, then the startup packet
    loop {
        while inp.len() < 4 || inp.len() < (&inp[..4]).get_i32() as usize {
            if s.read_buf(&mut inp).await? == 0 {
                return Ok(());
            }
        }
        let len = inp.get_i32() as usize;
        let packet = inp.split_to(len - 4);
        let code = (&packet[..4]).get_i32();
        if code == 80877103 || code == 80877104 {
            s.write_all(b"N").await?;
            continue;
        }
        break;
    }
    message(&mut out, b'R', |b| b.put_i32(0));
    for (k, v) in [
        ("server_version", "15.0"),
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("DateStyle", "ISO, MDY"),
        ("integer_datetimes", "on"),
        ("standard_conforming_strings", "on"),
    ] {
        message(&mut out, b'S', |b| {
            cstr(b, k);
            cstr(b, v);
        });
    }
    message(&mut out, b'K', |b| {
        b.put_i32(1);
        b.put_i32(1);
    });
    ready(&mut out);
    s.write_all_buf(&mut out).await?;
    loop {
        while inp.len() < 5 || inp.len() < 1 + (&inp[1..5]).get_i32() as usize {
            if s.read_buf(&mut inp).await? == 0 {
                return Ok(());
            }
        }
        let ty = inp[0];
        let len = (&inp[1..5]).get_i32() as usize;
        let body = inp.split_to(1 + len).split_off(5);
        match ty {
            b'Q' => {
                row_description(&mut out);
                data_and_complete(&mut out);
                ready(&mut out);
            }
            b'P' => message(&mut out, b'1', |_| {}),
            b'B' => message(&mut out, b'2', |_| {}),
            b'D' => {
                if body.first() == Some(&b'S') {
                    message(&mut out, b't', |b| b.put_i16(0));
                }
                row_description(&mut out);
            }
            b'E' => data_and_complete(&mut out),
            b'C' => message(&mut out, b'3', |_| {}),
            b'S' => ready(&mut out),
            b'H' => {}
            b'X' => return Ok(()),
            _ => {
                message(&mut out, b'E', |b| {
                    b.put_u8(b'S');
                    cstr(b, "ERROR");
                    b.put_u8(b'C');
                    cstr(b, "0A000");
                    b.put_u8(b'M');
                    cstr(b, "not supported by the wire floor");
                    b.put_u8(0);
                });
                ready(&mut out);
            }
        }
        // answer when the client waits for it: after a Query, Sync or Flush
        if !matches!(ty, b'P' | b'B' | b'D' | b'E' | b'C') {
            s.write_all_buf(&mut out).await?;
        }
    }
}
