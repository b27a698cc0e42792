//! The server's shared state: [`State`] (reachable from every task) and the [`Engine`] behind
//! its one lock (everything a command reads or writes).
//!
//! Lock discipline: a connection takes the engine lock once per batch of pipelined commands,
//! executes them all, and releases it before writing replies. Every propagated write is fed
//! to the replication log inside that same critical section, so the replication stream order
//! is the execution order. The configuration sits behind its own read-write lock; it may be
//! taken while holding the engine lock, never the other way round.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use super::blocking::Blocking;
use super::session::ClientRegistry;
use super::subscriptions::Subscriptions;
use crate::config::Settings;
use crate::keyspace::{EncodingLimits, Keyspace};
use crate::replication::{Backlog, ReplLog, Replication};
use crate::resp::Argv;

/// Per-command statistics (INFO commandstats).
#[derive(Debug, Default, Clone, Copy)]
pub struct CommandStat {
    /// Successful and failed executions.
    pub calls: u64,
    /// Microseconds spent executing.
    pub usec: u64,
    /// Refused before execution (arity, auth, gates).
    pub rejected_calls: u64,
    /// Executed but answered with an error.
    pub failed_calls: u64,
}

/// Counters updated under the engine lock.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Commands processed (INFO total_commands_processed).
    pub total_commands: u64,
    /// Per command full name.
    pub commands: hashbrown::HashMap<&'static str, CommandStat>,
    /// Error replies by code (`ERR`, `WRONGTYPE`...).
    pub errors: hashbrown::HashMap<String, u64>,
    /// Total error replies.
    pub total_error_replies: u64,
}

impl EngineStats {
    /// Counts an error reply by its code (first word).
    pub fn count_error(&mut self, message: &[u8]) {
        let code = message.split(|&b| b == b' ').next().unwrap_or(b"ERR");
        let code = String::from_utf8_lossy(code).into_owned();
        *self.errors.entry(code).or_default() += 1;
        self.total_error_replies += 1;
    }
}

/// Everything commands execute against, behind one lock.
#[derive(Debug)]
pub struct Engine {
    /// The data.
    pub keyspace: Keyspace,
    /// Current configuration (kept equal to [`State::settings`]).
    pub settings: Arc<Settings>,
    /// Pub/Sub subscriptions.
    pub subscriptions: Subscriptions,
    /// Clients blocked in BLPOP and friends.
    pub blocking: Blocking,
    /// Where propagated writes go.
    pub repl: ReplLog,
    /// Commands propagated by the current top-level command, with their database.
    pending_propagation: Vec<(usize, Argv)>,
    /// Changes since the last successful save (INFO rdb_changes_since_last_save).
    pub dirty: u64,
    /// Unix seconds of the last successful save (LASTSAVE).
    pub lastsave: i64,
    /// Background saves, save-rule bookkeeping and load figures (INFO persistence).
    pub rdb: super::persistence::Persistence,
    /// A dataset is being loaded: most commands answer -LOADING.
    pub loading: bool,
    /// Statistics.
    pub stats: EngineStats,
    /// The active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE turns it off for tests).
    pub active_expire_enabled: bool,
    /// We follow a master (read-only and stale-data gates, replica expiry).
    pub is_replica: bool,
    /// The link to our master is streaming.
    pub link_up: bool,
    /// The database our master's stream currently applies to, while a master link session
    /// exists (a save records it as `repl-stream-db`). Kept here, beside the data, so that
    /// a save running inside the master's stream (FLUSHALL with save rules) never needs the
    /// master session's lock, which the stream applier holds.
    pub master_stream_db: Option<usize>,
}

impl Engine {
    /// An engine with empty databases, whose replication log writes to `backlog`.
    pub fn new(settings: Arc<Settings>, backlog: Arc<Backlog>) -> Engine {
        let limits = encoding_limits(&settings);
        Engine {
            keyspace: Keyspace::new(settings.databases, limits),
            settings,
            subscriptions: Subscriptions::default(),
            blocking: Blocking::default(),
            repl: ReplLog::new(backlog),
            is_replica: false,
            link_up: false,
            master_stream_db: None,
            pending_propagation: Vec::new(),
            dirty: 0,
            lastsave: crate::keyspace::now_ms() / 1000,
            rdb: Default::default(),
            loading: false,
            stats: EngineStats::default(),
            active_expire_enabled: true,
        }
    }

    /// Queues a command for propagation as part of the current top-level command.
    pub fn also_propagate(&mut self, db: usize, argv: Argv) {
        self.pending_propagation.push((db, argv));
    }

    /// Queues DELs for keys that expiry removed, in every database.
    pub fn propagate_expired(&mut self) {
        for db in 0..self.keyspace.dbs.len() {
            if !self.keyspace.dbs[db].has_expired_pending() {
                continue;
            }
            for key in self.keyspace.dbs[db].take_expired() {
                let argv: Argv = [
                    bytes::Bytes::from_static(b"DEL"),
                    bytes::Bytes::copy_from_slice(&key),
                ]
                .into_iter()
                .collect();
                self.pending_propagation.push((db, argv));
            }
        }
    }

    /// Feeds what the current top-level command propagated to the replication log: alone
    /// when it is one command, wrapped in MULTI/EXEC when there are several (so replicas
    /// apply them atomically), as Redis 7.0 does.
    pub fn flush_propagation(&mut self) {
        self.flush(true);
    }

    /// Feeds each pending command on its own (the active expiry cycle's DELs are separate
    /// operations, not one transaction).
    pub fn flush_propagation_unwrapped(&mut self) {
        self.flush(false);
    }

    fn flush(&mut self, wrap_several: bool) {
        if self.pending_propagation.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending_propagation);
        let wrap = wrap_several && pending.len() > 1;
        if wrap {
            self.repl.feed(pending[0].0, &[b"MULTI"]);
        }
        for (db, argv) in &pending {
            let parts: Vec<&[u8]> = argv.iter().map(|a| a.as_ref()).collect();
            self.repl.feed(*db, &parts);
        }
        if wrap {
            let last_db = pending.last().map(|p| p.0).unwrap_or(0);
            self.repl.feed(last_db, &[b"EXEC"]);
        }
    }

    /// Applies new settings that affect the engine (encoding thresholds).
    pub fn apply_settings(&mut self, settings: Arc<Settings>) {
        self.keyspace.limits = encoding_limits(&settings);
        self.settings = settings;
    }
}

/// The encoding thresholds from the settings.
pub fn encoding_limits(s: &Settings) -> EncodingLimits {
    EncodingLimits {
        hash_max_listpack_entries: s.hash_max_listpack_entries as usize,
        hash_max_listpack_value: s.hash_max_listpack_value as usize,
        set_max_intset_entries: s.set_max_intset_entries as usize,
        zset_max_listpack_entries: s.zset_max_listpack_entries as usize,
        zset_max_listpack_value: s.zset_max_listpack_value as usize,
    }
}

/// Counters updated without the engine lock.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Connections accepted.
    pub connections_received: AtomicU64,
    /// Connections refused (maxclients).
    pub rejected_connections: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
    /// When CONFIG RESETSTAT last ran (unix ms).
    pub reset_at_ms: AtomicI64,
    /// Highest allocator figure seen (INFO used_memory_peak).
    pub memory_peak: AtomicU64,
    /// Commands per second over the last sample (set by the cron).
    pub instantaneous_ops: AtomicU64,
    /// Socket reads that carried data.
    pub reads_processed: AtomicU64,
    /// Socket writes.
    pub writes_processed: AtomicU64,
}

/// Ports actually bound (the configured ones, or the ephemeral ones for port 0).
#[derive(Debug, Default, Clone, Copy)]
pub struct BoundPorts {
    /// RESP port.
    pub resp: u16,
    /// HTTP control plane port (0 when disabled).
    pub http: u16,
}

/// State shared by every task of the server.
#[derive(Debug)]
pub struct State {
    /// The engine and its lock.
    pub engine: EngineLock,
    /// Current configuration, cheap to clone for readers outside the engine lock.
    pub settings: RwLock<Arc<Settings>>,
    /// The config file the server started with (CONFIG REWRITE target).
    pub config_file: Option<PathBuf>,
    /// Connected clients.
    pub clients: ClientRegistry,
    /// Counters kept outside the engine lock.
    pub stats: ServerStats,
    /// 40 hex characters identifying this process run (INFO run_id).
    pub run_id: String,
    /// Process start.
    pub started: Instant,
    /// Bound ports.
    pub ports: Mutex<BoundPorts>,
    /// Set to true to stop the server.
    pub shutdown: watch::Sender<bool>,
    /// Replication hub: sync history, events, replicas, our master link.
    pub repl: Arc<Replication>,
    /// A weak handle to ourselves, to hand `Arc<State>` to tasks started from commands.
    me: std::sync::OnceLock<std::sync::Weak<State>>,
    /// The session that applies our master's stream (replica side), with the stream bytes
    /// applied but not yet forwarded (inside a MULTI).
    pub master_session: Mutex<Option<super::replication::MasterSession>>,
}

/// The engine mutex; its guard publishes the replication batch when released, so no code
/// path can forget to hand propagated writes to the replicas.
#[derive(Debug)]
pub struct EngineLock(Mutex<Engine>);

impl EngineLock {
    /// Takes the engine lock.
    pub fn lock(&self) -> EngineGuard<'_> {
        EngineGuard(self.0.lock())
    }

    /// Takes the engine lock unless it stays held for `timeout` (shutdown must not hang
    /// behind a stuck command).
    pub fn try_lock_for(&self, timeout: std::time::Duration) -> Option<EngineGuard<'_>> {
        self.0.try_lock_for(timeout).map(EngineGuard)
    }
}

/// A held engine lock.
pub struct EngineGuard<'a>(parking_lot::MutexGuard<'a, Engine>);

impl std::ops::Deref for EngineGuard<'_> {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.0
    }
}

impl std::ops::DerefMut for EngineGuard<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.0
    }
}

impl Drop for EngineGuard<'_> {
    fn drop(&mut self) {
        self.0.repl.publish();
    }
}

impl State {
    /// State for a server starting with `settings`.
    pub fn new(settings: Settings, config_file: Option<PathBuf>) -> Arc<State> {
        let settings_history = settings.sync_history_size as usize;
        let backlog = Arc::new(Backlog::new(0, settings.repl_backlog_size));
        let settings = Arc::new(settings);
        let (shutdown, _) = watch::channel(false);
        let state = Arc::new(State {
            engine: EngineLock(Mutex::new(Engine::new(settings.clone(), backlog.clone()))),
            settings: RwLock::new(settings),
            config_file,
            clients: ClientRegistry::new(),
            stats: ServerStats::default(),
            run_id: random_hex(40),
            started: Instant::now(),
            ports: Mutex::new(BoundPorts::default()),
            shutdown,
            repl: Arc::new(Replication::new(settings_history, backlog)),
            me: std::sync::OnceLock::new(),
            master_session: Mutex::new(None),
        });
        let _ = state.me.set(Arc::downgrade(&state));
        state
    }

    /// An owning handle to this state (for tasks started from a command).
    pub fn arc(&self) -> Option<Arc<State>> {
        self.me.get().and_then(|w| w.upgrade())
    }

    /// The current settings.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.read().clone()
    }

    /// Publishes new settings (the caller holds the engine lock and updates it too).
    pub fn publish_settings(&self, settings: Arc<Settings>) {
        *self.settings.write() = settings;
    }

    /// Asks every task to stop.
    pub fn request_shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// True once shutdown was requested.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Resets the counters CONFIG RESETSTAT resets.
    pub fn reset_stats(&self, engine: &mut Engine) {
        engine.stats = EngineStats::default();
        for db in &mut engine.keyspace.dbs {
            db.stat_expired = 0;
            db.stat_hits = 0;
            db.stat_misses = 0;
        }
        self.stats.connections_received.store(0, Ordering::Relaxed);
        self.stats.rejected_connections.store(0, Ordering::Relaxed);
        self.stats.net_input_bytes.store(0, Ordering::Relaxed);
        self.stats.net_output_bytes.store(0, Ordering::Relaxed);
        self.stats.reads_processed.store(0, Ordering::Relaxed);
        self.stats.writes_processed.store(0, Ordering::Relaxed);
        engine.rdb.saves = 0;
        self.repl.reset_counters();
        self.stats
            .reset_at_ms
            .store(crate::keyspace::now_ms(), Ordering::Relaxed);
    }
}

/// `n` random lowercase hex characters (run ids, replication ids).
pub fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}
