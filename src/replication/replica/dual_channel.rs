//! The replica's side of a dual-channel full sync (see [`crate::replication::dual_channel`]):
//! open the snapshot channel, learn the snapshot's offset there, ask the main connection for
//! the stream from that offset at once, and buffer the stream here while the snapshot loads.
//! The caller then applies the buffer and goes on streaming, exactly as after a classic
//! full sync whose stream arrived behind the payload.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tracing::{info, info_span, warn, Instrument};

use super::{
    full_sync as load_snapshot, handshake, open_link, psync, record_kind, send, set_state,
    timeout_text, Attempt, LineReader, PsyncReply, Snapshot,
};
use crate::config::Settings;
use crate::replication::abort::{AbortCode, LinkError};
use crate::replication::history::{unix_ms, SyncKind};
use crate::replication::{CachedMaster, Follower, LinkState, LinkWrite, Phase};

/// The buffer's bound when neither `replica-full-sync-buffer-limit` nor the replica
/// output-buffer hard limit sets one.
const DEFAULT_LIMIT: u64 = 256 << 20;

/// One dual-channel sync, as the main connection's PSYNC found it.
pub(super) struct Pair<'a> {
    pub master_host: &'a str,
    pub master_port: u16,
    /// Our main connection's client id on the master (`+DUALCHANNELSYNC <id>`).
    pub main_id: u64,
    pub sync_id: u64,
    pub generation: u64,
    /// Why a full sync was needed (for the history).
    pub reason: &'static str,
}

/// Runs the sync up to the point where the snapshot is installed and the stream written
/// since it waits in `conn`'s buffer.
pub(super) async fn full_sync(
    host: &Arc<dyn Follower>,
    pair: Pair<'_>,
    conn: &mut LineReader,
    wr: &mut LinkWrite,
) -> Attempt {
    let hub = host.hub();
    info!(
        main_id = pair.main_id,
        "MASTER <-> REPLICA sync: dual-channel full sync, opening the snapshot channel"
    );
    let (_socket, mut rdb_conn, mut rdb_wr) =
        open_link(host, pair.master_host, pair.master_port).await?;
    handshake(host, &mut rdb_conn, &mut rdb_wr, Some(pair.main_id))
        .instrument(info_span!("repl.replica.rdb_channel"))
        .await?;
    let (replid, offset) = match psync(&mut rdb_conn, &mut rdb_wr, None, false).await? {
        PsyncReply::FullResync { replid, offset } => (replid, offset),
        _ => {
            return Err(LinkError::new(
                AbortCode::ProtocolError,
                "the master did not answer the snapshot channel with a full sync",
            ))
        }
    };
    hub.decide_kind(
        pair.sync_id,
        SyncKind::Full,
        Some(format!("{} (dual-channel)", pair.reason)),
        &replid,
        offset as i64,
    );
    record_kind("full", &replid, offset);
    set_state(
        host,
        pair.generation,
        LinkState::Transfer,
        Some(Phase::Receive),
    );
    // The stream from the snapshot's offset on, at once: the master holds nothing for us
    // while the snapshot travels.
    let from = CachedMaster {
        replid: replid.clone(),
        offset,
        db: 0,
    };
    match psync(conn, wr, Some(&from), false).await? {
        // The history the snapshot belongs to, or none said (then it is the same).
        PsyncReply::Continue(id)
            if id
                .as_ref()
                .is_none_or(|id| id.eq_ignore_ascii_case(&replid)) => {}
        PsyncReply::Continue(Some(id)) => {
            return Err(LinkError::new(
                AbortCode::TopologyChange,
                format!("the master's history changed between the two channels ({replid} -> {id})"),
            ))
        }
        _ => {
            return Err(LinkError::new(
                AbortCode::PsyncRefused,
                "the master refused the stream of a dual-channel sync",
            ))
        }
    }
    info!(
        offset,
        "MASTER <-> REPLICA sync: buffering the stream from the snapshot's offset while the snapshot loads"
    );
    // However this ends, INFO stops showing buffered bytes.
    let _shown = BufferedShown(host);
    let (stop_tx, stop_rx) = oneshot::channel();
    let loading = async {
        let snapshot = Snapshot {
            sync_id: pair.sync_id,
            generation: pair.generation,
            replid: &replid,
            offset,
            ack: false,
        };
        let loaded = load_snapshot(host, &mut rdb_conn, &mut rdb_wr, snapshot).await;
        let _ = stop_tx.send(());
        loaded
    };
    let result = {
        let buffering = buffer_stream(host, conn, wr, offset, pair.generation, stop_rx);
        tokio::pin!(loading, buffering);
        let mut loaded = false;
        loop {
            tokio::select! {
                r = &mut loading, if !loaded => match r {
                    Ok(()) => loaded = true,
                    Err(e) => break Err(e),
                },
                // Ends by itself only on an error: a cut main connection ends the sync.
                r = &mut buffering => break r,
            }
        }
    };
    if result.is_ok() {
        info!(
            bytes = conn.buf.len(),
            "MASTER <-> REPLICA sync: applying the stream buffered during the load"
        );
    }
    result
}

/// Clears the buffered-bytes figure when the sync ends or is dropped.
struct BufferedShown<'a>(&'a Arc<dyn Follower>);

impl Drop for BufferedShown<'_> {
    fn drop(&mut self) {
        self.0.hub().sync_buffered_bytes.store(0, Ordering::Relaxed);
    }
}

/// Reads the main connection into its buffer (up to the limit; then TCP holds the master
/// back, and its own output limit applies) and acknowledges the snapshot's offset every
/// second, so the master sees a live replica, until `stop`.
async fn buffer_stream(
    host: &Arc<dyn Follower>,
    conn: &mut LineReader,
    wr: &mut LinkWrite,
    offset: u64,
    generation: u64,
    mut stop: oneshot::Receiver<()>,
) -> Attempt {
    let hub = host.hub();
    let limit = buffer_limit(&host.settings());
    conn.timeout_text = timeout_text::STREAM;
    let ack = offset.to_string();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut full_logged = false;
    // The read below restarts with every tick, so its own timeout never fires: silence
    // is measured here (not while the buffer is full: then we are the ones not reading).
    let mut heard = tokio::time::Instant::now();
    loop {
        let held = conn.buf.len() as u64;
        hub.sync_buffered_bytes.store(held, Ordering::Relaxed);
        let room = held < limit;
        if !room {
            heard = tokio::time::Instant::now();
        } else if heard.elapsed() > conn.timeout {
            warn!("{}", timeout_text::STREAM);
            return Err(LinkError::new(AbortCode::Timeout, timeout_text::STREAM));
        }
        if !room && !std::mem::replace(&mut full_logged, true) {
            warn!(
                limit,
                "the stream buffered during the full sync reached replica-full-sync-buffer-limit: reading pauses until the snapshot is loaded"
            );
        }
        tokio::select! {
            biased;
            _ = &mut stop => return Ok(()),
            r = conn.fill(), if room => {
                r?;
                heard = tokio::time::Instant::now();
                hub.role.lock().link_io(generation, unix_ms());
            }
            _ = tick.tick() => send(wr, &[b"REPLCONF", b"ACK", ack.as_bytes()]).await?,
        }
    }
}

/// `replica-full-sync-buffer-limit`, else the replica output-buffer hard limit, else 256 MiB.
fn buffer_limit(settings: &Settings) -> u64 {
    match (
        settings.replica_full_sync_buffer_limit,
        settings.obuf_replica.hard,
    ) {
        (0, 0) => DEFAULT_LIMIT,
        (0, hard) => hard,
        (limit, _) => limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_limit_falls_back_to_the_replica_output_limit_then_a_default() {
        let mut s = Settings::defaults();
        s.obuf_replica.hard = 0;
        assert_eq!(buffer_limit(&s), DEFAULT_LIMIT);
        s.obuf_replica.hard = 1000;
        assert_eq!(buffer_limit(&s), 1000);
        s.replica_full_sync_buffer_limit = 5;
        assert_eq!(buffer_limit(&s), 5);
    }
}
