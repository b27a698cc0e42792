//! The master side of PSYNC / SYNC (Redis's `syncCommand` after its refusals and
//! `masterTryPartialResynchronization`): decides partial or full sync for a replica that
//! asks, counts it, records it in the sync history, registers its cursor in the backlog,
//! and says what to answer and how the link goes on. The command only parses and replies;
//! the link task (`master`) takes the connection from there.

use std::sync::atomic::Ordering;

use super::history::SyncKind;
use super::log::ReplLog;
use super::master::{AttachMode, HandOff, PsyncRecord};
use super::phase::{Phase, Side};
use super::psync::{decide, FullReason, PsyncDecision, PsyncRequest, PsyncView};
use super::{dual_channel, Replication};

/// The sync history's note on the stream half of a dual-channel full sync.
const STREAM_HALF: &str = "stream channel of a dual-channel full sync";

/// A replica asking to sync.
#[derive(Debug, Clone)]
pub struct Asker {
    /// Its client id (its backlog cursor and registry entry use it).
    pub id: u64,
    /// Its address (announced ip, else the peer's).
    pub ip: String,
    /// Its announced listening port.
    pub port: u16,
    /// `REPLCONF capa eof`: it reads an EOF-marked (diskless) payload.
    pub capa_eof: bool,
    /// `REPLCONF capa psync2`: `+CONTINUE` carries our replication id.
    pub capa_psync2: bool,
    /// `REPLCONF rdb-only 1`: it wants the snapshot and no stream.
    pub rdb_only: bool,
    /// It declared the dual-channel capability and we have it enabled.
    pub dual_channel: bool,
    /// `REPLCONF rdb-channel <id>`: the snapshot channel of main connection `id`.
    pub rdb_channel_for: Option<u64>,
    /// `REPLCONF rdb-filter-only`: what its RDB keeps.
    pub rdb_filter: Option<super::RdbFilter>,
    /// `REPLCONF traceparent`: the trace its side of the sync belongs to.
    pub traceparent: Option<String>,
}

/// What to answer and how the link goes on.
#[derive(Debug)]
pub struct Attached {
    /// The status line to reply now (`CONTINUE [id]`, `DUALCHANNELSYNC <id>`), if any: a
    /// full sync answers `+FULLRESYNC` later, from the link task, when its snapshot starts.
    pub reply: Option<String>,
    /// The link task's start; `None` after a dual-channel offer, which leaves the
    /// connection an ordinary client until it asks for the stream.
    pub handoff: Option<HandOff>,
}

/// Decides for `asker` (`request` is `None` for the legacy SYNC), against our stream `log`,
/// under the engine lock (so no write slips between the decision and the cursor).
pub fn attach(
    hub: &Replication,
    log: &mut ReplLog,
    asker: Asker,
    request: Option<PsyncRequest>,
) -> Attached {
    let peer = format!("{}:{}", asker.ip, asker.port);
    log.publish();
    let (first, _) = hub.backlog.range();
    let decision = match &request {
        None => PsyncDecision::FullResync(FullReason::NoHistory),
        Some(req) => decide(
            &PsyncView {
                replid: &log.replid,
                replid2: &log.replid2,
                second_offset: log.second_offset,
                backlog_active: log.active,
                first_byte: first,
                end: log.offset,
            },
            req,
        ),
    };
    let forced = hub.forced_full.lock().remove(&peer);
    let offered_for = match &decision {
        _ if forced => Some(FullReason::Forced),
        PsyncDecision::FullResync(reason) => Some(*reason),
        PsyncDecision::Continue { .. } => None,
    };
    if let Some(reason) = offered_for.filter(|_| {
        asker.dual_channel
            && asker.rdb_channel_for.is_none()
            && !asker.rdb_only
            && asker.rdb_filter.is_none()
    }) {
        // The snapshot goes over a channel of its own (see `dual_channel`): the full sync
        // is counted and recorded there, with this cause; a refused partial resync counts
        // here, as Redis counts it.
        if reason.counts_as_partial_error() {
            hub.sync_partial_err.fetch_add(1, Ordering::Relaxed);
        }
        hub.dual_channels.offer(asker.id, reason, &hub.backlog);
        tracing::info!(replica = %peer, "full resync needed: offering a dual-channel sync");
        return Attached {
            reply: Some(format!("{} {}", dual_channel::REPLY, asker.id)),
            handoff: None,
        };
    }
    // The main connection of a dual-channel sync asking for the stream from its snapshot.
    let stream_half = request.is_some() && hub.dual_channels.claim(asker.id);
    let sync_id = hub.start_sync(Side::Master, peer.clone());
    hub.enter_phase(sync_id, Phase::Psync);
    // A snapshot channel gets a full sync whatever it asks, with its main connection's cause.
    let paired_cause = asker.rdb_channel_for.map(|main| {
        hub.dual_channels
            .reason_of(main)
            .unwrap_or(FullReason::NoHistory)
    });
    let decision = match (paired_cause, decision) {
        (Some(cause), _) => PsyncDecision::FullResync(cause),
        (None, PsyncDecision::Continue { .. }) if forced => {
            PsyncDecision::FullResync(FullReason::Forced)
        }
        (None, PsyncDecision::Continue { from }) if !hub.backlog.register(asker.id, from) => {
            PsyncDecision::FullResync(FullReason::OffsetOutOfRange)
        }
        (None, d) => d,
    };
    let mut record = PsyncRecord {
        requested_replid: request.as_ref().map_or(String::new(), |r| r.replid.clone()),
        requested_offset: request.as_ref().map_or(-1, |r| r.offset),
        full_cause: None,
    };
    let (reply, mode) = match decision {
        PsyncDecision::Continue { from } if stream_half => {
            // Not a partial resync: the second half of a full sync its snapshot channel
            // counted.
            hub.decide_kind(
                sync_id,
                SyncKind::Partial,
                Some(STREAM_HALF.to_string()),
                &log.replid,
                from as i64,
            );
            tracing::info!(replica = %peer, from, "dual-channel sync: streaming from the snapshot's offset");
            (
                Some(format!("CONTINUE {}", log.replid)),
                AttachMode::Continue { from },
            )
        }
        PsyncDecision::Continue { from } => {
            hub.sync_partial_ok.fetch_add(1, Ordering::Relaxed);
            hub.decide_kind(sync_id, SyncKind::Partial, None, &log.replid, from as i64);
            tracing::info!(replica = %peer, from, "partial resynchronization accepted");
            let line = if asker.capa_psync2 {
                format!("CONTINUE {}", log.replid)
            } else {
                "CONTINUE".to_string()
            };
            (Some(line), AttachMode::Continue { from })
        }
        PsyncDecision::FullResync(reason) => {
            if reason.counts_as_partial_error() && paired_cause.is_none() {
                hub.sync_partial_err.fetch_add(1, Ordering::Relaxed);
            }
            hub.sync_full.fetch_add(1, Ordering::Relaxed);
            hub.full_sync_causes[reason.index()].fetch_add(1, Ordering::Relaxed);
            record.full_cause = Some(reason.code());
            if !log.active {
                log.create_backlog();
            }
            hub.decide_kind(
                sync_id,
                SyncKind::Full,
                Some(reason.describe().to_string()),
                &log.replid,
                -1,
            );
            tracing::info!(replica = %peer, reason = reason.describe(), "full resync needed");
            let mode = if request.is_some() {
                AttachMode::Full
            } else {
                AttachMode::Sync
            };
            (None, mode)
        }
    };
    Attached {
        reply,
        handoff: Some(HandOff {
            id: asker.id,
            ip: asker.ip,
            port: asker.port,
            capa_eof: asker.capa_eof,
            mode,
            sync_id,
            rdb_only: asker.rdb_only,
            rdb_channel_for: asker.rdb_channel_for,
            rdb_filter: asker.rdb_filter,
            traceparent: asker.traceparent,
            decision: record,
        }),
    }
}
