//! The control plane: an HTTP API (axum) on its own listener for operators and automation
//! to read and steer replication, plus `/metrics`, health probes and the API's own
//! OpenAPI document and page.
//!
//! Layout: [`api_router`] declares every documented route, one `routes!` per path (two
//! paths in one call panic in utoipa-axum), so the router and the OpenAPI document come
//! from the same declarations. [`app`] adds the undocumented extras (the document, the
//! Swagger UI page) and the layers: request tracing, a timeout, a body limit, metrics of
//! the API's own traffic, and bearer-token auth. The control plane runs on a thread of its
//! own ([`runtime`]) and never waits there for the engine: reads take the engine's figures
//! if its lock comes within a short budget and else the last ones it published (with an
//! `Age` header, see [`crate::engine::published`]); changes run on the server's runtime.
//! Handlers call replication only through [`repl_handle`], the same operations the RESP
//! commands use. Errors are [`error::ApiError`] problem documents.
//!
//! This module never reads or writes user data: it manages replication and configuration.

pub mod auth;
pub mod error;
pub mod extract;
pub mod freshness;
pub mod health;
pub mod listener;
pub mod metrics;
pub mod model;
pub mod openapi;
pub mod repl_handle;
pub mod replication;
pub mod runtime;
pub mod server;
pub mod syncs;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::config::{HttpEnabled, HttpPort, Settings};
use crate::engine::State;
use error::ApiError;
use repl_handle::ReplHandle;

/// Largest request body accepted (the API's bodies are a few hundred bytes).
const BODY_LIMIT: usize = 64 * 1024;
/// Longest a handler may take to produce its response headers.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What every handler shares.
#[derive(Debug)]
pub struct Control {
    /// The server's state.
    pub state: Arc<State>,
    /// Replication, through the one adapter.
    pub repl: ReplHandle,
    /// The metrics registry.
    pub metrics: metrics::Metrics,
    /// `REPLIKV_HTTP_AUTH_TOKEN` at start-up (used when `http-auth-token` is empty).
    pub env_token: Option<String>,
    /// Failed credentials per address (rate limit).
    pub failed_auth: auth::FailedAttempts,
    /// The OpenAPI document, rendered once.
    openapi_json: String,
}

/// The axum state: shared, cheap to clone.
pub type ApiState = Arc<Control>;

impl Control {
    /// The shared state for `state`'s control plane; reads the token environment variable.
    pub fn new(state: Arc<State>) -> ApiState {
        let env_token = std::env::var(auth::TOKEN_ENV)
            .ok()
            .filter(|t| !t.is_empty());
        Arc::new(Control {
            repl: ReplHandle::new(state.clone()),
            state,
            metrics: metrics::Metrics::new(),
            env_token,
            failed_auth: auth::FailedAttempts::default(),
            openapi_json: openapi::document_json(),
        })
    }
}

/// Every documented route, one `routes!` per path.
pub fn api_router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(server::get_server))
        .routes(routes!(server::get_config, server::patch_config))
        .routes(routes!(replication::get_replication))
        .routes(routes!(replication::list_replicas))
        .routes(routes!(replication::get_replica))
        .routes(routes!(replication::resync_replica))
        .routes(routes!(replication::get_backlog))
        .routes(routes!(syncs::list_syncs))
        .routes(routes!(replication::set_master, replication::promote))
        .routes(routes!(replication::resync))
        .routes(routes!(
            replication::get_failover,
            replication::start_failover,
            replication::abort_failover
        ))
        .routes(routes!(syncs::stream_events))
}

/// The whole application: documented routes, the document and its page, and the layers.
pub fn app(api: ApiState) -> Router {
    let (router, _document) = api_router().split_for_parts();
    let router = router
        .route("/openapi.json", get(openapi_json))
        .merge(SwaggerUi::new("/docs").config(Config::from("/openapi.json")))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            auth::require,
        ))
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            metrics::http::track,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http());
    router.with_state(api)
}

async fn openapi_json(axum::extract::State(api): axum::extract::State<ApiState>) -> Response {
    let mut response = (StatusCode::OK, api.openapi_json.clone()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Where the control plane listens for `settings` (`http-bind`, `http-port` resolved
/// against RESP port `resp_port`; port 0 is an ephemeral one), `None` with `http-enabled no`.
pub fn http_address(settings: &Settings, resp_port: u16) -> std::io::Result<Option<SocketAddr>> {
    if settings.http_enabled == HttpEnabled::No {
        return Ok(None);
    }
    let http_port = settings.http_port.resolve(resp_port);
    if settings.http_port == HttpPort::Auto && resp_port != 0 && http_port == 0 {
        tracing::warn!(
            port = resp_port,
            "http-port auto: port + 3000 passes 65535, binding an ephemeral port instead"
        );
    }
    (settings.http_bind.as_str(), http_port)
        .to_socket_addrs()?
        .next()
        .map(Some)
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("http-bind {} names no address", settings.http_bind),
            )
        })
}

/// Binds the control plane's listener on `addr`; the error names the address and the way
/// out.
/// The listener belongs to the control plane's own runtime (see [`runtime`]).
pub fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let control = runtime::handle()?;
    let bound = std::net::TcpListener::bind(addr).and_then(|l| {
        l.set_nonblocking(true)?;
        let _in_control_runtime = control.enter();
        tokio::net::TcpListener::from_std(l)
    });
    bound.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "Could not bind the HTTP control plane on {addr}: {e} (set http-port, or http-enabled optional to start without it)"
            ),
        )
    })
}

/// Serves the control plane on `listener` (from [`bind`]) until shutdown (or until the
/// task is aborted: CONFIG SET moved it), on the control plane's own runtime. Called from
/// the server's runtime, which the handlers' changes run on.
pub fn serve(
    state: Arc<State>,
    listener: Arc<tokio::net::TcpListener>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let control = runtime::handle()?;
    let shutdown = state.shutdown.subscribe();
    let tls_source = state.clone();
    let tls: listener::TlsSource =
        Arc::new(move || tls_source.http_tls.read().as_ref().map(|a| a.0.clone()));
    let app = app(Control::new(state));
    Ok(control.spawn(listener::serve(listener, app, shutdown, tls)))
}
