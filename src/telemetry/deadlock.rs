//! The deadlock watchdog of test builds (feature `deadlock-detection`): once a second it
//! asks parking_lot for lock cycles and, on finding one, logs each thread's backtrace and
//! aborts. A deadlock then fails the test that caused it, with the stacks that explain it,
//! instead of leaving a server that answers nothing.

/// Starts the watchdog (a no-op without the feature).
pub fn start_watchdog() {
    #[cfg(feature = "deadlock-detection")]
    {
        let spawned = std::thread::Builder::new()
            .name("deadlock-watchdog".into())
            .spawn(|| loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                let cycles = parking_lot::deadlock::check_deadlock();
                if cycles.is_empty() {
                    continue;
                }
                for (i, threads) in cycles.iter().enumerate() {
                    for t in threads {
                        eprintln!(
                            "DEADLOCK {i}: thread {:?}\n{:?}",
                            t.thread_id(),
                            t.backtrace()
                        );
                    }
                }
                tracing::error!("deadlock detected: aborting (backtraces on stderr)");
                std::process::abort();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the deadlock watchdog");
        }
    }
}
