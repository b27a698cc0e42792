//! The replica side: the driver of our link to a master, one state machine read top to
//! bottom (Redis's `syncWithMaster`): connect → handshake → psync → (receive → load) →
//! catchup → stream, each phase a named span and a history entry.
//!
//! The driver runs while the role (`hub.role`) names a master with its generation; a role
//! change bumps the generation, which stops the old driver at its next step. Every change of
//! the link's state goes through [`RoleState`](super::RoleState)'s methods. After a lost link it reconnects
//! at once and then every second, asking for a partial resync from where it stopped.

mod dual_channel;
mod memory_guard;

use super::abort::{AbortCode, Coded, LinkError};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::{debug, info, info_span, warn, Instrument};

use super::events::Event;
use super::fault;
use super::history::{unix_ms, SyncKind, SyncOutcome};
use super::log::encode;
use super::phase::{Phase, Side};
use super::{AbortOnDrop, CachedMaster, Follower, LinkRead, LinkState, LinkWrite, Loading};
use crate::config::DisklessLoad;
use crate::resp::RequestParser;

/// A streamed load's receive side stops with this when the loader quit first.
const LOADER_STOPPED: &str = "the loader stopped early";
/// Longest line accepted in the handshake.
const MAX_LINE: usize = 64 * 1024;
/// Stream bytes read ahead while a pause holds writes, before TCP holds the master back.
const MAX_HELD_BYTES: usize = 64 * 1024 * 1024;

/// What a replica logs when its master falls silent for `repl-timeout`, in Redis's words
/// (operators and Redis's own tests grep for them), by the phase the link was in.
mod timeout_text {
    /// Connecting, handshake, waiting for the PSYNC reply or for the RDB to start.
    pub const HANDSHAKE: &str = "Timeout connecting to the MASTER...";
    /// Receiving the RDB.
    pub const TRANSFER: &str = "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.";
    /// Streaming.
    pub const STREAM: &str = "MASTER timeout: no data nor PING received...";
}

/// Why an attempt ended.
type Attempt = Result<(), LinkError>;

/// Runs the link to the master the role names for `generation` until a role change
/// retires it.
pub async fn run(host: Arc<dyn Follower>, generation: u64) {
    let hub = host.hub();
    let mut gen_rx = hub.generation.subscribe();
    let mut retry = Retry::default();
    loop {
        let Some((master_host, master_port)) = target(&host, generation) else {
            return;
        };
        if let Some(pause) = retry.pause() {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = gen_rx.changed() => {}
            }
            if target(&host, generation).is_none() {
                return;
            }
        }
        let cancelled = async {
            loop {
                if gen_rx.changed().await.is_err() || *gen_rx.borrow() != generation {
                    return;
                }
            }
        };
        let was_up = hub
            .role
            .lock()
            .link()
            .is_some_and(|l| l.generation == generation && l.state == LinkState::Connected);
        let result = tokio::select! {
            r = sync_with_master(&host, &master_host, master_port, generation) => r,
            _ = cancelled => Err(target_changed()),
        };
        let (reason, code) = match &result {
            Ok(()) => ("link closed".to_string(), None),
            Err(e) => (e.detail.clone(), Some(e.code)),
        };
        if let Err(e) = &result {
            hub.count_link_abort(Side::Replica, e.code);
        }
        let streamed = hub
            .role
            .lock()
            .link()
            .is_some_and(|l| l.generation == generation && l.state == LinkState::Connected);
        retry.attempted(streamed);
        link_down(&host, generation, &reason, code, was_up);
        if target(&host, generation).is_some() {
            info!(master = %format!("{master_host}:{master_port}"), reason = %reason, "master link down, will reconnect");
        }
    }
}

/// When the next attempt to reach the master starts. The first attempt, and the first after
/// losing a link that was streaming, start at once (Redis reconnects within its next cron
/// tick); attempts that keep failing back off exponentially from [`RETRY_FIRST`] up to
/// Redis's once a second, each pause drawn at random from its upper half, so replicas cut
/// off together (a master restart, a network flap) do not come back in lockstep.
#[derive(Debug, Default)]
struct Retry {
    /// Attempts in a row that never reached streaming (0 before the first attempt).
    failures: u32,
}

/// The pause after the first failed attempt.
const RETRY_FIRST: Duration = Duration::from_millis(100);
/// The longest pause: Redis's rhythm (its cron retries once a second).
const RETRY_MAX: Duration = Duration::from_secs(1);

impl Retry {
    /// The pause before the next attempt (`None`: go at once).
    fn pause(&self) -> Option<Duration> {
        if self.failures == 0 {
            return None;
        }
        let ceiling = RETRY_FIRST
            .saturating_mul(1 << (self.failures - 1).min(10))
            .min(RETRY_MAX);
        let ms = ceiling.as_millis() as u64;
        Some(Duration::from_millis(rand::random_range(ms / 2..=ms)))
    }

    /// Records an attempt's end: whether the link had reached streaming.
    fn attempted(&mut self, streamed: bool) {
        self.failures = if streamed { 0 } else { self.failures + 1 };
    }
}

/// The master this driver serves, while its generation is current.
fn target(host: &Arc<dyn Follower>, generation: u64) -> Option<(String, u16)> {
    host.hub().role.lock().target(generation)
}

fn set_state(host: &Arc<dyn Follower>, generation: u64, state: LinkState, phase: Option<Phase>) {
    host.hub()
        .role
        .lock()
        .link_progress(generation, state, phase);
}

/// Records that the link is down: state `connect`, the cached master for the next PSYNC.
fn link_down(
    host: &Arc<dyn Follower>,
    generation: u64,
    reason: &str,
    code: Option<AbortCode>,
    was_up: bool,
) {
    let hub = host.hub();
    hub.master_socket.lock().take();
    if let Some((h, p)) = host.link_down(generation, was_up) {
        hub.events.publish(Event::LinkDown {
            host: h,
            port: p,
            reason: reason.to_string(),
            code,
        });
    }
}

/// One attempt: connect, handshake, PSYNC, full or partial sync, then stream until the link
/// breaks.
async fn sync_with_master(
    host: &Arc<dyn Follower>,
    master_host: &str,
    master_port: u16,
    generation: u64,
) -> Attempt {
    let hub = host.hub();
    let peer = format!("{master_host}:{master_port}");
    let span = tracing::info_span!(
        "repl.replica.sync",
        master = %peer,
        sync_id = tracing::field::Empty,
        kind = tracing::field::Empty,
        replid = tracing::field::Empty,
        offset = tracing::field::Empty,
        bytes = tracing::field::Empty,
        keys = tracing::field::Empty,
        outcome = tracing::field::Empty,
        error_code = tracing::field::Empty,
    );
    async {
        let sync_id = hub.start_sync(Side::Replica, peer.clone());
        tracing::Span::current().record("sync_id", sync_id);
        let result = attempt(host, master_host, master_port, generation, sync_id).await;
        match &result {
            Err(e) => {
                let span = tracing::Span::current();
                span.record("outcome", e.detail.as_str());
                span.record("error_code", e.code.as_str());
                hub.finish_sync(sync_id, SyncOutcome::Failed(e.clone()));
            }
            Ok(()) => {
                tracing::Span::current().record("outcome", "link closed");
            }
        }
        result
    }
    .instrument(span)
    .await
}

async fn attempt(
    host: &Arc<dyn Follower>,
    master_host: &str,
    master_port: u16,
    generation: u64,
    sync_id: u64,
) -> Attempt {
    let hub = host.hub();

    // ---- connect
    hub.enter_phase(sync_id, Phase::Connect);
    fault::at(Side::Replica, Phase::Connect).await?;
    set_state(
        host,
        generation,
        LinkState::Connecting,
        Some(Phase::Connect),
    );
    let (mut socket, mut conn, mut wr) = open_link(host, master_host, master_port).await?;

    // ---- handshake
    hub.enter_phase(sync_id, Phase::Handshake);
    fault::at(Side::Replica, Phase::Handshake).await?;
    set_state(
        host,
        generation,
        LinkState::Handshake,
        Some(Phase::Handshake),
    );
    handshake(host, &mut conn, &mut wr, None)
        .instrument(info_span!("repl.replica.handshake"))
        .await?;

    // ---- psync
    hub.enter_phase(sync_id, Phase::Psync);
    fault::at(Side::Replica, Phase::Psync).await?;
    set_state(host, generation, LinkState::Handshake, Some(Phase::Psync));
    let (cached, forced, failover) = {
        let mut role = hub.role.lock();
        let failover = role
            .link()
            .is_some_and(|l| l.generation == generation && l.psync_failover);
        let (cached, forced) = role.take_psync_history();
        (cached, forced, failover)
    };
    let reply = psync(&mut conn, &mut wr, cached.as_ref(), failover)
        .instrument(info_span!("repl.replica.psync"))
        .await;
    if failover {
        // A hand-over: the target's answer ends the failover either way.
        host.failover_answered(reply.is_ok());
    }
    let reply = reply?;
    // The database the stream starts in: where it stood for a continued stream, database 0
    // after a full sync (whose stream starts with SELECT).
    let mut stream_db = 0;
    match reply {
        PsyncReply::Continue(new_id) => {
            let offset = host.repl_position().offset;
            stream_db = cached.as_ref().map_or(0, |c| c.db);
            let replid = new_id
                .clone()
                .unwrap_or_else(|| host.repl_position().replid);
            hub.decide_kind(sync_id, SyncKind::Partial, None, &replid, offset as i64 + 1);
            record_kind("partial", &replid, offset);
            if let Some(id) =
                new_id.filter(|id| !id.eq_ignore_ascii_case(&host.repl_position().replid))
            {
                info!(new_replid = %id, "master replication id changed: our replicas must learn it");
                host.master_replid_changed(&id);
                hub.replicas.kill_all();
            }
            // Redis's words: operators' tools and Redis's own tests look for them.
            info!(
                offset,
                "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization."
            );
            info!("Successful partial resynchronization with master.");
        }
        PsyncReply::FullResync { replid, offset } => {
            hub.decide_kind(
                sync_id,
                SyncKind::Full,
                Some(full_sync_reason(cached.as_ref(), forced).to_string()),
                &replid,
                offset as i64,
            );
            record_kind("full", &replid, offset);
            set_state(host, generation, LinkState::Transfer, Some(Phase::Receive));
            let snapshot = Snapshot {
                sync_id,
                generation,
                replid: &replid,
                offset,
                ack: true,
            };
            full_sync(host, &mut conn, &mut wr, snapshot).await?;
        }
        PsyncReply::DualChannel { main_id } => {
            let reason = full_sync_reason(cached.as_ref(), forced);
            dual_channel::full_sync(
                host,
                dual_channel::Pair {
                    master_host,
                    master_port,
                    main_id,
                    sync_id,
                    generation,
                    reason,
                },
                &mut conn,
                &mut wr,
            )
            .await?;
        }
    }

    // ---- catchup, then stream
    let catchup = info_span!("repl.replica.catchup", bytes = tracing::field::Empty);
    hub.enter_phase(sync_id, Phase::Catchup);
    fault::at(Side::Replica, Phase::Catchup).await?;
    // The socket first: from the moment INFO can say "up", it can also see a close.
    *hub.master_socket.lock() = socket.take();
    if !host.link_up(generation) {
        hub.master_socket.lock().take();
        return Err(target_changed());
    }
    hub.events.publish(Event::LinkUp {
        host: master_host.to_string(),
        port: master_port,
    });
    let client = host.open_master_client(&format!("{master_host}:{master_port}"), stream_db);
    // Closed however this attempt ends, REPLICAOF cancelling it included.
    let _master_client = MasterClientGuard(host, client.id);
    tokio::select! {
        r = stream_from_master(host, client.id, conn, wr, sync_id, generation, catchup) => r,
        // A role change closes the old link's client at once (see `follow`): that kill
        // is the topology change, not an operator's CLIENT KILL.
        _ = client.killed => Err(if target(host, generation).is_none() {
            target_changed()
        } else if hub.role.lock().full_sync_requested() {
            LinkError::new(AbortCode::OperatorResync, "link closed for a full resync requested by an operator")
        } else {
            LinkError::new(AbortCode::ClientKill, "master link killed (CLIENT KILL)")
        }),
    }
}

/// A connection to the master (TLS when `tls-replication`), with our own handle on its
/// socket (see [`super::Replication::master_hung_up`]).
async fn open_link(
    host: &Arc<dyn Follower>,
    master_host: &str,
    master_port: u16,
) -> Result<(Option<std::os::fd::OwnedFd>, LineReader, LinkWrite), LinkError> {
    let settings = host.settings();
    let connect_span =
        info_span!("repl.replica.connect", master = %format!("{master_host}:{master_port}"));
    let stream = tokio::time::timeout(
        Duration::from_secs(settings.repl_timeout),
        connect_from(master_host, master_port, &settings.bind_source_addr),
    )
    .instrument(connect_span)
    .await
    .map_err(|_| {
        warn!("{}", timeout_text::HANDSHAKE);
        LinkError::new(AbortCode::Timeout, timeout_text::HANDSHAKE)
    })?
    .map_err(|e| {
        LinkError::new(
            AbortCode::ConnectFailed,
            format!("error connecting to the master: {e}"),
        )
    })?;
    let _ = stream.set_nodelay(true);
    let socket = std::os::fd::AsFd::as_fd(&stream).try_clone_to_owned().ok();
    let (rd, wr) = if settings.tls.replication {
        secure(host, stream, master_host, settings.repl_timeout).await?
    } else {
        let (rd, wr) = stream.into_split();
        (Box::new(rd) as LinkRead, Box::new(wr) as LinkWrite)
    };
    let conn = LineReader {
        rd,
        buf: BytesMut::with_capacity(16 * 1024),
        timeout: Duration::from_secs(settings.repl_timeout),
        timeout_text: timeout_text::HANDSHAKE,
    };
    Ok((socket, conn, wr))
}

/// Why the master gave us a full sync, as the history tells it: an operator forced it, we
/// had no history to offer, or the master refused the history we offered.
fn full_sync_reason(cached: Option<&CachedMaster>, forced: bool) -> &'static str {
    match (cached, forced) {
        (_, true) => "full sync requested by an operator",
        (None, _) => "no replication history",
        (Some(_), _) => "master refused the partial resynchronization",
    }
}

/// Unregisters the master client when the streaming attempt ends or is dropped.
struct MasterClientGuard<'a>(&'a Arc<dyn Follower>, u64);

impl Drop for MasterClientGuard<'_> {
    fn drop(&mut self) {
        self.0.close_master_client(self.1);
    }
}

/// The handshake step that sends our trace context.
const TRACEPARENT: &str = "REPLCONF traceparent";
/// The handshake step that makes a connection a dual-channel sync's snapshot channel.
const RDB_CHANNEL: &str = "REPLCONF rdb-channel";

/// PING, AUTH, REPLCONF listening-port / ip-address / capa — exactly what a Redis 7.0
/// replica sends, and how it judges the replies — plus replikv's own options: the
/// dual-channel capability on a main connection, `rdb-channel <main id>` on the snapshot
/// channel of a dual-channel sync (`rdb_channel_for`).
async fn handshake(
    host: &Arc<dyn Follower>,
    conn: &mut LineReader,
    wr: &mut LinkWrite,
    rdb_channel_for: Option<u64>,
) -> Attempt {
    let settings = host.settings();
    send(wr, &[b"PING"]).await?;
    let pong = conn.line().await?;
    let accepted = pong.starts_with('+')
        || pong.starts_with("-NOAUTH")
        || pong.starts_with("-NOPERM")
        || pong.starts_with("-ERR operation not permitted");
    if !accepted {
        return Err(LinkError::new(
            AbortCode::HandshakeRefused,
            format!("error reply to PING from master: {pong}"),
        ));
    }
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    if !settings.masterauth.is_empty() {
        if settings.masteruser.is_empty() {
            encode(&mut batch, &[b"AUTH", settings.masterauth.as_bytes()]);
        } else {
            encode(
                &mut batch,
                &[
                    b"AUTH",
                    settings.masteruser.as_bytes(),
                    settings.masterauth.as_bytes(),
                ],
            );
        }
        expected.push("AUTH");
    }
    let port = host.announced_port().to_string();
    encode(
        &mut batch,
        &[b"REPLCONF", b"listening-port", port.as_bytes()],
    );
    expected.push("REPLCONF listening-port");
    if !settings.replica_announce_ip.is_empty() {
        encode(
            &mut batch,
            &[
                b"REPLCONF",
                b"ip-address",
                settings.replica_announce_ip.as_bytes(),
            ],
        );
        expected.push("REPLCONF ip-address");
    }
    if settings.dual_channel_replication && rdb_channel_for.is_none() {
        // A Redis master ignores a capability it does not know: the classic sync follows.
        encode(
            &mut batch,
            &[
                b"REPLCONF",
                b"capa",
                b"eof",
                b"capa",
                b"psync2",
                b"capa",
                super::dual_channel::CAPA.as_bytes(),
            ],
        );
    } else {
        encode(
            &mut batch,
            &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"],
        );
    }
    expected.push("REPLCONF capa");
    if let Some(main) = rdb_channel_for {
        encode(
            &mut batch,
            &[b"REPLCONF", b"rdb-channel", main.to_string().as_bytes()],
        );
        expected.push(RDB_CHANNEL);
    }
    // Our trace context, so that the master's side of this sync joins our trace.
    if let Some(traceparent) = crate::telemetry::logging::current_traceparent() {
        encode(
            &mut batch,
            &[b"REPLCONF", b"traceparent", traceparent.as_bytes()],
        );
        expected.push(TRACEPARENT);
    }
    wr.write_all(&batch).await.map_err(write_failed)?;
    for what in expected {
        let reply = conn.line().await?;
        if reply.starts_with('-') {
            if what == "AUTH" {
                // Redis's words (operators and its tests grep for them).
                let why = format!("Unable to AUTH to MASTER: {reply}");
                warn!("{why}");
                return Err(LinkError::new(AbortCode::HandshakeRefused, why));
            }
            if what == RDB_CHANNEL {
                return Err(LinkError::new(
                    AbortCode::HandshakeRefused,
                    format!("master refused the snapshot channel: {reply}"),
                ));
            }
            // As Redis: a refused REPLCONF is logged and ignored. A Redis master does not
            // know `traceparent`: that refusal is expected, not worth a warning.
            if what == TRACEPARENT {
                debug!(reply = %reply, "master does not join our trace (ignored)");
            } else {
                warn!(command = what, reply = %reply, "master refused a REPLCONF (ignored)");
            }
        }
    }
    Ok(())
}

enum PsyncReply {
    Continue(Option<String>),
    FullResync {
        replid: String,
        offset: u64,
    },
    /// `+DUALCHANNELSYNC <id>`: a full sync whose snapshot comes over a channel of its
    /// own, naming this connection's client id on the master.
    DualChannel {
        main_id: u64,
    },
}

/// Sends PSYNC (partial first when we have history; with `FAILOVER` when this link hands
/// a coordinated failover over, which promotes the target first) and reads the master's
/// decision.
async fn psync(
    conn: &mut LineReader,
    wr: &mut LinkWrite,
    cached: Option<&CachedMaster>,
    failover: bool,
) -> Result<PsyncReply, LinkError> {
    match cached {
        Some(c) => {
            let off = (c.offset + 1).to_string();
            info!(replid = %c.replid, offset = %off, failover, "trying a partial resynchronization");
            let mut argv: Vec<&[u8]> = vec![b"PSYNC", c.replid.as_bytes(), off.as_bytes()];
            if failover {
                argv.push(b"FAILOVER");
            }
            send(wr, &argv).await?;
        }
        None => {
            info!("no history: asking for a full resynchronization");
            send(wr, &[b"PSYNC", b"?", b"-1"]).await?;
        }
    }
    // A master that delays the full sync (repl-diskless-sync-delay) sends newlines meanwhile;
    // each one restarts the repl-timeout clock.
    let reply = loop {
        let line = conn.line().await?;
        if !line.is_empty() {
            break line;
        }
    };
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC") {
        let mut parts = rest.split_whitespace();
        let replid = parts.next().unwrap_or("").to_string();
        let offset = parts
            .next()
            .and_then(|o| o.parse::<u64>().ok())
            .ok_or_else(|| {
                LinkError::new(
                    AbortCode::ProtocolError,
                    format!("bad FULLRESYNC reply: {reply}"),
                )
            })?;
        if replid.len() != 40 {
            return Err(LinkError::new(
                AbortCode::ProtocolError,
                format!("bad replication id in FULLRESYNC reply: {reply}"),
            ));
        }
        return Ok(PsyncReply::FullResync { replid, offset });
    }
    if let Some(rest) = reply
        .strip_prefix('+')
        .and_then(|r| r.strip_prefix(super::dual_channel::REPLY))
    {
        let main_id = rest.trim().parse::<u64>().map_err(|_| {
            LinkError::new(
                AbortCode::ProtocolError,
                format!("bad DUALCHANNELSYNC reply: {reply}"),
            )
        })?;
        return Ok(PsyncReply::DualChannel { main_id });
    }
    if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let id = rest.trim();
        return Ok(PsyncReply::Continue(
            (id.len() == 40).then(|| id.to_string()),
        ));
    }
    Err(LinkError::new(
        if reply.starts_with('-') {
            AbortCode::PsyncRefused
        } else {
            AbortCode::ProtocolError
        },
        format!("master refused PSYNC: {reply}"),
    ))
}

/// Logged when a full sync's RDB starts loading.
const LOADING_LINE: &str = "MASTER <-> REPLICA sync: Loading DB in memory";

/// How the RDB payload is framed.
enum Framing {
    /// `$<len>`: exactly that many bytes.
    Len(u64),
    /// `$EOF:<mark>`: bytes until the mark.
    Eof(Vec<u8>),
}

/// The full sync a `+FULLRESYNC` announced.
struct Snapshot<'a> {
    sync_id: u64,
    generation: u64,
    /// The master's replication id and the snapshot's offset.
    replid: &'a str,
    offset: u64,
    /// Acknowledge the load on this connection (not on a snapshot channel, which carries
    /// no stream).
    ack: bool,
}

/// Receives and loads the RDB of a full sync (phases `receive` and `load`), then adopts the
/// master's id and offset.
async fn full_sync(
    host: &Arc<dyn Follower>,
    conn: &mut LineReader,
    wr: &mut LinkWrite,
    snapshot: Snapshot<'_>,
) -> Attempt {
    let Snapshot {
        sync_id,
        generation,
        replid,
        offset,
        ack,
    } = snapshot;
    let hub = host.hub();
    let settings = host.settings();
    hub.enter_phase(sync_id, Phase::Receive);
    let _progress = report_progress(host, sync_id, generation);
    fault::at(Side::Replica, Phase::Receive).await?;
    let header = loop {
        let line = conn.line().await?;
        if !line.is_empty() {
            break line;
        }
    };
    conn.timeout_text = timeout_text::TRANSFER;
    let framing = if let Some(mark) = header.strip_prefix("$EOF:") {
        if mark.len() != 40 {
            return Err(LinkError::new(
                AbortCode::TransferFailed,
                format!("bad EOF mark from master: {header}"),
            ));
        }
        Framing::Eof(mark.as_bytes().to_vec())
    } else if let Some(len) = header.strip_prefix('$') {
        Framing::Len(
            len.parse()
                .map_err(|_| format!("bad bulk length from master: {header}"))
                .code(AbortCode::TransferFailed)?,
        )
    } else if header.starts_with('-') {
        return Err(LinkError::new(
            AbortCode::SnapshotFailed,
            format!("master aborted replication with an error: {header}"),
        ));
    } else {
        return Err(LinkError::new(
            AbortCode::ProtocolError,
            format!("bad protocol from master while expecting the RDB: {header}"),
        ));
    };
    let total = match framing {
        Framing::Len(n) => n as i64,
        Framing::Eof(_) => 0,
    };
    hub.role
        .lock()
        .transfer_progress(generation, Some(total), 0, unix_ms());
    let streaming = match settings.repl_diskless_load {
        DisklessLoad::Disabled => false,
        DisklessLoad::OnEmptyDb => host.dataset_is_empty(),
        DisklessLoad::Swapdb => true,
    };
    // Every load goes into a new dataset beside the old one. As Redis's async loading, the
    // old dataset keeps serving reads while a swapdb load of the same history (same
    // replication id) runs; `replica-serve-while-loading yes` extends that to every load
    // (disk-based, on-empty-db, another master's history). Otherwise clients get -LOADING.
    let serve_old = settings.replica_serve_while_loading
        || (streaming
            && settings.repl_diskless_load == DisklessLoad::Swapdb
            && host.repl_position().replid.eq_ignore_ascii_case(replid));
    let load_mode = if serve_old {
        Loading::Async
    } else {
        Loading::Blocking
    };
    // The log lines of a full sync are Redis's, in its order: operators' tools and Redis's
    // own tests look for them.
    // Redis's words: "receiving N bytes from master to disk", "receiving streamed RDB
    // from master with EOF to parser".
    let target = if streaming { "to parser" } else { "to disk" };
    match &framing {
        Framing::Len(n) => {
            info!("MASTER <-> REPLICA sync: receiving {n} bytes from master {target}")
        }
        Framing::Eof(_) => {
            info!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF {target}")
        }
    }
    let receive_span = info_span!(
        "repl.replica.receive",
        replid,
        offset,
        streaming,
        bytes = tracing::field::Empty
    );
    let load_span = || info_span!("repl.replica.load", streaming, keys = tracing::field::Empty);
    let (bytes, loaded) = if streaming {
        // Parse straight off the socket into a new dataset: the load overlaps the receive.
        info!("{LOADING_LINE}");
        let load_span = load_span();
        let known_total = match &framing {
            Framing::Len(n) => Some(*n),
            Framing::Eof(_) => None,
        };
        let _loading = LoadingFlag::raise(host, load_mode, known_total, sync_id);
        let (tx, rx) = mpsc::channel::<Bytes>(64);
        let loader_host = host.clone();
        let loader = spawn_loader(load_mode, move || {
            let mut reader = ChannelReader {
                rx,
                current: Bytes::new(),
            };
            loader_host.load_rdb(&mut reader)
        });
        let bytes = receive_payload(host, conn, &framing, generation, |chunk| {
            let tx = tx.clone();
            async move {
                tx.send(chunk)
                    .await
                    .map_err(|_| LinkError::new(AbortCode::LoadFailed, LOADER_STOPPED))
            }
        })
        .instrument(receive_span.clone())
        .await;
        end_span(receive_span, "bytes", bytes.as_ref().ok().copied());
        drop(tx);
        hub.enter_phase(sync_id, Phase::Load);
        fault::at(Side::Replica, Phase::Load).await?;
        let loaded = loader
            .instrument(load_span.clone())
            .await
            .code(AbortCode::LoadFailed)?
            .code(AbortCode::LoadFailed);
        end_span(load_span, "keys", loaded.as_ref().ok().map(|l| l.keys));
        if let Err(reason) = &loaded {
            // Logged even when the link's failure is the cause: the loader saw a cut stream.
            warn!("{}", reason.detail);
        }
        match (bytes, loaded) {
            (Ok(bytes), Ok(loaded)) => (bytes, loaded),
            // The loader gave up first (a bad checksum, a bad encoding): its reason is
            // the cause, the receive merely stopped feeding it.
            (Err(e), Err(reason)) if e.detail == LOADER_STOPPED => return Err(reason),
            // The transfer failed (the link): that is the cause, the loader saw a cut.
            (Err(e), _) => return Err(e),
            (Ok(_), Err(reason)) => return Err(reason),
        }
    } else {
        // Save to a temporary file, fsync, move it over the dump file, then load it.
        let tmp = settings.dir.join(format!(
            "temp-{}.{}.rdb",
            unix_ms() / 1000,
            std::process::id()
        ));
        let file = tokio::fs::File::create(&tmp)
            .await
            .map_err(|e| format!("create {}: {e}", tmp.display()))
            .code(AbortCode::LoadFailed)?;
        let file = std::sync::Arc::new(tokio::sync::Mutex::new(
            tokio::io::BufWriter::with_capacity(1 << 20, file),
        ));
        let writer = file.clone();
        let received = receive_payload(host, conn, &framing, generation, |chunk| {
            let writer = writer.clone();
            async move {
                writer
                    .lock()
                    .await
                    .write_all(&chunk)
                    .await
                    .map_err(|e| format!("write RDB: {e}"))
                    .code(AbortCode::LoadFailed)
            }
        })
        .instrument(receive_span.clone())
        .await;
        end_span(receive_span, "bytes", received.as_ref().ok().copied());
        let bytes = match received {
            Ok(b) => b,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        {
            let mut w = file.lock().await;
            w.flush().await.code(AbortCode::LoadFailed)?;
            w.get_mut().sync_all().await.code(AbortCode::LoadFailed)?;
        }
        hub.enter_phase(sync_id, Phase::Load);
        fault::at(Side::Replica, Phase::Load).await?;
        let _loading = LoadingFlag::raise(host, load_mode, Some(bytes), sync_id);
        info!("{LOADING_LINE}");
        let load_span = load_span();
        let loader_host = host.clone();
        let load_path = tmp.clone();
        let loaded = spawn_loader(load_mode, move || {
            let file = std::fs::File::open(&load_path)
                .map_err(|e| format!("open {}: {e}", load_path.display()))?;
            let mut reader = io::BufReader::with_capacity(1 << 20, file);
            loader_host.load_rdb(&mut reader)
        })
        .instrument(load_span.clone())
        .await
        .and_then(|r| r)
        .code(AbortCode::LoadFailed);
        end_span(load_span, "keys", loaded.as_ref().ok().map(|l| l.keys));
        // The received file replaces the dump only once it loaded and is accepted.
        let loaded = match loaded.and_then(|l| refuse_empty(host, &l, replid).map(|()| l)) {
            Ok(l) => l,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let dump = settings.dir.join(&settings.dbfilename);
        tokio::fs::rename(&tmp, &dump)
            .await
            .map_err(|e| format!("rename the received RDB: {e}"))
            .code(AbortCode::LoadFailed)?;
        (bytes, loaded)
    };
    refuse_empty(host, &loaded, replid)?;
    let keys = loaded.keys;
    let session = tracing::Span::current();
    session.record("bytes", bytes);
    session.record("keys", keys);
    if streaming {
        info!("MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    }
    host.install_dataset(loaded, replid, offset);
    hub.add_transfer(sync_id, bytes, keys);
    info!(
        bytes,
        keys, offset, "MASTER <-> REPLICA sync: Finished with success"
    );
    // A diskless master waits for this first ACK before it streams (Redis does the same).
    // A snapshot channel has no stream: its master already let it go.
    if ack {
        let ack = offset.to_string();
        send(wr, &[b"REPLCONF", b"ACK", ack.as_bytes()]).await?;
    }
    Ok(())
}

/// Publishes a `sync_progress` event once a second while the full sync receives and loads
/// its snapshot, until the returned guard is dropped.
fn report_progress(host: &Arc<dyn Follower>, sync_id: u64, generation: u64) -> AbortOnDrop {
    let host = host.clone();
    AbortOnDrop(tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + Duration::from_secs(1),
            Duration::from_secs(1),
        );
        loop {
            tick.tick().await;
            let hub = host.hub();
            let Some((received_bytes, total)) = hub
                .role
                .lock()
                .link()
                .filter(|l| l.generation == generation)
                .map(|l| (l.sync_read_bytes, l.sync_total_bytes))
            else {
                return;
            };
            hub.events.publish(Event::SyncProgress {
                sync_id,
                received_bytes,
                total_bytes: u64::try_from(total).ok().filter(|t| *t > 0),
                load: host.load_figures(),
            });
        }
    }))
}

/// Ends a phase span, with the figure it moved when it succeeded.
fn end_span(span: tracing::Span, field: &'static str, value: Option<u64>) {
    if let Some(value) = value {
        span.record(field, value);
    }
}

/// Runs a load on a thread of its own. While the old dataset keeps serving reads
/// ([`Loading::Async`]) the thread runs at nice 10, as the snapshot serialiser does: on a
/// small machine the threads that answer those reads should win the CPU. A thread of its
/// own, not the blocking pool's, since a pool thread would keep the lowered priority for
/// whatever it runs next.
fn spawn_loader<F>(
    mode: Loading,
    load: F,
) -> impl std::future::Future<Output = Result<Result<super::LoadedDataset, String>, String>>
where
    F: FnOnce() -> Result<super::LoadedDataset, String> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let started = std::thread::Builder::new()
        .name("replikv-load".into())
        .spawn(move || {
            if mode == Loading::Async {
                crate::rdb::file::lower_current_thread_priority();
            }
            let _ = tx.send(load());
        });
    async move {
        started.map_err(|e| format!("start the loader thread: {e}"))?;
        rx.await
            .map_err(|_| "the loader thread ended without a result".to_string())
    }
}

/// `replica-refuse-empty-full-sync`: the seed's warning made a guard. A master restarted
/// without persistence comes back empty under a new replication id, and a full sync from it
/// would wipe every replica. With the directive on, a replica holding keys refuses an empty
/// dataset from a history other than the one it follows, keeps its data, and retries (so an
/// operator can promote it, or turn the directive off to accept the wipe).
fn refuse_empty(host: &Arc<dyn Follower>, loaded: &super::LoadedDataset, replid: &str) -> Attempt {
    let settings = host.settings();
    if !settings.replica_refuse_empty_full_sync
        || loaded.keys > 0
        || host.dataset_is_empty()
        || host.repl_position().replid.eq_ignore_ascii_case(replid)
    {
        return Ok(());
    }
    let reason = format!(
        "refused an empty dataset from a new replication history ({replid}) that would replace this replica's data (replica-refuse-empty-full-sync yes)"
    );
    warn!("{reason}");
    Err(LinkError::new(AbortCode::RefusedEmptyDataset, reason))
}

/// The server's loading state, raised for as long as it lives, so every early return of a
/// load lowers it again; while the old dataset keeps serving, with its memory guard.
struct LoadingFlag<'a> {
    host: &'a Arc<dyn Follower>,
    _guard: Option<AbortOnDrop>,
}

impl<'a> LoadingFlag<'a> {
    fn raise(
        host: &'a Arc<dyn Follower>,
        mode: Loading,
        total_bytes: Option<u64>,
        sync_id: u64,
    ) -> Self {
        host.set_loading(mode, total_bytes);
        let guard = if mode == Loading::Async {
            memory_guard::watch(host, sync_id)
        } else {
            None
        };
        LoadingFlag {
            host,
            _guard: guard,
        }
    }
}

impl Drop for LoadingFlag<'_> {
    fn drop(&mut self) {
        self.host.set_loading(Loading::Off, None);
    }
}

/// Copies the payload from the socket to `sink`, tracking progress; returns its size.
async fn receive_payload<F, Fut>(
    host: &Arc<dyn Follower>,
    conn: &mut LineReader,
    framing: &Framing,
    generation: u64,
    mut sink: F,
) -> Result<u64, LinkError>
where
    F: FnMut(Bytes) -> Fut,
    Fut: std::future::Future<Output = Result<(), LinkError>>,
{
    let mut total = 0u64;
    match framing {
        Framing::Len(len) => {
            let mut remaining = *len;
            while remaining > 0 {
                if conn.buf.is_empty() {
                    conn.fill().await?;
                }
                let take = remaining.min(conn.buf.len() as u64) as usize;
                let chunk = conn.buf.split_to(take).freeze();
                remaining -= take as u64;
                total += take as u64;
                progress(host, generation, total);
                sink(chunk).await?;
            }
        }
        Framing::Eof(mark) => loop {
            // Hold back the last 40 bytes: they may be the mark.
            if conn.buf.len() > mark.len() {
                let take = conn.buf.len() - mark.len();
                let chunk = conn.buf.split_to(take).freeze();
                total += take as u64;
                progress(host, generation, total);
                sink(chunk).await?;
            }
            if conn.buf.len() == mark.len() && conn.buf[..] == mark[..] {
                conn.buf.clear();
                break;
            }
            conn.fill().await?;
        },
    }
    Ok(total)
}

fn progress(host: &Arc<dyn Follower>, generation: u64, read: u64) {
    host.hub()
        .role
        .lock()
        .transfer_progress(generation, None, read, unix_ms());
}

/// The steady state: apply the stream, acknowledge every second and on GETACK, drop the
/// link after `repl-timeout` of silence.
async fn stream_from_master(
    host: &Arc<dyn Follower>,
    client: u64,
    mut conn: LineReader,
    mut wr: LinkWrite,
    sync_id: u64,
    generation: u64,
    catchup: tracing::Span,
) -> Attempt {
    let hub = host.hub();
    let mut parser = RequestParser::new();
    // Ends once what arrived with (or right after) the snapshot is applied.
    let mut catchup = Some(catchup);
    let mut ack_tick = tokio::time::interval(Duration::from_secs(1));
    conn.timeout_text = timeout_text::STREAM;
    loop {
        // While a client pause holds writes here, what arrives is read (up to a bound, then
        // TCP holds the master back) but applied only once the pause ends.
        let mut held = None;
        if !conn.buf.is_empty() {
            let before = conn.buf.len();
            let applied = match &catchup {
                Some(span) => {
                    let applied = span
                        .in_scope(|| host.apply_from_master(client, &mut parser, &mut conn.buf));
                    span.record("bytes", (before - conn.buf.len()) as u64);
                    applied
                }
                None => host.apply_from_master(client, &mut parser, &mut conn.buf),
            };
            if applied.replaced {
                return Err(target_changed());
            }
            held = applied.held;
            hub.net_input_bytes
                .fetch_add((before - conn.buf.len()) as u64, Ordering::Relaxed);
            if let Some(e) = applied.protocol_error {
                // As Redis: a corrupt stream discards the cached master (full sync next).
                hub.role.lock().cache_master(None);
                return Err(LinkError::new(
                    AbortCode::ProtocolError,
                    format!("master stream corrupt: {e}"),
                ));
            }
            for off in applied.acks {
                let off = off.to_string();
                send(&mut wr, &[b"REPLCONF", b"ACK", off.as_bytes()]).await?;
            }
        }
        // The first pass ends the catch-up: what came with the snapshot is applied.
        if let Some(span) = catchup.take() {
            drop(span);
            hub.enter_phase(sync_id, Phase::Stream);
            fault::at(Side::Replica, Phase::Stream).await?;
            hub.finish_sync(sync_id, SyncOutcome::Succeeded);
        }
        hub.unapplied_bytes
            .store(conn.buf.len() as u64, Ordering::Relaxed);
        conn.timeout = Duration::from_secs(host.settings().repl_timeout);
        let read_more = held.is_none() || conn.buf.len() < MAX_HELD_BYTES;
        let resume = async {
            match held.as_mut() {
                // A pause's deadline changes nothing it could announce: look again soon.
                Some(rx) => {
                    let _ = tokio::time::timeout(Duration::from_millis(100), rx.changed()).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = resume => {}
            r = conn.fill(), if read_more => {
                r?;
                hub.role.lock().link_io(generation, unix_ms());
            }
            _ = ack_tick.tick() => {
                let off = host.repl_position().offset.to_string();
                send(&mut wr, &[b"REPLCONF", b"ACK", off.as_bytes()]).await?;
            }
        }
    }
}

/// Records the sync kind on the session's root span.
fn record_kind(kind: &str, replid: &str, offset: u64) {
    let span = tracing::Span::current();
    span.record("kind", kind);
    span.record("replid", replid);
    span.record("offset", offset);
}

/// The link's target changed (REPLICAOF, a promotion) while it ran.
fn target_changed() -> LinkError {
    LinkError::new(AbortCode::TopologyChange, "replication target changed")
}

/// Writing to the master failed.
fn write_failed(e: std::io::Error) -> LinkError {
    LinkError::new(AbortCode::Io, format!("write to master: {e}"))
}

/// Writes one command.
async fn send(wr: &mut LinkWrite, argv: &[&[u8]]) -> Attempt {
    let mut buf = Vec::new();
    encode(&mut buf, argv);
    wr.write_all(&buf).await.map_err(write_failed)
}

/// Buffered reads from the master: lines during the handshake, raw bytes afterwards.
struct LineReader {
    rd: LinkRead,
    buf: BytesMut,
    /// `repl-timeout`: the longest silence any phase accepts (Redis checks the same bound
    /// in its cron for every state from connecting to streaming).
    timeout: Duration,
    /// What a timeout is called in the current phase (one of [`timeout_text`]).
    timeout_text: &'static str,
}

impl LineReader {
    /// Reads more bytes, failing after `repl-timeout` of silence (logged in Redis's words
    /// for the phase) or on EOF.
    async fn fill(&mut self) -> Result<(), LinkError> {
        self.buf.reserve(64 * 1024);
        match tokio::time::timeout(self.timeout, self.rd.read_buf(&mut self.buf)).await {
            Err(_) => {
                warn!("{}", self.timeout_text);
                Err(LinkError::new(AbortCode::Timeout, self.timeout_text))
            }
            Ok(Ok(0)) => Err(LinkError::new(
                AbortCode::PeerClosed,
                "the master closed the connection",
            )),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(LinkError::new(
                AbortCode::Io,
                format!("read from master: {e}"),
            )),
        }
    }

    /// One line (without `\r\n`); empty lines (the master's keep-alive newlines) are
    /// returned as "".
    async fn line(&mut self) -> Result<String, LinkError> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line = self.buf.split_to(nl + 1);
                line.truncate(nl);
                if line.last() == Some(&b'\r') {
                    line.truncate(nl - 1);
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buf.len() > MAX_LINE {
                return Err(LinkError::new(
                    AbortCode::ProtocolError,
                    "line from master too long",
                ));
            }
            self.fill().await?;
        }
    }
}

/// A blocking reader over chunks sent by the async receiver (diskless load).
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// The TLS handshake with the master (`tls-replication`), bounded by `repl-timeout`. The
/// certificate chain is checked against the CA, the host name is not (as Redis).
async fn secure(
    host: &Arc<dyn Follower>,
    stream: TcpStream,
    master_host: &str,
    timeout_secs: u64,
) -> Result<(LinkRead, LinkWrite), LinkError> {
    let connector = host.tls_connector().ok_or_else(|| {
        LinkError::new(
            AbortCode::ConnectFailed,
            "tls-replication is on but TLS is not configured",
        )
    })?;
    let tls = tokio::time::timeout(
        Duration::from_secs(timeout_secs),
        connector.connect(crate::tls::server_name(master_host), stream),
    )
    .await
    .map_err(|_| {
        warn!("{}", timeout_text::HANDSHAKE);
        LinkError::new(AbortCode::Timeout, timeout_text::HANDSHAKE)
    })?
    .map_err(|e| format!("TLS handshake with the master failed: {e}"))
    .code(AbortCode::ConnectFailed)?;
    let (rd, wr) = tokio::io::split(tls);
    Ok((Box::new(rd), Box::new(wr)))
}

/// Connects to the master from `source` (`bind-source-addr`) when one is set, trying each
/// address the master's name resolves to. As Redis's best-effort bind, a source address
/// that cannot be bound is left out and the connection made without it.
async fn connect_from(host: &str, port: u16, source: &str) -> std::io::Result<TcpStream> {
    let Ok(source_ip) = source.parse::<std::net::IpAddr>() else {
        if !source.is_empty() {
            warn!(
                source,
                "bind-source-addr is not an IP address; connecting without it"
            );
        }
        return TcpStream::connect((host, port)).await;
    };
    let mut last_error = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = match addr {
            std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        if source_ip.is_ipv4() == addr.is_ipv4() {
            if let Err(e) = socket.bind(std::net::SocketAddr::new(source_ip, 0)) {
                warn!(source, error = %e, "cannot bind bind-source-addr; connecting without it");
            }
        }
        match socket.connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{host} resolves to no address"),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_at_once_after_a_loss_and_back_off_while_failing() {
        let mut retry = Retry::default();
        assert_eq!(retry.pause(), None, "the first attempt");
        retry.attempted(true);
        assert_eq!(retry.pause(), None, "a streaming link lost: at once");
        let mut pauses = Vec::new();
        for _ in 0..8 {
            retry.attempted(false);
            pauses.push(retry.pause().expect("a pause after a failure"));
        }
        assert!(pauses[0] >= RETRY_FIRST / 2 && pauses[0] <= RETRY_FIRST);
        assert!(pauses.iter().all(|p| *p <= RETRY_MAX));
        assert!(pauses[7] >= RETRY_MAX / 2, "capped at Redis's second");
        retry.attempted(true);
        assert_eq!(retry.pause(), None, "streaming resets the backoff");
    }
}
