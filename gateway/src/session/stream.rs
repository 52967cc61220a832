//! Receiving encoded rows from the engine, with statement timeout and cancel.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::engine::{DbError, Interrupter, RowBatch, StreamItem};
use crate::error::PgError;

/// Why the running statement was interrupted: decides the 57014 message.
pub const CANCEL_NONE: u8 = 0;
pub const CANCEL_USER: u8 = 1;
pub const CANCEL_TIMEOUT: u8 = 2;
/// The gateway is shutting down and its drain deadline passed.
pub const CANCEL_SHUTDOWN: u8 = 3;

/// Shared with the cancel-key registry so a CancelRequest can reach a session's query.
pub struct CancelState {
    pub interrupter: Arc<Interrupter>,
    pub reason: AtomicU8,
}

impl CancelState {
    pub fn cancel(&self, reason: u8) {
        self.reason.store(reason, Ordering::SeqCst);
        self.interrupter.interrupt();
    }

    /// Turn an engine error into what the client sees, naming the cancel reason.
    pub fn map_error(&self, e: DbError) -> PgError {
        if e.sqlstate == "57014" {
            let msg = match self.reason.load(Ordering::SeqCst) {
                CANCEL_SHUTDOWN => {
                    return PgError::fatal(
                        "57P01",
                        "terminating connection due to administrator command",
                    )
                }
                CANCEL_TIMEOUT => "canceling statement due to statement timeout",
                _ => "canceling statement due to user request",
            };
            return PgError::new("57014", msg);
        }
        e.into()
    }
}

/// Some rows or the end of the result.
pub enum Next {
    /// `count` whole DataRow messages back to back, ready for the socket.
    Rows {
        frames: BytesMut,
        count: usize,
    },
    End(Result<Option<u64>, DbError>),
}

/// Rows of one execution, as they arrive from the engine.
pub struct RowStream {
    /// `None` when the engine delivered the whole outcome up front.
    rx: Option<mpsc::Receiver<StreamItem>>,
    queued: VecDeque<StreamItem>,
    batch: RowBatch,
    consumed: usize,
    row: usize,
    end: Option<Result<Option<u64>, DbError>>,
    deadline: Option<Instant>,
    cancel: Arc<CancelState>,
}

impl RowStream {
    /// `first`: what the engine already produced; `rx`: where the rest arrives, if anything.
    pub fn new(
        first: Vec<StreamItem>,
        rx: Option<mpsc::Receiver<StreamItem>>,
        deadline: Option<Instant>,
        cancel: Arc<CancelState>,
    ) -> Self {
        RowStream {
            rx,
            queued: first.into(),
            batch: RowBatch::default(),
            consumed: 0,
            row: 0,
            end: None,
            deadline,
            cancel,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.end.is_some() && self.row >= self.batch.ends.len()
    }

    async fn recv(&mut self) -> Option<StreamItem> {
        if let Some(item) = self.queued.pop_front() {
            return Some(item);
        }
        let rx = self.rx.as_mut()?;
        loop {
            match self.deadline {
                Some(d) => {
                    tokio::select! {
                        item = rx.recv() => return item,
                        _ = tokio::time::sleep_until(d) => {
                            self.deadline = None;
                            self.cancel.cancel(CANCEL_TIMEOUT);
                        }
                    }
                }
                None => return rx.recv().await,
            }
        }
    }

    /// Up to `max` (≥ 1) rows of the batch at hand, or the next batch's once it is used up.
    pub async fn next(&mut self, max: usize) -> Next {
        loop {
            let left = self.batch.ends.len() - self.row;
            if left > 0 {
                let count = left.min(max.max(1));
                self.row += count;
                let end = self.batch.ends[self.row - 1];
                let len = end - self.consumed;
                self.consumed = end;
                return Next::Rows {
                    frames: self.batch.data.split_to(len),
                    count,
                };
            }
            if let Some(end) = &self.end {
                return Next::End(end.clone());
            }
            match self.recv().await {
                Some(StreamItem::Rows(b)) => {
                    self.batch = b;
                    self.consumed = 0;
                    self.row = 0;
                }
                Some(StreamItem::Done { changed_rows }) => self.end = Some(Ok(changed_rows)),
                Some(StreamItem::Error(e)) => self.end = Some(Err(e)),
                None => {
                    self.end = Some(Err(DbError::internal("query execution ended unexpectedly")))
                }
            }
        }
    }

    /// Pull everything the engine still has into memory so the engine is free for another
    /// statement (a suspended portal must not block the session's connection).
    pub async fn materialize(&mut self) {
        if self.end.is_some() {
            return;
        }
        let Some(rx) = self.rx.as_mut() else {
            return;
        };
        while let Some(item) = rx.recv().await {
            let last = !matches!(item, StreamItem::Rows(_));
            self.queued.push_back(item);
            if last {
                break;
            }
        }
    }
}
