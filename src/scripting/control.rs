//! What other clients see of a running script, without the engine lock the script holds:
//! whether one runs and for how long, whether it timed out (then other clients get `-BUSY`),
//! and the kill request of `SCRIPT KILL` / `FUNCTION KILL` that the script's hook obeys.
//! Redis keeps this in its `curr_run_ctx`; here it is shared by the engine (the writer)
//! and every connection (the readers).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Replies of `SCRIPT KILL` / `FUNCTION KILL` and of commands refused by a busy script.
pub mod replies {
    /// No script runs.
    pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
    /// The running script came from our master.
    pub const UNKILLABLE_MASTER: &str = "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.";
    /// The running script already wrote.
    pub const UNKILLABLE_WROTE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
    /// An EVAL script is busy.
    pub const BUSY_EVAL: &str =
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    /// A function is busy.
    pub const BUSY_FUNCTION: &str =
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
}

/// The running script's state.
#[derive(Debug, Default)]
pub struct RunControl {
    /// Microseconds since [`epoch`] when the running script started, plus one; 0 = none.
    started: AtomicU64,
    /// Past `busy-reply-threshold`: other clients are answered `-BUSY`.
    timed_out: AtomicBool,
    /// A kill was requested; the script's hook raises at its next check.
    kill: AtomicBool,
    /// The script ran a write command (it can no longer be killed).
    wrote: AtomicBool,
    /// An EVAL script (as opposed to a function).
    is_eval: AtomicBool,
    /// Sent by our master (never killed).
    from_master: AtomicBool,
    /// `busy-reply-threshold` in ms for the running script (0 = never time out).
    threshold_ms: AtomicU64,
    /// The running script or function's name, the command that runs it, and the number of
    /// libraries and functions (FUNCTION STATS answers from these while the script runs).
    running: Mutex<RunningScript>,
    /// Woken when a script ends.
    finished: tokio::sync::Notify,
    /// Tasks waiting on `finished` (most scripts end before anyone waits: no wake-up then).
    waiters: std::sync::atomic::AtomicUsize,
}

/// What FUNCTION STATS shows of the running script.
#[derive(Debug, Clone, Default)]
pub struct RunningScript {
    /// The function's name (or the script's SHA-1).
    pub name: String,
    /// The command that runs it, as sent.
    pub command: Vec<bytes::Bytes>,
    /// Libraries loaded.
    pub libraries: usize,
    /// Functions loaded.
    pub functions: usize,
}

/// Writes FUNCTION STATS's reply: the running script (`running` with how long it has run)
/// and the Lua engine's library and function counts.
pub fn write_function_stats(
    out: &mut crate::resp::ReplyBuf,
    running: Option<(&RunningScript, Duration)>,
    libraries: usize,
    functions: usize,
) {
    out.map(2);
    out.bulk(b"running_script");
    match running {
        None => out.null(),
        Some((script, duration)) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(script.name.as_bytes());
            out.bulk(b"command");
            out.array(script.command.len());
            for arg in &script.command {
                out.bulk(arg);
            }
            out.bulk(b"duration_ms");
            out.int(duration.as_millis() as i64);
        }
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libraries as i64);
    out.bulk(b"functions_count");
    out.int(functions as i64);
}

/// What a kill request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillOutcome {
    /// The script will stop at its next check.
    Killed,
    /// Refused with this error reply.
    Refused(&'static str),
}

/// Gives this thread's runtime worker (its queued tasks with it) to a new thread, so that
/// the tasks queued behind a script that runs long — the connection that will send SCRIPT
/// KILL among them — run meanwhile. Tokio's `block_in_place` starts that thread; the
/// closure waits a little so that the new thread takes the worker before `block_in_place`
/// returns (else this thread takes it back), and the script goes on, on a thread that no
/// longer owns a worker. Done once per script, when it times out.
fn release_worker() {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(5)));
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds on a monotonic clock, never 0.
pub fn monotonic_us() -> u64 {
    epoch().elapsed().as_micros() as u64 + 1
}

fn now_us() -> u64 {
    monotonic_us()
}

impl RunControl {
    /// Marks a script as running.
    pub fn begin(
        &self,
        script: RunningScript,
        is_eval: bool,
        from_master: bool,
        threshold_ms: u64,
    ) {
        *self.running.lock() = script;
        self.kill.store(false, Ordering::Relaxed);
        self.wrote.store(false, Ordering::Relaxed);
        self.timed_out.store(false, Ordering::Relaxed);
        self.is_eval.store(is_eval, Ordering::Relaxed);
        self.from_master.store(from_master, Ordering::Relaxed);
        self.threshold_ms.store(threshold_ms, Ordering::Relaxed);
        self.started.store(now_us(), Ordering::Release);
    }

    /// Marks the script as finished and wakes the clients waiting for it.
    pub fn end(&self) {
        // SeqCst with `wait_finished`: either the waiter sees the script gone, or this
        // sees the waiter and wakes it.
        self.started.store(0, Ordering::SeqCst);
        self.timed_out.store(false, Ordering::Release);
        self.kill.store(false, Ordering::Relaxed);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.finished.notify_waiters();
        }
    }

    /// How long the running script has run; `None` when none runs.
    pub fn running_for(&self) -> Option<Duration> {
        match self.started.load(Ordering::Acquire) {
            0 => None,
            t => Some(Duration::from_micros(now_us().saturating_sub(t))),
        }
    }

    /// True while a script runs past its threshold (other clients get `-BUSY`).
    pub fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Acquire)
    }

    /// The `-BUSY` reply for the running script's kind.
    pub fn busy_reply(&self) -> &'static str {
        if self.is_eval.load(Ordering::Relaxed) {
            replies::BUSY_EVAL
        } else {
            replies::BUSY_FUNCTION
        }
    }

    /// FUNCTION STATS while a script runs: its reply, or the `-BUSY` error when the
    /// running script is an EVAL (as Redis answers).
    pub fn function_stats(&self, out: &mut crate::resp::ReplyBuf) -> Result<(), &'static str> {
        let Some(duration) = self.running_for() else {
            return Err(replies::NOTBUSY);
        };
        if self.is_eval.load(Ordering::Relaxed) {
            return Err(replies::BUSY_EVAL);
        }
        let script = self.running.lock().clone();
        let (libraries, functions) = (script.libraries, script.functions);
        write_function_stats(out, Some((&script, duration)), libraries, functions);
        Ok(())
    }

    /// Called by the script's hook: enters the timed-out state once the threshold passed
    /// (logging it as Redis does), and says whether the script must stop.
    pub fn check(&self) -> bool {
        if !self.timed_out.load(Ordering::Relaxed) {
            let threshold = self.threshold_ms.load(Ordering::Relaxed);
            let elapsed = self.running_for().unwrap_or_default();
            if threshold > 0 && elapsed.as_millis() as u64 >= threshold {
                let eval = self.is_eval.load(Ordering::Relaxed);
                tracing::warn!(
                    "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                    elapsed.as_millis(),
                    if eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
                    self.running.lock().name
                );
                self.timed_out.store(true, Ordering::Release);
                release_worker();
            }
        }
        self.kill.load(Ordering::Acquire)
    }

    /// Records that the script wrote (it can no longer be killed).
    pub fn mark_wrote(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }

    /// `SCRIPT KILL` (`eval` true) or `FUNCTION KILL`.
    pub fn request_kill(&self, eval: bool) -> KillOutcome {
        if self.running_for().is_none() {
            return KillOutcome::Refused(replies::NOTBUSY);
        }
        if self.from_master.load(Ordering::Relaxed) {
            return KillOutcome::Refused(replies::UNKILLABLE_MASTER);
        }
        if self.wrote.load(Ordering::Relaxed) {
            return KillOutcome::Refused(replies::UNKILLABLE_WROTE);
        }
        let running_eval = self.is_eval.load(Ordering::Relaxed);
        if eval && !running_eval {
            return KillOutcome::Refused(replies::BUSY_FUNCTION);
        }
        if !eval && running_eval {
            return KillOutcome::Refused(replies::BUSY_EVAL);
        }
        self.kill.store(true, Ordering::Release);
        KillOutcome::Killed
    }

    /// Asks the running script to stop whatever it did (SHUTDOWN NOSAVE while busy).
    pub fn force_kill(&self) {
        self.kill.store(true, Ordering::Release);
    }

    /// Waits until no script runs, or `timeout` passes.
    pub async fn wait_finished(&self, timeout: Duration) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let notified = self.finished.notified();
        if self.started.load(Ordering::SeqCst) != 0 {
            let _ = tokio::time::timeout(timeout, notified).await;
        }
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> RunningScript {
        RunningScript {
            name: name.into(),
            ..RunningScript::default()
        }
    }

    #[test]
    fn kill_rules_follow_redis() {
        let c = RunControl::default();
        assert_eq!(c.request_kill(true), KillOutcome::Refused(replies::NOTBUSY));
        c.begin(named("abc"), true, false, 5000);
        assert_eq!(
            c.request_kill(false),
            KillOutcome::Refused(replies::BUSY_EVAL)
        );
        assert!(!c.check());
        assert_eq!(c.request_kill(true), KillOutcome::Killed);
        assert!(c.check());
        c.end();
        c.begin(named("f"), false, false, 5000);
        c.mark_wrote();
        assert_eq!(
            c.request_kill(false),
            KillOutcome::Refused(replies::UNKILLABLE_WROTE)
        );
        c.end();
        c.begin(named("f"), false, true, 5000);
        assert_eq!(
            c.request_kill(false),
            KillOutcome::Refused(replies::UNKILLABLE_MASTER)
        );
    }

    #[test]
    fn times_out_after_the_threshold() {
        let c = RunControl::default();
        c.begin(named("abc"), true, false, 1);
        std::thread::sleep(Duration::from_millis(3));
        c.check();
        assert!(c.timed_out());
        c.end();
        assert!(!c.timed_out());
        assert!(c.running_for().is_none());
    }
}
