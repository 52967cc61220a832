//! Random and malformed bytes before and after startup never crash the gateway or leave it
//! unable to serve the next client.

mod common;

use std::time::Duration;

use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn poke(port: u16, bytes: &[u8]) {
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return;
    };
    let _ = s.write_all(bytes).await;
    let mut buf = [0u8; 4096];
    // read whatever the server answers until it closes or goes quiet
    let _ = tokio::time::timeout(Duration::from_millis(50), async {
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

fn startup_packet(params: &[(&str, &str)], version: i32) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    for (k, v) in params {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut p = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    p.extend_from_slice(&body);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_startup_and_messages_do_not_hurt_the_server() {
    let gw = start_with_short_startup().await;
    let seed: u64 = std::env::var("STARTUP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261124);
    let rounds: usize = std::env::var("STARTUP_FUZZ_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for round in 0..rounds {
        let bytes: Vec<u8> = match round % 6 {
            // pure noise
            0 => (0..rng.random_range(0..300))
                .map(|_| rng.random())
                .collect(),
            // a plausible length with garbage after it
            1 => {
                let len: i32 = rng.random_range(-10..100_000);
                let mut b = len.to_be_bytes().to_vec();
                b.extend((0..rng.random_range(0..64)).map(|_| rng.random::<u8>()));
                b
            }
            // startup packets with odd versions, missing terminators, huge or empty values
            2 => {
                let mut p = startup_packet(
                    &[
                        ("user", "u"),
                        ("database", "md:"),
                        ("options", "-c statement_timeout=x -c"),
                    ],
                    rng.random_range(0..0x0004_0000),
                );
                if rng.random_bool(0.5) {
                    p.pop();
                }
                p
            }
            // a valid startup followed by random frontend messages
            3 | 4 => {
                let mut p = startup_packet(&[("user", "u"), ("database", "md:")], 196_608);
                for _ in 0..rng.random_range(1..5) {
                    let tag = *[
                        b'Q', b'P', b'B', b'E', b'D', b'C', b'S', b'H', b'p', b'd', b'c', b'f',
                        b'Z',
                    ]
                    .get(rng.random_range(0..13))
                    .unwrap();
                    let body: Vec<u8> =
                        (0..rng.random_range(0..40)).map(|_| rng.random()).collect();
                    p.push(tag);
                    let len = if rng.random_bool(0.9) {
                        body.len() as i32 + 4
                    } else {
                        rng.random()
                    };
                    p.extend_from_slice(&len.to_be_bytes());
                    p.extend_from_slice(&body);
                }
                p
            }
            // SSL/GSS/cancel request codes with junk
            _ => {
                let code: i32 =
                    [80_877_103, 80_877_104, 80_877_102, 80_877_105][rng.random_range(0..4)];
                let mut b = 16i32.to_be_bytes().to_vec();
                b.extend_from_slice(&code.to_be_bytes());
                b.extend((0..8).map(|_| rng.random::<u8>()));
                b
            }
        };
        poke(gw.port, &bytes).await;
    }
    // still serving, promptly
    let c = gw.connect().await;
    let v: i32 = c.query_one("SELECT 1 + 1", &[]).await.unwrap().get(0);
    assert_eq!(v, 2);
}

async fn start_with_short_startup() -> common::TestGateway {
    common::start_with(|c| c.limits.startup_timeout_ms = 500).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_are_refused_before_their_body_is_read() {
    let gw = common::start_with(|c| c.limits.max_message_bytes = 1 << 20).await;
    let (mut raw, _) =
        common::raw::Raw::connect(gw.port, &[("user", "u"), ("database", "md:")]).await;
    // a Query that claims 50 MB; only its first bytes are ever sent
    let mut msg = vec![b'Q'];
    msg.extend_from_slice(&(50_000_000i32).to_be_bytes());
    msg.extend_from_slice(b"SELECT 1");
    raw.send(&msg).await;
    let reply = raw.read().await;
    assert_eq!(reply.tag, b'E');
    assert_eq!(reply.sqlstate().as_deref(), Some("54000"));
    assert_eq!(reply.field(b'S').as_deref(), Some("FATAL"));
    // a message under the limit is fine, on a new connection
    let c = gw.connect().await;
    let big = "x".repeat(500_000);
    let n: i64 = c
        .query_one(&format!("SELECT length('{big}')::BIGINT"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 500_000);
}
