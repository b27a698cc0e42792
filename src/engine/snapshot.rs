//! One consistent reading of the server's figures: clients, memory, persistence, stats,
//! CPU, keyspace sizes and per-command counters.
//!
//! "Report once, render twice": INFO's sections and the control plane's `/metrics` and
//! `/v1/server` all render from a [`ServerSnapshot`], so they cannot disagree on what a
//! figure means or where it comes from. Taking one costs a short engine-lock section (plain
//! copies of counters; the per-command table is a few hundred entries at most); the
//! lock-free figures (atomics, allocator, CPU) are read outside it.

use std::sync::atomic::Ordering;

use super::{BoundPorts, CommandStat, Engine, State};
use crate::telemetry::process;

/// INFO `# Clients`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientFigures {
    /// connected_clients (replicas excluded).
    pub connected: u64,
    /// blocked_clients.
    pub blocked: u64,
    /// maxclients.
    pub max: u64,
    /// tracking_clients: clients with CLIENT TRACKING on.
    pub tracking: u64,
}

/// INFO `# Memory`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryFigures {
    /// used_memory: bytes allocated.
    pub used: u64,
    /// used_memory_rss.
    pub rss: u64,
    /// used_memory_peak.
    pub peak: u64,
    /// allocator_active: bytes in the allocator's active pages.
    pub allocator_active: u64,
    /// allocator_resident: bytes the allocator keeps resident.
    pub allocator_resident: u64,
    /// total_system_memory.
    pub total_system: u64,
    /// maxmemory.
    pub maxmemory: u64,
    /// maxmemory_policy.
    pub maxmemory_policy: String,
}

/// INFO `# Stats` counters (those kept by the engine and the connection tasks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatFigures {
    /// total_connections_received.
    pub connections_received: u64,
    /// total_commands_processed.
    pub commands_processed: u64,
    /// instantaneous_ops_per_sec.
    pub instantaneous_ops: u64,
    /// total_net_input_bytes.
    pub net_input_bytes: u64,
    /// total_net_output_bytes.
    pub net_output_bytes: u64,
    /// rejected_connections.
    pub rejected_connections: u64,
    /// expired_keys.
    pub expired_keys: u64,
    /// evicted_keys.
    pub evicted_keys: u64,
    /// total_eviction_exceeded_time (ms over maxmemory).
    pub eviction_exceeded_ms: u64,
    /// keyspace_hits.
    pub keyspace_hits: u64,
    /// keyspace_misses.
    pub keyspace_misses: u64,
    /// total_error_replies.
    pub total_error_replies: u64,
    /// unexpected_error_replies.
    pub unexpected_error_replies: u64,
    /// total_reads_processed.
    pub reads_processed: u64,
    /// total_writes_processed.
    pub writes_processed: u64,
}

/// INFO `# Persistence` (the figures that exist).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersistenceFigures {
    /// loading.
    pub loading: bool,
    /// async_loading.
    pub async_loading: bool,
    /// rdb_changes_since_last_save.
    pub changes_since_last_save: u64,
    /// rdb_last_save_time (unix seconds).
    pub last_save_time: i64,
    /// rdb_bgsave_in_progress.
    pub bgsave_in_progress: bool,
    /// current_save_keys_total: keys of the save in progress (0 when none).
    pub current_save_keys_total: u64,
    /// rdb_last_bgsave_status is "ok".
    pub last_bgsave_ok: bool,
    /// rdb_last_bgsave_time_sec (-1 before the first).
    pub last_bgsave_secs: i64,
    /// rdb_current_bgsave_time_sec (-1 when none runs).
    pub current_bgsave_secs: i64,
    /// rdb_saves: completed saves since start.
    pub saves: u64,
    /// rdb_last_load_keys_loaded.
    pub last_load_keys_loaded: u64,
    /// rdb_last_load_keys_expired.
    pub last_load_keys_expired: u64,
    /// The running load of a master's snapshot (INFO `loading_*`), if any.
    pub load: Option<crate::rdb::progress::LoadFigures>,
    /// The append-only file's figures.
    pub aof: AofFigures,
}

/// INFO persistence's `aof_*` fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AofFigures {
    /// aof_enabled (on, or waiting for its first rewrite).
    pub enabled: bool,
    /// aof_rewrite_in_progress.
    pub rewrite_in_progress: bool,
    /// aof_rewrite_scheduled.
    pub rewrite_scheduled: bool,
    /// aof_last_rewrite_time_sec (-1 before one).
    pub last_rewrite_secs: i64,
    /// aof_current_rewrite_time_sec (-1 when none runs).
    pub current_rewrite_secs: i64,
    /// aof_last_bgrewrite_status is "ok".
    pub last_rewrite_ok: bool,
    /// aof_rewrites.
    pub rewrites: u64,
    /// aof_rewrites_consecutive_failures.
    pub consecutive_failures: u64,
    /// aof_last_write_status is "ok".
    pub last_write_ok: bool,
    /// aof_last_cow_size: always 0, rewrites copy segments instead of forking, so no page
    /// is copied on write. A field, not a literal, so that INFO and /metrics print one figure.
    pub last_cow_size: u64,
    /// aof_current_size.
    pub current_size: u64,
    /// aof_base_size.
    pub base_size: u64,
    /// aof_buffer_length.
    pub buffer_length: u64,
    /// aof_pending_bio_fsync.
    pub pending_fsync: u64,
    /// aof_delayed_fsync: always 0, a write never waits for a background fsync in flight
    /// (Redis postpones it and counts that here).
    pub delayed_fsync: u64,
}

/// One line of INFO `# Keyspace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbFigures {
    /// Database number.
    pub id: usize,
    /// keys.
    pub keys: u64,
    /// expires.
    pub expires: u64,
}

/// Everything above, read at one instant.
#[derive(Debug, Clone, Default)]
pub struct ServerSnapshot {
    /// Unix ms when taken.
    pub taken_at_ms: i64,
    /// uptime_in_seconds.
    pub uptime_secs: u64,
    /// Bound ports.
    pub ports: BoundPorts,
    /// Clients.
    pub clients: ClientFigures,
    /// Memory.
    pub memory: MemoryFigures,
    /// Stats counters.
    pub stats: StatFigures,
    /// Persistence.
    pub persistence: PersistenceFigures,
    /// used_cpu_sys, used_cpu_user (seconds).
    pub cpu: (f64, f64),
    /// Non-empty databases, in order (INFO prints only those).
    pub keyspace: Vec<DbFigures>,
    /// Per-command counters, sorted by name (INFO `cmdstat_<name>`).
    pub commands: Vec<(&'static str, CommandStat)>,
    /// Error replies by code, sorted (INFO `errorstat_<code>`).
    pub errors: Vec<(String, u64)>,
}

impl ServerSnapshot {
    /// Takes a snapshot while the caller holds the engine lock (INFO, and the figures
    /// published for the control plane, see [`super::published`]).
    pub fn capture(state: &State, engine: &Engine) -> ServerSnapshot {
        let mut snap = ServerSnapshot::lock_free(state);
        snap.fill_from_engine(engine);
        snap.persistence.load = state.load_progress.figures();
        snap.fill_sync_snapshots(state);
        snap
    }

    /// A snapshot being serialised for a full sync counts as a save in progress, as
    /// Redis's RDB child does for a full sync (disk-based or diskless).
    fn fill_sync_snapshots(&mut self, state: &State) {
        let p = &mut self.persistence;
        if p.bgsave_in_progress {
            return;
        }
        if let Some(since) = state.repl.full_syncs.producing_since() {
            p.bgsave_in_progress = true;
            p.current_bgsave_secs = since.elapsed().as_secs() as i64;
        }
    }

    /// The figures that need no engine lock.
    fn lock_free(state: &State) -> ServerSnapshot {
        let st = &state.stats;
        let alloc = process::allocator_stats();
        let used = alloc.allocated;
        let peak = st.memory_peak.fetch_max(used, Ordering::Relaxed).max(used);
        ServerSnapshot {
            taken_at_ms: crate::keyspace::now_ms(),
            uptime_secs: state.uptime_secs(),
            ports: *state.ports.lock(),
            clients: ClientFigures {
                connected: state.clients.count() as u64,
                // Every waiting client: on keys (BLPOP...), in WAIT, held by a pause.
                blocked: state.clients.blocked_count() as u64,
                ..ClientFigures::default()
            },
            memory: MemoryFigures {
                used,
                rss: process::rss_bytes(),
                peak,
                allocator_active: alloc.active,
                allocator_resident: alloc.resident,
                total_system: process::total_system_memory(),
                ..MemoryFigures::default()
            },
            stats: StatFigures {
                connections_received: st.connections_received.load(Ordering::Relaxed),
                instantaneous_ops: st.instantaneous_ops.load(Ordering::Relaxed),
                net_input_bytes: st.net_input_bytes.load(Ordering::Relaxed),
                net_output_bytes: st.net_output_bytes.load(Ordering::Relaxed),
                rejected_connections: st.rejected_connections.load(Ordering::Relaxed),
                reads_processed: st.reads_processed.load(Ordering::Relaxed),
                writes_processed: st.writes_processed.load(Ordering::Relaxed),
                ..StatFigures::default()
            },
            cpu: process::cpu_seconds(),
            ..ServerSnapshot::default()
        }
    }

    fn fill_from_engine(&mut self, e: &Engine) {
        let ks = &e.keyspace;
        self.clients.max = e.settings.maxclients;
        self.clients.tracking = e.tracking.clients() as u64;
        self.memory.maxmemory = e.settings.maxmemory;
        self.memory.maxmemory_policy = e.settings.maxmemory_policy.clone();
        self.stats.commands_processed = e.stats.total_commands;
        self.stats.expired_keys = ks.stat_sum(|d| d.stat_expired);
        self.stats.evicted_keys = e.eviction.evicted_keys;
        self.stats.eviction_exceeded_ms = e.eviction.exceeded_time().as_millis() as u64;
        self.stats.keyspace_hits = ks.stat_sum(|d| d.stat_hits);
        self.stats.keyspace_misses = ks.stat_sum(|d| d.stat_misses);
        self.stats.total_error_replies = e.stats.total_error_replies;
        self.stats.unexpected_error_replies = e.stats.unexpected_error_replies;
        self.persistence = PersistenceFigures {
            loading: e.loading,
            async_loading: e.async_loading,
            changes_since_last_save: e.dirty,
            last_save_time: e.lastsave,
            bgsave_in_progress: e.rdb.bgsave.is_some(),
            current_save_keys_total: e.rdb.current_save_keys_total(),
            last_bgsave_ok: e.rdb.last_bgsave_ok,
            last_bgsave_secs: e.rdb.last_bgsave_secs,
            current_bgsave_secs: e.rdb.current_bgsave_secs(),
            saves: e.rdb.saves,
            last_load_keys_loaded: e.rdb.last_load_keys_loaded,
            last_load_keys_expired: e.rdb.last_load_keys_expired,
            load: None,
            aof: AofFigures {
                enabled: e.aof.state != super::aof::AofState::Off,
                rewrite_in_progress: e.aof.rewrite.is_some(),
                rewrite_scheduled: e.aof.rewrite_scheduled,
                last_rewrite_secs: e.aof.last_rewrite_secs,
                current_rewrite_secs: e.aof.rewrite.as_ref().map_or(-1, |r| r.secs()),
                last_rewrite_ok: e.aof.last_rewrite_ok,
                rewrites: e.aof.rewrites,
                consecutive_failures: e.aof.consecutive_failures,
                last_write_ok: !e.aof.sink.failing(),
                last_cow_size: 0,
                current_size: e.aof.current_size,
                base_size: e.aof.base_size,
                buffer_length: e.aof.buffer_len() as u64,
                pending_fsync: e.aof.fsync_in_flight(),
                delayed_fsync: 0,
            },
        };
        self.keyspace = ks
            .dbs
            .iter()
            .filter(|db| !db.is_empty())
            .map(|db| DbFigures {
                id: db.id,
                keys: db.len() as u64,
                expires: db.expires_count() as u64,
            })
            .collect();
        let mut commands: Vec<(&'static str, CommandStat)> =
            e.stats.commands.iter().map(|(n, s)| (*n, *s)).collect();
        commands.sort_by_key(|(n, _)| *n);
        self.commands = commands;
        let mut errors: Vec<(String, u64)> = e
            .stats
            .errors
            .iter()
            .map(|(c, n)| (c.clone(), *n))
            .collect();
        errors.sort();
        self.errors = errors;
    }

    /// Keys in every database.
    pub fn total_keys(&self) -> u64 {
        self.keyspace.iter().map(|d| d.keys).sum()
    }

    /// Keys with a TTL in every database.
    pub fn total_expires(&self) -> u64 {
        self.keyspace.iter().map(|d| d.expires).sum()
    }
}
