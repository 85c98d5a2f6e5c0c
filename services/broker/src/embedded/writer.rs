//! The single writer thread: drains every pending append into one transaction (group commit).
use std::path::PathBuf;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, watch};

use super::{codec, store};
use crate::{BrokerError, Record};

/// Most appends committed in one transaction; bounds the latency a large burst adds to its first record.
const MAX_BATCH: usize = 1024;

pub(super) struct Append {
    pub topic: String,
    pub record: Record,
    pub reply: oneshot::Sender<Result<i64, BrokerError>>,
}

pub(super) fn spawn(
    mut conn: Connection,
    path: PathBuf,
    mut rx: mpsc::UnboundedReceiver<Append>,
    notify: watch::Sender<u64>,
) -> Result<(), BrokerError> {
    std::thread::Builder::new()
        .name("hookbus-log-writer".into())
        .spawn(move || {
            let mut encoder = match codec::Encoder::new() {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "cannot set up record compression; the embedded log takes no appends");
                    return;
                }
            };
            let mut batch = Vec::with_capacity(MAX_BATCH);
            // Ends when every sender (every broker handle) is dropped.
            while let Some(first) = rx.blocking_recv() {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(a) => batch.push(a),
                        Err(_) => break,
                    }
                }
                let result = commit_batch(&mut conn, &mut encoder, &batch);
                match result {
                    Ok(offsets) => {
                        for (a, off) in batch.drain(..).zip(offsets) {
                            let _ = a.reply.send(Ok(off));
                        }
                        notify.send_modify(|v| *v += 1);
                    }
                    Err(e) => {
                        let err = store::sql_err(&path, &e);
                        if err.is_transient() {
                            tracing::warn!(error = %e, path = %path.display(), "embedded log append failed: disk full");
                        } else {
                            tracing::error!(error = %e, path = %path.display(), "embedded log append failed");
                        }
                        for a in batch.drain(..) {
                            let _ = a.reply.send(Err(store::sql_err(&path, &e)));
                        }
                    }
                }
            }
        })
        .map(|_| ())
        .map_err(|e| BrokerError::Storage { path: "(writer thread)".into(), message: e.to_string() })
}

fn commit_batch(conn: &mut Connection, encoder: &mut codec::Encoder, batch: &[Append]) -> rusqlite::Result<Vec<i64>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let offsets =
        batch.iter().map(|a| store::append(&tx, encoder, &a.topic, &a.record)).collect::<Result<Vec<_>, _>>()?;
    tx.commit()?;
    Ok(offsets)
}
