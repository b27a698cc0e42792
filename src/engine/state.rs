//! The state every task shares: settings, clients, counters kept outside the engine lock,
//! bound ports, the shutdown signal and the replication hub, around the [`EngineLock`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use bytes::Bytes;

use super::session::{ClientRegistry, Session};
use super::{Engine, EngineLock, EngineStats};
use crate::config::Settings;
use crate::replication::{Backlog, Replication};
use crate::resp::ReplyBuf;

/// Counters updated without the engine lock.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Connections accepted.
    pub connections_received: AtomicU64,
    /// Clients disconnected by `maxmemory-clients` (INFO evicted_clients).
    pub evicted_clients: AtomicU64,
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
    /// TLS port (0 when none).
    pub tls: u16,
}

/// How the engine runs a command that no client sent — our master's stream, applied on a
/// replica: the command layer's executor, handed in by the composition root (the engine sits
/// below the command families and cannot name them; raft-rs hands entries to its
/// application the same way).
pub type RunCommand = fn(&State, &mut Engine, &mut Session, &[Bytes], &mut ReplyBuf);

/// How the engine names a command it will not run — one a replica sent on its replication
/// link: the name Redis logs (`xinfo|help`) and whether it reads or writes the keyspace;
/// `None` for an unknown command. Handed in by the composition root, as [`RunCommand`].
pub type DescribeCommand = fn(&[Bytes]) -> Option<(&'static str, bool)>;

/// The server's listening sockets, rebound at run time (CONFIG SET `bind`, `port`,
/// `http-*`). The composition root implements it: only it sees both the RESP listeners
/// (server layer) and the control plane's (control layer), which sit above the engine.
pub trait Sockets: Send + Sync + std::fmt::Debug {
    /// Listens on every `binds` address on `port` (0: one ephemeral port), keeping the
    /// listeners already on an address wanted and closing the others. On failure nothing
    /// changes. Returns the port listened on.
    fn rebind_resp(&self, binds: &[String], port: u16, backlog: u32) -> Result<u16, String>;
    /// The same for the TLS listeners (`tls-port`); no `binds` and port 0 closes them all.
    fn rebind_tls(&self, binds: &[String], port: u16, backlog: u32) -> Result<u16, String>;
    /// Moves the control plane to `settings`' `http-enabled`, `http-bind` and `http-port`
    /// (resolved against RESP port `resp_port`); on failure nothing changes. Returns its
    /// port (0: off).
    fn rebind_http(&self, settings: &Settings, resp_port: u16) -> Result<u16, String>;
    /// Stops the RESP listeners (plain and TLS) taking connections, at once: a stopping
    /// server refuses new clients before its SHUTDOWN client sees the connection close, as
    /// Redis closes its listeners in `prepareForShutdown`.
    fn refuse_clients(&self);
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
    /// Worker threads of the runtime the server started on (`io-threads`), as the runtime
    /// reports them: INFO's `io_threads_active` shows whether more than one runs connections.
    pub runtime_workers: usize,
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
    /// How far the running load of a master's snapshot has got (INFO `loading_*`).
    pub load_progress: Arc<crate::rdb::progress::LoadProgress>,
    /// Figures published for readers that must not wait for the engine (the control plane).
    pub observed: super::published::Observations,
    /// A weak handle to ourselves, to hand `Arc<State>` to tasks started from commands.
    me: std::sync::OnceLock<std::sync::Weak<State>>,
    /// The session that applies our master's stream (replica side), with the stream bytes
    /// applied but not yet forwarded (inside a MULTI).
    pub master_session: Mutex<Option<super::replication::MasterSession>>,
    /// The command executor (see [`RunCommand`]).
    pub run_command: RunCommand,
    /// The command namer (see [`DescribeCommand`]).
    pub describe_command: DescribeCommand,
    /// A shutdown a signal asked for, which the cron starts (see [`super::shutdown`]).
    signal_shutdown: Mutex<Option<super::shutdown::SignalRequest>>,
    /// Set from a signal's shutdown request until it ends or is cancelled (Redis's
    /// `shutdown_asap`): a second SIGINT meanwhile exits at once.
    shutdown_asap: std::sync::atomic::AtomicBool,
    /// The listening sockets, once the server bound them (see [`Sockets`]).
    pub sockets: std::sync::OnceLock<Box<dyn Sockets>>,
    /// The TLS context new TLS connections use (none until TLS is configured); replaced
    /// whole by CONFIG SET, so an open connection keeps the one it started with.
    pub tls: RwLock<Option<crate::tls::Context>>,
    /// The control plane's HTTPS acceptor (`http-tls-*`; none: plain HTTP), read at each
    /// accepted connection.
    pub http_tls: RwLock<Option<crate::tls::HttpAcceptor>>,
    /// `maxmemory-clients` in bytes (0: off), kept with the settings: every connection
    /// checks it after each batch, and one relaxed load costs less there than the settings'
    /// lock and reference count.
    client_eviction_limit: AtomicU64,
}

/// `maxmemory-clients` of `settings` in bytes, 0 when client eviction is off.
fn client_eviction_limit(settings: &Settings) -> u64 {
    settings
        .maxmemory_clients
        .bytes(settings.maxmemory)
        .unwrap_or(0)
}

impl State {
    /// State for a server starting with `settings`.
    pub fn new(
        settings: Settings,
        config_file: Option<PathBuf>,
        run_command: RunCommand,
        describe_command: DescribeCommand,
    ) -> Arc<State> {
        let settings_history = settings.sync_history_size as usize;
        let backlog = Arc::new(Backlog::new(0, settings.repl_backlog_size));
        let settings = Arc::new(settings);
        let client_limit = client_eviction_limit(&settings);
        let (shutdown, _) = watch::channel(false);
        let state = Arc::new(State {
            engine: EngineLock::new(Engine::new(settings.clone(), backlog.clone())),
            settings: RwLock::new(settings),
            config_file,
            runtime_workers: tokio::runtime::Handle::try_current()
                .map_or(1, |h| h.metrics().num_workers()),
            clients: ClientRegistry::new(),
            stats: ServerStats::default(),
            run_id: crate::telemetry::process::run_id().to_string(),
            started: Instant::now(),
            ports: Mutex::new(BoundPorts::default()),
            shutdown,
            repl: Arc::new(Replication::new(settings_history, backlog)),
            load_progress: Arc::default(),
            observed: Default::default(),
            me: std::sync::OnceLock::new(),
            master_session: Mutex::new(None),
            run_command,
            describe_command,
            signal_shutdown: Mutex::new(None),
            shutdown_asap: std::sync::atomic::AtomicBool::new(false),
            sockets: std::sync::OnceLock::new(),
            tls: RwLock::new(None),
            http_tls: RwLock::new(None),
            client_eviction_limit: AtomicU64::new(client_limit),
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
        self.client_eviction_limit
            .store(client_eviction_limit(&settings), Ordering::Relaxed);
        // At once, as Redis resizes its backlog in CONFIG SET: a replica that reconnects
        // right after must find the backlog already at its new size.
        self.repl.backlog.set_limit(settings.repl_backlog_size);
        *self.settings.write() = settings;
    }

    /// Records a signal's shutdown request for the cron; false when one is already under
    /// way (a second signal).
    pub fn request_signal_shutdown(&self, request: super::shutdown::SignalRequest) -> bool {
        if self.shutdown_asap.swap(true, Ordering::AcqRel) {
            return false;
        }
        *self.signal_shutdown.lock() = Some(request);
        true
    }

    /// The signal's request, once (the cron starts it; SHUTDOWN ABORT drops it).
    pub fn take_signal_shutdown(&self) -> Option<super::shutdown::SignalRequest> {
        self.signal_shutdown.lock().take()
    }

    /// True from a signal's request until its shutdown is cancelled or fails.
    pub fn shutdown_asap(&self) -> bool {
        self.shutdown_asap.load(Ordering::Acquire)
    }

    /// Sets or clears [`State::shutdown_asap`].
    pub fn set_shutdown_asap(&self, on: bool) {
        self.shutdown_asap.store(on, Ordering::Release);
    }

    /// Asks every task to stop; new clients are refused from now on.
    pub fn request_shutdown(&self) {
        let _ = self.shutdown.send(true);
        if let Some(sockets) = self.sockets.get() {
            sockets.refuse_clients();
        }
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
        self.stats.evicted_clients.store(0, Ordering::Relaxed);
        crate::keyspace::lazyfree::reset_stats();
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
        engine.eviction.reset_counters();
        self.repl.reset_counters();
        self.stats
            .reset_at_ms
            .store(crate::keyspace::now_ms(), Ordering::Relaxed);
    }
}

impl State {
    /// Applies `maxmemory-clients`, when set (see [`super::session::ClientRegistry::evict_over`]),
    /// at most once a millisecond: the check after each batch and the cron's.
    pub fn evict_clients_if_needed(&self) {
        self.evict_clients(true);
    }

    /// Applies `maxmemory-clients` now, as Redis does before it evicts keys: clients over
    /// their own limit go first, and what they held is not counted against `maxmemory`
    /// (see [`super::session::ClientRegistry::memory_being_freed`]). True when a client
    /// was evicted.
    pub fn evict_clients_before_keys(&self) -> bool {
        self.evict_clients(false)
    }

    fn evict_clients(&self, throttle: bool) -> bool {
        let limit = self.client_eviction_limit.load(Ordering::Relaxed);
        if limit == 0 {
            return false;
        }
        let evicted = self
            .clients
            .evict_over(limit, crate::keyspace::now_ms(), throttle);
        if evicted > 0 {
            self.stats
                .evicted_clients
                .fetch_add(evicted, Ordering::Relaxed);
        }
        evicted > 0
    }
}
