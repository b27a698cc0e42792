//! The master side: the registry of our replicas, the full-sync jobs they share, and one
//! task per replica link that streams the backlog to it.
//!
//! A replica's life, as INFO shows it: `wait_bgsave` (waiting for a snapshot; a diskless
//! job waits `repl-diskless-sync-delay` so that replicas arriving together share one) →
//! `send_bulk` (receiving the RDB) → `online` (streaming). A partial resync goes straight to
//! `online`. Each link task holds only a cursor into the shared [`Backlog`]; a replica whose
//! unsent bytes pass `client-output-buffer-limit replica` is dropped and must resync, so the
//! master's memory stays bounded.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, Notify};
use tracing::{info, info_span, warn, Instrument};

use super::abort::{AbortCode, LinkError};
use super::admission::{AdmissionStatus, WaitReason};
use super::backlog::Read;
use super::backlog::TimeFigures;
use super::fault;
use super::history::{unix_ms, SyncOutcome};
use super::log::random_id;
use super::phase::{Phase, Side};
use super::status::{ReplicaState, ReplicaStatus};
use super::{AbortOnDrop, LinkRead, LinkWrite, RdbFilter, RdbStats, SyncSource};
use crate::config::{LimitBreach, Settings};
use crate::resp::parser::Parsed;
use crate::resp::{ParseLimits, RequestParser};

/// One replica as the master tracks it.
#[derive(Debug, Clone)]
pub struct ReplicaEntry {
    /// Client id of the link.
    pub id: u64,
    /// Address (announced ip, or the peer's).
    pub ip: String,
    /// Announced listening port.
    pub port: u16,
    /// Its state.
    pub state: ReplicaState,
    /// Last acknowledged offset.
    pub ack_offset: u64,
    /// Unix ms of the last ACK (or of attaching).
    pub last_ack_ms: i64,
    /// How stale it was at its last ACK, in ms (see `Backlog::staleness_ms`).
    pub lag_ms: u64,
    /// Attached with plain SYNC: never acknowledges.
    pub pre_psync: bool,
    /// Asks the link task to close.
    pub kill: Arc<LinkCloser>,
}

/// Closes one replica link. The flag is set at once, under the registry's lock, before
/// anything else happens: a link told to close never sends another byte, even if its task
/// runs before it notices the notification. That matters when our own master changes the
/// replication id (a partial resync answered `+CONTINUE <new id>`): our replicas must
/// reconnect to learn the new id, and a byte of the new history sent to them under the old
/// id would push them past the point where the old id ends, so their next PSYNC would be
/// refused and cost a full sync (Redis disconnects them synchronously for the same reason).
#[derive(Debug, Default)]
pub struct LinkCloser {
    closing: AtomicBool,
    notify: Notify,
}

impl LinkCloser {
    /// Marks the link closing and wakes its task.
    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// True once [`LinkCloser::close`] was called.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Resolves when the link is asked to close.
    pub async fn closed(&self) {
        if self.is_closing() {
            return;
        }
        self.notify.notified().await;
    }
}

/// Our replicas, in the order they attached (INFO's slave0, slave1, ...).
#[derive(Debug, Default)]
pub struct Registry {
    entries: Mutex<Vec<ReplicaEntry>>,
}

impl Registry {
    /// Adds a replica.
    pub fn add(&self, entry: ReplicaEntry) {
        self.entries.lock().push(entry);
    }

    /// Removes replica `id`.
    pub fn remove(&self, id: u64) {
        self.entries.lock().retain(|e| e.id != id);
    }

    /// Changes replica `id`'s state.
    pub fn set_state(&self, id: u64, state: ReplicaState) {
        if let Some(e) = self.entries.lock().iter_mut().find(|e| e.id == id) {
            e.state = state;
        }
    }

    /// Records an ACK from replica `id` (keeping the highest offset seen) and how stale
    /// the replica was when it sent it.
    pub fn ack(&self, id: u64, offset: u64, lag_ms: u64) {
        if let Some(e) = self.entries.lock().iter_mut().find(|e| e.id == id) {
            if offset >= e.ack_offset {
                e.ack_offset = offset;
                e.lag_ms = lag_ms;
            }
            e.last_ack_ms = unix_ms();
        }
    }

    /// Every replica.
    pub fn list(&self) -> Vec<ReplicaEntry> {
        self.entries.lock().clone()
    }

    /// Number of replicas (any state).
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    /// True without replicas.
    pub fn is_empty(&self) -> bool {
        self.entries.lock().is_empty()
    }

    /// Asks replica `id`'s link to close; false when unknown.
    pub fn kill(&self, id: u64) -> bool {
        match self.entries.lock().iter().find(|e| e.id == id) {
            Some(e) => {
                e.kill.close();
                true
            }
            None => false,
        }
    }

    /// Closes every replica link (they reconnect and resync).
    pub fn kill_all(&self) {
        for e in self.entries.lock().iter() {
            e.kill.close();
        }
    }

    /// Online replicas whose last ACK is at most `max_lag` seconds old.
    pub fn good_count(&self, max_lag: u64) -> usize {
        let now = unix_ms();
        self.entries
            .lock()
            .iter()
            .filter(|e| {
                e.state == ReplicaState::Online && (now - e.last_ack_ms) / 1000 <= max_lag as i64
            })
            .count()
    }

    /// Online replicas that acknowledged at least `offset`.
    pub fn acked_at_least(&self, offset: u64) -> usize {
        self.entries
            .lock()
            .iter()
            .filter(|e| e.state == ReplicaState::Online && e.ack_offset >= offset)
            .count()
    }

    /// Status for INFO, ROLE and the control plane; `time` holds our offset (for the byte
    /// lag) and the write rate, `pending` gives each replica's unsent bytes.
    pub fn status(&self, time: &TimeFigures, pending: impl Fn(u64) -> u64) -> Vec<ReplicaStatus> {
        let end = time.end;
        let online = |e: &ReplicaEntry| e.state == ReplicaState::Online;
        let now = unix_ms();
        self.entries
            .lock()
            .iter()
            .map(|e| ReplicaStatus {
                id: e.id,
                ip: e.ip.clone(),
                port: e.port,
                state: e.state,
                ack_offset: e.ack_offset,
                lag_seconds: if online(e) {
                    ((now - e.last_ack_ms).max(0) / 1000) as u64
                } else {
                    0
                },
                lag_bytes: end.saturating_sub(e.ack_offset),
                // Figures in time only mean something once the replica streams.
                lag_ms: if online(e) { e.lag_ms } else { 0 },
                resume_horizon_ms: online(e)
                    .then(|| time.resume_horizon_seconds(e.ack_offset))
                    .flatten()
                    .map(|s| (s * 1000.0) as u64),
                output_buffer_bytes: pending(e.id),
            })
            .collect()
    }
}

// ------------------------------------------------------------------ full-sync jobs

/// An RDB written to disk for a disk-based full sync; deleted when the last replica is done.
#[derive(Debug)]
pub struct DiskRdb {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub len: u64,
}

impl Drop for DiskRdb {
    fn drop(&mut self) {
        unlink_in_background(&self.path);
    }
}

/// Removes the file at `path` at once, but frees its blocks on a thread of its own, as
/// Redis's `bg_unlink`: the name goes while a descriptor keeps the data, and closing that
/// descriptor is what frees the blocks (37 ms for a 130 MB snapshot here, measured; done on
/// the runtime worker, it was the longest GET stall of a disk-based full sync).
fn unlink_in_background(path: &Path) {
    let Some(file) = unlink_keeping_data(path) else {
        return;
    };
    // Should the thread not start, the descriptor closes here, as a plain unlink would.
    let _ = std::thread::Builder::new()
        .name("unlink".into())
        .spawn(move || drop(file));
}

/// Removes the name `path` and returns a descriptor that still holds the file's data
/// (`None` when the file could not be opened: then it is only unlinked).
fn unlink_keeping_data(path: &Path) -> Option<std::fs::File> {
    let file = std::fs::File::open(path).ok();
    let _ = std::fs::remove_file(path);
    file
}

/// How a replica receives its RDB.
#[derive(Debug)]
pub enum Payload {
    /// A file: sent as `$<len>\r\n` + bytes.
    Disk(Arc<DiskRdb>),
    /// Streamed as it is produced: `$EOF:<mark>\r\n` + bytes + mark.
    Stream {
        /// Chunks of the RDB, in order; the channel closes at the end (or on failure,
        /// after `failed` is set).
        chunks: mpsc::Receiver<Bytes>,
        /// The 40-character end mark.
        mark: String,
        /// Set when the producer failed: the transfer must be abandoned.
        failed: Arc<std::sync::atomic::AtomicBool>,
    },
}

/// What a waiting replica receives when its full sync starts.
#[derive(Debug)]
pub struct SyncStart {
    /// `+FULLRESYNC` id.
    pub replid: String,
    /// `+FULLRESYNC` offset (the snapshot's).
    pub offset: u64,
    /// The RDB.
    pub payload: Payload,
    /// Which snapshot (numbered from 1), for logs and the history.
    pub snapshot_no: u64,
    /// Keys in the snapshot.
    pub keys: u64,
    /// The admission slot the transfer holds until it ends.
    pub slot: Option<TransferSlot>,
}

/// A replica waiting for a full sync.
#[derive(Debug)]
pub struct SyncWaiter {
    /// Link id.
    pub id: u64,
    /// The backlog cursor its snapshot registers (see [`HandOff::reader`]).
    pub reader: u64,
    /// It accepts EOF-marked payloads.
    pub capa_eof: bool,
    /// When it asked.
    pub since: Instant,
    /// Where the start goes.
    pub tx: oneshot::Sender<SyncStart>,
    /// The replica's wait for the snapshot (`repl.master.snapshot_wait`): the snapshot job
    /// is a child of the first waiter's and linked from the others', so each replica's
    /// trace leads to the snapshot that served it.
    pub span: tracing::Span,
    /// Its admission slot once admitted (`None` while it waits).
    pub slot: Option<TransferSlot>,
}

/// A disk job still writing its file, which late replicas may join.
#[derive(Debug)]
struct JoinableDiskJob {
    replid: String,
    offset: u64,
    keys: u64,
    snapshot_no: u64,
    late: Vec<SyncWaiter>,
    /// The job's span, which late joiners are linked to.
    span: tracing::Span,
}

/// A disk snapshot already written, kept while the backlog still holds the stream since
/// it: with `repl-max-concurrent-full-syncs` on, replicas the cap held are served from it
/// once a slot frees, rather than each later batch taking a snapshot of its own.
#[derive(Debug)]
struct FinishedDiskJob {
    rdb: Arc<DiskRdb>,
    replid: String,
    offset: u64,
    keys: u64,
    snapshot_no: u64,
}

#[derive(Debug, Default)]
struct QueueInner {
    waiting: Vec<SyncWaiter>,
    disk_job: Option<JoinableDiskJob>,
    /// See [`FinishedDiskJob`].
    finished_disk: Option<FinishedDiskJob>,
    /// A disk job scheduled whose snapshot is not taken yet (its number): no other disk
    /// job may start meanwhile, and it becomes [`QueueInner::disk_job`] under this lock.
    disk_job_starting: Option<u64>,
    /// Admission slots held (see [`TransferSlot`]).
    transfers: usize,
    snapshots: u64,
    /// Times a sync was held, by reason (indexed as [`WaitReason::CODES`]).
    held: [u64; 3],
    /// When each snapshot still being serialised (to a file or to sockets) started.
    producing: Vec<(u64, Instant)>,
}

/// Marks a full-sync snapshot as being serialised until dropped (INFO shows it as Redis
/// shows its RDB child: `rdb_bgsave_in_progress:1`).
struct Producing {
    host: Arc<dyn SyncSource>,
    snapshot_no: u64,
}

impl Producing {
    fn start(host: &Arc<dyn SyncSource>, snapshot_no: u64) -> Producing {
        let mut inner = host.hub().full_syncs.inner.lock();
        inner.producing.push((snapshot_no, Instant::now()));
        Producing {
            host: host.clone(),
            snapshot_no,
        }
    }
}

impl Drop for Producing {
    fn drop(&mut self) {
        let mut inner = self.host.hub().full_syncs.inner.lock();
        inner.producing.retain(|(no, _)| *no != self.snapshot_no);
    }
}

/// Replicas waiting for a full sync, and the jobs serving them.
#[derive(Debug, Default)]
pub struct FullSyncQueue {
    inner: Mutex<QueueInner>,
}

impl FullSyncQueue {
    /// Adds a waiting replica (it joins a disk job still being written when it can).
    pub fn join(&self, host: &Arc<dyn SyncSource>, waiter: SyncWaiter) {
        let settings = host.settings();
        let mut inner = self.inner.lock();
        if let Err(waiter) = join_disk_job(&mut inner, host, &settings, waiter) {
            inner.waiting.push(waiter);
        }
    }

    /// Forgets a waiter that went away.
    pub fn leave(&self, id: u64) {
        let mut inner = self.inner.lock();
        inner.waiting.retain(|w| w.id != id);
        // A late joiner holds a slot, whose release takes this lock again: it is dropped
        // after the lock.
        let gone: Vec<SyncWaiter> = match inner.disk_job.as_mut() {
            Some(job) => {
                let (gone, kept) = std::mem::take(&mut job.late)
                    .into_iter()
                    .partition(|w| w.id == id);
                job.late = kept;
                gone
            }
            None => Vec::new(),
        };
        drop(inner);
        drop(gone);
    }

    /// Where replica `id` stands: admitted to a job, held by a rule, or due.
    pub fn admission_of(&self, settings: &Settings, id: u64) -> Admission {
        let inner = self.inner.lock();
        if !inner.waiting.iter().any(|w| w.id == id) {
            return Admission::Admitted;
        }
        match holding_rule(&inner, settings) {
            Some(reason) => Admission::Held(reason),
            None => Admission::Due,
        }
    }

    /// Counts a sync held by `reason` (once per sync and reason).
    pub fn count_held(&self, reason: WaitReason) {
        self.inner.lock().held[reason.index()] += 1;
    }

    /// The queue as `/metrics` and the control plane show it.
    pub fn admission(&self, settings: &Settings) -> AdmissionStatus {
        let inner = self.inner.lock();
        let mut waiting = [0; 3];
        if let Some(reason) = holding_rule(&inner, settings) {
            waiting[reason.index()] =
                inner.waiting.iter().filter(|w| !w.tx.is_closed()).count() as u64;
        }
        AdmissionStatus {
            waiting,
            transfers: inner.transfers as u64,
            cap: settings.repl_max_concurrent_full_syncs,
            held_total: inner.held,
        }
    }

    /// Since when the oldest full-sync snapshot still being serialised has been; `None`
    /// when none is.
    pub fn producing_since(&self) -> Option<Instant> {
        self.inner.lock().producing.iter().map(|(_, at)| *at).min()
    }

    /// Number of snapshots taken for full syncs since start.
    pub fn snapshots(&self) -> u64 {
        self.inner.lock().snapshots
    }

    /// Starts a job when the waiting replicas are due (called by the cron and on arrival):
    /// a disk job at once, a diskless one after `repl-diskless-sync-delay` or once
    /// `repl-diskless-sync-max-replicas` wait, at most `repl-max-concurrent-full-syncs`
    /// transfers at a time.
    pub fn schedule(&self, host: &Arc<dyn SyncSource>) {
        let settings = host.settings();
        let mut inner = self.inner.lock();
        inner.waiting.retain(|w| !w.tx.is_closed());
        // Replicas held by the cap join the disk job being written once there is room, or
        // are served from the last one written while the backlog still covers it.
        let outdated = inner.finished_disk.as_ref().is_some_and(|f| {
            settings.repl_max_concurrent_full_syncs == 0
                || !host.hub().backlog.can_serve_from(f.offset + 1)
        });
        let outdated = if outdated {
            inner.finished_disk.take()
        } else {
            None
        };
        let mut unsent = Vec::new();
        if (inner.disk_job.is_some() || inner.finished_disk.is_some()) && !inner.waiting.is_empty()
        {
            for w in std::mem::take(&mut inner.waiting) {
                let w = match join_disk_job(&mut inner, host, &settings, w) {
                    Ok(()) => continue,
                    Err(w) => w,
                };
                match serve_from_finished(&mut inner, host, &settings, w) {
                    Ok(None) => {}
                    Ok(Some(start)) => unsent.push(start),
                    Err(w) => inner.waiting.push(w),
                }
            }
        }
        if inner.waiting.is_empty() || holding_rule(&inner, &settings).is_some() {
            // Slots and files are released after the lock (a slot's release takes it).
            drop(inner);
            drop((outdated, unsent));
            return;
        }
        let diskless = gets_diskless(&inner, &settings);
        let take = inner.waiting.len().min(room(&inner, &settings));
        let mut batch: Vec<SyncWaiter> = inner.waiting.drain(..take).collect();
        inner.transfers += batch.len();
        for w in &mut batch {
            w.slot = Some(TransferSlot(host.clone()));
        }
        inner.snapshots += 1;
        let snapshot_no = inner.snapshots;
        if !diskless {
            inner.disk_job_starting = Some(snapshot_no);
        }
        drop(inner);
        drop((outdated, unsent));
        let host = host.clone();
        tokio::spawn(run_job(host, batch, diskless, snapshot_no));
    }

    /// Forgets the finished disk snapshot (a role change: its history may not be ours).
    pub fn forget_finished(&self) {
        let finished = self.inner.lock().finished_disk.take();
        drop(finished);
    }

    fn transfer_done(&self) {
        let mut inner = self.inner.lock();
        inner.transfers = inner.transfers.saturating_sub(1);
    }
}

/// Where a replica that asked for a full sync stands (see [`FullSyncQueue::admission_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A job took it (its snapshot may still be being produced).
    Admitted,
    /// A rule holds it.
    Held(WaitReason),
    /// Nothing holds it: the next scheduling admits it.
    Due,
}

/// Lets `waiter` join the disk job being written, if there is one it can join: it would
/// get a disk payload anyway, the cap leaves room (joining takes a slot like any other
/// transfer), and the backlog still holds the stream since the job's snapshot. Gives the
/// waiter back otherwise.
fn join_disk_job(
    inner: &mut QueueInner,
    host: &Arc<dyn SyncSource>,
    settings: &Settings,
    mut waiter: SyncWaiter,
) -> Result<(), SyncWaiter> {
    let room = has_room(inner, settings);
    let Some(job) = inner.disk_job.as_mut() else {
        return Err(waiter);
    };
    if !(room && may_take_disk_snapshot(host, settings, &waiter, job.offset)) {
        return Err(waiter);
    }
    job.span.follows_from(&waiter.span);
    waiter.slot = Some(TransferSlot(host.clone()));
    job.late.push(waiter);
    inner.transfers += 1;
    Ok(())
}

/// Serves `waiter` from the finished disk snapshot (see [`FinishedDiskJob`]) when it would
/// get a disk payload, the cap leaves room and the backlog still holds the stream since
/// the snapshot. Gives the waiter back otherwise; `Ok(Some(start))` is a start whose
/// replica went away meanwhile, to be dropped after the queue's lock.
fn serve_from_finished(
    inner: &mut QueueInner,
    host: &Arc<dyn SyncSource>,
    settings: &Settings,
    mut waiter: SyncWaiter,
) -> Result<Option<SyncStart>, SyncWaiter> {
    let room = has_room(inner, settings);
    let Some(done) = inner.finished_disk.as_ref() else {
        return Err(waiter);
    };
    if !(room && may_take_disk_snapshot(host, settings, &waiter, done.offset)) {
        return Err(waiter);
    }
    info!(
        replica = waiter.id,
        snapshot_no = done.snapshot_no,
        offset = done.offset,
        "full sync served from a snapshot file already written"
    );
    inner.transfers += 1;
    waiter.slot = Some(TransferSlot(host.clone()));
    let start = SyncStart {
        replid: done.replid.clone(),
        offset: done.offset,
        payload: Payload::Disk(done.rdb.clone()),
        snapshot_no: done.snapshot_no,
        keys: done.keys,
        slot: waiter.slot.take(),
    };
    Ok(waiter.tx.send(start).err())
}

/// True when `waiter` would get a disk payload anyway and the backlog still holds the
/// stream since a disk snapshot taken at `offset`; its cursor is then registered there.
fn may_take_disk_snapshot(
    host: &Arc<dyn SyncSource>,
    settings: &Settings,
    waiter: &SyncWaiter,
    offset: u64,
) -> bool {
    let gets_disk = !settings.repl_diskless_sync || !waiter.capa_eof;
    gets_disk && host.hub().backlog.register(waiter.reader, offset + 1)
}

/// True when the waiting replicas will share a diskless snapshot.
fn gets_diskless(inner: &QueueInner, settings: &Settings) -> bool {
    settings.repl_diskless_sync && inner.waiting.iter().all(|w| w.capa_eof)
}

/// How many more transfers `repl-max-concurrent-full-syncs` allows now (no cap: any).
fn room(inner: &QueueInner, settings: &Settings) -> usize {
    match settings.repl_max_concurrent_full_syncs as usize {
        0 => usize::MAX,
        cap => cap.saturating_sub(inner.transfers),
    }
}

/// True while `repl-max-concurrent-full-syncs` leaves room for another transfer.
fn has_room(inner: &QueueInner, settings: &Settings) -> bool {
    room(inner, settings) > 0
}

/// The rule that holds the waiting replicas now, if one does: the cap first (it holds
/// them whatever else does), then the disk job being written, then the diskless delay.
fn holding_rule(inner: &QueueInner, settings: &Settings) -> Option<WaitReason> {
    if inner.waiting.is_empty() {
        return None;
    }
    if !has_room(inner, settings) {
        return Some(WaitReason::ConcurrencyCap {
            cap: settings.repl_max_concurrent_full_syncs,
        });
    }
    if inner.disk_job.is_some() || inner.disk_job_starting.is_some() {
        return Some(WaitReason::DiskSnapshotBusy);
    }
    if gets_diskless(inner, settings) {
        let oldest = inner
            .waiting
            .iter()
            .map(|w| w.since)
            .min()
            .unwrap_or_else(Instant::now);
        let delay = Duration::from_secs(settings.repl_diskless_sync_delay);
        let max = settings.repl_diskless_sync_max_replicas as usize;
        let enough = max > 0 && inner.waiting.len() >= max;
        if oldest.elapsed() < delay && !enough {
            return Some(WaitReason::DisklessDelay {
                delay_secs: settings.repl_diskless_sync_delay,
            });
        }
    }
    None
}

/// An admission slot: one of `repl-max-concurrent-full-syncs`, taken when a replica is
/// admitted and given back when it is dropped — when the transfer ends, or with the
/// replica's start if the job fails or the replica went away before its transfer began.
/// Never dropped under the queue's lock (its release takes it).
pub struct TransferSlot(Arc<dyn SyncSource>);

impl std::fmt::Debug for TransferSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferSlot")
    }
}

impl Drop for TransferSlot {
    fn drop(&mut self) {
        self.0.hub().full_syncs.transfer_done();
        let host = self.0.clone();
        // Another replica may have been waiting for the slot.
        host.hub().full_syncs.schedule(&host);
    }
}

/// The place a scheduled disk job holds until its snapshot is taken
/// (`QueueInner::disk_job_starting`), released when the job ends in any way.
struct DiskJobStarting {
    host: Arc<dyn SyncSource>,
    snapshot_no: u64,
}

impl Drop for DiskJobStarting {
    fn drop(&mut self) {
        let mut inner = self.host.hub().full_syncs.inner.lock();
        if inner.disk_job_starting == Some(self.snapshot_no) {
            inner.disk_job_starting = None;
        }
    }
}

/// One full-sync job: a snapshot shared by `batch`, written to disk or streamed.
async fn run_job(
    host: Arc<dyn SyncSource>,
    batch: Vec<SyncWaiter>,
    diskless: bool,
    snapshot_no: u64,
) {
    // However this job ends, a disk job's reserved place is given back.
    let _starting = (!diskless).then(|| DiskJobStarting {
        host: host.clone(),
        snapshot_no,
    });
    let ids: Vec<u64> = batch.iter().map(|w| w.id).collect();
    let span = match batch.first() {
        Some(first) => info_span!(
            parent: &first.span,
            "repl.master.snapshot",
            snapshot_no,
            replicas = ids.len(),
            diskless,
            offset = tracing::field::Empty,
            keys = tracing::field::Empty,
            bytes = tracing::field::Empty,
        ),
        None => return,
    };
    for other in batch.iter().skip(1) {
        span.follows_from(&other.span);
    }
    let readers: Vec<u64> = batch.iter().map(|w| w.reader).collect();
    let snap = span.in_scope(|| host.snapshot_for_sync(&readers, None));
    // A replica that left between the batch and the snapshot has already cleaned up: the
    // cursor just registered for it would hold the backlog for nobody.
    for w in batch.iter().filter(|w| w.tx.is_closed()) {
        host.hub().backlog.unregister(w.reader);
    }
    let _producing = Producing::start(&host, snapshot_no);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = stop_when_abandoned(&host, ids.clone(), stop.clone());
    let _watcher = AbortOnDrop(watcher);
    let keys = snap.keyspace.key_count() as u64;
    span.record("offset", snap.offset);
    span.record("keys", keys);
    info!(
        snapshot_no,
        replicas = ids.len(),
        offset = snap.offset,
        keys,
        diskless,
        "full sync snapshot taken"
    );
    // Redis's lines for the start of a sync's snapshot, which its tests and operators' tools
    // look for. The job is a thread of this process, not a forked child: the pid is ours.
    info!(
        "Starting BGSAVE for SYNC with target: {}",
        if diskless { "replicas sockets" } else { "disk" }
    );
    info!(
        "Background {} started by pid {} (a snapshot thread, no fork)",
        if diskless { "RDB transfer" } else { "saving" },
        std::process::id()
    );
    if diskless {
        let mark = random_id();
        let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut senders = Vec::new();
        for mut w in batch {
            let (tx, rx) = mpsc::channel::<Bytes>(32);
            let start = SyncStart {
                replid: snap.replid.clone(),
                offset: snap.offset,
                payload: Payload::Stream {
                    chunks: rx,
                    mark: mark.clone(),
                    failed: failed.clone(),
                },
                snapshot_no,
                keys,
                slot: w.slot.take(),
            };
            if w.tx.send(start).is_ok() {
                senders.push(tx);
            }
        }
        let producer_host = host.clone();
        let producer_stop = stop.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut fan = FanOut {
                senders,
                buf: Vec::with_capacity(CHUNK),
            };
            let stats = producer_host.write_rdb(&snap, &mut fan, producer_stop)?;
            io::Write::flush(&mut fan)?;
            Ok::<(RdbStats, usize), io::Error>((stats, fan.senders.len()))
        })
        .instrument(span.clone())
        .await;
        match result {
            Ok(Ok((stats, still_up))) => {
                span.record("bytes", stats.bytes);
                // Redis's line for the end of a diskless transfer (its fork child's pipe
                // has the role of the channels here), which Redis's tests look for.
                info!(
                    snapshot_no,
                    bytes = stats.bytes,
                    keys = stats.keys,
                    "Diskless rdb transfer, done reading from pipe, {still_up} replicas still up."
                )
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe || stop.load(Ordering::Acquire) => {
                failed.store(true, Ordering::Release);
                info!(
                    snapshot_no,
                    "Diskless rdb transfer, last replica dropped: the snapshot stops"
                );
            }
            Ok(Err(e)) => {
                failed.store(true, Ordering::Release);
                warn!(snapshot_no, error = %e, "diskless full sync failed");
            }
            Err(e) => {
                failed.store(true, Ordering::Release);
                warn!(snapshot_no, error = %e, "diskless full sync task failed");
            }
        }
        return;
    }
    // Disk-based: write the file, letting replicas that arrive meanwhile join. Only one
    // disk job runs at a time (`disk_job_starting` held the place since scheduling).
    let replaced = {
        let mut inner = host.hub().full_syncs.inner.lock();
        inner.disk_job_starting = None;
        inner.disk_job.replace(JoinableDiskJob {
            replid: snap.replid.clone(),
            offset: snap.offset,
            keys,
            snapshot_no,
            late: Vec::new(),
            span: span.clone(),
        })
    };
    // Never expected; dropped after the lock if it happens (its slots take the lock).
    debug_assert!(replaced.is_none(), "two disk jobs at once");
    drop(replaced);
    let settings = host.settings();
    let path = settings.dir.join(format!(
        "temp-repl-{}-{}.rdb",
        std::process::id(),
        snapshot_no
    ));
    let writer_host = host.clone();
    let writer_path = path.clone();
    let writer_stop = stop.clone();
    let written = tokio::task::spawn_blocking(move || -> io::Result<u64> {
        let file = std::fs::File::create(&writer_path)?;
        let mut out = io::BufWriter::with_capacity(1 << 20, file);
        writer_host.write_rdb(&snap, &mut out, writer_stop)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(file.metadata()?.len())
    })
    .instrument(span.clone())
    .await;
    if let Ok(Ok(len)) = &written {
        span.record("bytes", *len);
    }
    let job = {
        let mut inner = host.hub().full_syncs.inner.lock();
        match &inner.disk_job {
            Some(j) if j.snapshot_no == snapshot_no => inner.disk_job.take(),
            _ => None,
        }
    };
    let Some(job) = job else { return };
    let waiters: Vec<SyncWaiter> = batch.into_iter().chain(job.late).collect();
    match written {
        Ok(Ok(len)) => {
            let rdb = Arc::new(DiskRdb { path, len });
            if settings.repl_max_concurrent_full_syncs > 0 {
                let replaced =
                    host.hub()
                        .full_syncs
                        .inner
                        .lock()
                        .finished_disk
                        .replace(FinishedDiskJob {
                            rdb: rdb.clone(),
                            replid: job.replid.clone(),
                            offset: job.offset,
                            keys: job.keys,
                            snapshot_no: job.snapshot_no,
                        });
                drop(replaced);
            }
            for mut w in waiters {
                let start = SyncStart {
                    replid: job.replid.clone(),
                    offset: job.offset,
                    payload: Payload::Disk(rdb.clone()),
                    snapshot_no: job.snapshot_no,
                    keys: job.keys,
                    slot: w.slot.take(),
                };
                let _ = w.tx.send(start);
            }
        }
        Ok(Err(_)) if stop.load(Ordering::Acquire) => {
            unlink_in_background(&path);
            info!(
                snapshot_no,
                "Background saving for SYNC stopped: no replica waits for it any more"
            );
        }
        Ok(Err(e)) => {
            unlink_in_background(&path);
            warn!(snapshot_no, error = %e, "writing the RDB for a full sync failed");
        }
        Err(e) => {
            unlink_in_background(&path);
            warn!(snapshot_no, error = %e, "the full sync writer failed");
        }
    }
}

const CHUNK: usize = 64 * 1024;

/// Sets `stop` once no replica the job serves is connected any more, as Redis kills an RDB
/// child that nobody waits for: the replicas of a storm that went away do not leave the
/// master serialising its dataset for nobody. Replicas that joined a disk job late count.
fn stop_when_abandoned(
    host: &Arc<dyn SyncSource>,
    ids: Vec<u64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let host = host.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tick.tick().await;
            let hub = host.hub();
            let late: Vec<u64> = hub
                .full_syncs
                .inner
                .lock()
                .disk_job
                .as_ref()
                .map(|j| j.late.iter().map(|w| w.id).collect())
                .unwrap_or_default();
            let served = hub
                .replicas
                .list()
                .iter()
                .any(|e| ids.contains(&e.id) || late.contains(&e.id));
            if !served {
                stop.store(true, Ordering::Release);
                return;
            }
        }
    })
}

/// A blocking writer that hands fixed-size chunks to every receiving replica.
struct FanOut {
    senders: Vec<mpsc::Sender<Bytes>>,
    buf: Vec<u8>,
}

impl FanOut {
    fn send_chunk(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        // A replica that went away is simply skipped; the others keep receiving.
        self.senders
            .retain(|tx| tx.blocking_send(chunk.clone()).is_ok());
        if self.senders.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "every replica of the job went away",
            ));
        }
        Ok(())
    }
}

impl io::Write for FanOut {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send_chunk()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_chunk()
    }
}

// ------------------------------------------------------------------ the link task

/// How the replica attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachMode {
    /// `+CONTINUE`: stream from this offset.
    Continue {
        /// First byte to send.
        from: u64,
    },
    /// A full sync (PSYNC refused or `?`).
    Full,
    /// Legacy SYNC: a full sync without the `+FULLRESYNC` line, never acknowledged.
    Sync,
}

/// Everything the link task needs about a replica that sent PSYNC or SYNC.
#[derive(Debug, Clone)]
pub struct HandOff {
    /// Client id (registry and backlog reader id).
    pub id: u64,
    /// Address shown in INFO.
    pub ip: String,
    /// Announced listening port.
    pub port: u16,
    /// It accepts EOF-marked payloads.
    pub capa_eof: bool,
    /// How it attached.
    pub mode: AttachMode,
    /// Its sync session in the history.
    pub sync_id: u64,
    /// It wants only the RDB (redis-cli --rdb).
    pub rdb_only: bool,
    /// It is the snapshot channel of this main connection's dual-channel full sync.
    pub rdb_channel_for: Option<u64>,
    /// `REPLCONF rdb-filter-only`: what its RDB keeps.
    pub rdb_filter: Option<RdbFilter>,
    /// The replica's trace context (`REPLCONF traceparent`): our session joins its trace.
    pub traceparent: Option<String>,
    /// What the replica asked for and why the answer was what it was (the `repl.master.psync`
    /// span's attributes).
    pub decision: PsyncRecord,
}

/// The PSYNC request and the master's decision, kept for the session's trace: the decision
/// is taken under the engine lock, before the link task (and its span) exists.
#[derive(Debug, Clone, Default)]
pub struct PsyncRecord {
    /// The replication id asked for (`?` for none, empty for SYNC).
    pub requested_replid: String,
    /// The offset asked for (-1 for none or SYNC).
    pub requested_offset: i64,
    /// Why a full sync was needed (the `replikv_full_resyncs_total` cause code); `None`
    /// when the partial resync was accepted.
    pub full_cause: Option<&'static str>,
}

impl HandOff {
    /// Its cursor in the backlog: the main connection's for a snapshot channel (the pin
    /// its stream continues from), its own otherwise.
    pub fn reader(&self) -> u64 {
        self.rdb_channel_for.unwrap_or(self.id)
    }

    /// It gets the snapshot and no stream after it.
    pub fn snapshot_only(&self) -> bool {
        self.rdb_only || self.rdb_channel_for.is_some()
    }
}

/// Why the link ended.
type LinkResult = Result<(), LinkError>;

/// Serves one replica until it disconnects, is dropped, or the server stops. The caller
/// (the connection task) already wrote `+CONTINUE` for a partial resync.
pub async fn serve(
    host: Arc<dyn SyncSource>,
    rd: LinkRead,
    mut wr: LinkWrite,
    leftover: BytesMut,
    handoff: HandOff,
    killed: ClientKill,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let kill = Arc::new(LinkCloser::default());
    let hub = host.hub();
    let id = handoff.id;
    hub.replicas.add(ReplicaEntry {
        id,
        ip: handoff.ip.clone(),
        port: handoff.port,
        state: if matches!(handoff.mode, AttachMode::Continue { .. }) {
            ReplicaState::Online
        } else {
            ReplicaState::WaitBgsave
        },
        ack_offset: 0,
        last_ack_ms: unix_ms(),
        lag_ms: 0,
        pre_psync: handoff.mode == AttachMode::Sync,
        kill: kill.clone(),
    });
    // ACKs arrive on the read half; a task of its own parses them.
    let (gone_tx, mut gone_rx) = oneshot::channel::<LinkError>();
    let reader = tokio::spawn(read_acks(host.clone(), id, rd, leftover, gone_tx));
    let peer = format!("{}:{}", handoff.ip, handoff.port);
    let span = info_span!(
        "repl.master.sync",
        replica = %peer,
        sync_id = handoff.sync_id,
        kind = match handoff.mode { AttachMode::Continue { .. } => "partial", _ => "full" },
        outcome = tracing::field::Empty,
        error_code = tracing::field::Empty,
    );
    if let Some(traceparent) = &handoff.traceparent {
        crate::telemetry::logging::set_remote_parent(&span, traceparent);
    }
    record_decision(&span, &handoff);
    let result = async {
        hub.set_trace_id(handoff.sync_id);
        let result = tokio::select! {
            r = run_link(&host, &mut wr, &handoff, &kill, &*killed.is_killed) => r,
            reason = &mut gone_rx => Err(reason.unwrap_or_else(|_| LinkError::new(AbortCode::PeerClosed, "connection closed"))),
            _ = kill.closed() => Err(LinkError::new(AbortCode::TopologyChange, "link closed by the server")),
            _ = killed.notified => Err(client_killed()),
            _ = shutdown.wait_for(|s| *s) => Err(LinkError::new(AbortCode::Shutdown, "server shutting down")),
        };
        let span = tracing::Span::current();
        span.record(
            "outcome",
            result.as_ref().err().map_or("closed", |e| e.detail.as_str()),
        );
        if let Err(e) = &result {
            span.record("error_code", e.code.as_str());
        }
        result
    }
    .instrument(span)
    .await;
    reader.abort();
    // The backlog lets go of the replica's unread bytes before the replica leaves the list:
    // once INFO shows it gone, the backlog is back to `repl-backlog-size`.
    hub.backlog.unregister(id);
    if let Some(main) = handoff.rdb_channel_for {
        // Sent in full, the pin waits for the main connection's PSYNC; otherwise it goes.
        hub.dual_channels
            .channel_ended(main, id, result.is_ok(), &hub.backlog);
    }
    hub.replicas.remove(id);
    hub.full_syncs.leave(id);
    let _ = wr.shutdown().await;
    match &result {
        Ok(()) => info!(replica = %peer, "replica link closed"),
        Err(e) => {
            hub.count_link_abort(Side::Master, e.code);
            info!(replica = %peer, reason = %e, code = e.code.as_str(), "replica link closed");
        }
    }
    hub.finish_sync(
        handoff.sync_id,
        match result {
            Ok(()) => SyncOutcome::Succeeded,
            Err(e) => SyncOutcome::Failed(e),
        },
    );
}

/// How CLIENT KILL reaches a replica link.
pub struct ClientKill {
    /// True once the connection was killed. Checked before every write of the stream, so a
    /// killed link never sends another byte, even when the kill and the next writes happen
    /// in one transaction (`MULTI`, `CLIENT KILL TYPE replica`, writes, `EXEC`): Redis stops
    /// writing to a client marked for closing at once, and the replica's next PSYNC asks
    /// from where the kill left it.
    pub is_killed: Box<dyn Fn() -> bool + Send + Sync>,
    /// Resolves when the connection is killed.
    pub notified: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

fn client_killed() -> LinkError {
    LinkError::new(AbortCode::ClientKill, "link killed (CLIENT KILL)")
}

/// The replica closed its connection while we wrote.
fn replica_closed() -> LinkError {
    LinkError::new(AbortCode::PeerClosed, "write to replica: connection closed")
}

/// Writing to the replica failed.
fn write_failed(e: io::Error) -> LinkError {
    LinkError::new(AbortCode::Io, format!("write to replica: {e}"))
}

/// The decision, as the session's first phase span (`repl.master.psync`): it was taken
/// under the engine lock when PSYNC arrived, so the span is as short as the decision was.
fn record_decision(session: &tracing::Span, handoff: &HandOff) {
    let d = &handoff.decision;
    let (decision, from) = match handoff.mode {
        AttachMode::Continue { from } => ("continue", from as i64),
        AttachMode::Full | AttachMode::Sync => ("fullresync", -1),
    };
    let psync = info_span!(
        parent: session,
        "repl.master.psync",
        decision,
        cause = d.full_cause.unwrap_or(""),
        requested_replid = %d.requested_replid,
        requested_offset = d.requested_offset,
        from,
    );
    drop(psync);
}

/// The link's writer side: full sync when needed, then the stream.
async fn run_link(
    host: &Arc<dyn SyncSource>,
    wr: &mut LinkWrite,
    handoff: &HandOff,
    closer: &LinkCloser,
    is_killed: &(dyn Fn() -> bool + Send + Sync),
) -> LinkResult {
    let hub = host.hub();
    let id = handoff.id;
    let mut next = match handoff.mode {
        AttachMode::Continue { from } => from,
        AttachMode::Full | AttachMode::Sync => {
            // The snapshot job is shared by every replica that asked meanwhile (its own span,
            // `repl.master.snapshot`); this replica's trace shows the wait for it. A
            // filtered RDB holds no keys: it is made at once, for this replica alone.
            let start = match handoff.rdb_filter {
                Some(filter) => filtered_start(host, handoff, filter).await?,
                None => {
                    wait_for_snapshot(host, wr, handoff)
                        .instrument(info_span!("repl.master.snapshot_wait", replica = id))
                        .await?
                }
            };
            let offset = start.offset;
            transfer(host, wr, handoff, start).await?;
            if handoff.snapshot_only() {
                return Ok(());
            }
            offset + 1
        }
    };
    hub.enter_phase(handoff.sync_id, Phase::Catchup);
    fault::at(Side::Master, Phase::Catchup).await?;
    let catchup = info_span!("repl.master.catchup", replica = id, from = next);
    let backlog = hub.backlog.clone();
    let mut end_rx = backlog.subscribe();
    let mut caught_up = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut guard = LinkGuard::new(host, handoff);
    loop {
        match backlog.read(id, next) {
            // Checked after the read: bytes appended after the link was told to close may
            // belong to a history it must not see (see `LinkCloser`).
            Read::Data(_) if closer.is_closing() => {
                return Err(LinkError::new(
                    AbortCode::TopologyChange,
                    "link closed by the server",
                ));
            }
            Read::Data(_) if is_killed() => return Err(client_killed()),
            Read::Data(chunks) => {
                for c in &chunks {
                    guard.write(wr, c).instrument(catchup.clone()).await?;
                    next += c.len() as u64;
                    hub.net_output_bytes
                        .fetch_add(c.len() as u64, Ordering::Relaxed);
                }
                continue;
            }
            Read::Lost => {
                return Err(LinkError::new(
                    AbortCode::ReplicaTooSlow,
                    "the replica fell behind the replication buffer",
                ))
            }
            Read::UpToDate => {
                if !caught_up {
                    caught_up = true;
                    hub.enter_phase(handoff.sync_id, Phase::Stream);
                    fault::at(Side::Master, Phase::Stream).await?;
                    hub.finish_sync(handoff.sync_id, SyncOutcome::Succeeded);
                    info!(
                        replica = id,
                        offset = next - 1,
                        "replica caught up, streaming"
                    );
                }
            }
        }
        tokio::select! {
            changed = end_rx.changed() => {
                if changed.is_err() {
                    return Err(LinkError::new(AbortCode::Shutdown, "replication buffer closed"));
                }
            }
            _ = tick.tick() => guard.check()?,
        }
        guard.check()?;
    }
}

/// Writes to one replica while enforcing its limits, on every path (RDB transfer and
/// stream, caught up or not): `client-output-buffer-limit replica` on what the master
/// holds for it, `repl-timeout` on an online replica that stopped acknowledging and on a
/// write that makes no progress. A stopped replica is dropped rather than growing the
/// master's memory.
struct LinkGuard<'a> {
    host: &'a Arc<dyn SyncSource>,
    handoff: &'a HandOff,
    over_soft_since_ms: i64,
    /// The RDB is being sent (Redis names a timeout then "full sync").
    in_full_sync: bool,
}

impl<'a> LinkGuard<'a> {
    fn new(host: &'a Arc<dyn SyncSource>, handoff: &'a HandOff) -> LinkGuard<'a> {
        LinkGuard {
            host,
            handoff,
            over_soft_since_ms: 0,
            in_full_sync: false,
        }
    }

    /// Checks the limits now.
    fn check(&mut self) -> LinkResult {
        let settings = self.host.settings();
        let hub = self.host.hub();
        let id = self.handoff.id;
        // A snapshot channel answers for its main connection's pin until that connection
        // streams (the pin grows with every write meanwhile).
        let pending = hub.backlog.pending_for(self.handoff.reader());
        let mut limit = settings.obuf_replica;
        // As Redis: a hard limit below repl-backlog-size is raised to it. Otherwise a
        // replica could resume from the backlog and then be dropped at once; the bytes are
        // the backlog's anyway, shared by every replica.
        if limit.hard > 0 && limit.hard < settings.repl_backlog_size {
            limit.hard = settings.repl_backlog_size;
        }
        if let Some(breach) = limit.check(pending, &mut self.over_soft_since_ms, unix_ms()) {
            warn!(
                replica = id,
                pending,
                ?breach,
                "Client id={id} addr={}:{} flags=S scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.handoff.ip,
                self.handoff.port
            );
            return Err(LinkError::new(
                AbortCode::ReplicaTooSlow,
                match breach {
                    LimitBreach::Hard => format!(
                        "output buffer {pending} bytes over the hard limit {}",
                        limit.hard
                    ),
                    LimitBreach::Soft => format!(
                        "output buffer over the soft limit {} for {} s",
                        limit.soft, limit.soft_seconds
                    ),
                },
            ));
        }
        if self.handoff.mode != AttachMode::Sync {
            let entry = hub.replicas.list().into_iter().find(|e| e.id == id);
            if let Some(e) = entry {
                let silent_ms = unix_ms() - e.last_ack_ms;
                if e.state == ReplicaState::Online
                    && silent_ms > settings.repl_timeout as i64 * 1000
                {
                    warn!(
                        replica = id,
                        "Disconnecting timedout replica (streaming sync)"
                    );
                    return Err(LinkError::new(
                        AbortCode::Timeout,
                        "replica timed out (no ACK within repl-timeout)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// True when the replica was heard from within `timeout`.
    fn acks_fresh(&self, timeout: Duration) -> bool {
        let id = self.handoff.id;
        self.host
            .hub()
            .replicas
            .list()
            .iter()
            .any(|e| e.id == id && unix_ms() - e.last_ack_ms <= timeout.as_millis() as i64)
    }

    /// Writes `data`, checking the limits every second while the socket does not take it.
    async fn write(&mut self, wr: &mut LinkWrite, data: &[u8]) -> LinkResult {
        let mut written = 0;
        // Most writes complete at once: no timer for them.
        while written < data.len() {
            match wr.write(&data[written..]).now_or_never() {
                Some(Ok(0)) => return Err(replica_closed()),
                Some(Ok(n)) => written += n,
                Some(Err(e)) => return Err(write_failed(e)),
                None => break,
            }
        }
        let mut last_progress = tokio::time::Instant::now();
        let mut tick = tokio::time::interval_at(
            last_progress + Duration::from_secs(1),
            Duration::from_secs(1),
        );
        while written < data.len() {
            tokio::select! {
                r = wr.write(&data[written..]) => match r {
                    Ok(0) => return Err(replica_closed()),
                    Ok(n) => {
                        written += n;
                        last_progress = tokio::time::Instant::now();
                    }
                    Err(e) => return Err(write_failed(e)),
                },
                _ = tick.tick() => {
                    self.check()?;
                    let timeout = Duration::from_secs(self.host.settings().repl_timeout);
                    // A replica that acknowledges but does not read (its buffer during a
                    // dual-channel load is full) is alive: its output limit bounds it.
                    if last_progress.elapsed() > timeout && !self.acks_fresh(timeout) {
                        let (ip, port) = (&self.handoff.ip, self.handoff.port);
                        if self.in_full_sync {
                            warn!(replica = self.handoff.id, "Disconnecting timedout replica (full sync): {ip}:{port}");
                        } else {
                            warn!(
                                replica = self.handoff.id,
                                "Disconnecting timedout replica (writes made no progress for repl-timeout): {ip}:{port}"
                            );
                        }
                        return Err(LinkError::new(AbortCode::Timeout, "replica timed out (writes made no progress within repl-timeout)"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Waits for the job serving this replica, sending a newline every second so its read
/// timeout does not fire (the phase `snapshot`, state `wait_bgsave`).
async fn wait_for_snapshot(
    host: &Arc<dyn SyncSource>,
    wr: &mut LinkWrite,
    handoff: &HandOff,
) -> Result<SyncStart, LinkError> {
    let hub = host.hub();
    hub.enter_phase(handoff.sync_id, Phase::Snapshot);
    fault::at(Side::Master, Phase::Snapshot).await?;
    let (tx, mut rx) = oneshot::channel();
    hub.full_syncs.join(
        host,
        SyncWaiter {
            id: handoff.id,
            reader: handoff.reader(),
            capa_eof: handoff.capa_eof,
            since: Instant::now(),
            tx,
            span: tracing::Span::current(),
            slot: None,
        },
    );
    hub.full_syncs.schedule(host);
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let mut scheduler = tokio::time::interval(Duration::from_millis(100));
    let mut held = HeldBy::default();
    loop {
        tokio::select! {
            start = &mut rx => {
                held.admitted(hub, handoff.sync_id);
                return start.map_err(|_| LinkError::new(AbortCode::SnapshotFailed, "the full sync job failed"));
            }
            // Until a job takes the replica: why it waits, and when it stops waiting (its
            // snapshot may take a while longer to reach it, which is not a wait).
            _ = tick.tick() => {
                wr.write_all(b"\n").await.map_err(write_failed)?;
            }
            _ = scheduler.tick() => {
                hub.full_syncs.schedule(host);
                match hub.full_syncs.admission_of(&host.settings(), handoff.id) {
                    Admission::Held(reason) => held.now(hub, handoff.sync_id, reason),
                    Admission::Admitted => held.admitted(hub, handoff.sync_id),
                    // Between a slot's release and the next admission: nothing changes.
                    Admission::Due => {}
                }
            }
        }
    }
}

/// The start of a filtered full sync: an RDB without keys (see [`RdbFilter`]), written at
/// once and sent as a diskless payload, as Redis always sends a filtered one.
async fn filtered_start(
    host: &Arc<dyn SyncSource>,
    handoff: &HandOff,
    filter: RdbFilter,
) -> Result<SyncStart, LinkError> {
    host.hub().enter_phase(handoff.sync_id, Phase::Snapshot);
    let snap = host.snapshot_for_sync(&[handoff.reader()], Some(filter));
    let (replid, offset) = (snap.replid.clone(), snap.offset);
    let writer = host.clone();
    let rdb = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        writer.write_rdb(&snap, &mut out, stop).map(|_| out)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r.map_err(|e| e.to_string()))
    .map_err(|e| LinkError::new(AbortCode::SnapshotFailed, format!("filtered RDB: {e}")))?;
    info!(
        replica = handoff.id,
        functions = filter.functions,
        bytes = rdb.len(),
        "filtered RDB (no keys) made for a replica"
    );
    let (tx, chunks) = mpsc::channel::<Bytes>(1);
    // The channel has room for this one chunk; the receiver is ours, below.
    let _ = tx.try_send(Bytes::from(rdb));
    Ok(SyncStart {
        replid,
        offset,
        payload: Payload::Stream {
            chunks,
            mark: random_id(),
            failed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        },
        snapshot_no: 0,
        keys: 0,
        slot: None,
    })
}

/// The rules that held one replica's full sync, told to the history, the events and the
/// counters as they change (see [`WaitReason`]).
#[derive(Debug, Default)]
struct HeldBy {
    /// The last rule seen holding it.
    current: Option<WaitReason>,
    /// Reasons already counted for this sync (by index).
    counted: [bool; 3],
    /// True once any rule held it.
    ever: bool,
    /// True once a job took it.
    admitted: bool,
}

impl HeldBy {
    /// `reason` holds the sync now.
    fn now(&mut self, hub: &super::Replication, sync_id: u64, reason: WaitReason) {
        if self.current == Some(reason) {
            return;
        }
        self.current = Some(reason);
        self.ever = true;
        if !std::mem::replace(&mut self.counted[reason.index()], true) {
            hub.full_syncs.count_held(reason);
        }
        info!(sync_id, reason = reason.code(), "full sync held: {reason}");
        hub.hold_sync(sync_id, reason);
    }

    /// A job took the sync: its wait, if it had one, ends.
    fn admitted(&mut self, hub: &super::Replication, sync_id: u64) {
        if self.ever && !std::mem::replace(&mut self.admitted, true) {
            hub.admit_sync(sync_id);
        }
    }
}

/// Sends `+FULLRESYNC` (unless SYNC) and the RDB (the phase `transfer`, state `send_bulk`).
async fn transfer(
    host: &Arc<dyn SyncSource>,
    wr: &mut LinkWrite,
    handoff: &HandOff,
    mut start: SyncStart,
) -> LinkResult {
    let hub = host.hub();
    let _slot = start.slot.take();
    let mut guard = LinkGuard::new(host, handoff);
    guard.in_full_sync = true;
    hub.enter_phase(handoff.sync_id, Phase::Transfer);
    fault::at(Side::Master, Phase::Transfer).await?;
    let span = info_span!(
        "repl.master.transfer",
        replica = handoff.id,
        snapshot_no = start.snapshot_no,
        offset = start.offset,
        keys = start.keys,
        bytes = tracing::field::Empty,
    );
    if handoff.mode != AttachMode::Sync {
        let line = format!("+FULLRESYNC {} {}\r\n", start.replid, start.offset);
        wr.write_all(line.as_bytes()).await.map_err(write_failed)?;
    }
    let mut bytes = 0u64;
    match start.payload {
        Payload::Disk(rdb) => {
            // As Redis: `send_bulk` while a file is sent; a diskless replica stays in
            // `wait_bgsave` while the snapshot streams to it (Redis's RDB child is still
            // running then).
            hub.replicas.set_state(handoff.id, ReplicaState::SendBulk);
            wr.write_all(format!("${}\r\n", rdb.len).as_bytes())
                .await
                .map_err(write_failed)?;
            let mut file = tokio::fs::File::open(&rdb.path)
                .await
                .map_err(|e| LinkError::new(AbortCode::SnapshotFailed, format!("open RDB: {e}")))?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = file.read(&mut buf).await.map_err(|e| {
                    LinkError::new(AbortCode::SnapshotFailed, format!("read RDB: {e}"))
                })?;
                if n == 0 {
                    break;
                }
                guard.write(wr, &buf[..n]).instrument(span.clone()).await?;
                bytes += n as u64;
            }
            hub.replicas.set_state(handoff.id, ReplicaState::Online);
        }
        Payload::Stream {
            mut chunks,
            mark,
            failed,
        } => {
            wr.write_all(format!("$EOF:{mark}\r\n").as_bytes())
                .await
                .map_err(write_failed)?;
            // The producer may be slow (a big dataset, `rdb-key-save-delay`): the limits
            // are checked every second while waiting for it too, so a replica that stopped
            // reading is dropped at its output limit even before the next chunk comes.
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    chunk = chunks.recv() => {
                        let Some(chunk) = chunk else { break };
                        guard.write(wr, &chunk).instrument(span.clone()).await?;
                        bytes += chunk.len() as u64;
                    }
                    _ = tick.tick() => guard.check()?,
                }
            }
            if failed.load(Ordering::Acquire) {
                return Err(LinkError::new(
                    AbortCode::SnapshotFailed,
                    "the snapshot producer failed",
                ));
            }
            wr.write_all(mark.as_bytes()).await.map_err(write_failed)?;
            hub.replicas.set_state(handoff.id, ReplicaState::SendBulk);
            // As Redis does, a diskless replica goes online with its first ACK (after it
            // loaded the payload); read_acks flips the state.
        }
    }
    hub.add_transfer(handoff.sync_id, bytes, start.keys);
    span.record("bytes", bytes);
    info!(
        replica = handoff.id,
        bytes,
        keys = start.keys,
        "RDB sent to replica"
    );
    if !handoff.snapshot_only() {
        let mut waited = 0;
        while hub
            .replicas
            .list()
            .iter()
            .any(|e| e.id == handoff.id && e.state != ReplicaState::Online)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += 10;
            if waited % 1000 == 0 {
                guard.check()?;
            }
            if waited > host.settings().repl_timeout * 1000 {
                return Err(LinkError::new(
                    AbortCode::Timeout,
                    "replica did not acknowledge the RDB within repl-timeout",
                ));
            }
        }
    }
    Ok(())
}

/// A command other than REPLCONF on a replica link. Any reply to it would be read by the
/// replica as part of the replication stream, so the link is closed instead, with Redis's
/// log lines (a command that touches the keyspace is first refused, as Redis refuses it).
fn refuse_replica_command(host: &dyn SyncSource, id: u64, argv: &[Bytes]) -> LinkError {
    let (name, touches_keyspace) = host
        .describe_replica_command(argv)
        .unwrap_or(("unknown", false));
    if touches_keyspace {
        warn!(
            "== CRITICAL == This master is sending an error to its replica: 'Replica can't interact with the keyspace' after processing the command '{name}'"
        );
    }
    let peer = host
        .hub()
        .replicas
        .list()
        .into_iter()
        .find(|e| e.id == id)
        .map(|e| format!("{}:{}", e.ip, e.port))
        .unwrap_or_default();
    warn!("Replica generated a reply to command '{name}', disconnecting it: {peer}");
    LinkError::new(
        AbortCode::ProtocolError,
        format!("the replica sent '{name}', which would need a reply"),
    )
}

/// Reads what the replica sends (`REPLCONF ACK <offset>` and newlines) until it closes.
async fn read_acks(
    host: Arc<dyn SyncSource>,
    id: u64,
    mut rd: LinkRead,
    mut buf: BytesMut,
    gone: oneshot::Sender<LinkError>,
) {
    let hub = host.hub();
    let mut parser = RequestParser::new();
    let limits = ParseLimits {
        max_bulk_len: 1 << 20,
        unauthenticated: false,
        from_master: false,
    };
    loop {
        loop {
            match parser.next(&mut buf, limits) {
                Ok(Some(Parsed::Command(argv))) => {
                    let is_ack = argv.len() >= 3
                        && argv[0].eq_ignore_ascii_case(b"REPLCONF")
                        && argv[1].eq_ignore_ascii_case(b"ACK");
                    if is_ack {
                        if let Some(off) = crate::resp::parser::parse_i64(&argv[2]) {
                            let off = off.max(0) as u64;
                            hub.replicas.ack(id, off, hub.backlog.staleness_ms(off));
                            // A diskless replica goes online with its first ACK.
                            if hub
                                .replicas
                                .list()
                                .iter()
                                .any(|e| e.id == id && e.state == ReplicaState::SendBulk)
                            {
                                hub.replicas.set_state(id, ReplicaState::Online);
                            }
                            hub.acks.send_modify(|n| *n += 1);
                        }
                    } else if !argv[0].eq_ignore_ascii_case(b"REPLCONF") {
                        let _ = gone.send(refuse_replica_command(&*host, id, &argv));
                        return;
                    }
                }
                Ok(Some(Parsed::Empty)) => hub.replicas.ack_time_only(id),
                Ok(None) => break,
                Err(e) => {
                    let _ = gone.send(LinkError::new(
                        AbortCode::ProtocolError,
                        format!("protocol error from replica: {e}"),
                    ));
                    return;
                }
            }
        }
        buf.reserve(4096);
        match rd.read_buf(&mut buf).await {
            Ok(0) => {
                let _ = gone.send(LinkError::new(
                    AbortCode::PeerClosed,
                    "replica closed the connection",
                ));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = gone.send(LinkError::new(
                    AbortCode::Io,
                    format!("read from replica: {e}"),
                ));
                return;
            }
        }
    }
}

impl Registry {
    /// Refreshes replica `id`'s last-interaction time without an offset (a newline).
    pub fn ack_time_only(&self, id: u64) {
        if let Some(e) = self.entries.lock().iter_mut().find(|e| e.id == id) {
            e.last_ack_ms = unix_ms();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name is gone at once, while the data's last link is a descriptor of ours:
    /// closing that one (on the unlink thread) is what frees the blocks.
    #[test]
    fn a_background_unlink_removes_the_name_and_keeps_the_blocks_for_later() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("temp-repl.rdb");
        std::fs::write(&path, vec![7u8; 1 << 20]).expect("write");
        let held = unlink_keeping_data(&path).expect("a descriptor on the data");
        assert!(!path.exists());
        let meta = held.metadata().expect("metadata");
        assert_eq!((meta.nlink(), meta.len()), (0, 1 << 20));
        // A file already gone is not an error.
        assert!(unlink_keeping_data(&path).is_none());
        unlink_in_background(&path);
    }
}
