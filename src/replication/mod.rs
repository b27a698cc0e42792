//! Replication: the stream of writes a master sends its replicas, the sync sessions on both
//! sides, and the state operators read (status snapshots, history, live events).
//!
//! Layout: [`log`] and [`backlog`] are the stream (writer in the engine, shared buffer read by
//! replica senders); [`psync`] is the pure PSYNC decision; [`master`] serves our replicas (one
//! task per replica link, one shared full-sync job at a time); [`replica`] is the driver of
//! our own link to a master (connect → handshake → psync → receive → load → stream). The
//! engine lives in the command layer above, so replication reaches it through the [`Host`]
//! trait that `command::State` implements.

pub mod abort;
pub mod admission;
pub mod attach;
pub mod backlog;
pub mod dual_channel;
pub mod events;
pub mod fault;
pub mod history;
pub mod log;
pub mod master;
pub mod phase;
pub mod psync;
pub mod replica;
pub mod role;
pub mod status;
pub mod write_clock;

use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::config::Settings;
use crate::keyspace::{Keyspace, KeyspaceSnapshot};
use crate::resp::RequestParser;

pub use backlog::Backlog;
pub use events::{Event, Events};
pub use history::{SyncHistory, SyncKind, SyncOutcome, SyncRecord};
pub use log::ReplLog;
pub use phase::{Phase, Side};
pub use role::{LinkState, MasterLink, RoleState};
pub use status::{ReplicationStatus, Role};

/// The reading half of a connection a replication link runs on (TCP, or a Unix-domain
/// socket for a local client that became a replica).
pub type LinkRead = Box<dyn tokio::io::AsyncRead + Send + Unpin>;
/// The writing half of such a connection.
pub type LinkWrite = Box<dyn tokio::io::AsyncWrite + Send + Unpin>;

/// A point-in-time snapshot for a full sync, with the stream position it corresponds to.
#[derive(Debug, Clone)]
pub struct SyncSnapshot {
    /// The frozen keyspace.
    pub keyspace: KeyspaceSnapshot,
    /// Replication id at the snapshot.
    pub replid: String,
    /// Offset of the last stream byte the snapshot includes.
    pub offset: u64,
    /// Function libraries' code at the snapshot.
    pub functions: Vec<bytes::Bytes>,
}

/// What a filtered RDB keeps (`REPLCONF rdb-filter-only`, Redis 7.0): never the keys; the
/// function libraries when `functions` was named (`redis-cli --functions-rdb`); nothing
/// with an empty filter (`redis-cli --replica`, which wants only the stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdbFilter {
    /// Keep the function libraries.
    pub functions: bool,
}

/// Figures of a written RDB.
#[derive(Debug, Clone, Copy, Default)]
pub struct RdbStats {
    /// Bytes written.
    pub bytes: u64,
    /// Keys written.
    pub keys: u64,
}

/// A dataset loaded from a master's RDB, not yet installed.
#[derive(Debug)]
pub struct LoadedDataset {
    /// The new keyspace.
    pub keyspace: Keyspace,
    /// Keys loaded.
    pub keys: u64,
    /// Function libraries' code.
    pub functions: Vec<bytes::Bytes>,
}

/// What applying a chunk of the master's stream did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Bytes of complete commands consumed from the buffer.
    pub consumed: usize,
    /// Offsets to acknowledge at once (answers to REPLCONF GETACK), in order.
    pub acks: Vec<u64>,
    /// The stream was malformed: the link must be dropped and the history discarded.
    pub protocol_error: Option<String>,
    /// The link's master client is no longer the current one (a newer link replaced it):
    /// nothing was applied and the link must end, leaving the history alone.
    pub replaced: bool,
    /// A client pause holds writes on this replica (CLIENT PAUSE WRITE, as in Redis, holds
    /// the master's stream too): nothing was applied; `resume` wakes when the pauses change.
    pub held: Option<tokio::sync::watch::Receiver<u64>>,
}

/// The master's identity as a replica remembers it, to ask for a partial resync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedMaster {
    /// The id we follow.
    pub replid: String,
    /// Our processed offset.
    pub offset: u64,
    /// The database the master's stream was applying to (its last SELECT): a partial
    /// resync continues the stream where it was, and the master does not repeat SELECT.
    pub db: usize,
}

/// What both sides of replication read from the server around them: the configuration and
/// the shared replication state. `engine::State` implements it and the two narrow traits
/// below, so each side sees only what it needs: the master side [`SyncSource`] (two
/// methods), the replica side [`Follower`].
pub trait Host: Send + Sync + 'static {
    /// The current configuration.
    fn settings(&self) -> Arc<Settings>;
    /// The replication hub.
    fn hub(&self) -> &Replication;
}

/// What the master side needs from the keyspace to serve a full sync: a frozen view and
/// its RDB. Everything else it reads from the hub (backlog, replicas, role).
pub trait SyncSource: Host {
    /// Under the engine lock: creates the backlog if needed, freezes the keyspace, registers
    /// backlog readers `readers` at the snapshot offset + 1, and forces a SELECT in the
    /// stream. With a `filter`, the snapshot holds no keys (and functions only if kept).
    fn snapshot_for_sync(&self, readers: &[u64], filter: Option<RdbFilter>) -> SyncSnapshot;
    /// A command a replica sent on its link, other than `REPLCONF ACK`: its name as Redis
    /// logs it and whether it touches the keyspace (`None` when unknown).
    fn describe_replica_command(&self, argv: &[bytes::Bytes]) -> Option<(&'static str, bool)>;
    /// Serialises a snapshot as an RDB (runs off the engine lock, on a blocking thread);
    /// fails soon after `stop` is set.
    fn write_rdb(
        &self,
        snapshot: &SyncSnapshot,
        out: &mut dyn io::Write,
        stop: Arc<std::sync::atomic::AtomicBool>,
    ) -> io::Result<RdbStats>;
}

/// The client a replica's link applies the master's stream through: its id, and a future
/// that completes when it is killed (CLIENT KILL TYPE master, an operator resync).
pub struct MasterClient {
    pub id: u64,
    pub killed: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

/// What the replica side needs: loading a snapshot and applying the stream into the
/// keyspace, the position a PSYNC asks from, and the few server states the link drives
/// (link up/down gates, the master client, `-LOADING`, the failover hand-over's answer).
pub trait Follower: Host {
    /// Parses an RDB into a new dataset (off the engine lock, on a blocking thread),
    /// publishing its progress to the load [`Follower::set_loading`] started.
    fn load_rdb(&self, input: &mut dyn io::Read) -> Result<LoadedDataset, String>;
    /// The running load's progress, if a load runs.
    fn load_figures(&self) -> Option<crate::rdb::progress::LoadFigures>;
    /// Installs a loaded dataset and adopts the master's replication id and offset.
    fn install_dataset(&self, data: LoadedDataset, replid: &str, offset: u64);
    /// True when every database is empty (`repl-diskless-load on-empty-db`).
    fn dataset_is_empty(&self) -> bool;
    /// Applies the complete commands at the front of `buf` (from our master) through master
    /// client `client`, forwards the applied bytes to our own replicas, and reports what it
    /// consumed.
    fn apply_from_master(
        &self,
        client: u64,
        parser: &mut RequestParser,
        buf: &mut BytesMut,
    ) -> Applied;
    /// Our replication id and offset, what a PSYNC asks from a master.
    fn repl_position(&self) -> CachedMaster;
    /// The master continued with a new replication id (`+CONTINUE <id>`).
    fn master_replid_changed(&self, replid: &str);
    /// The link of driver `generation` streams: the role and the engine's read-only,
    /// stale-data and expiry gates say so. False when the generation is stale.
    fn link_up(&self, generation: u64) -> bool;
    /// The link of driver `generation` is down; returns the master when it had been up (a
    /// `LinkDown` event is due).
    fn link_down(&self, generation: u64, was_up: bool) -> Option<(String, u16)>;
    /// The target of our failover hand-over answered our PSYNC FAILOVER: accepted (the
    /// failover is complete) or refused (it is aborted and we are a master again).
    fn failover_answered(&self, accepted: bool);
    /// Registers the client that applies our master's stream (CLIENT LIST shows it as
    /// `master`), replacing the previous link's.
    fn open_master_client(&self, peer: &str, db: usize) -> MasterClient;
    /// Unregisters master client `id` when its link ends. A link that ends after a newer
    /// one opened its client (REPLICAOF cancels a link task, which unwinds later) leaves
    /// the newer client alone.
    fn close_master_client(&self, id: u64);
    /// Sets or clears the dataset-loading state; a load of `total_bytes` (`None`:
    /// unknown) starts its published progress with it, and ends it with the state.
    fn set_loading(&self, loading: Loading, total_bytes: Option<u64>);
    /// Frees the old dataset an asynchronous load keeps serving, and turns the load into a
    /// blocking one (clients get -LOADING); false when no such load runs.
    fn release_old_dataset(&self) -> bool;
    /// The port we announce to our master (`replica-announce-port`, else the bound port:
    /// the TLS one under `tls-replication`, as Redis).
    fn announced_port(&self) -> u16;
    /// The TLS connector for our master (`tls-replication`), if TLS is configured.
    fn tls_connector(&self) -> Option<tokio_rustls::TlsConnector>;
}

/// Shared replication state; every task reaches it through [`Host::hub`].
#[derive(Debug)]
pub struct Replication {
    /// Recent sync sessions.
    pub history: Mutex<SyncHistory>,
    /// Live events.
    pub events: Events,
    /// Our replicas.
    pub replicas: master::Registry,
    /// Full-sync jobs.
    pub full_syncs: master::FullSyncQueue,
    /// The role (master, or replica with its link), the history a reconnect resumes from,
    /// the failover steps: changed only through [`RoleState`]'s methods, under this lock
    /// (taken after the engine lock when both are held).
    pub role: Mutex<RoleState>,
    /// The current link-driver generation, published after every role change: a driver
    /// whose generation is no longer current stops at its next step.
    pub generation: watch::Sender<u64>,
    /// Replicas (`ip:port`) whose next PSYNC must get a full sync (operator resync).
    pub forced_full: Mutex<std::collections::HashSet<String>>,
    /// Full syncs served (INFO sync_full).
    pub sync_full: AtomicU64,
    /// Full syncs served by cause, indexed as [`psync::FullReason::ALL`]; counted since
    /// start (CONFIG RESETSTAT leaves them: they are exported as Prometheus counters).
    pub full_sync_causes: [AtomicU64; 6],
    /// Links that ended with an error since start, by side (master, replica) and code
    /// (indexed as `AbortCode::ALL`).
    pub link_aborts: [[AtomicU64; abort::AbortCode::ALL.len()]; 2],
    /// Partial resyncs accepted.
    pub sync_partial_ok: AtomicU64,
    /// Partial resyncs refused.
    pub sync_partial_err: AtomicU64,
    /// Replicas online with a recent enough ACK (min-replicas-to-write), set by the cron.
    pub good_replicas: AtomicUsize,
    /// Bumped on every ACK received: WAIT waits on it.
    pub acks: watch::Sender<u64>,
    /// Stream bytes received from our master (INFO total_net_repl_input_bytes).
    pub net_input_bytes: AtomicU64,
    /// Stream bytes read from our master but not applied yet (a pause holds them):
    /// `slave_read_repl_offset` is our offset plus these.
    pub unapplied_bytes: AtomicU64,
    /// Stream bytes sent to our replicas (INFO total_net_repl_output_bytes).
    pub net_output_bytes: AtomicU64,
    /// The shared replication buffer (the same one the engine's log writes to).
    pub backlog: Arc<Backlog>,
    /// Unix ms since when a master has had no replica (0 = it has some), for the backlog ttl.
    pub no_replicas_since_ms: std::sync::atomic::AtomicI64,
    /// Our own handle on the socket of our master link while it is up (see
    /// [`Replication::master_hung_up`]).
    pub master_socket: Mutex<Option<std::os::fd::OwnedFd>>,
    /// Dual-channel full syncs being paired (master side).
    pub dual_channels: dual_channel::DualChannels,
    /// Stream bytes our master sent during a dual-channel full sync, held until the
    /// snapshot is loaded (replica side).
    pub sync_buffered_bytes: AtomicU64,
}

impl Replication {
    /// A hub keeping `history_size` sync sessions, around the log's `backlog`.
    pub fn new(history_size: usize, backlog: Arc<Backlog>) -> Replication {
        let (acks, _) = watch::channel(0);
        Replication {
            history: Mutex::new(SyncHistory::new(history_size)),
            events: Events::default(),
            replicas: master::Registry::default(),
            full_syncs: master::FullSyncQueue::default(),
            role: Mutex::new(RoleState::default()),
            generation: watch::channel(0).0,
            forced_full: Mutex::new(std::collections::HashSet::new()),
            sync_full: AtomicU64::new(0),
            full_sync_causes: Default::default(),
            link_aborts: Default::default(),
            sync_partial_ok: AtomicU64::new(0),
            sync_partial_err: AtomicU64::new(0),
            good_replicas: AtomicUsize::new(0),
            acks,
            net_input_bytes: AtomicU64::new(0),
            unapplied_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            backlog,
            no_replicas_since_ms: std::sync::atomic::AtomicI64::new(0),
            master_socket: Mutex::new(None),
            dual_channels: dual_channel::DualChannels::default(),
            sync_buffered_bytes: AtomicU64::new(0),
        }
    }

    /// True when our master has closed the link but the link task has not noticed yet.
    /// INFO asks before it says `master_link_status:up`: a master that closed a link and
    /// then answered its client (CLIENT KILL TYPE replica, then EXEC's reply) must not be
    /// reported up by a replica asked right after, as Redis's one event loop never does.
    /// The socket is only peeked at; the link task still reads it.
    pub fn master_hung_up(&self) -> bool {
        let socket = self.master_socket.lock();
        let Some(fd) = socket.as_ref() else {
            return false;
        };
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        // The socket is non-blocking (tokio's), so the peek never waits.
        match socket2::SockRef::from(fd).peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            ),
        }
    }

    /// True while we follow a master.
    pub fn is_replica(&self) -> bool {
        self.role.lock().is_replica()
    }

    /// The sync counters.
    pub fn counters(&self) -> status::SyncCounters {
        status::SyncCounters {
            sync_full: self.sync_full.load(Ordering::Relaxed),
            full_by_cause: std::array::from_fn(|i| {
                self.full_sync_causes[i].load(Ordering::Relaxed)
            }),
            sync_partial_ok: self.sync_partial_ok.load(Ordering::Relaxed),
            sync_partial_err: self.sync_partial_err.load(Ordering::Relaxed),
            link_aborts: std::array::from_fn(|side| {
                std::array::from_fn(|code| self.link_aborts[side][code].load(Ordering::Relaxed))
            }),
        }
    }

    /// Counts a link of ours on `side` that ended with `code`.
    pub fn count_link_abort(&self, side: Side, code: abort::AbortCode) {
        let side = match side {
            Side::Master => 0,
            Side::Replica => 1,
        };
        self.link_aborts[side][code.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Zeroes the counters CONFIG RESETSTAT resets (sync counts, replication traffic).
    pub fn reset_counters(&self) {
        for c in [
            &self.sync_full,
            &self.sync_partial_ok,
            &self.sync_partial_err,
            &self.net_input_bytes,
            &self.net_output_bytes,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Opens a sync session in the history and announces it.
    pub fn start_sync(&self, side: Side, peer: String) -> u64 {
        let id = self.history.lock().start(side, peer.clone());
        self.set_trace_id(id);
        self.events.publish(Event::SyncStarted {
            sync_id: id,
            side,
            peer,
        });
        id
    }

    /// Records the trace id of the current span as session `id`'s trace (when traces are
    /// exported), so the history links to the trace.
    pub fn set_trace_id(&self, id: u64) {
        if let Some(trace) = crate::telemetry::logging::current_trace_id() {
            if let Some(r) = self.history.lock().get_mut(id) {
                r.trace_id = Some(trace);
            }
        }
    }

    /// Moves session `id` to `phase` (history, event, and the link's phase for INFO).
    pub fn enter_phase(&self, id: u64, phase: Phase) {
        self.history.lock().enter_phase(id, phase);
        self.events
            .publish(Event::PhaseChanged { sync_id: id, phase });
    }

    /// Records whether session `id` is full or partial, and why.
    pub fn decide_kind(
        &self,
        id: u64,
        kind: SyncKind,
        reason: Option<String>,
        replid: &str,
        offset: i64,
    ) {
        if let Some(r) = self.history.lock().get_mut(id) {
            r.kind = Some(kind);
            r.reason = reason.clone();
            r.replid = replid.to_string();
            r.offset = offset;
        }
        self.events.publish(Event::SyncKindDecided {
            sync_id: id,
            kind,
            reason,
        });
    }

    /// Session `id` (a master's full sync) waits for admission because of `reason`.
    pub fn hold_sync(&self, id: u64, reason: admission::WaitReason) {
        self.history.lock().hold(id, reason);
        self.events.publish(Event::SyncQueued {
            sync_id: id,
            reason,
        });
    }

    /// A job took session `id`: its wait for admission ends.
    pub fn admit_sync(&self, id: u64) {
        self.history.lock().admit(id);
    }

    /// Adds transferred bytes and keys to session `id`.
    pub fn add_transfer(&self, id: u64, bytes: u64, keys: u64) {
        if let Some(r) = self.history.lock().get_mut(id) {
            r.bytes += bytes;
            r.keys += keys;
        }
    }

    /// Ends session `id`.
    pub fn finish_sync(&self, id: u64, outcome: SyncOutcome) {
        let (ok, error) = match &outcome {
            SyncOutcome::Failed(e) => (false, Some(e.clone())),
            _ => (true, None),
        };
        let (error, error_code) = match error {
            Some(e) => (Some(e.detail), Some(e.code)),
            None => (None, None),
        };
        // A session ends once: the link closing after a sync that succeeded (its stream
        // started) is the link's own event, not a second end of the sync.
        if !self.history.lock().finish(id, outcome) {
            return;
        }
        self.events.publish(Event::SyncFinished {
            sync_id: id,
            ok,
            error,
            error_code,
        });
    }
}

/// Aborts a task when dropped: a helper task (a job's watcher, a progress reporter) ends
/// with whatever owns it.
pub(crate) struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a replica's full-sync load does to its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loading {
    /// No load runs.
    Off,
    /// The dataset is being replaced: commands without the `loading` flag get -LOADING.
    Blocking,
    /// The new dataset loads beside the old one, which keeps serving; only
    /// `no_async_loading` commands and load-time configs get -LOADING (INFO `async_loading`).
    Async,
}
