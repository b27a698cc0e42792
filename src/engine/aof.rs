//! The append-only file, engine side: Redis 7.0's multi-part AOF.
//!
//! Every write that reaches the replication stream (and, on a replica, every write its
//! master sends) is also encoded into [`Aof`]'s buffer inside the same critical section, and
//! the buffer is written to the current increment file when the engine lock is released,
//! before any reply leaves (so `appendfsync always` acknowledges only what is on the disk).
//! `everysec` syncs in a background thread once a second; `no` leaves it to the kernel.
//!
//! A rewrite is forkless, like a save: under the engine lock it switches the appends to a
//! new increment file and takes a keyspace snapshot at that very point, then a thread
//! writes the snapshot as the new base (an RDB, or commands with
//! `aof-use-rdb-preamble no`). Only when the base is complete does the manifest name it;
//! the increments it covers become history and are deleted. Until then the manifest lists
//! the old base, the old increments and the new one, which together hold every write, so a
//! crash at any moment loses nothing.
//!
//! Turning the AOF on at run time (`CONFIG SET appendonly yes`) is a rewrite whose new
//! increment stays a temporary file until the base is complete (state
//! [`AofState::WaitRewrite`]): an AOF that is not complete is never named by the manifest.
//!
//! At start-up with `appendonly yes`, the files the manifest names are loaded in order (a
//! file starting with `REDIS` is an RDB, possibly followed by commands), commands replayed
//! through the executor as Redis's AOF client does: no gates, nothing propagated.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::aof_sink::Sink;
use super::persistence::{install_loaded, load_options, snapshot_for_save, write_options};
use super::{ClientInfo, Engine, Session, State};
use crate::aof::manifest::{names, AofFile, FileKind, Manifest};
use crate::aof::reader::{CommandReader, Next};
use crate::config::Settings;
use crate::keyspace::now_ms;
use crate::replication::log::encode;
use crate::resp::{Proto, ReplyBuf};

/// Whether writes are appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AofState {
    /// `appendonly no`.
    Off,
    /// Appending to the increment the manifest names last.
    On,
    /// Turned on at run time: appending to a temporary increment until the first rewrite
    /// completes.
    WaitRewrite,
}

/// The AOF's state in the engine (INFO persistence, the write path, rewrites).
#[derive(Debug)]
pub struct Aof {
    /// Whether writes are appended.
    pub state: AofState,
    /// The manifest as it is on the disk.
    manifest: Manifest,
    /// The name of the increment appended to (its file is the sink's).
    incr: Option<String>,
    /// Commands encoded in the current critical section, handed to the sink as it ends.
    pending: Vec<u8>,
    /// The writer, shared outside the engine lock (group commit, see `aof_sink`).
    pub sink: Arc<Sink>,
    /// Database of the last command written; `None` forces a SELECT.
    last_db: Option<usize>,
    /// Unix second of the last `#TS` annotation.
    last_ts: i64,
    /// Commands are being replayed from the AOF: nothing is appended.
    pub replaying: bool,
    /// The rewrite in progress.
    pub rewrite: Option<Rewrite>,
    /// A rewrite starts at the next cron tick (BGREWRITEAOF inside MULTI, a failed first
    /// rewrite).
    pub rewrite_scheduled: bool,
    /// Seconds the last rewrite took (`aof_last_rewrite_time_sec`), -1 before one.
    pub last_rewrite_secs: i64,
    /// Outcome of the last rewrite (`aof_last_bgrewrite_status`).
    pub last_rewrite_ok: bool,
    /// Completed rewrites (`aof_rewrites`).
    pub rewrites: u64,
    /// Failed rewrites in a row (`aof_rewrites_consecutive_failures`).
    pub consecutive_failures: u64,
    /// When automatic rewrites may be tried again after failures.
    retry_after: Option<Instant>,
    /// Size of the base at the last rewrite or load (`aof_base_size`).
    pub base_size: u64,
    /// Size of the files the manifest names plus what was appended since
    /// (`aof_current_size`).
    pub current_size: u64,
    /// `no-appendfsync-on-rewrite` and `aof-timestamp-enabled`, copied from the settings.
    no_fsync_on_rewrite: bool,
    timestamps: bool,
}

/// A rewrite in progress.
#[derive(Debug)]
pub struct Rewrite {
    id: u64,
    started: Instant,
    cancel: Arc<AtomicBool>,
    /// The last increment the snapshot contains.
    covered_incr_seq: u64,
    base: AofFile,
}

impl Rewrite {
    /// Seconds it has run (`aof_current_rewrite_time_sec`).
    pub fn secs(&self) -> i64 {
        self.started.elapsed().as_secs() as i64
    }
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            state: AofState::Off,
            manifest: Manifest::default(),
            incr: None,
            pending: Vec::new(),
            sink: Arc::default(),
            last_db: None,
            last_ts: 0,
            replaying: false,
            rewrite: None,
            rewrite_scheduled: false,
            last_rewrite_secs: -1,
            last_rewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            retry_after: None,
            base_size: 0,
            current_size: 0,
            no_fsync_on_rewrite: false,
            timestamps: false,
        }
    }
}

/// `<dir>/<appenddirname>`.
pub fn aof_dir(settings: &Settings) -> PathBuf {
    settings.dir.join(&settings.appenddirname)
}

impl Aof {
    /// Takes the fsync policy and annotation settings.
    pub fn configure(&mut self, settings: &Settings) {
        self.sink.set_policy(settings.appendfsync);
        self.no_fsync_on_rewrite = settings.no_appendfsync_on_rewrite;
        self.sink
            .set_skip_fsync(self.no_fsync_on_rewrite && self.rewrite.is_some());
        self.timestamps = settings.aof_timestamp_enabled;
    }

    /// The last write error while writes fail (`aof_last_write_status`, MISCONF).
    pub fn write_error(&self) -> Option<String> {
        self.sink.error()
    }

    /// True when writes are appended.
    pub fn is_on(&self) -> bool {
        self.state != AofState::Off && !self.replaying
    }

    /// Appends one command for database `db`, preceded by a SELECT when the database
    /// changes (and a `#TS` annotation when the second changed and they are on).
    pub fn feed(&mut self, db: usize, argv: &[&[u8]]) {
        if !self.is_on() {
            return;
        }
        if self.timestamps {
            let now = now_ms() / 1000;
            if now != self.last_ts {
                self.pending
                    .extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
                self.last_ts = now;
            }
        }
        if self.last_db != Some(db) {
            let mut num = itoa::Buffer::new();
            let dbs = num.format(db).as_bytes().to_vec();
            encode(&mut self.pending, &[b"SELECT", &dbs]);
            self.last_db = Some(db);
        }
        encode(&mut self.pending, argv);
    }

    /// Hands what was fed to the sink (called as the engine lock is released); the
    /// connection writes it through before its replies leave.
    pub fn write_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.incr.is_none() {
            self.pending.clear();
            return;
        }
        self.current_size += self.pending.len() as u64;
        self.sink.hand_over(&mut self.pending);
        if self.pending.capacity() > 1 << 20 {
            self.pending.shrink_to(64 * 1024);
        }
    }

    /// Background fsyncs in progress (`aof_pending_bio_fsync`).
    pub fn fsync_in_flight(&self) -> u64 {
        self.sink.fsync_in_flight()
    }

    /// Bytes encoded but not yet written (`aof_buffer_length`).
    pub fn buffer_len(&self) -> usize {
        self.pending.len() + self.sink.buffered() as usize
    }

    /// Forces a SELECT before the next command.
    fn force_select(&mut self) {
        self.last_db = None;
    }
}

// ---- turning it on and off ----

/// `CONFIG SET appendonly yes` (Redis's `startAppendOnly`): appends start at once into a
/// temporary increment, and a rewrite writes the base; inside MULTI the rewrite is
/// scheduled for the next cron tick.
pub fn start(state: &State, engine: &mut Engine, in_exec: bool) -> Result<(), String> {
    if engine.aof.state != AofState::Off {
        return Ok(());
    }
    if let Some(job) = engine.aof.rewrite.take() {
        tracing::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
        job.cancel.store(true, Ordering::Relaxed);
    }
    engine.aof.state = AofState::WaitRewrite;
    if in_exec {
        engine.aof.rewrite_scheduled = true;
        tracing::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
        return Ok(());
    }
    if let Err(e) = start_rewrite(state, engine) {
        engine.aof.state = AofState::Off;
        engine.aof.close_incr();
        tracing::warn!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation: {e}");
        return Err(e);
    }
    Ok(())
}

/// `CONFIG SET appendonly no` (Redis's `stopAppendOnly`): what was fed is written and
/// synced, the rewrite in progress is abandoned.
pub fn stop(engine: &mut Engine) {
    if engine.aof.state == AofState::Off {
        return;
    }
    engine.aof.write_pending();
    engine.aof.sink.sync_now();
    if let Some(job) = engine.aof.rewrite.take() {
        tracing::warn!("Killing running AOF rewrite");
        job.cancel.store(true, Ordering::Relaxed);
        engine.aof.sink.set_skip_fsync(false);
    }
    let temp = (engine.aof.state == AofState::WaitRewrite)
        .then(|| engine.aof.incr.clone())
        .flatten();
    engine.aof.close_incr();
    if let Some(name) = temp {
        let _ = std::fs::remove_file(aof_dir(&engine.settings).join(name));
    }
    engine.aof.rewrite_scheduled = false;
    engine.aof.state = AofState::Off;
    engine.aof.pending.clear();
}

/// Writes and syncs what was fed (SHUTDOWN, DEBUG LOADAOF).
pub fn flush_and_sync(engine: &mut Engine) {
    engine.aof.write_pending();
    engine.aof.sink.sync_now();
}

// ---- rewrites ----

/// Why BGREWRITEAOF does not start one now.
#[derive(Debug, thiserror::Error)]
pub enum RewriteRefused {
    /// One is running.
    #[error("Background append only file rewriting already in progress")]
    InProgress,
    /// It could not start.
    #[error("Can't execute an AOF background rewriting. Please check the server logs for more information.")]
    Failed,
}

/// BGREWRITEAOF: starts a rewrite, or schedules it inside MULTI. Returns true when
/// scheduled.
pub fn bgrewriteaof(
    state: &State,
    engine: &mut Engine,
    in_exec: bool,
) -> Result<bool, RewriteRefused> {
    if engine.aof.rewrite.is_some() {
        return Err(RewriteRefused::InProgress);
    }
    if in_exec {
        engine.aof.rewrite_scheduled = true;
        engine.aof.consecutive_failures = 0;
        return Ok(true);
    }
    match start_rewrite(state, engine) {
        Ok(()) => Ok(false),
        Err(e) => {
            tracing::warn!("Can't rewrite append only file in background: {e}");
            Err(RewriteRefused::Failed)
        }
    }
}

/// Starts a rewrite: a new increment from this point (see the module doc), a snapshot of
/// the data at the same point, and a thread that writes it as the next base.
pub fn start_rewrite(state: &State, engine: &mut Engine) -> Result<(), String> {
    let Some(owner) = state.arc() else {
        return Err("the server is stopping".into());
    };
    let settings = engine.settings.clone();
    let dir = aof_dir(&settings);
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("can't create the AOF directory {}: {e}", dir.display()))?;
    let stem = settings.appendfilename.clone();
    engine.aof.write_pending();
    engine.aof.rewrite_scheduled = false;
    let covered_incr_seq = engine.aof.manifest.last_incr_seq();
    match engine.aof.state {
        AofState::On => {
            let name = names::incr(&stem, covered_incr_seq + 1);
            let file = create_incr(&dir.join(&name))?;
            let mut manifest = engine.aof.manifest.clone();
            manifest.push_incr(name.clone());
            persist_manifest(&dir, &stem, &manifest)
                .map_err(|e| format!("can't persist the AOF manifest: {e}"))?;
            engine.aof.manifest = manifest;
            engine.aof.set_incr(file, name, 0);
        }
        AofState::WaitRewrite => {
            // Writes since the snapshot go to a file the manifest does not name yet.
            let name = names::temp(&names::incr(&stem, covered_incr_seq + 1));
            let file = create_incr(&dir.join(&name))?;
            engine.aof.set_incr(file, name, 0);
        }
        AofState::Off => {}
    }
    let (snapshot, aux) = base_snapshot(state, engine);
    let base = next_base(&engine.aof.manifest, &settings);
    static JOBS: AtomicU64 = AtomicU64::new(1);
    let id = JOBS.fetch_add(1, Ordering::Relaxed);
    let cancel = Arc::new(AtomicBool::new(false));
    engine.aof.rewrite = Some(Rewrite {
        id,
        started: Instant::now(),
        cancel: cancel.clone(),
        covered_incr_seq,
        base: base.clone(),
    });
    engine
        .aof
        .sink
        .set_skip_fsync(engine.aof.no_fsync_on_rewrite);
    let target = dir.join(&base.name);
    let spawned = std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            crate::rdb::file::lower_current_thread_priority();
            let result = write_base(&snapshot, &aux, &settings, &target, &cancel);
            drop(snapshot);
            finish_rewrite(&owner, id, result);
        });
    if let Err(e) = spawned {
        engine.aof.rewrite = None;
        return Err(format!("can't start the rewrite thread: {e}"));
    }
    tracing::info!("Background append only file rewriting started");
    Ok(())
}

/// The next base's manifest entry; `aof-use-rdb-preamble` chooses its format.
fn next_base(manifest: &Manifest, settings: &Settings) -> AofFile {
    let seq = manifest.base_seq() + 1;
    AofFile {
        name: names::base(&settings.appendfilename, seq, settings.aof_use_rdb_preamble),
        seq,
        kind: FileKind::Base,
    }
}

/// The point-in-time view a base is written from, its AUX fields marking an AOF base
/// (no replication fields, as Redis writes a preamble).
fn base_snapshot(
    state: &State,
    engine: &mut Engine,
) -> (crate::keyspace::KeyspaceSnapshot, crate::rdb::Aux) {
    let (snapshot, mut aux) = snapshot_for_save(state, engine);
    aux.repl = None;
    aux.aof_base = true;
    (snapshot, aux)
}

/// Writes a base at `target`: an RDB, or commands with `aof-use-rdb-preamble no`.
fn write_base(
    snapshot: &crate::keyspace::KeyspaceSnapshot,
    aux: &crate::rdb::Aux,
    settings: &Settings,
    target: &Path,
    cancel: &AtomicBool,
) -> Result<(), String> {
    if settings.aof_use_rdb_preamble {
        crate::rdb::file::save_snapshot(
            snapshot,
            aux,
            &write_options(settings),
            target,
            Some(cancel),
            None,
            crate::rdb::file::TempName::Unique,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    } else {
        write_commands_base(snapshot, &aux.functions, target, cancel)
    }
}

/// Writes a base as commands into a temporary file, syncs it and renames it to `target`.
fn write_commands_base(
    snapshot: &crate::keyspace::KeyspaceSnapshot,
    functions: &[Bytes],
    target: &Path,
    cancel: &AtomicBool,
) -> Result<(), String> {
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let tmp = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let file = File::create(&tmp)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        crate::aof::commands::write_dataset(snapshot, functions, &mut out, Some(cancel))?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, target)?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| e.to_string())
}

/// Records the end of rewrite `id` (Redis's `backgroundRewriteDoneHandler`).
fn finish_rewrite(state: &State, id: u64, result: Result<(), String>) {
    let mut engine = state.engine.lock();
    let Some(job) = engine.aof.rewrite.take_if(|j| j.id == id) else {
        return;
    };
    engine.aof.sink.set_skip_fsync(false);
    engine.aof.last_rewrite_secs = job.secs();
    let dir = aof_dir(&engine.settings);
    let outcome =
        result.and_then(|()| install_rewrite(&mut engine, &dir, &job).map_err(|e| e.to_string()));
    match outcome {
        Ok(()) => {
            engine.aof.last_rewrite_ok = true;
            engine.aof.rewrites += 1;
            engine.aof.consecutive_failures = 0;
            engine.aof.retry_after = None;
            tracing::info!("Background AOF rewrite terminated with success");
            tracing::info!("Background AOF rewrite finished successfully");
        }
        Err(e) => {
            let _ = std::fs::remove_file(dir.join(&job.base.name));
            engine.aof.last_rewrite_ok = false;
            engine.aof.consecutive_failures += 1;
            // Retry after a pause that doubles with each failure, up to an hour.
            let n = engine.aof.consecutive_failures.min(12) as u32;
            let pause = std::time::Duration::from_secs((1u64 << n).min(3600));
            engine.aof.retry_after = Some(Instant::now() + pause);
            if engine.aof.state == AofState::WaitRewrite {
                engine.aof.rewrite_scheduled = true;
            }
            tracing::warn!("Background AOF rewrite failed: {e}");
        }
    }
}

/// Makes a complete base part of the AOF: the manifest names it, the increments it covers
/// become history, and history files are deleted.
fn install_rewrite(engine: &mut Engine, dir: &Path, job: &Rewrite) -> std::io::Result<()> {
    let stem = engine.settings.appendfilename.clone();
    let mut manifest = engine.aof.manifest.clone();
    let mut promoted = None;
    if engine.aof.state == AofState::WaitRewrite {
        // The temporary increment holds every write since the snapshot: it becomes the
        // first increment after the new base.
        engine.aof.write_pending();
        engine.aof.sink.write_through();
        let name = names::incr(&stem, manifest.last_incr_seq() + 1);
        if let Some(temp) = &engine.aof.incr {
            std::fs::rename(dir.join(temp), dir.join(&name))?;
        }
        manifest.push_incr(name.clone());
        promoted = Some(name);
    }
    manifest.install_base(job.base.clone(), job.covered_incr_seq);
    persist_manifest(dir, &stem, &manifest)?;
    if let (Some(name), Some(incr)) = (promoted, engine.aof.incr.as_mut()) {
        *incr = name;
        engine.aof.state = AofState::On;
    }
    engine.aof.base_size = file_len(&dir.join(&job.base.name));
    for old in std::mem::take(&mut manifest.history) {
        let _ = std::fs::remove_file(dir.join(&old.name));
        tracing::info!("Removing the history file {} in the background", old.name);
    }
    if let Err(e) = persist_manifest(dir, &stem, &manifest) {
        tracing::warn!("can't persist the AOF manifest without its history: {e}");
    }
    engine.aof.current_size = manifest
        .load_order()
        .map(|f| file_len(&dir.join(&f.name)))
        .sum();
    engine.aof.manifest = manifest;
    Ok(())
}

/// The cron's part: a failed write is retried, `everysec` syncs, a scheduled or automatic
/// rewrite starts.
pub fn cron(state: &State, engine: &mut Engine) {
    // Bytes no connection wrote through (the expiry cycle's DELs, a replica's stream) and
    // a failed write's retry.
    engine.aof.write_pending();
    engine.aof.sink.write_through();
    engine.aof.sink.background_fsync();
    if engine.aof.rewrite.is_some() {
        return;
    }
    let waiting = engine.aof.retry_after.is_some_and(|t| Instant::now() < t);
    if engine.aof.rewrite_scheduled && !waiting {
        if let Err(e) = start_rewrite(state, engine) {
            tracing::warn!("scheduled AOF rewrite failed to start: {e}");
        }
        return;
    }
    let s = &engine.settings;
    if engine.aof.state != AofState::On || s.auto_aof_rewrite_percentage == 0 || waiting {
        return;
    }
    let size = engine.aof.current_size;
    if size < s.auto_aof_rewrite_min_size {
        return;
    }
    let base = engine.aof.base_size.max(1);
    let growth = (size.saturating_sub(base) * 100 / base) as u32;
    if growth >= s.auto_aof_rewrite_percentage {
        tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
        if let Err(e) = start_rewrite(state, engine) {
            tracing::warn!("automatic AOF rewrite failed to start: {e}");
        }
    }
}

/// A replica loaded a full sync: its AOF starts again from the new dataset (Redis's
/// `restartAOFAfterSYNC`), through a rewrite whose increment the manifest names only
/// once the base is written.
pub fn restart_after_full_sync(state: &State, engine: &mut Engine) {
    if engine.aof.state == AofState::Off {
        return;
    }
    stop(engine);
    if let Err(e) = start(state, engine, false) {
        tracing::warn!("Failed enabling the AOF after successful master synchronization! Trying it again in one second: {e}");
        engine.aof.state = AofState::WaitRewrite;
        engine.aof.rewrite_scheduled = true;
    }
}

// ---- files ----

impl Aof {
    /// Appends go to `file` (named `name`, holding `size` bytes) from now on; what was
    /// handed over before goes to the previous file first.
    fn set_incr(&mut self, file: File, name: String, size: u64) {
        self.write_pending();
        self.sink.switch(Some((file, size)));
        self.incr = Some(name);
        self.force_select();
    }

    /// Closes the increment: nothing more is written.
    fn close_incr(&mut self) {
        self.write_pending();
        self.sink.switch(None);
        self.incr = None;
    }
}

fn create_incr(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|e| format!("can't open the append-only file {}: {e}", path.display()))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Writes the manifest to a temporary file, syncs it and renames it over the old one.
fn persist_manifest(dir: &Path, stem: &str, manifest: &Manifest) -> std::io::Result<()> {
    let name = names::manifest(stem);
    let tmp = dir.join(names::temp(&name));
    let mut file = File::create(&tmp)?;
    file.write_all(manifest.to_string().as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(&name))?;
    sync_dir(dir);
    Ok(())
}

/// Syncs a directory so a rename in it survives a crash.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Reads the manifest in `dir`, if there is one (a malformed one is an error naming it).
fn read_manifest(dir: &Path, stem: &str) -> Result<Option<Manifest>, String> {
    let path = dir.join(names::manifest(stem));
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "Fatal error: can't open the AOF manifest file {} for reading: {e}",
                path.display()
            ))
        }
    };
    Manifest::parse(&text)
        .map(Some)
        .map_err(|e| format!("Fatal AOF manifest file error in {}: {e}", path.display()))
}

// ---- start-up and loading ----

/// Start-up with `appendonly yes`: the manifest is read (an AOF of Redis before 7.0, one
/// `appendonly.aof` in `dir`, is adopted as the base), its files are loaded, and appends
/// resume in the last increment (a first start writes an empty base and increment). With
/// `appendonly no` only the manifest is read, so a later `CONFIG SET appendonly yes`
/// continues its numbering. Returns whether the AOF was the source of the data.
pub fn load_at_startup(state: &State) -> Result<bool, String> {
    let settings = state.settings();
    state.engine.lock().aof.configure(&settings);
    let dir = aof_dir(&settings);
    let stem = &settings.appendfilename;
    let mut manifest = read_manifest(&dir, stem)?;
    if manifest.is_none() && settings.appendonly {
        manifest = adopt_single_file(&settings, &dir)?;
    }
    let manifest = manifest.unwrap_or_default();
    state.engine.lock().aof.manifest = manifest.clone();
    if !settings.appendonly {
        return Ok(false);
    }
    let loaded = !manifest.is_empty();
    if loaded {
        let started = Instant::now();
        load_files(state, &dir, &manifest, &settings)?;
        tracing::info!(
            secs = started.elapsed().as_secs_f64(),
            "DB loaded from append only file"
        );
    } else {
        tracing::info!(
            "The AOF directory or manifest doesn't exist: starting with an empty dataset"
        );
    }
    Ok(loaded)
}

/// A pre-7.0 AOF (`<dir>/<appendfilename>`, with or without an RDB preamble) becomes the
/// base of a new manifest, moved into the AOF directory, as Redis 7.0 upgrades it.
fn adopt_single_file(settings: &Settings, dir: &Path) -> Result<Option<Manifest>, String> {
    let old = settings.dir.join(&settings.appendfilename);
    if !old.is_file() {
        return Ok(None);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("can't create {}: {e}", dir.display()))?;
    let name = settings.appendfilename.clone();
    std::fs::rename(&old, dir.join(&name))
        .map_err(|e| format!("can't move {} into {}: {e}", old.display(), dir.display()))?;
    let manifest = Manifest {
        base: Some(AofFile {
            name,
            seq: 1,
            kind: FileKind::Base,
        }),
        ..Manifest::default()
    };
    persist_manifest(dir, &settings.appendfilename, &manifest)
        .map_err(|e| format!("can't persist the AOF manifest: {e}"))?;
    tracing::info!("Successfully migrated an old-style AOF into the AOF directory");
    Ok(Some(manifest))
}

/// After the load: appends continue in the last increment, or a first base (the data as
/// loaded, written synchronously) and increment are created; the manifest is persisted.
pub fn open_at_startup(state: &State) -> Result<(), String> {
    let mut engine = state.engine.lock();
    let settings = engine.settings.clone();
    if !settings.appendonly {
        return Ok(());
    }
    let dir = aof_dir(&settings);
    let stem = settings.appendfilename.clone();
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("can't create the AOF directory {}: {e}", dir.display()))?;
    let mut manifest = engine.aof.manifest.clone();
    if manifest.is_empty() {
        let base = next_base(&manifest, &settings);
        let (snapshot, aux) = base_snapshot(state, &mut engine);
        let target = dir.join(&base.name);
        let written = write_base(&snapshot, &aux, &settings, &target, &AtomicBool::new(false));
        written.map_err(|e| format!("can't create the AOF base file {}: {e}", base.name))?;
        tracing::info!("Creating AOF base file {} on server start", base.name);
        manifest.install_base(base, manifest.last_incr_seq());
    }
    let (file, name, size) = match manifest.incrs.last() {
        Some(last) => {
            let path = dir.join(&last.name);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| format!("can't open the append-only file {}: {e}", path.display()))?;
            tracing::info!("Opening AOF incr file {} on server start", last.name);
            (file, last.name.clone(), file_len(&path))
        }
        None => {
            let name = names::incr(&stem, manifest.last_incr_seq() + 1);
            let file = create_incr(&dir.join(&name))?;
            manifest.push_incr(name.clone());
            tracing::info!("Creating AOF incr file {name} on server start");
            (file, name, 0)
        }
    };
    for old in std::mem::take(&mut manifest.history) {
        let _ = std::fs::remove_file(dir.join(&old.name));
    }
    persist_manifest(&dir, &stem, &manifest)
        .map_err(|e| format!("can't persist the AOF manifest: {e}"))?;
    engine.aof.base_size = manifest
        .base
        .as_ref()
        .map_or(0, |b| file_len(&dir.join(&b.name)));
    engine.aof.current_size = manifest
        .load_order()
        .map(|f| file_len(&dir.join(&f.name)))
        .sum();
    engine.aof.manifest = manifest;
    engine.aof.set_incr(file, name, size);
    engine.aof.state = AofState::On;
    Ok(())
}

/// DEBUG LOADAOF: what was fed is written and synced, the dataset emptied and loaded back
/// from the files the manifest names.
pub fn debug_loadaof(state: &State, engine: &mut Engine) -> Result<(), String> {
    if engine.aof.state != AofState::Off {
        flush_and_sync(engine);
    }
    let settings = engine.settings.clone();
    let dir = aof_dir(&settings);
    let manifest = read_manifest(&dir, &settings.appendfilename)?.unwrap_or_default();
    // Keys go, function libraries stay (Redis's emptyData); the AOF's FUNCTION LOADs of
    // libraries already there fail quietly, as they do for Redis's AOF client.
    crate::keyspace::free_in_background(engine.keyspace.clear_all());
    replay_files(state, engine, &dir, &manifest, &settings, false)?;
    engine.dirty = 0;
    tracing::warn!("Append Only File loaded by DEBUG LOADAOF");
    Ok(())
}

fn load_files(
    state: &State,
    dir: &Path,
    manifest: &Manifest,
    settings: &Settings,
) -> Result<(), String> {
    let mut engine = state.engine.lock();
    replay_files(state, &mut engine, dir, manifest, settings, true)
}

/// Loads each file the manifest names, in order. `truncate` allows cutting a last file
/// that ends mid-command (start-up only; a running server reports it instead).
fn replay_files(
    state: &State,
    engine: &mut Engine,
    dir: &Path,
    manifest: &Manifest,
    settings: &Settings,
    truncate: bool,
) -> Result<(), String> {
    let files: Vec<&AofFile> = manifest.load_order().collect();
    let info = Arc::new(ClientInfo::new(u64::MAX, "aof".into(), String::new()));
    let mut session = Session::new(info, true, true);
    session.is_aof_client = true;
    engine.aof.replaying = true;
    engine.keyspace.set_ignore_expiry(true);
    let mut result = Ok(());
    for (i, file) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        result = replay_file(
            state,
            engine,
            &mut session,
            &dir.join(&file.name),
            settings,
            last && truncate,
        );
        if result.is_err() {
            break;
        }
    }
    engine.keyspace.set_ignore_expiry(false);
    engine.aof.replaying = false;
    result
}

/// Loads one file: an RDB part if it starts with `REDIS`, then commands.
fn replay_file(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    path: &Path,
    settings: &Settings,
    may_truncate: bool,
) -> Result<(), String> {
    let shown = path.display();
    let open = |p: &Path| {
        File::open(p).map_err(|e| {
            format!("Fatal error: can't open the append log file {shown} for reading: {e}")
        })
    };
    let mut file = open(path)?;
    let mut magic = [0u8; 5];
    let mut start = 0;
    let mut have = 0;
    while have < 5 {
        match file.read(&mut magic[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) => {
                return Err(format!(
                    "Unrecoverable error reading the append only file {shown}: {e}"
                ))
            }
        }
    }
    if have == 0 {
        return Ok(());
    }
    if have == 5 && &magic == b"REDIS" {
        let size = file_len(path);
        let options = crate::rdb::LoadOptions {
            total_len: Some(size),
            ..load_options(settings, true)
        };
        let mut loaded = crate::rdb::load(open(path)?, &options).map_err(|e| {
            format!("Error reading the RDB base file {shown}, AOF loading aborted: {e}")
        })?;
        start = loaded.stats.bytes;
        loaded.aux.repl_id = None;
        loaded.aux.repl_offset = None;
        let _ = install_loaded(engine, loaded, true);
        if start >= size {
            return Ok(());
        }
    }
    file.seek(SeekFrom::Start(start))
        .map_err(|e| format!("Unrecoverable error reading the append only file {shown}: {e}"))?;
    let mut reader = CommandReader::new(BufReader::with_capacity(1 << 16, file), start);
    let mut sink = ReplyBuf::new(Proto::Resp2);
    let mut before_multi = start;
    loop {
        let valid = reader.valid_up_to();
        let next = reader
            .next_command()
            .map_err(|e| format!("{e} ({shown})"))?;
        let cut_at = match next {
            Next::Command(argv) => {
                if argv[0].eq_ignore_ascii_case(b"MULTI") {
                    before_multi = valid;
                }
                (state.run_command)(state, engine, session, &argv, &mut sink);
                if sink.buf.starts_with(b"-ERR unknown command") {
                    return Err(format!(
                        "Unknown command '{}' reading the append only file {shown}",
                        String::from_utf8_lossy(&argv[0])
                    ));
                }
                sink.buf.clear();
                continue;
            }
            Next::End if session.multi.is_none() => return Ok(()),
            Next::End => {
                tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {shown}");
                before_multi
            }
            Next::Truncated if session.multi.is_some() => before_multi,
            Next::Truncated => reader.valid_up_to(),
        };
        engine.reset_transaction(session);
        if !may_truncate || !settings.aof_load_truncated {
            return Err(format!(
                "Unexpected end of file reading the append only file {shown}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
            ));
        }
        tracing::warn!("!!! Warning: short read while loading the AOF file {shown}!!!");
        tracing::warn!("!!! Truncating the AOF {shown} at offset {cut_at} !!!");
        let cut = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(cut_at));
        if let Err(e) = cut {
            return Err(format!("Error truncating the AOF file {shown}: {e}"));
        }
        tracing::warn!("AOF {shown} loaded anyway because aof-load-truncated is enabled");
        return Ok(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeding_selects_the_database_and_annotates_when_asked() {
        let mut aof = Aof {
            state: AofState::On,
            ..Aof::default()
        };
        aof.feed(0, &[b"SET", b"a", b"1"]);
        aof.feed(0, &[b"DEL", b"a"]);
        aof.feed(2, &[b"DEL", b"b"]);
        let text = String::from_utf8(aof.pending.clone()).unwrap();
        assert_eq!(text.matches("SELECT").count(), 2);
        assert!(text.starts_with("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET"));
        aof.pending.clear();
        aof.timestamps = true;
        aof.feed(2, &[b"DEL", b"c"]);
        assert!(aof.pending.starts_with(b"#TS:"));
    }

    #[test]
    fn nothing_is_fed_while_off_or_replaying() {
        let mut aof = Aof::default();
        aof.feed(0, &[b"SET", b"a", b"1"]);
        assert_eq!(aof.buffer_len(), 0);
        aof.state = AofState::On;
        aof.replaying = true;
        aof.feed(0, &[b"SET", b"a", b"1"]);
        assert_eq!(aof.buffer_len(), 0);
    }
}
