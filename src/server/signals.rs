//! SIGTERM and SIGINT, handled on a thread of their own.
//!
//! Why not `tokio::signal`: the runtime's signal driver is polled by its worker threads, and
//! a worker that waits on the engine lock (a long command, or a bug that never lets go)
//! would keep the signal from ever being seen — the process would ignore SIGTERM. This
//! thread needs nothing from the runtime: it takes the engine lock with a deadline for the
//! final save, asks the server to stop, and exits the process itself when the server cannot.
//!
//! As Redis: the final save (with save rules) must succeed or the server stays up (SIGTERM
//! again retries); a second SIGINT while shutting down exits at once ("You insist...").
//! Beyond Redis: when the engine stays busy for `shutdown-timeout` seconds, the process
//! exits without the final save and says so, rather than hanging.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::engine::persistence::shutdown_save;
use crate::engine::State;

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
    // Set from the first signal until the final save is over (or failed): the signal loop
    // itself never waits, so a second SIGINT is always heard.
    let in_progress = Arc::new(AtomicBool::new(false));
    for signal in signals.forever() {
        let name = if signal == SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        if in_progress.load(Ordering::Acquire) {
            if signal == SIGINT {
                tracing::warn!("You insist... exiting now.");
                std::process::exit(1);
            }
            continue;
        }
        tracing::warn!("Received {name} scheduling shutdown...");
        in_progress.store(true, Ordering::Release);
        let (state, in_progress) = (state.clone(), in_progress.clone());
        std::thread::spawn(move || {
            if !final_save(&state, signal) {
                tracing::warn!("{name} received but errors trying to shut down the server, check the logs for more information");
                in_progress.store(false, Ordering::Release);
                return;
            }
            state.request_shutdown();
            std::thread::sleep(EXIT_GRACE);
            tracing::warn!(
                "the server did not stop within {}s of the final save; exiting now",
                EXIT_GRACE.as_secs()
            );
            std::process::exit(1);
        });
    }
}

/// The save a termination signal asks for. True when the server may exit.
///
/// While a dataset is being loaded (at start-up, or a replica's full sync), nothing is
/// saved and the process exits at once, as Redis does: the dataset in memory is partial, and
/// saving it would overwrite the file being loaded.
fn final_save(state: &State, signal: i32) -> bool {
    let settings = state.settings();
    let timeout = Duration::from_secs(settings.shutdown_timeout.max(1));
    // `shutdown-on-sigterm` / `shutdown-on-sigint`: the SHUTDOWN options the signal implies.
    let flags = if signal == SIGINT {
        settings.shutdown_on_sigint
    } else {
        settings.shutdown_on_sigterm
    };
    match state.engine.try_lock_for(timeout) {
        Some(engine) if engine.loading => {
            tracing::warn!("received during loading: exiting without saving");
            std::process::exit(0);
        }
        Some(mut engine) => {
            shutdown_save(state, &mut engine, flags.nosave, flags.save, flags.force).is_ok()
        }
        None => {
            tracing::warn!(
                "the engine stayed busy for {}s (shutdown-timeout); exiting without the final save",
                timeout.as_secs()
            );
            std::process::exit(1);
        }
    }
}
