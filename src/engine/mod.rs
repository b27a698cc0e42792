//! The engine: everything commands execute against, behind one lock ([`Engine`],
//! [`EngineLock`]), and the state every task shares ([`State`]). It sits one layer below the
//! command families: they import it, it never imports them. What it holds:
//! - [`state`]: the shared [`State`] (settings, clients, replication hub, shutdown);
//! - [`session`]: per-client state and the client registry;
//! - [`blocking`], [`subscriptions`]: clients waiting on keys, Pub/Sub listeners;
//! - [`notify`]: keyspace notifications, published to those listeners;
//! - [`persistence`]: saves and loads (SAVE/BGSAVE machinery, start-up load, save rules);
//! - [`replication`]: the engine's side of replication (roles, the master's stream applied
//!   here, the status INFO and the control plane read);
//! - [`snapshot`]: one consistent reading of the server's figures.
//!
//! Lock discipline: a connection takes the engine lock once per batch of pipelined commands,
//! executes them all, and releases it before writing replies. Every propagated write is fed
//! to the replication log inside that same critical section, so the replication stream order
//! is the execution order. The configuration sits behind its own read-write lock; it may be
//! taken while holding the engine lock, never the other way round.

pub mod acl;
pub mod aof;
pub mod aof_sink;
pub mod blocking;
pub mod eviction;
pub mod failover;
pub mod latency;
pub mod migrate;
pub mod monitor;
pub mod notify;
pub mod oom;
pub mod pause;
pub mod persistence;
pub mod published;
pub mod push;
pub mod rdb_bridge;
pub mod replication;
pub mod session;
pub mod settings;
pub mod shutdown;
pub mod slowlog;
pub mod snapshot;
pub mod state;
pub mod subscriptions;
pub mod tracking;

pub use session::{ClientInfo, ClientKind, ReplyMode, Session};
pub use state::{BoundPorts, ServerStats, State};

/// The Redis version replikv answers as (INFO redis_version, HELLO, the control plane).
pub const REDIS_COMPAT_VERSION: &str = "7.0.15";

use std::sync::Arc;

use parking_lot::Mutex;

use crate::config::Settings;
use crate::keyspace::types::stream::NodeLimits;
use crate::keyspace::{EncodingLimits, Keyspace};
use crate::replication::{Backlog, ReplLog};
use crate::resp::Argv;
use blocking::Blocking;
use subscriptions::Subscriptions;

/// Where a propagated command goes (Redis's `PROPAGATE_REPL` and `PROPAGATE_AOF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    /// The replication stream.
    pub repl: bool,
    /// The append-only file (when it is on).
    pub aof: bool,
}

impl Targets {
    /// Both.
    pub const BOTH: Targets = Targets {
        repl: true,
        aof: true,
    };
}

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
    /// Error replies on a replication link (our master's stream, a replica's commands).
    pub unexpected_error_replies: u64,
    /// Per-command latency histograms (`latency-tracking`).
    pub latency: latency::LatencyHistograms,
}

impl EngineStats {
    /// Counts an error reply by its code (first word).
    /// Counts a command refused before it ran (COMMANDSTATS `rejected_calls`).
    pub fn count_rejected(&mut self, fullname: &'static str) {
        self.commands.entry(fullname).or_default().rejected_calls += 1;
    }

    /// Counts an error reply by its code.
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
    /// Client-side caching: who tracks which keys (CLIENT TRACKING).
    pub tracking: tracking::Tracking,
    /// Clients blocked in BLPOP and friends.
    pub blocking: Blocking,
    /// Where propagated writes go.
    pub repl: ReplLog,
    /// The append-only file (writes are appended beside the replication stream).
    pub aof: aof::Aof,
    /// Commands propagated by the current top-level command: database, command, and
    /// where it goes.
    pending_propagation: Vec<(usize, Argv, Targets)>,
    /// Changes since the last successful save (INFO rdb_changes_since_last_save).
    pub dirty: u64,
    /// Unix seconds of the last successful save (LASTSAVE).
    pub lastsave: i64,
    /// Background saves, save-rule bookkeeping and load figures (INFO persistence).
    pub rdb: persistence::Persistence,
    /// A dataset is being loaded: most commands answer -LOADING.
    pub loading: bool,
    /// A replica loads a full sync beside the dataset it keeps serving (Redis's async
    /// loading): only `no_async_loading` commands and load-time configs answer -LOADING.
    pub async_loading: bool,
    /// Statistics.
    pub stats: EngineStats,
    /// The active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE turns it off for tests).
    pub active_expire_enabled: bool,
    /// DEBUG PAUSE-CRON: the cron does nothing until resumed (for tests).
    pub cron_paused: bool,
    /// A shutdown waiting for lagging replicas (see [`shutdown`]).
    pub shutdown: Option<shutdown::PendingShutdown>,
    /// We follow a master (read-only and stale-data gates, replica expiry).
    pub is_replica: bool,
    /// The link to our master is streaming.
    pub link_up: bool,
    /// Client pauses (CLIENT PAUSE, a coordinated failover holding writes).
    pub pauses: pause::Pauses,
    /// `maxmemory` eviction's state and counters.
    pub eviction: eviction::Eviction,
    /// The latency monitor's events (LATENCY LATEST/HISTORY/RESET); CONFIG RESETSTAT
    /// keeps them, as Redis.
    pub latency_monitor: latency::LatencyMonitor,
    /// Commands that ran for at least `slowlog-log-slower-than` (SLOWLOG).
    pub slowlog: slowlog::SlowLog,
    /// Clients in MONITOR mode.
    pub monitors: monitor::Monitors,
    /// MIGRATE's connections to target instances.
    pub migrate_sockets: migrate::MigrateSockets,
    /// The database our master's stream currently applies to, while a master link session
    /// exists (a save records it as `repl-stream-db`). Kept here, beside the data, so that
    /// a save running inside the master's stream (FLUSHALL with save rules) never needs the
    /// master session's lock, which the stream applier holds.
    pub master_stream_db: Option<usize>,
    /// Lua scripts and function libraries.
    pub scripts: crate::scripting::Scripts,
    /// ACL users and the ACL log.
    pub acl: acl::Users,
    /// What a new connection needs of the default user, republished whenever the engine
    /// lock is released (see [`EngineLock::default_user`]).
    default_user: Arc<acl::DefaultUserAccess>,
    /// While a script runs: the time it started, which every command it runs sees as "now"
    /// (keys do not expire in the middle of a script, as in Redis).
    pub frozen_now_ms: Option<i64>,
}

impl Engine {
    /// An engine with empty databases, whose replication log writes to `backlog`.
    pub fn new(settings: Arc<Settings>, backlog: Arc<Backlog>) -> Engine {
        let limits = encoding_limits(&settings);
        let mut keyspace = Keyspace::new(settings.databases, limits);
        keyspace.set_access_mode(eviction::access_mode(&settings));
        keyspace.log_key_events(
            notify::wants(&settings, notify::NEW),
            notify::wants(&settings, notify::KEY_MISS),
        );
        let mut acl = acl::Users::new();
        acl.set_default_password(&settings.requirepass);
        let default_user = Arc::new(acl::DefaultUserAccess::default());
        default_user.publish(&acl);
        let mut aof = aof::Aof::default();
        aof.configure(&settings);
        Engine {
            keyspace,
            settings,
            subscriptions: Subscriptions::default(),
            tracking: tracking::Tracking::default(),
            blocking: Blocking::default(),
            repl: ReplLog::new(backlog),
            aof,
            is_replica: false,
            link_up: false,
            master_stream_db: None,
            pauses: pause::Pauses::default(),
            eviction: eviction::Eviction::default(),
            latency_monitor: latency::LatencyMonitor::default(),
            slowlog: slowlog::SlowLog::default(),
            monitors: monitor::Monitors::default(),
            migrate_sockets: migrate::MigrateSockets::default(),
            pending_propagation: Vec::new(),
            dirty: 0,
            lastsave: crate::keyspace::now_ms() / 1000,
            rdb: Default::default(),
            loading: false,
            async_loading: false,
            stats: EngineStats::default(),
            active_expire_enabled: true,
            cron_paused: false,
            shutdown: None,
            scripts: crate::scripting::Scripts::new(),
            acl,
            default_user,
            frozen_now_ms: None,
        }
    }

    /// Where the commands propagated so far end (see [`Engine::limit_propagation_since`]).
    pub fn propagation_mark(&self) -> usize {
        self.pending_propagation.len()
    }

    /// Keeps what was propagated after `mark` only for `targets` (a script's
    /// `redis.set_repl`: `REPL_NONE` drops it, `REPL_AOF` keeps it off the replicas,
    /// `REPL_REPLICA` out of the AOF).
    pub fn limit_propagation_since(&mut self, mark: usize, targets: Targets) {
        let limited = self.pending_propagation.split_off(mark);
        self.pending_propagation
            .extend(limited.into_iter().filter_map(|(db, argv, t)| {
                let t = Targets {
                    repl: t.repl && targets.repl,
                    aof: t.aof && targets.aof,
                };
                (t.repl || t.aof).then_some((db, argv, t))
            }));
    }

    /// Queues a command for propagation (replication stream and AOF) as part of the
    /// current top-level command.
    pub fn also_propagate(&mut self, db: usize, argv: Argv) {
        self.also_propagate_to(db, argv, Targets::BOTH);
    }

    /// Queues a command for the given targets (Redis's `alsoPropagate` with
    /// `PROPAGATE_AOF` / `PROPAGATE_REPL`): a replica's AOF records what its master sent,
    /// PUBLISH reaches replicas but not the AOF.
    pub fn also_propagate_to(&mut self, db: usize, argv: Argv, targets: Targets) {
        let targets = Targets {
            repl: targets.repl,
            aof: targets.aof && self.aof.is_on(),
        };
        if targets.repl || targets.aof {
            self.pending_propagation.push((db, argv, targets));
        }
    }

    /// Queues DELs for keys that expiry removed, in every database.
    pub fn propagate_expired(&mut self) {
        for db in 0..self.keyspace.dbs.len() {
            if !self.keyspace.dbs[db].has_expired_pending() {
                continue;
            }
            for key in self.keyspace.dbs[db].take_expired() {
                self.notify(notify::EXPIRED, "expired", &key, db);
                let argv: Argv = [
                    bytes::Bytes::from_static(b"DEL"),
                    bytes::Bytes::copy_from_slice(&key),
                ]
                .into_iter()
                .collect();
                self.also_propagate_to(db, argv, Targets::BOTH);
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
        if self.aof.replaying {
            return;
        }
        let to_repl = pending.iter().filter(|p| p.2.repl).count();
        Self::feed_batch(
            wrap_several,
            to_repl,
            pending.iter().filter(|p| p.2.repl),
            |db, argv| self.repl.feed(db, argv),
        );
        let to_aof = pending.iter().filter(|p| p.2.aof).count();
        if to_aof > 0 {
            Self::feed_batch(
                wrap_several,
                to_aof,
                pending.iter().filter(|p| p.2.aof),
                |db, argv| self.aof.feed(db, argv),
            );
        }
    }

    /// Feeds `count` commands through `feed`: wrapped in MULTI/EXEC when asked and there
    /// are several (so replicas and the AOF apply them atomically), as Redis 7.0 does.
    fn feed_batch<'a>(
        wrap_several: bool,
        count: usize,
        commands: impl Iterator<Item = &'a (usize, Argv, Targets)> + Clone,
        mut feed: impl FnMut(usize, &[&[u8]]),
    ) {
        let wrap = wrap_several && count > 1;
        let (Some(first), Some(last)) = (commands.clone().next(), commands.clone().last()) else {
            return;
        };
        if wrap {
            feed(first.0, &[b"MULTI"]);
        }
        for (db, argv, _) in commands {
            let parts: Vec<&[u8]> = argv.iter().map(|a| a.as_ref()).collect();
            feed(*db, &parts);
        }
        if wrap {
            feed(last.0, &[b"EXEC"]);
        }
    }

    /// Holds clients for `purpose` (see [`pause::Pauses::pause`]); expired keys stop being
    /// deleted at once, not at the next cron tick.
    pub fn pause(
        &mut self,
        purpose: pause::PausePurpose,
        kind: pause::PauseKind,
        until: Option<std::time::Instant>,
    ) {
        self.pauses.pause(purpose, kind, until);
        self.keyspace
            .hold_expiry(self.pauses.writes_held(std::time::Instant::now()));
    }

    /// Ends the pause of `purpose`; expired keys are deleted again at once if nothing else
    /// holds writes.
    pub fn unpause(&mut self, purpose: pause::PausePurpose) {
        self.pauses.unpause(purpose);
        self.keyspace
            .hold_expiry(self.pauses.writes_held(std::time::Instant::now()));
    }

    /// Forgets every WATCHed key of `session` and clears its flag (UNWATCH, EXEC, DISCARD).
    pub fn unwatch_all(&mut self, session: &mut Session) {
        let id = session.id();
        for w in session.watched.drain(..) {
            self.keyspace.dbs[w.db].unwatch(&w.key, id);
        }
        session
            .watch_flag
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// Drops a transaction being queued and every watch (RESET).
    pub fn reset_transaction(&mut self, session: &mut Session) {
        session.multi = None;
        session
            .info
            .multi
            .store(-1, std::sync::atomic::Ordering::Relaxed);
        self.unwatch_all(session);
    }

    /// Applies new settings that affect the engine (encoding thresholds).
    pub fn apply_settings(&mut self, settings: Arc<Settings>) {
        self.keyspace.limits = encoding_limits(&settings);
        self.keyspace
            .set_access_mode(eviction::access_mode(&settings));
        self.keyspace.log_key_events(
            notify::wants(&settings, notify::NEW),
            notify::wants(&settings, notify::KEY_MISS),
        );
        if settings.requirepass != self.settings.requirepass {
            self.acl.set_default_password(&settings.requirepass);
        }
        self.aof.configure(&settings);
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
        stream_nodes: NodeLimits {
            max_bytes: usize::try_from(s.stream_node_max_bytes).unwrap_or(usize::MAX),
            max_entries: usize::try_from(s.stream_node_max_entries).unwrap_or(usize::MAX),
        },
    }
}

/// The engine mutex; its guard publishes the replication batch when released, so no code
/// path can forget to hand propagated writes to the replicas.
#[derive(Debug)]
pub struct EngineLock(
    Mutex<Engine>,
    Arc<crate::scripting::control::RunControl>,
    Arc<aof_sink::Sink>,
    Arc<acl::DefaultUserAccess>,
);

impl EngineLock {
    /// The lock around `engine`.
    pub fn new(engine: Engine) -> EngineLock {
        let control = engine.scripts.control.clone();
        let sink = engine.aof.sink.clone();
        let default_user = engine.default_user.clone();
        default_user.publish(&engine.acl);
        EngineLock(Mutex::new(engine), control, sink, default_user)
    }

    /// The default user's access as of the last release of the lock: what accepting a
    /// client needs (protected mode, starting authenticated), read without the lock, so
    /// that a script or a long command holding it never stalls new connections (they get
    /// `-BUSY` as in Redis, not a hang).
    pub fn default_user(&self) -> &acl::DefaultUserAccess {
        &self.3
    }

    /// The AOF's writer, used without the lock: a connection writes its commands through
    /// before its replies leave (see [`aof_sink`]).
    pub fn aof_sink(&self) -> &aof_sink::Sink {
        &self.2
    }

    /// The running script as other clients see it, readable without the lock the script
    /// holds.
    pub fn script(&self) -> &crate::scripting::control::RunControl {
        &self.1
    }

    /// Takes the engine lock from a task, never blocking its thread behind a running
    /// script: while one runs, the task waits asynchronously (a script can run for seconds,
    /// and a blocked worker could be the one that must serve SCRIPT KILL). Otherwise the
    /// lock is tried in short slices, the thread's other tasks running in between.
    pub async fn lock_async(&self) -> EngineGuard<'_> {
        loop {
            if self.1.running_for().is_some() {
                self.1
                    .wait_finished(std::time::Duration::from_millis(100))
                    .await;
                continue;
            }
            if let Some(guard) = self.0.try_lock_for(std::time::Duration::from_millis(2)) {
                return EngineGuard(guard);
            }
            // Between attempts the thread serves its other tasks: a long command must not
            // take a whole worker from them.
            tokio::task::yield_now().await;
        }
    }

    /// Takes the engine lock.
    pub fn lock(&self) -> EngineGuard<'_> {
        EngineGuard(self.0.lock())
    }

    /// Takes the engine lock if it is free.
    pub fn try_lock(&self) -> Option<EngineGuard<'_>> {
        self.0.try_lock().map(EngineGuard)
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
        self.0.aof.write_pending();
        self.0.default_user.publish(&self.0.acl);
    }
}
