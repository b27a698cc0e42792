//! SIGTERM and SIGINT, handled on a thread of their own.
//!
//! Why not `tokio::signal`: the runtime's signal driver is polled by its worker threads, and
//! a worker that waits on the engine lock (a long command, or a bug that never lets go)
//! would keep the signal from ever being seen — the process would ignore SIGTERM. This
//! thread needs nothing from the runtime: it records the request, which the cron starts as
//! SHUTDOWN would (waiting for lagging replicas, then the final save: see
//! `engine::shutdown`), and a watcher exits the process itself when the server cannot.
//!
//! As Redis: the final save (with save rules) must succeed or the server stays up (SIGTERM
//! again retries); SHUTDOWN ABORT cancels the request; a second SIGINT while shutting down
//! exits at once ("You insist..."), removing the final save's temporary file.
//! Beyond Redis: when the engine stays busy for `shutdown-timeout` seconds, the process
//! exits without the final save and says so, rather than hanging.

use std::sync::Arc;
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::engine::shutdown::SignalRequest;
use crate::engine::State;
use crate::rdb::file::foreground_temp_path;

/// How long the process may take to stop once the final save is done, before this thread
/// ends it (closing connections and flushing logs take milliseconds).
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Starts the signal thread.
pub fn spawn(state: Arc<State>) -> std::io::Result<()> {
    let signals = Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("replikv-signals".into())
        .spawn(move || run(state, signals))?;
    Ok(())
}

fn run(state: Arc<State>, mut signals: Signals) {
    for signal in signals.forever() {
        let name = if signal == SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        if state.shutdown_asap() {
            if signal == SIGINT {
                tracing::warn!("You insist... exiting now.");
                // The final save's temporary file, if it is being written, goes too.
                let _ = std::fs::remove_file(foreground_temp_path(&state.settings().dir));
                std::process::exit(1);
            }
            continue;
        }
        let settings = state.settings();
        // `shutdown-on-sigterm` / `shutdown-on-sigint`: the SHUTDOWN options it implies.
        let flags = if signal == SIGINT {
            settings.shutdown_on_sigint
        } else {
            settings.shutdown_on_sigterm
        };
        tracing::warn!("Received {name} scheduling shutdown...");
        if state.request_signal_shutdown(SignalRequest { flags, name }) {
            let state = state.clone();
            std::thread::spawn(move || watch_over(&state));
        }
    }
}

/// Makes sure a requested shutdown happens even if the engine cannot run it: exits at once
/// during a load (nothing to save, as Redis), exits without the final save when the engine
/// stays busy for `shutdown-timeout`, and ends the process if the server has not stopped
/// [`EXIT_GRACE`] after it was told to. Returns when the request is cancelled (SHUTDOWN
/// ABORT, a failed final save).
fn watch_over(state: &State) {
    let timeout = Duration::from_secs(state.settings().shutdown_timeout.max(1));
    match state.engine.try_lock_for(timeout) {
        Some(engine) if engine.loading => {
            tracing::warn!("received during loading: exiting without saving");
            std::process::exit(0);
        }
        Some(_) => {}
        None => {
            tracing::warn!(
                "the engine stayed busy for {}s (shutdown-timeout); exiting without the final save",
                timeout.as_secs()
            );
            std::process::exit(1);
        }
    }
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if state.shutting_down() {
            std::thread::sleep(EXIT_GRACE);
            tracing::warn!(
                "the server did not stop within {}s of the final save; exiting now",
                EXIT_GRACE.as_secs()
            );
            std::process::exit(1);
        }
        if !state.shutdown_asap() {
            return;
        }
    }
}
