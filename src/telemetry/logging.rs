//! Log set-up: `tracing` with Redis's log levels mapped onto tracing levels, to standard
//! output or to `logfile`.

use tracing_subscriber::EnvFilter;

/// The tracing filter for a Redis log level name (`debug`, `verbose`, `notice`, `warning`);
/// `RUST_LOG` overrides it when set.
pub fn filter_for(level: &str) -> EnvFilter {
    if let Ok(f) = EnvFilter::try_from_default_env() {
        return f;
    }
    let directive = match level {
        "debug" | "verbose" => "debug",
        "warning" => "warn",
        _ => "info",
    };
    EnvFilter::new(format!("replikv={directive},warn"))
}

/// Installs the global subscriber. Logs go to `logfile` when set, else standard output.
pub fn init(level: &str, logfile: &str) -> Result<(), String> {
    let filter = filter_for(level);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if logfile.is_empty() {
        builder.try_init().map_err(|e| e.to_string())
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
            .map_err(|e| format!("can't open the log file {logfile}: {e}"))?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init()
            .map_err(|e| e.to_string())
    }
}
