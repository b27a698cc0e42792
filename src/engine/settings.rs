//! Changing the configuration while the server runs: CONFIG SET over RESP and
//! `PATCH /v1/config` over HTTP both come through [`apply_config_set`], so they accept and
//! refuse exactly the same things, with Redis's reasons.

use std::sync::Arc;

use super::{Engine, State};
use crate::config::{self, directives::split_value, Settings};

/// Why CONFIG SET (or the control plane's `PATCH /v1/config`) refused a change. Nothing was
/// applied: a change is all or nothing, as in Redis 7.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSetError {
    /// No directive has this name.
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The same directive appears twice.
    Duplicate {
        /// The name as given.
        name: String,
    },
    /// The directive cannot change while running.
    Immutable {
        /// The name as given.
        name: String,
    },
    /// The directive may write files elsewhere and `enable-protected-configs` forbids it.
    Protected {
        /// The name as given.
        name: String,
    },
    /// The value does not parse or is out of range.
    Invalid {
        /// The name as given.
        name: String,
        /// Redis's reason text (`argument must be 'yes' or 'no'`...).
        reason: String,
    },
    /// A dataset is loading and the directive cannot change meanwhile (`dir`,
    /// `appendonly`, `repl-diskless-load`: Redis's `DENY_LOADING_CONFIG`).
    Loading {
        /// The name as given.
        name: String,
    },
}

/// Directives that cannot change while a dataset loads (Redis's `DENY_LOADING_CONFIG`).
const DENIED_WHILE_LOADING: &[&str] = &["dir", "appendonly", "repl-diskless-load"];

impl ConfigSetError {
    /// The directive the error is about, as the caller spelled it.
    pub fn name(&self) -> &str {
        match self {
            ConfigSetError::Unknown { name }
            | ConfigSetError::Duplicate { name }
            | ConfigSetError::Immutable { name }
            | ConfigSetError::Protected { name }
            | ConfigSetError::Loading { name }
            | ConfigSetError::Invalid { name, .. } => name,
        }
    }

    /// Why, in Redis's words.
    pub fn reason(&self) -> &str {
        match self {
            ConfigSetError::Unknown { .. } => "unknown option",
            ConfigSetError::Duplicate { .. } => "duplicate parameter",
            ConfigSetError::Immutable { .. } => "can't set immutable config",
            ConfigSetError::Protected { .. } => "can't set protected config",
            ConfigSetError::Loading { .. } => "Redis is loading the dataset in memory",
            ConfigSetError::Invalid { reason, .. } => reason,
        }
    }

    /// The RESP error reply, byte for byte as Redis 7.0 words it.
    pub fn resp_message(&self) -> String {
        match self {
            ConfigSetError::Unknown { name } => {
                format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
            }
            ConfigSetError::Loading { .. } => {
                "LOADING Redis is loading the dataset in memory".to_string()
            }
            other => format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                other.name(),
                other.reason()
            ),
        }
    }
}

/// Whether a caller may change `dir` and `dbfilename` (Redis's `allowProtectedAction`):
/// `enable-protected-configs yes`, or `local` and the caller is on loopback.
pub fn may_change_protected(settings: &Settings, caller_is_local: bool) -> bool {
    match settings.enable_protected_configs {
        crate::config::Protected::Yes => true,
        crate::config::Protected::Local => caller_is_local,
        crate::config::Protected::No => false,
    }
}

/// Applies `(directive, value)` pairs as CONFIG SET does: every pair is checked (known,
/// not repeated, mutable, valid value) on a copy of the settings, and only when all pass is
/// the copy published to the engine and to readers outside the lock. RESP's CONFIG SET and
/// the control plane's `PATCH /v1/config` both come through here, so they accept and refuse
/// exactly the same things. The caller holds the engine lock; `in_exec` says a transaction
/// runs it (turning the AOF on then schedules its rewrite for the cron, as Redis).
pub fn apply_config_set(
    state: &State,
    engine: &mut Engine,
    pairs: &[(String, String)],
    allow_protected: bool,
    in_exec: bool,
) -> Result<Arc<Settings>, ConfigSetError> {
    let mut next: Settings = (*engine.settings).clone();
    let mut seen: Vec<&'static str> = Vec::new();
    // As Redis, a directive refused during a load wins over every other error, whatever
    // its place among the arguments.
    if engine.loading || engine.async_loading {
        if let Some((name, _)) = pairs
            .iter()
            .find(|(n, _)| config::find(n).is_some_and(|d| DENIED_WHILE_LOADING.contains(&d.name)))
        {
            return Err(ConfigSetError::Loading { name: name.clone() });
        }
    }
    for (name, value) in pairs {
        let Some(d) = config::find(name) else {
            return Err(ConfigSetError::Unknown { name: name.clone() });
        };
        if seen.contains(&d.name) {
            return Err(ConfigSetError::Duplicate { name: name.clone() });
        }
        seen.push(d.name);
        if !d.mutable {
            return Err(ConfigSetError::Immutable { name: name.clone() });
        }
        if !allow_protected && config::directives::PROTECTED_CONFIGS.contains(&d.name) {
            return Err(ConfigSetError::Protected { name: name.clone() });
        }
        let args = if d.multi_arg {
            split_value(value)
        } else {
            vec![value.clone()]
        };
        (d.set)(&mut next, &args).map_err(|reason| ConfigSetError::Invalid {
            name: name.clone(),
            reason,
        })?;
    }
    if next.maxclients > engine.settings.maxclients {
        // More clients need more descriptors: raise the limit now or refuse, as Redis.
        if let Err(fits) = config::fdlimit::fits_now(next.maxclients, config::fdlimit::RESERVED_FDS)
        {
            return Err(ConfigSetError::Invalid {
                name: "maxclients".into(),
                reason: format!(
                    "The operating system is not able to handle the specified number of clients, try with {fits}"
                ),
            });
        }
    }
    let next = Arc::new(next);
    if next.sync_history_size != engine.settings.sync_history_size {
        state
            .repl
            .history
            .lock()
            .set_capacity(next.sync_history_size as usize);
    }
    let before = engine.settings.clone();
    let tls = rebuild_tls(state, &before, &next)?;
    let http_tls = rebuild_http_tls(&before, &next)?;
    move_sockets(state, &before, &next)?;
    if let Some(context) = tls {
        *state.tls.write() = Some(context);
    }
    if let Some(acceptor) = http_tls {
        *state.http_tls.write() = acceptor;
    }
    if next.otel_endpoint != before.otel_endpoint
        || next.otel_service_name != before.otel_service_name
    {
        let config = crate::telemetry::logging::LogConfig {
            level: next.loglevel_name(),
            logfile: next.logfile.clone(),
            otel_endpoint: next.otel_endpoint.clone(),
            service_name: next.otel_service_name.clone(),
            port: state.ports.lock().resp,
        };
        crate::telemetry::logging::reconfigure(&config).map_err(|reason| {
            ConfigSetError::Invalid {
                name: "otel-endpoint".into(),
                reason,
            }
        })?;
    }
    engine.apply_settings(next.clone());
    if next.oom_score_adj != before.oom_score_adj
        || next.oom_score_adj_values != before.oom_score_adj_values
    {
        if let Err(e) = super::oom::apply(&next, engine.is_replica) {
            tracing::warn!("{e}");
            engine.apply_settings(before.clone());
            let _ = super::oom::apply(&before, engine.is_replica);
            return Err(ConfigSetError::Invalid {
                name: "oom-score-adj".into(),
                reason: "Failed to set current oom_score_adj. Check server logs.".into(),
            });
        }
    }
    if next.jemalloc_bg_thread != before.jemalloc_bg_thread
        && !crate::telemetry::process::set_allocator_background_thread(next.jemalloc_bg_thread)
    {
        tracing::warn!("jemalloc refused to switch its background threads (jemalloc-bg-thread)");
    }
    if next.appendonly != before.appendonly {
        // Redis's `updateAppendonly`: a rewrite starts the AOF; if it cannot, nothing
        // changes.
        if next.appendonly {
            if let Err(e) = super::aof::start(state, engine, in_exec) {
                engine.apply_settings(before);
                return Err(ConfigSetError::Invalid {
                    name: "appendonly".into(),
                    reason: format!("Unable to turn on AOF. Check server logs. ({e})"),
                });
            }
        } else {
            super::aof::stop(engine);
        }
    }
    engine.subscriptions.limit = next.obuf_pubsub;
    state.publish_settings(next.clone());
    if next.maxmemory != before.maxmemory {
        super::eviction::limit_changed(engine);
    }
    if next.proc_title_template != before.proc_title_template
        || next.port != before.port
        || next.tls.port != before.tls.port
        || next.bind != before.bind
    {
        update_proc_title(state, &next);
    }
    Ok(next)
}

/// A new TLS context when CONFIG SET changed what it is built from (or TLS is wanted for
/// the first time), built before anything changes: a failure refuses the whole CONFIG SET
/// with Redis's text, naming the first `tls-*` directive changed.
fn rebuild_tls(
    state: &State,
    before: &Settings,
    next: &Settings,
) -> Result<Option<crate::tls::Context>, ConfigSetError> {
    let first_time = next.tls.wanted() && state.tls.read().is_none();
    if !next.tls.wanted() || !(first_time || next.tls.context_differs(&before.tls)) {
        return Ok(None);
    }
    crate::tls::build(&next.tls)
        .map(Some)
        .map_err(|e| tls_refused(&e, "tls-", before, next))
}

/// Redis's refusal of a TLS change, naming the first directive with `prefix` the CONFIG
/// SET changed; the reason goes to the log.
fn tls_refused(reason: &str, prefix: &str, before: &Settings, next: &Settings) -> ConfigSetError {
    tracing::warn!("{reason}");
    let name = config::DIRECTIVES
        .iter()
        .find(|d| d.name.starts_with(prefix) && (d.get)(before) != (d.get)(next))
        .map_or(prefix.trim_end_matches('-'), |d| d.name);
    ConfigSetError::Invalid {
        name: name.into(),
        reason: crate::tls::UPDATE_FAILED.into(),
    }
}

/// The control plane's new HTTPS acceptor when CONFIG SET changed an `http-tls-*` file:
/// `Some(None)` turns HTTPS off; a file that cannot be used refuses the CONFIG SET.
#[allow(clippy::option_option)]
fn rebuild_http_tls(
    before: &Settings,
    next: &Settings,
) -> Result<Option<Option<crate::tls::HttpAcceptor>>, ConfigSetError> {
    if !next.tls.http_differs(&before.tls) {
        return Ok(None);
    }
    if !next.tls.http_wanted() {
        return Ok(Some(None));
    }
    crate::tls::build_http(&next.tls)
        .map(|a| Some(Some(a)))
        .map_err(|e| tls_refused(&e, "http-tls-", before, next))
}

/// CONFIG SET `bind`, `port` or `http-*`: the listeners move before the settings change,
/// and a failure refuses the whole CONFIG SET with Redis's texts.
fn move_sockets(state: &State, before: &Settings, next: &Settings) -> Result<(), ConfigSetError> {
    let Some(sockets) = state.sockets.get() else {
        return Ok(());
    };
    let bound = *state.ports.lock();
    let resp_port = bound.resp;
    let port_changed = next.port != before.port || next.plain_tcp_off() != before.plain_tcp_off();
    let mut port = resp_port;
    let tls_moves = next.tls.port != before.tls.port || next.bind != before.bind;
    if tls_moves {
        let binds: &[String] = if next.tls.port == 0 { &[] } else { &next.bind };
        let wanted = if next.tls.port == before.tls.port {
            bound.tls
        } else {
            next.tls.port
        };
        sockets
            .rebind_tls(binds, wanted, next.tcp_backlog)
            .map_err(|e| {
                tracing::warn!(error = %e, "CONFIG SET could not move the TLS listeners");
                ConfigSetError::Invalid {
                    name: if next.tls.port != before.tls.port {
                        "tls-port"
                    } else {
                        "bind"
                    }
                    .into(),
                    reason: if next.tls.port != before.tls.port {
                        "Unable to listen on this port. Check server logs."
                    } else {
                        "Failed to bind to specified addresses."
                    }
                    .into(),
                }
            })?;
    }
    let restore_tls = || {
        if tls_moves {
            let binds: &[String] = if before.tls.port == 0 {
                &[]
            } else {
                &before.bind
            };
            let _ = sockets.rebind_tls(binds, bound.tls, before.tcp_backlog);
        }
    };
    if port_changed || next.bind != before.bind {
        // An ephemeral port chosen at start keeps being used when only `bind` changes.
        let wanted = if port_changed { next.port } else { resp_port };
        let binds: &[String] = if next.plain_tcp_off() {
            &[]
        } else {
            &next.bind
        };
        port = sockets
            .rebind_resp(binds, wanted, next.tcp_backlog)
            .map_err(|e| {
                tracing::warn!(error = %e, "CONFIG SET could not move the listeners");
                restore_tls();
                if port_changed {
                    ConfigSetError::Invalid {
                        name: "port".into(),
                        reason: "Unable to listen on this port. Check server logs.".into(),
                    }
                } else {
                    ConfigSetError::Invalid {
                        name: "bind".into(),
                        reason: "Failed to bind to specified addresses.".into(),
                    }
                }
            })?;
    }
    let http_changed = next.http_enabled != before.http_enabled
        || next.http_bind != before.http_bind
        || next.http_port != before.http_port
        || (port != resp_port && next.http_port == config::HttpPort::Auto);
    if http_changed {
        // Without plain TCP, `http-port auto` counts from the TLS port.
        let base = if port != 0 {
            port
        } else {
            state.ports.lock().tls
        };
        if let Err(reason) = sockets.rebind_http(next, base) {
            if port != resp_port || next.bind != before.bind {
                // All or nothing: the RESP listeners go back where they were.
                let binds: &[String] = if before.plain_tcp_off() {
                    &[]
                } else {
                    &before.bind
                };
                let _ = sockets.rebind_resp(binds, resp_port, before.tcp_backlog);
            }
            restore_tls();
            return Err(ConfigSetError::Invalid {
                name: "http-port".into(),
                reason,
            });
        }
    }
    Ok(())
}

/// Shows `proc-title-template`, expanded, as the process title (Redis's
/// `redisSetProcTitle`); the listening address is the first bind address with the port
/// bound (the TLS port without plain TCP, the Unix socket without either).
pub fn update_proc_title(state: &State, s: &Settings) {
    let ports = *state.ports.lock();
    let listen_addr = match (ports.resp, ports.tls) {
        (0, 0) => format!("unixsocket:{}", s.unixsocket),
        (0, tls) => format!("{}:{tls}", s.bind.first().map_or("*", String::as_str)),
        (port, _) => format!("{}:{port}", s.bind.first().map_or("*", String::as_str)),
    };
    let vars = config::proctitle::Vars {
        title: crate::telemetry::proctitle::argv0(),
        listen_addr,
        server_mode: String::new(),
        config_file: state
            .config_file
            .as_ref()
            .map_or_else(|| "-".to_string(), |p| p.display().to_string()),
        port: ports.resp,
        tls_port: ports.tls,
        unixsocket: s.unixsocket.clone(),
    };
    if let Some(title) = config::proctitle::expand(&s.proc_title_template, &vars) {
        crate::telemetry::proctitle::set(&title);
    }
}
