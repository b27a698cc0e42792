//! Persistence machinery: the background save job, the `save <seconds> <changes>` rules,
//! the saves on SHUTDOWN and FLUSHALL, DEBUG RELOAD's reload, and loading the RDB at
//! start-up. The commands (SAVE, BGSAVE, DUMP, RESTORE) are in `command::persistence`;
//! full sync reaches the codec through [`super::rdb_bridge`].
//!
//! A background save is forkless: under the engine lock it takes a keyspace snapshot (a
//! clone of segment pointers, see `keyspace::segment`) and the replication position, then a
//! thread serialises that frozen view into `<dir>/temp-<pid>-<n>.rdb`, fsyncs and renames
//! it over `<dir>/<dbfilename>` while the server keeps running. The thread reports back by
//! taking the engine lock once at the end, as Redis's parent learns of its child's exit in
//! `serverCron`. [`Persistence`] holds what INFO persistence shows.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{encoding_limits, Engine, State};
use crate::config::Settings;
use crate::keyspace::{free_in_background, now_ms, KeyspaceSnapshot};
use crate::rdb::file::{load_file, save_snapshot, SaveError};
use crate::rdb::{Aux, KeyDelay, LoadOptions, Loaded, ReplAux, WriteOptions, WriteStats};
use crate::replication::CachedMaster;

/// After a failed background save, save rules wait this long before trying again
/// (Redis's `CONFIG_BGSAVE_RETRY_DELAY`).
const BGSAVE_RETRY_DELAY_SECS: i64 = 5;

/// Persistence state, in the engine (INFO persistence, LASTSAVE, the MISCONF gate).
#[derive(Debug)]
pub struct Persistence {
    /// The background save in progress, if any.
    pub bgsave: Option<BgSave>,
    /// A BGSAVE was asked for inside MULTI/EXEC: the cron starts it.
    pub bgsave_scheduled: bool,
    /// Outcome of the last background save (`rdb_last_bgsave_status`); a successful SAVE
    /// also sets it, as in Redis.
    pub last_bgsave_ok: bool,
    /// Seconds the last background save took (`rdb_last_bgsave_time_sec`), -1 before one.
    pub last_bgsave_secs: i64,
    /// Unix seconds of the last background save attempt (for the retry delay).
    pub last_bgsave_try: i64,
    /// SAVE and BGSAVE attempts (`rdb_saves`).
    pub saves: u64,
    /// Keys of the last load (`rdb_last_load_keys_loaded`).
    pub last_load_keys_loaded: u64,
    /// Keys dropped as expired by the last load (`rdb_last_load_keys_expired`).
    pub last_load_keys_expired: u64,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            bgsave: None,
            bgsave_scheduled: false,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            last_bgsave_try: 0,
            saves: 0,
            last_load_keys_loaded: 0,
            last_load_keys_expired: 0,
        }
    }
}

impl Persistence {
    /// `rdb_current_bgsave_time_sec`: seconds the running save has taken, -1 when none.
    pub fn current_bgsave_secs(&self) -> i64 {
        self.bgsave
            .as_ref()
            .map_or(-1, |b| b.started.elapsed().as_secs() as i64)
    }

    /// `current_save_keys_total`: keys of the snapshot being written (0 when none).
    pub fn current_save_keys_total(&self) -> u64 {
        self.bgsave.as_ref().map_or(0, |b| b.keys_total)
    }
}

/// A background save in progress.
#[derive(Debug)]
pub struct BgSave {
    /// Identifies the job, so a cancelled job's late report is ignored.
    id: u64,
    started: Instant,
    /// `dirty` when the snapshot was taken: changes after it stay unsaved.
    dirty_before: u64,
    /// Set to stop the job (FLUSHALL, SHUTDOWN, DEBUG RELOAD).
    cancel: Arc<AtomicBool>,
    /// The temporary file it writes (removed at once by a shutdown that cancels it).
    temp: PathBuf,
    keys_total: u64,
}

/// `<dir>/<dbfilename>`.
pub fn rdb_path(settings: &Settings) -> PathBuf {
    settings.dir.join(&settings.dbfilename)
}

/// Writing options for this server: `rdbcompression`, `rdbchecksum`,
/// `rdb-key-save-delay`.
pub(crate) fn write_options(settings: &Settings) -> WriteOptions {
    WriteOptions {
        compression: settings.rdbcompression,
        checksum: settings.rdbchecksum,
        key_delay: KeyDelay(settings.rdb_key_save_delay),
        stop: None,
    }
}

/// The replication fields a save records (Redis's `rdbPopulateSaveInfo`): a master with a
/// backlog records its id, offset and the database its stream last selected; a replica
/// records its master's id, its processed offset and the database its master's stream is
/// in; anyone else records nothing.
fn repl_aux(state: &State, engine: &Engine) -> Option<ReplAux> {
    let stream_db = if engine.is_replica {
        match engine.master_stream_db {
            Some(db) => db as i64,
            None if state.repl.role.lock().cached_master().is_some() => 0,
            None => return None,
        }
    } else if engine.repl.active {
        engine.repl.stream_db().unwrap_or(0) as i64
    } else {
        return None;
    };
    Some(ReplAux {
        stream_db,
        id: engine.repl.replid.clone(),
        offset: engine.repl.offset as i64,
    })
}

/// Takes the point-in-time view a save writes and the AUX fields that describe it. Runs
/// under the engine lock and costs a clone of segment pointers.
pub fn snapshot_for_save(state: &State, engine: &mut Engine) -> (KeyspaceSnapshot, Aux) {
    engine.repl.publish();
    let snapshot = engine.keyspace.snapshot();
    let aux = Aux {
        ctime: snapshot.taken_at_ms / 1000,
        used_mem: crate::telemetry::process::allocated_bytes(),
        repl: repl_aux(state, engine),
        functions: engine.scripts.functions.codes(),
        aof_base: false,
    };
    (snapshot, aux)
}

/// Saves synchronously, holding the engine lock (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD).
pub fn save_now(state: &State, engine: &mut Engine) -> Result<WriteStats, SaveError> {
    let (snapshot, aux) = snapshot_for_save(state, engine);
    let settings = engine.settings.clone();
    let path = rdb_path(&settings);
    let started = Instant::now();
    let result = save_snapshot(
        &snapshot,
        &aux,
        &write_options(&settings),
        &path,
        None,
        None,
        crate::rdb::file::TempName::Foreground,
    );
    drop(snapshot);
    match &result {
        Ok(stats) => {
            engine.dirty = 0;
            engine.lastsave = now_ms() / 1000;
            engine.rdb.last_bgsave_ok = true;
            tracing::info!(
                keys = stats.keys,
                bytes = stats.bytes,
                secs = started.elapsed().as_secs_f64(),
                "DB saved on disk"
            );
        }
        Err(e) => tracing::warn!(error = %e, "failed saving the DB"),
    }
    result
}

/// Starts a background save. The caller checked that none is running.
pub fn start_bgsave(state: &State, engine: &mut Engine) -> Result<(), String> {
    let Some(owner) = state.arc() else {
        return Err("the server is stopping".into());
    };
    static JOBS: AtomicU64 = AtomicU64::new(1);
    let id = JOBS.fetch_add(1, Ordering::Relaxed);
    let (snapshot, aux) = snapshot_for_save(state, engine);
    let settings = engine.settings.clone();
    let cancel = Arc::new(AtomicBool::new(false));
    let temp = crate::rdb::file::temp_path(&settings.dir);
    engine.rdb.saves += 1;
    engine.rdb.last_bgsave_try = now_ms() / 1000;
    engine.rdb.bgsave = Some(BgSave {
        id,
        started: Instant::now(),
        dirty_before: engine.dirty,
        cancel: cancel.clone(),
        temp: temp.clone(),
        keys_total: snapshot.key_count() as u64,
    });
    let spawned = std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            crate::rdb::file::lower_current_thread_priority();
            let result = save_snapshot(
                &snapshot,
                &aux,
                &write_options(&settings),
                &rdb_path(&settings),
                Some(&cancel),
                None,
                crate::rdb::file::TempName::At(temp),
            );
            // Old versions of values die here, off the engine lock.
            drop(snapshot);
            finish_bgsave(&owner, id, result);
        });
    if let Err(e) = spawned {
        engine.rdb.bgsave = None;
        engine.rdb.last_bgsave_ok = false;
        return Err(format!("cannot start the background save thread: {e}"));
    }
    tracing::info!("Background saving started");
    Ok(())
}

/// Records the end of background save `id` (Redis's `backgroundSaveDoneHandlerDisk`).
fn finish_bgsave(state: &State, id: u64, result: Result<WriteStats, SaveError>) {
    let mut engine = state.engine.lock();
    let Some(job) = engine.rdb.bgsave.take_if(|j| j.id == id) else {
        // Cancelled and replaced: a killed save changes nothing, as Redis's SIGUSR1 kill.
        return;
    };
    engine.rdb.last_bgsave_secs = job.started.elapsed().as_secs() as i64;
    match result {
        Ok(stats) => {
            engine.dirty = engine.dirty.saturating_sub(job.dirty_before);
            engine.lastsave = now_ms() / 1000;
            engine.rdb.last_bgsave_ok = true;
            tracing::info!(
                keys = stats.keys,
                bytes = stats.bytes,
                "Background saving terminated with success"
            );
        }
        Err(SaveError::Cancelled) => {}
        Err(e) => {
            engine.rdb.last_bgsave_ok = false;
            tracing::warn!(error = %e, "Background saving error");
        }
    }
}

/// Stops a running background save; its temporary file is removed and the target file is
/// left as it was (Redis's `killRDBChild`).
pub fn cancel_bgsave(engine: &mut Engine) -> Option<PathBuf> {
    let job = engine.rdb.bgsave.take()?;
    job.cancel.store(true, Ordering::Relaxed);
    tracing::warn!("background save cancelled");
    Some(job.temp)
}

/// True when writes (and PING) must be refused with -MISCONF: the last background save
/// failed, save rules exist and `stop-writes-on-bgsave-error` is on.
pub fn writes_denied(engine: &Engine) -> bool {
    let s = &engine.settings;
    s.stop_writes_on_bgsave_error && !s.save.is_empty() && !engine.rdb.last_bgsave_ok
}

/// The cron's part (Redis's `serverCron`): start a scheduled BGSAVE, or one a save rule
/// asks for, when none runs.
pub fn cron(state: &State, engine: &mut Engine) {
    if engine.rdb.bgsave.is_some() {
        return;
    }
    let now = now_ms() / 1000;
    let may_retry =
        engine.rdb.last_bgsave_ok || now - engine.rdb.last_bgsave_try > BGSAVE_RETRY_DELAY_SECS;
    if !may_retry {
        return;
    }
    if engine.rdb.bgsave_scheduled {
        engine.rdb.bgsave_scheduled = false;
        if let Err(e) = start_bgsave(state, engine) {
            tracing::warn!(error = %e, "scheduled BGSAVE failed to start");
        }
        return;
    }
    let due =
        engine.settings.save.iter().find(|(secs, changes)| {
            engine.dirty >= *changes && now - engine.lastsave > *secs as i64
        });
    if let Some((secs, changes)) = due.copied() {
        tracing::info!("{changes} changes in {secs} seconds. Saving...");
        if let Err(e) = start_bgsave(state, engine) {
            tracing::warn!(error = %e, "BGSAVE failed to start");
        }
    }
}

// ---- start-up, shutdown, flush ----

/// Loading options for this server: its databases and thresholds, checksum verification
/// per `rdbchecksum`, `key-load-delay`.
pub(crate) fn load_options(settings: &Settings, keep_expired: bool) -> LoadOptions {
    LoadOptions {
        keep_expired,
        verify_checksum: settings.rdbchecksum,
        key_delay: KeyDelay(settings.key_load_delay),
        ..LoadOptions::new(settings.databases, encoding_limits(settings))
    }
}

/// Loads `<dir>/<dbfilename>` before the server accepts clients. A missing file is a
/// fresh start; a file that cannot be loaded is an error naming the file, the byte offset
/// and the reason (the server then exits, and the file is left untouched).
///
/// A node started as a replica keeps keys that already expired (its master will send the
/// DELs); a master drops them and feeds their DELs to its replication stream. The RDB's
/// replication fields are adopted as Redis does: a replica resumes its master's history
/// (its first PSYNC asks to continue from there), a master keeps the loaded history as its
/// previous id so that its replicas can resume with a partial resync.
pub fn load_at_startup(state: &State) -> Result<(), String> {
    let settings = state.settings();
    let path = rdb_path(&settings);
    let replica = settings.replicaof.is_some();
    let started = Instant::now();
    if let Ok(meta) = std::fs::metadata(&path) {
        state
            .load_progress
            .begin(Some(meta.len()), crate::keyspace::now_ms());
    }
    let opts = LoadOptions {
        progress: Some(state.load_progress.tracker()),
        ..load_options(&settings, replica)
    };
    let loaded = match load_file(&path, &opts) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(()),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    tracing::info!(
        file = %path.display(),
        keys_loaded = loaded.stats.keys_loaded,
        keys_expired = loaded.stats.keys_expired,
        rdb_version = loaded.stats.version,
        secs = started.elapsed().as_secs_f64(),
        "DB loaded from disk"
    );
    let mut engine = state.engine.lock();
    if let Some(history) = install_loaded(&mut engine, loaded, replica) {
        tracing::info!(
            replid = %history.replid,
            offset = history.offset,
            "the RDB holds our master's replication history: a partial resync will be tried"
        );
        state.repl.role.lock().cache_master(Some(history));
    }
    Ok(())
}

/// Makes the function libraries of a loaded RDB the only ones (Redis replaces its
/// libraries with the file's). A library that does not load is logged and left out.
pub fn install_functions(engine: &mut Engine, codes: &[bytes::Bytes]) {
    use crate::scripting::functions::RestorePolicy;
    if let Err(e) = engine
        .scripts
        .functions
        .restore(codes, RestorePolicy::Flush)
    {
        tracing::warn!(error = %e, "function libraries from the RDB not loaded");
    }
}

/// Makes a loaded file the dataset (start-up, DEBUG RELOAD). For a replica whose file
/// records its master's history, returns that history (id, offset, stream database), from
/// which the first PSYNC continues as Redis does after a restart.
pub(super) fn install_loaded(
    engine: &mut Engine,
    loaded: Loaded,
    replica: bool,
) -> Option<CachedMaster> {
    let Loaded {
        keyspace,
        aux,
        stats,
        expired,
    } = loaded;
    install_functions(engine, &aux.functions);
    engine.rdb.last_load_keys_loaded = stats.keys_loaded;
    engine.rdb.last_load_keys_expired = stats.keys_expired;
    // Contents are swapped database by database so that WATCHes and blocked clients,
    // which belong to the live databases, stay registered.
    // The swap touches the watched keys the load changes.
    let mut incoming = keyspace;
    let now = crate::keyspace::now_ms();
    for (live, new) in engine.keyspace.dbs.iter_mut().zip(incoming.dbs.iter_mut()) {
        live.swap_contents(new, now);
        live.signal_all_blocked();
    }
    free_in_background(incoming);
    let (Some(id), Some(offset), Some(stream_db)) =
        (aux.repl_id, aux.repl_offset, aux.repl_stream_db)
    else {
        return None;
    };
    if offset < 0 {
        return None;
    }
    let log = &mut engine.repl;
    if replica {
        // Our master's history: `become_replica` caches it, so the first PSYNC continues.
        log.replid = id.clone();
        log.offset = offset as u64;
        let db = usize::try_from(stream_db).unwrap_or(0);
        return Some(CachedMaster {
            replid: id,
            offset: offset as u64,
            db: db.min(engine.keyspace.dbs.len().saturating_sub(1)),
        });
    } else {
        // A restarted master: the loaded history becomes the previous id, valid up to its
        // offset, and the (empty) backlog resumes there.
        log.replid2 = id;
        log.second_offset = offset + 1;
        log.offset = offset as u64;
        log.ensure_backlog();
        for (db, key) in expired {
            log.feed(db, &[b"DEL", &key]);
        }
    }
    None
}

/// Why the final steps of a shutdown stopped it.
#[derive(Debug, thiserror::Error)]
pub enum ShutdownError {
    /// AOF was turned on at run time and its first base is not written yet: exiting
    /// would leave no complete AOF.
    #[error("writing initial AOF")]
    InitialAof,
    /// The final RDB save failed.
    #[error(transparent)]
    Save(#[from] SaveError),
}

/// The final save of a shutdown (Redis's `finishShutdown`): refuses while the first AOF of
/// an `appendonly` turned on at run time is being written, cancels a background save,
/// writes and syncs the AOF, then saves when save rules exist (or `save` forces it) unless
/// `nosave`. A failure stops the shutdown unless `force`.
pub fn shutdown_save(
    state: &State,
    engine: &mut Engine,
    nosave: bool,
    save: bool,
    force: bool,
) -> Result<(), ShutdownError> {
    if engine.aof.state == super::aof::AofState::WaitRewrite {
        if !force {
            tracing::warn!("Writing initial AOF, can't exit.");
            return Err(ShutdownError::InitialAof);
        }
        tracing::warn!("Writing initial AOF. Exit anyway.");
    }
    // The cancelled save's file goes now: the process may exit before its thread notices
    // (Redis removes its killed child's file the same way).
    if let Some(temp) = cancel_bgsave(engine) {
        tracing::warn!("A background save is running: it stops and its temporary file is removed.");
        let _ = std::fs::remove_file(temp);
    }
    // Every write acknowledged so far reaches the AOF's disk, whatever the save does.
    if engine.aof.state != super::aof::AofState::Off {
        tracing::info!("Calling fsync() on the AOF file.");
        super::aof::flush_and_sync(engine);
    }
    if nosave || (!save && engine.settings.save.is_empty()) {
        return Ok(());
    }
    tracing::warn!("Saving the final RDB snapshot before exiting.");
    match save_now(state, engine) {
        Ok(_) => Ok(()),
        Err(e) if force => {
            tracing::warn!(error = %e, "Error trying to save the DB. Exit anyway.");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "Error trying to save the DB, can't exit.");
            Err(e.into())
        }
    }
}

/// FLUSHALL's save (Redis's `flushAllDataAndResetRDB`): a running background save is
/// cancelled, and with save rules an empty RDB replaces the old one at once. Returns true
/// when it saved (the changes counter is then zero).
pub fn flushall_save(state: &State, engine: &mut Engine) -> bool {
    cancel_bgsave(engine);
    if engine.settings.save.is_empty() {
        return false;
    }
    save_now(state, engine).is_ok()
}

/// What DEBUG RELOAD does after its optional save.
#[derive(Debug, Clone, Copy)]
pub struct ReloadOptions {
    /// Empty the dataset first (the default); without it keys load on top (`NOFLUSH`).
    pub flush: bool,
    /// On top of the dataset, a key present on both sides is replaced (`MERGE`) instead of
    /// failing the reload.
    pub merge: bool,
}

/// Why a reload did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The save before the reload failed.
    #[error("saving before the reload failed: {0}")]
    Save(#[from] SaveError),
    /// No file, a file that does not load, or a duplicate key without MERGE.
    #[error("{0}")]
    Load(String),
}

/// DEBUG RELOAD after its save: loads the dump file back, replacing the dataset or on top
/// of it. All or nothing: a file that fails to load, or a duplicate key without MERGE,
/// leaves the current data in place (Redis would exit).
pub fn reload(engine: &mut Engine, options: ReloadOptions) -> Result<(), ReloadError> {
    let settings = engine.settings.clone();
    let mut loaded = match load_file(
        &rdb_path(&settings),
        &load_options(&settings, engine.is_replica),
    ) {
        Ok(Some(l)) => l,
        Ok(None) => return Err(ReloadError::Load("no RDB file to load".into())),
        Err(e) => return Err(ReloadError::Load(e.to_string())),
    };
    // A running server keeps its own replication position (its replicas read its backlog
    // at its offsets): the history a file records (a dump from `redis-cli --rdb` carries
    // the dumping sync's id and offset) only matters at start-up, as in Redis.
    loaded.aux.repl_id = None;
    loaded.aux.repl_offset = None;
    if options.flush {
        let replica = engine.is_replica;
        let _ = install_loaded(engine, loaded, replica);
        return Ok(());
    }
    engine.rdb.last_load_keys_loaded = loaded.stats.keys_loaded;
    engine.rdb.last_load_keys_expired = loaded.stats.keys_expired;
    let clock = engine.keyspace.lru_clock();
    if !options.merge {
        // Check before any change so the reload is all or nothing.
        for (live, incoming) in engine.keyspace.dbs.iter().zip(loaded.keyspace.dbs.iter()) {
            if let Some(dup) = incoming
                .snapshot()
                .items()
                .find(|it| live.peek(&it.key).is_some())
            {
                return Err(ReloadError::Load(format!(
                    "duplicate key '{}'",
                    String::from_utf8_lossy(&dup.key)
                )));
            }
        }
    }
    // Libraries load on top too: a name already loaded fails the reload unless MERGE.
    let policy = if options.merge {
        crate::scripting::functions::RestorePolicy::Replace
    } else {
        crate::scripting::functions::RestorePolicy::Append
    };
    engine
        .scripts
        .functions
        .restore(&loaded.aux.functions, policy)
        .map_err(ReloadError::Load)?;
    for (live, incoming) in engine
        .keyspace
        .dbs
        .iter_mut()
        .zip(loaded.keyspace.dbs.iter())
    {
        for item in incoming.snapshot().items() {
            live.insert(&item.key, item.value.clone(), item.expire_at(), clock);
        }
    }
    Ok(())
}
