//! RDB files on disk: writing a snapshot through a temporary file (fsync, then an atomic
//! rename over the target, so a crash never leaves a half-written `dump.rdb`), and loading
//! one with its size known (so every length is checked against what the file holds).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{load, write_snapshot, Aux, LoadOptions, Loaded, RdbError, WriteOptions, WriteStats};
use crate::keyspace::KeyspaceSnapshot;

/// Bytes written between two `fsync`s of the temporary file (Redis's
/// `rdb-save-incremental-fsync`), so that the kernel never holds a whole dataset of dirty
/// pages that a final fsync would have to flush at once.
const FSYNC_EVERY: u64 = 32 * 1024 * 1024;

/// A failed save: what failed and on which file.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The temporary file could not be created.
    #[error("failed opening the temp RDB file {path} for saving: {source}")]
    Create {
        /// The temporary file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Serialising or writing failed (the temporary file is removed).
    #[error("write error saving DB on disk ({path}): {source}")]
    Write {
        /// The temporary file.
        path: PathBuf,
        /// Why.
        source: RdbError,
    },
    /// The save was cancelled (FLUSHALL, SHUTDOWN); the temporary file is removed.
    #[error("save cancelled")]
    Cancelled,
    /// The rename over the target failed.
    #[error("error moving temp DB file {from} on the final destination {to}: {source}")]
    Rename {
        /// The temporary file.
        from: PathBuf,
        /// The target.
        to: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A failed load of an RDB file.
#[derive(Debug, thiserror::Error)]
pub enum LoadFileError {
    /// The file exists but could not be opened or measured.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The content is not a loadable RDB.
    #[error("{path}: {source}")]
    Rdb {
        /// The file.
        path: PathBuf,
        /// Why (with the byte offset).
        source: RdbError,
    },
}

/// A [`Write`] that fsyncs every [`FSYNC_EVERY`] bytes and stops when `cancel` is set.
struct SaveSink<'a> {
    file: File,
    cancel: Option<&'a AtomicBool>,
    since_sync: u64,
    progress: Option<&'a AtomicU64>,
}

impl Write for SaveSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(std::io::Error::other("save cancelled"));
        }
        let n = self.file.write(buf)?;
        self.since_sync += n as u64;
        if let Some(p) = self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
        if self.since_sync >= FSYNC_EVERY {
            self.file.sync_data()?;
            self.since_sync = 0;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Lowers the calling thread's scheduling priority (nice 10), for threads that serialise a
/// snapshot while the server runs: on a small machine they share cores with the threads
/// that answer clients, and the scheduler should prefer the latter (Redis can pin its fork
/// child with `bgsave_cpulist` for the same reason). Best effort: failures are ignored.
pub fn lower_current_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority on our own thread id only
        // changes this thread's nice value.
        #[allow(unsafe_code)]
        unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
        }
    }
}

/// Which temporary file a save writes before its rename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TempName {
    /// `temp-<pid>.rdb`, the name Redis's foreground saves (SAVE, the shutdown save) use,
    /// which a second SIGINT removes before exiting. Only one foreground save runs at a
    /// time: it holds the engine lock.
    Foreground,
    /// A unique name (see [`temp_path`]), for saves running beside others.
    Unique,
    /// This one, chosen by the caller (a background save that may have to remove it).
    At(PathBuf),
}

/// The temporary file of a foreground save in `dir`: `temp-<pid>.rdb`.
pub fn foreground_temp_path(dir: &Path) -> PathBuf {
    dir.join(format!("temp-{}.rdb", std::process::id()))
}

/// A unique temporary file name in `dir`: `temp-<pid>-<n>.rdb` (Redis uses the saving
/// process's pid; replikv saves from threads of one process, so a counter keeps a
/// cancelled background save and a new foreground one apart).
pub fn temp_path(dir: &Path) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("temp-{}-{n}.rdb", std::process::id()))
}

/// Writes `snapshot` to `target` through a temporary file in the same directory: write,
/// fsync, rename, fsync the directory. `cancel` stops it early (the temporary file is
/// removed and `target` is untouched); `progress` counts bytes written.
pub fn save_snapshot(
    snapshot: &KeyspaceSnapshot,
    aux: &Aux,
    opts: &WriteOptions,
    target: &Path,
    cancel: Option<&AtomicBool>,
    progress: Option<&AtomicU64>,
    temp: TempName,
) -> Result<WriteStats, SaveError> {
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let tmp = match temp {
        TempName::Foreground => foreground_temp_path(dir),
        TempName::Unique => temp_path(dir),
        TempName::At(path) => path,
    };
    let file = File::create(&tmp).map_err(|source| SaveError::Create {
        path: tmp.clone(),
        source,
    })?;
    let mut sink = SaveSink {
        file,
        cancel,
        since_sync: 0,
        progress,
    };
    let result = write_snapshot(snapshot, aux, opts, &mut sink)
        .and_then(|stats| sink.file.sync_all().map(|_| stats).map_err(RdbError::Write));
    let stats = match result {
        Ok(stats) => stats,
        Err(source) => {
            let _ = std::fs::remove_file(&tmp);
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(SaveError::Cancelled);
            }
            return Err(SaveError::Write { path: tmp, source });
        }
    };
    drop(sink);
    // A cancelled save must not replace the file a later save wrote: the check and the
    // rename happen under one lock, which the later save's rename also takes.
    static RENAME: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    let _renaming = RENAME.lock();
    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(SaveError::Cancelled);
    }
    if let Err(source) = std::fs::rename(&tmp, target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(SaveError::Rename {
            from: tmp,
            to: target.to_path_buf(),
            source,
        });
    }
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(stats)
}

/// Loads the RDB file at `path`; `Ok(None)` when there is no such file (a first start).
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Option<Loaded>, LoadFileError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(LoadFileError::Open {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let len = file
        .metadata()
        .map_err(|source| LoadFileError::Open {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let opts = LoadOptions {
        total_len: Some(len),
        ..opts.clone()
    };
    load(file, &opts)
        .map(Some)
        .map_err(|source| LoadFileError::Rdb {
            path: path.to_path_buf(),
            source,
        })
}
