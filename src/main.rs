//! The `replikv` binary: parses a redis-server style command line, loads the configuration,
//! sets up logging and runs the server. Nothing else lives here.

use std::process::ExitCode;

use replikv::config::{parse_command_line, Settings};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str = "Usage: replikv [/path/to/replikv.conf] [options] [-]
       replikv - (read config from stdin)
       replikv -v or --version
       replikv -h or --help
       replikv --openapi (print the control plane's OpenAPI document)

Examples:
       replikv (run the server with default config)
       replikv conf/replikv.conf
       replikv --port 7777
       replikv --port 7777 --replicaof 127.0.0.1 8888
       replikv conf/replica.conf --port 7001 --loglevel verbose
";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // Before any thread starts, and after the arguments are read: their memory becomes the
    // process title's.
    replikv::telemetry::proctitle::init();
    let cl = match parse_command_line(&argv) {
        Ok(cl) => cl,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if cl.version {
        println!(
            "replikv v={} (Redis {} compatible) bits=64",
            env!("CARGO_PKG_VERSION"),
            replikv::engine::REDIS_COMPAT_VERSION
        );
        return ExitCode::SUCCESS;
    }
    if cl.openapi {
        return write_out(&replikv::control::openapi::document_json());
    }
    if cl.help {
        return write_out(USAGE);
    }
    let settings = match Settings::load(&cl) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("\n{e}");
            return ExitCode::from(1);
        }
    };
    let log_config = replikv::telemetry::logging::LogConfig {
        level: settings.loglevel_name(),
        logfile: settings.logfile.clone(),
        otel_endpoint: settings.otel_endpoint.clone(),
        service_name: settings.otel_service_name.clone(),
        port: settings.port,
    };
    let _telemetry = match replikv::telemetry::logging::init(&log_config) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    // A multi-thread runtime even with one worker: a script past busy-reply-threshold hands
    // the worker to a new thread (`block_in_place`) so that SCRIPT KILL can be served.
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(settings.io_threads)
        .enable_all()
        .thread_name("replikv");
    // Connections that become readable together run in the order their input arrived, as
    // Redis's event loop serves them; tokio's LIFO slot would run the last one woken first.
    #[cfg(tokio_unstable)]
    builder.disable_lifo_slot();
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(replikv::run(settings, cl.config_file));
    // A task stuck on the engine lock must not keep the process alive after the server
    // decided to stop.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "fatal");
            eprintln!("fatal: {e}");
            ExitCode::from(1)
        }
    }
}

/// Writes `text` to standard output. A reader that stops early (`replikv --openapi | head`)
/// is not an error worth a panic: the output just ends there.
fn write_out(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write to standard output: {e}");
            ExitCode::from(1)
        }
    }
}
