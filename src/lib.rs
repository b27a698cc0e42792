//! replikv: a Redis-compatible server whose replication operators can see and steer.
//!
//! # Layout
//! Modules form rows; a module imports only from rows above it.
//!
//! | row | module | job |
//! |---|---|---|
//! | 0 | [`resp`], [`config`], [`glob`], [`telemetry`] | wire format, configuration, patterns, logs and process figures |
//! | 1 | [`keyspace`] | databases, values, expiry, copy-on-write snapshots |
//! | 2 | [`rdb`], [`aof`] | Redis RDB files and DUMP payloads, both ways; the append-only file's formats |
//! | 3 | [`replication`] | the replication log, backlog, both sides of the protocol, sync history |
//! | 4 | [`engine`] | the state behind the engine lock, sessions, blocking, Pub/Sub, persistence machinery, the engine's side of replication |
//! | 5 | [`command`] | the command families, the table, the executor and its gates |
//! | 6 | [`server`] | sockets, connections, signals, the cron |
//! | 7 | [`control`] | the HTTP control plane: replication API, /metrics, OpenAPI document |
//!
//! Inside [`command`], a family (one file or folder per Redis command group) imports the
//! shared helpers and the engine, never another family; only the table and the executor
//! see every family.
//!
//! [`run`] is the composition root: it builds the shared state and starts every task.

pub mod aof;
pub mod command;
pub mod config;
pub mod control;
pub mod engine;
pub mod glob;
pub mod keyspace;
pub mod rdb;
pub mod replication;
pub mod resp;
pub mod scripting;
pub mod server;
mod sockets;
pub mod telemetry;
pub mod tls;

use std::path::PathBuf;
use std::sync::Arc;

use config::Settings;
use engine::State;

/// Starts the server and runs it until SHUTDOWN or a termination signal.
pub async fn run(mut settings: Settings, config_file: Option<PathBuf>) -> std::io::Result<()> {
    settings.maxclients =
        config::fdlimit::fit_maxclients(settings.maxclients, config::fdlimit::RESERVED_FDS)
            .map_err(std::io::Error::other)?;
    let state = State::new(
        settings,
        config_file,
        command::run_command,
        command::describe_command,
    );
    telemetry::deadlock::start_watchdog();
    server::signals::spawn(state.clone())?;
    start(state.clone()).await?;
    wait_for_shutdown(&state).await;
    finish(&state);
    Ok(())
}

/// Binds the listeners, loads the data (the AOF, or else the RDB file) and spawns every task; returns once the server
/// is ready. A file that cannot be loaded is an error (naming the file, the byte offset and
/// the reason): the server never runs on half a dataset.
///
/// The order is Redis's: the sockets are bound and the start-up banner (with its `PID:`
/// line, which Redis's test harness waits for) is printed before the load, so a load that
/// fails is reported after it; clients are accepted during the load (which runs off the
/// engine lock) and answered as Redis answers them then: INFO, PING-free introspection and
/// other commands flagged `loading` work, the rest get -LOADING.
pub async fn start(state: Arc<State>) -> std::io::Result<()> {
    let settings = state.settings();
    if !telemetry::process::set_allocator_background_thread(settings.jemalloc_bg_thread) {
        tracing::warn!("jemalloc refused to switch its background threads (jemalloc-bg-thread)");
    }
    if settings.oom_score_adj != config::OomScoreAdj::No {
        engine::oom::apply(&settings, settings.replicaof.is_some())
            .map_err(std::io::Error::other)?;
    }
    command::table::TABLE
        .install_renames(&settings.rename_commands)
        .map_err(std::io::Error::other)?;
    command::acl::load_users_at_startup(&command::table::TABLE, &mut state.engine.lock())
        .map_err(std::io::Error::other)?;
    if settings.tls.wanted() {
        let context = tls::build(&settings.tls).map_err(|e| {
            tracing::warn!("{e}");
            std::io::Error::other("Failed to configure TLS. Check logs for more info.")
        })?;
        *state.tls.write() = Some(context);
    }
    if settings.tls.http_wanted() {
        let acceptor = tls::build_http(&settings.tls).map_err(|e| {
            tracing::warn!("{e}");
            std::io::Error::other(
                "Failed to configure the control plane's TLS. Check logs for more info.",
            )
        })?;
        *state.http_tls.write() = Some(acceptor);
    }
    let plain_binds: &[String] = if settings.plain_tcp_off() {
        &[]
    } else {
        &settings.bind
    };
    let (listeners, port) =
        server::listener::bind_all(plain_binds, settings.port, settings.tcp_backlog).await?;
    let (tls_listeners, tls_port) = if settings.tls.port != 0 {
        server::listener::bind_all(&settings.bind, settings.tls.port, settings.tcp_backlog).await?
    } else {
        (Vec::new(), 0)
    };
    {
        let mut ports = state.ports.lock();
        ports.resp = port;
        ports.tls = tls_port;
    }
    let unix = if settings.unixsocket.is_empty() {
        None
    } else {
        Some(server::listener::bind_unix(
            &settings.unixsocket,
            settings.unixsocketperm,
        )?)
    };
    if settings.always_show_logo {
        tracing::info!(
            "{}",
            telemetry::logging::banner(
                if port != 0 { port } else { tls_port },
                std::process::id(),
                engine::REDIS_COMPAT_VERSION
            )
        );
    }
    {
        let mut engine = state.engine.lock();
        engine.subscriptions.limit = settings.obuf_pubsub;
        engine.loading = true;
        // INFO's `loading_*` while the data loads, as Redis (the RDB loader fills them).
        state.load_progress.begin(None, keyspace::now_ms());
        state.observed.publish_all(&state, &engine);
    }
    let sockets = sockets::Sockets::new(&state);
    sockets.adopt(&state, listeners, server::listener::Transport::Plain);
    sockets.adopt(&state, tls_listeners, server::listener::Transport::Tls);
    engine::settings::update_proc_title(&state, &settings);
    if let Some(unix) = unix {
        tokio::spawn(server::listener::accept_unix_loop(
            state.clone(),
            unix,
            settings.unixsocket.clone(),
        ));
    }
    let loader = state.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        // With `appendonly yes` the AOF is the data, as in Redis; the RDB is not read.
        if !engine::aof::load_at_startup(&loader)? && !loader.settings().appendonly {
            engine::persistence::load_at_startup(&loader)?;
        }
        engine::aof::open_at_startup(&loader)
    })
    .await
    .map_err(std::io::Error::other)?;
    {
        let mut engine = state.engine.lock();
        engine.loading = false;
        state.load_progress.end();
        state.observed.publish_all(&state, &engine);
    }
    loaded.map_err(std::io::Error::other)?;
    tokio::spawn(server::cron::run(state.clone()));
    if let Some((host, port)) = settings.replicaof.clone() {
        let mut engine = state.engine.lock();
        engine::replication::follow_at_startup(&state, &mut engine, host, port);
    }
    sockets.start_http(&settings, if port != 0 { port } else { tls_port })?;
    let _ = state.sockets.set(Box::new(sockets));
    if !settings.pidfile.is_empty() {
        if let Err(e) = std::fs::write(&settings.pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!(pidfile = %settings.pidfile, error = %e, "could not write the pid file");
        }
    }
    let http = state.ports.lock().http;
    tracing::info!(
        port,
        tls_port,
        http_port = http,
        pid = std::process::id(),
        "Ready to accept connections"
    );
    Ok(())
}

/// Waits until SHUTDOWN or a termination signal (see [`server::signals`]) stops the server.
async fn wait_for_shutdown(state: &State) {
    let mut rx = state.shutdown.subscribe();
    let _ = rx.wait_for(|stop| *stop).await;
}

fn finish(state: &State) {
    let settings = state.settings();
    if !settings.pidfile.is_empty() {
        let _ = std::fs::remove_file(&settings.pidfile);
    }
    tracing::warn!("replikv is now ready to exit, bye bye...");
}
