//! The engine's side of replication: role changes ([`become_replica`], [`become_master`]),
//! operator resyncs, the once-a-second replication cron, the status INFO, ROLE and the
//! control plane read, and the [`Host`] implementation through which the replication tasks
//! reach the engine — including our master's stream, applied here through the command
//! executor the composition root handed to [`State`].
//!
//! REPLICAOF, the control plane and Sentinel all change roles through these functions, so
//! every path records the same intent the same way.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;

use super::session::{ClientInfo, ClientKind, Session};
use super::{Engine, State};
use crate::keyspace::free_in_background;
use crate::replication::backlog::TimeFigures;
use crate::replication::status::{BacklogStatus, MasterLinkStatus, ReplicationStatus, Role};
use crate::replication::{
    history::unix_ms, Applied, CachedMaster, Event, Follower, Host, LinkState, LoadedDataset,
    Loading, MasterClient, RdbStats, Replication, SyncSnapshot, SyncSource,
};
use crate::resp::parser::Parsed;
use crate::resp::{ParseLimits, Proto, ReplyBuf, RequestParser};

/// Starts following `host:port`: the engine turns read-only (per replica-read-only) and stops
/// expiring keys, and a driver task connects. A former master keeps its history so the new
/// master can continue it with a partial resync.
pub fn become_replica(state: &State, engine: &mut Engine, host: String, port: u16) {
    follow(state, engine, host, port, true);
}

/// Follows the master `replicaof` names at start-up. Unlike a running master turned into a
/// replica, a process that just started has no history of its own worth offering (only the
/// one its RDB file may hold, already cached by the load): it asks with `PSYNC ? -1`, as
/// Redis does, so masters count a new replica as one, not as a refused partial resync.
pub fn follow_at_startup(state: &State, engine: &mut Engine, host: String, port: u16) {
    follow(state, engine, host, port, false);
}

fn follow(state: &State, engine: &mut Engine, host: String, port: u16, offer_own_history: bool) {
    let hub = &state.repl;
    hub.full_syncs.forget_finished();
    engine.repl.publish();
    // Our own history, to continue from if the new master shares it (Redis's
    // replicationCacheMasterUsingMyself).
    let own = offer_own_history.then(|| CachedMaster {
        replid: engine.repl.replid.clone(),
        offset: engine.repl.offset,
        db: 0,
    });
    let change = hub.role.lock().become_replica(&host, port, own);
    engine.is_replica = true;
    engine.link_up = false;
    engine.keyspace.set_replica_mode(true);
    super::oom::apply_for_role(&engine.settings, true);
    if change.was_master {
        unblock_all_blocked(engine);
    }
    // The old link's client goes now, as Redis frees its master client here: the old
    // link's task unwinds later and must find nothing to apply its master's stream to.
    close_master_session(state, engine);
    hub.generation.send_replace(change.generation);
    if change.was_master {
        hub.events.publish(Event::RoleChanged {
            role: Role::Replica,
        });
    }
    record_master_in_settings(state, engine, Some((host.clone(), port)));
    tracing::info!(master = %format!("{host}:{port}"), "Connecting to MASTER {host}:{port}");
    if let Some(me) = state.arc() {
        let follower: Arc<dyn Follower> = me;
        tokio::spawn(crate::replication::replica::run(
            follower,
            change.generation,
        ));
    }
}

/// Stops following a master (REPLICAOF NO ONE, a PSYNC FAILOVER, an aborted hand-over): the
/// replication id shifts (the old one stays valid up to our offset), our replicas are
/// disconnected so they continue with the new id, and the node accepts writes again.
pub fn become_master(state: &State, engine: &mut Engine) {
    let hub = &state.repl;
    let change = hub.role.lock().become_master();
    hub.generation.send_replace(change.generation);
    engine.is_replica = false;
    engine.link_up = false;
    engine.keyspace.set_replica_mode(false);
    super::oom::apply_for_role(&engine.settings, false);
    engine.repl.ensure_backlog();
    engine.repl.shift_replid();
    hub.full_syncs.forget_finished();
    close_master_session(state, engine);
    record_master_in_settings(state, engine, None);
    hub.replicas.kill_all();
    if !change.was_master {
        hub.events
            .publish(Event::RoleChanged { role: Role::Master });
    }
}

/// Operator resync of our own link (replica side): the link is dropped and the next
/// attempt asks for a full sync (`PSYNC ? -1`). False when we are not a replica.
pub fn force_full_resync(state: &State) -> bool {
    if !state.repl.role.lock().force_full_sync() {
        return false;
    }
    if let Some(ms) = state.master_session.lock().as_ref() {
        ms.session.info.kill();
    }
    tracing::info!("full resync of our master link requested by an operator");
    true
}

/// Operator resync of replica `id` (master side): its link is dropped and its next PSYNC
/// gets a full sync. False when no replica has that id.
pub fn force_replica_full_resync(state: &State, id: u64) -> bool {
    let hub = &state.repl;
    let Some(entry) = hub.replicas.list().into_iter().find(|e| e.id == id) else {
        return false;
    };
    hub.forced_full
        .lock()
        .insert(format!("{}:{}", entry.ip, entry.port));
    hub.replicas.kill(id);
    tracing::info!(replica = %format!("{}:{}", entry.ip, entry.port), "full resync of a replica requested by an operator");
    true
}

/// Clients blocked in BLPOP and friends are released when the node becomes a replica
/// (their keys now follow the master), as Redis does with `-UNBLOCKED`.
fn unblock_all_blocked(engine: &mut Engine) {
    let e = &mut *engine;
    for id in e.blocking.ids() {
        if let Some(mut w) = e.blocking.unblock(&mut e.keyspace, id) {
            if let Some(tx) = w.reply.take() {
                let mut out = ReplyBuf::new(w.proto);
                out.error("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)");
                let _ = tx.send(out.buf);
            }
        }
    }
}

// ------------------------------------------------------------------ status

/// The replication status at this instant (INFO, ROLE, control plane, metrics).
pub fn status(state: &State, engine: &Engine) -> ReplicationStatus {
    let hub = &state.repl;
    let repl = &engine.repl;
    let (first, histlen) = repl.backlog_range();
    let end = repl.offset;
    let time = if repl.active {
        hub.backlog.time_figures()
    } else {
        TimeFigures {
            end,
            ..TimeFigures::default()
        }
    };
    let replicas = hub.replicas.status(&time, |id| hub.backlog.pending_for(id));
    let now = unix_ms();
    let role = hub.role.lock();
    let cached_offset = role.cached_master().map_or(1, |c| c.offset as i64);
    let master_link = role.link().map(|l| {
        let up = l.state == LinkState::Connected && !hub.master_hung_up();
        MasterLinkStatus {
            host: l.host.clone(),
            port: l.port,
            link_up: up,
            state: l.state.as_str(),
            last_io_seconds_ago: if l.last_io_ms > 0 {
                (now - l.last_io_ms) / 1000
            } else {
                -1
            },
            link_down_since_seconds: if up {
                0
            } else {
                l.down_since_ms.map_or(-1, |d| (now - d) / 1000)
            },
            sync_in_progress: l.state == LinkState::Transfer,
            sync_total_bytes: l.sync_total_bytes,
            load: state.load_progress.figures(),
            sync_read_bytes: l.sync_read_bytes,
            sync_buffered_bytes: hub.sync_buffered_bytes.load(Ordering::Relaxed),
            phase: l.phase,
            repl_offset: if repl.active || up {
                end as i64
            } else {
                cached_offset
            },
            read_repl_offset: if repl.active || up {
                (end + hub.unapplied_bytes.load(Ordering::Relaxed)) as i64
            } else {
                cached_offset
            },
        }
    });
    let failover = role.failover_state();
    let epoch = role.epoch();
    let latest_failover = role.latest_failover().cloned();
    let failover_counts = role.failover_counts();
    drop(role);
    ReplicationStatus {
        role: if master_link.is_some() {
            Role::Replica
        } else {
            Role::Master
        },
        replid: repl.replid.clone(),
        replid2: repl.replid2.clone(),
        master_repl_offset: end,
        second_repl_offset: repl.second_offset,
        backlog: BacklogStatus {
            active: repl.active,
            size: engine.settings.repl_backlog_size,
            first_byte_offset: first,
            histlen,
            memory_bytes: if repl.active { hub.backlog.memory() } else { 0 },
            covered_ms: time.covered_ms,
            write_rate: time.write_rate,
            capacity_ms: time.capacity_seconds().map(|s| (s * 1000.0) as u64),
        },
        replicas,
        master_link,
        failover,
        epoch,
        latest_failover,
        failover_counts,
        counters: hub.counters(),
        admission: hub.full_syncs.admission(&engine.settings),
    }
}

/// Replication's part of the server cron (once a second): pings to replicas, the backlog
/// time-to-live, full-sync scheduling.
pub fn cron(state: &Arc<State>, ticks: &mut u64) {
    *ticks += 1;
    let settings = state.settings();
    let hub = &state.repl;
    {
        let mut engine = state.engine.lock();
        let has_replicas = !hub.replicas.is_empty();
        // No PINGs while a failover waits for a replica to reach our offset.
        let failing_over = hub.role.lock().failover().is_some();
        if !engine.is_replica
            && !failing_over
            && has_replicas
            && (*ticks).is_multiple_of(settings.repl_ping_replica_period.max(1))
        {
            engine.repl.feed_dbless(&[b"ping"]);
        }
        if has_replicas || engine.is_replica {
            hub.no_replicas_since_ms.store(0, Ordering::Relaxed);
        } else if engine.repl.active && settings.repl_backlog_ttl > 0 {
            let since = hub.no_replicas_since_ms.load(Ordering::Relaxed);
            let now = unix_ms();
            if since == 0 {
                hub.no_replicas_since_ms.store(now, Ordering::Relaxed);
            } else if now - since > settings.repl_backlog_ttl as i64 * 1000 {
                tracing::info!(
                    ttl = settings.repl_backlog_ttl,
                    "replication backlog freed after the ttl without replicas"
                );
                engine.repl.free_backlog();
                hub.no_replicas_since_ms.store(0, Ordering::Relaxed);
            }
        }
        hub.backlog.set_limit(settings.repl_backlog_size);
    }
    hub.dual_channels.expire(
        std::time::Duration::from_secs(settings.repl_timeout),
        &hub.backlog,
    );
    let source: Arc<dyn SyncSource> = state.clone();
    hub.full_syncs.schedule(&source);
}

// ------------------------------------------------------------------ the replica-side applier

/// Keeps the `replicaof` directive equal to the role, as Redis does: CONFIG GET shows the
/// current master and CONFIG REWRITE persists it (a node restarted from its rewritten file
/// comes back as the replica it was — Sentinel relies on this after every failover).
fn record_master_in_settings(state: &State, engine: &mut Engine, master: Option<(String, u16)>) {
    if engine.settings.replicaof == master {
        return;
    }
    let mut next = (*engine.settings).clone();
    next.replicaof = master;
    let next = Arc::new(next);
    engine.apply_settings(next.clone());
    state.publish_settings(next);
}

/// Ends the master link's session (lock order: engine, then master session).
fn close_master_session(state: &State, engine: &mut Engine) {
    engine.master_stream_db = None;
    if let Some(old) = state.master_session.lock().take() {
        state.clients.unregister(old.session.info.id);
    }
}

/// The session that applies our master's stream, and the applied bytes not yet forwarded to
/// our own replicas (a MULTI is forwarded whole at its EXEC, as Redis credits offsets).
///
/// Lock rule: its mutex is taken after the engine lock, and nothing that a command executes
/// takes it (the stream applier holds both while it executes the master's commands).
#[derive(Debug)]
pub struct MasterSession {
    session: Session,
    unforwarded: Vec<u8>,
}

impl MasterSession {
    /// A session for the link to `peer`, registered as a `master` client (CLIENT LIST shows
    /// it, CLIENT KILL TYPE master closes the link).
    fn new(state: &State, peer: String) -> MasterSession {
        let info = Arc::new(ClientInfo::new(
            state.clients.next_id(),
            peer,
            String::new(),
        ));
        info.set_kind(ClientKind::Master);
        state.clients.register(info.clone());
        let mut session = Session::new(info, true, true);
        session.is_master_link = true;
        MasterSession {
            session,
            unforwarded: Vec::new(),
        }
    }
}

impl Drop for MasterSession {
    fn drop(&mut self) {
        self.session.info.kill();
    }
}

impl Host for State {
    fn settings(&self) -> Arc<crate::config::Settings> {
        State::settings(self)
    }

    fn hub(&self) -> &Replication {
        &self.repl
    }
}

impl SyncSource for State {
    fn snapshot_for_sync(
        &self,
        readers: &[u64],
        filter: Option<crate::replication::RdbFilter>,
    ) -> SyncSnapshot {
        let mut engine = self.engine.lock();
        if !engine.repl.active {
            engine.repl.create_backlog();
        }
        engine.repl.publish();
        let offset = engine.repl.offset;
        for id in readers {
            self.repl.backlog.register(*id, offset + 1);
        }
        let (snapshot, functions) = match filter {
            None => (engine.keyspace.snapshot(), engine.scripts.functions.codes()),
            Some(f) => (
                crate::keyspace::Keyspace::new(engine.keyspace.dbs.len(), engine.keyspace.limits)
                    .snapshot(),
                if f.functions {
                    engine.scripts.functions.codes()
                } else {
                    Vec::new()
                },
            ),
        };
        engine.repl.force_select();
        SyncSnapshot {
            keyspace: snapshot,
            replid: engine.repl.replid.clone(),
            offset,
            functions,
        }
    }

    fn describe_replica_command(&self, argv: &[bytes::Bytes]) -> Option<(&'static str, bool)> {
        (self.describe_command)(argv)
    }

    fn write_rdb(
        &self,
        snapshot: &SyncSnapshot,
        out: &mut dyn io::Write,
        stop: Arc<std::sync::atomic::AtomicBool>,
    ) -> io::Result<RdbStats> {
        super::rdb_bridge::write_rdb(self, snapshot, out, stop)
    }
}

impl Follower for State {
    fn load_rdb(&self, input: &mut dyn io::Read) -> Result<LoadedDataset, String> {
        super::rdb_bridge::load_rdb(self, input)
    }

    fn load_figures(&self) -> Option<crate::rdb::progress::LoadFigures> {
        self.load_progress.figures()
    }

    fn install_dataset(&self, data: LoadedDataset, replid: &str, offset: u64) {
        let mut engine = self.engine.lock();
        let e = &mut *engine;
        let mut incoming = data.keyspace;
        incoming.set_replica_mode(true);
        // The swap touches the watched keys the load changes (Redis's swapMainDbWithTempDb).
        let now = crate::keyspace::now_ms();
        for (live, new) in e.keyspace.dbs.iter_mut().zip(incoming.dbs.iter_mut()) {
            live.swap_contents(new, now);
            live.hide_expired_only = true;
            live.signal_all_blocked();
        }
        free_in_background(incoming);
        super::persistence::install_functions(e, &data.functions);
        e.repl.adopt_master(replid, offset);
        self.repl.role.lock().cache_master(Some(CachedMaster {
            replid: replid.to_string(),
            offset,
            db: 0,
        }));
        // Our own replicas hold the old history: they must sync again.
        self.repl.replicas.kill_all();
        // Our AOF described the old dataset: it starts again from the new one.
        super::aof::restart_after_full_sync(self, e);
    }

    fn repl_position(&self) -> CachedMaster {
        let engine = self.engine.lock();
        let db = engine.master_stream_db.unwrap_or(0);
        CachedMaster {
            replid: engine.repl.replid.clone(),
            offset: engine.repl.offset,
            db,
        }
    }

    fn master_replid_changed(&self, replid: &str) {
        let mut engine = self.engine.lock();
        engine.repl.ensure_backlog();
        engine.repl.master_id_changed(replid);
        // The position a reconnect resumes from names the new history at once: if the link
        // drops before the master sends a byte (a failover's old master stopped right
        // after it), the next PSYNC must not offer the retired ID.
        let mut role = self.repl.role.lock();
        let db = role.cached_master().map_or(0, |c| c.db);
        role.cache_master(Some(CachedMaster {
            replid: engine.repl.replid.clone(),
            offset: engine.repl.offset,
            db,
        }));
    }

    fn apply_from_master(
        &self,
        client: u64,
        parser: &mut RequestParser,
        buf: &mut BytesMut,
    ) -> Applied {
        let mut applied = Applied::default();
        let mut engine = self.engine.lock();
        let mut master = self.master_session.lock();
        let Some(ms) = master.as_mut().filter(|ms| ms.session.info.id == client) else {
            applied.replaced = true;
            return applied;
        };
        if engine.pauses.writes_held(std::time::Instant::now()) {
            applied.held = Some(engine.pauses.subscribe());
            return applied;
        }
        let limits = ParseLimits {
            max_bulk_len: i64::MAX,
            unauthenticated: false,
            from_master: true,
        };
        let mut sink = ReplyBuf::new(Proto::Resp2);
        engine.keyspace.set_ignore_expiry(true);
        loop {
            let (parsed, raw) = match parser.next_raw(buf, limits) {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    applied.protocol_error = Some(e.to_string());
                    break;
                }
            };
            applied.consumed += raw.len();
            if let Parsed::Command(argv) = parsed {
                if raw.first() != Some(&b'*') {
                    applied.protocol_error = Some("inline protocol from master".into());
                    break;
                }
                let is_getack = argv.len() >= 2
                    && argv[0].eq_ignore_ascii_case(b"REPLCONF")
                    && argv[1].eq_ignore_ascii_case(b"GETACK");
                if is_getack {
                    applied
                        .acks
                        .push(engine.repl.offset + ms.unforwarded.len() as u64);
                }
                (self.run_command)(self, &mut engine, &mut ms.session, &argv, &mut sink);
                engine.master_stream_db = Some(ms.session.db);
                sink.buf.clear();
            }
            ms.unforwarded.extend_from_slice(&raw);
            if ms.session.multi.is_none() {
                engine.repl.feed_raw(&ms.unforwarded);
                ms.unforwarded.clear();
            }
        }
        engine.keyspace.set_ignore_expiry(false);
        // Where a partial resync continues from, recorded in the same critical section that
        // applied the bytes: the link may be dropped at any await after this returns.
        let position = CachedMaster {
            replid: engine.repl.replid.clone(),
            offset: engine.repl.offset,
            db: ms.session.db,
        };
        self.repl.role.lock().cache_master(Some(position));
        applied
    }

    fn link_up(&self, generation: u64) -> bool {
        let mut engine = self.engine.lock();
        if !self.repl.role.lock().link_up(generation, unix_ms()) {
            return false;
        }
        engine.link_up = true;
        engine.repl.ensure_backlog();
        true
    }

    fn link_down(&self, generation: u64, was_up: bool) -> Option<(String, u16)> {
        let mut engine = self.engine.lock();
        let mut role = self.repl.role.lock();
        let down = role.link_down(generation, unix_ms(), was_up);
        self.repl.unapplied_bytes.store(0, Ordering::Relaxed);
        if role.target(generation).is_some() {
            engine.link_up = false;
        }
        down
    }

    fn failover_answered(&self, accepted: bool) {
        let mut engine = self.engine.lock();
        if accepted {
            super::failover::failover_completed(self, &mut engine);
        } else {
            super::failover::abort_failover(
                self,
                &mut engine,
                "Failover target rejected psync request",
            );
        }
    }

    fn open_master_client(&self, peer: &str, db: usize) -> MasterClient {
        let mut ms = MasterSession::new(self, peer.to_string());
        let mut engine = self.engine.lock();
        ms.session.db = db.min(engine.keyspace.dbs.len().saturating_sub(1));
        engine.master_stream_db = Some(ms.session.db);
        let info = ms.session.info.clone();
        if let Some(old) = self.master_session.lock().replace(ms) {
            self.clients.unregister(old.session.info.id);
        }
        drop(engine);
        MasterClient {
            id: info.id,
            killed: Box::pin(async move { info.kill_notify.notified().await }),
        }
    }

    fn close_master_client(&self, id: u64) {
        let mut engine = self.engine.lock();
        let current = self
            .master_session
            .lock()
            .as_ref()
            .map(|ms| ms.session.info.id);
        if current == Some(id) {
            close_master_session(self, &mut engine);
        }
    }

    fn set_loading(&self, loading: Loading, total_bytes: Option<u64>) {
        let mut engine = self.engine.lock();
        engine.loading = loading == Loading::Blocking;
        engine.async_loading = loading == Loading::Async;
        // Under the engine lock, with the flags: INFO shows `loading_*` exactly while
        // `loading` or `async_loading` is 1, as Redis.
        match loading {
            Loading::Off => self.load_progress.end(),
            _ => self
                .load_progress
                .begin(total_bytes, crate::keyspace::now_ms()),
        }
    }

    fn release_old_dataset(&self) -> bool {
        let mut engine = self.engine.lock();
        if !engine.async_loading {
            return false;
        }
        let garbage = engine.keyspace.clear_all();
        free_in_background(garbage);
        engine.async_loading = false;
        engine.loading = true;
        true
    }

    fn dataset_is_empty(&self) -> bool {
        self.engine.lock().keyspace.key_count() == 0
    }

    fn announced_port(&self) -> u16 {
        let s = State::settings(self);
        let ports = *self.ports.lock();
        if s.replica_announce_port != 0 {
            s.replica_announce_port
        } else if s.tls.replication && ports.tls != 0 {
            ports.tls
        } else {
            ports.resp
        }
    }

    fn tls_connector(&self) -> Option<tokio_rustls::TlsConnector> {
        self.tls.read().as_ref().map(|c| c.connector.clone())
    }
}
