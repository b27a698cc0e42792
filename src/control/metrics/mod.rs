//! `GET /metrics`: Prometheus exposition of the server's figures.
//!
//! The registry (prometheus-client) holds one [`Collector`] per subsystem. A scrape takes
//! one [`Scrape`] — the server snapshot INFO renders from, one replication status, the sync
//! history — publishes it in a slot the collectors read, and encodes the registry; so every
//! series of one scrape comes from the same instant and no write path ever updates a
//! metric. Two tiers of names, after ../shared/ECOSYSTEM.md §1:
//! - `redis_*`: redis_exporter's names, types and labels for every figure INFO reports, so
//!   existing Redis dashboards and alerts work unchanged;
//! - `replikv_*`: what Redis has no name for (sync phases, lag in bytes, the control plane's
//!   own traffic), in base units with bounded labels.
//!
//! A later subsystem adds its series by registering another collector in
//! [`Metrics::new`] that reads its own snapshot from the [`Scrape`].
//!
//! Output: the Prometheus text format 0.0.4 by default, OpenMetrics 1.0 when the scraper's
//! `Accept` header asks for it (Prometheus does).

mod encode;
pub mod http;
mod replication;
mod server;

use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::registry::Registry;

use super::repl_handle::{ReplHandle, ReplTraffic};
use crate::config::Settings;
use crate::engine::published;
use crate::engine::snapshot::ServerSnapshot;
use crate::engine::State;
use crate::replication::{ReplicationStatus, SyncRecord};

/// `Content-Type` of the Prometheus text format.
pub const PROMETHEUS_TEXT: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
/// `Content-Type` of OpenMetrics text.
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Everything one scrape renders, read at one instant.
#[derive(Debug, Clone)]
pub struct Scrape {
    /// The figures INFO renders.
    pub server: Arc<ServerSnapshot>,
    /// Replication state.
    pub repl: ReplicationStatus,
    /// Replication traffic counters.
    pub traffic: ReplTraffic,
    /// Kept sync sessions.
    pub history: Vec<SyncRecord>,
    /// Settings in force.
    pub settings: Arc<Settings>,
    /// INFO run_id.
    pub run_id: String,
}

impl Scrape {
    /// Reads every source; while a long command holds the engine, the engine's figures are
    /// the last it published (see [`crate::engine::published`]).
    pub async fn take(state: &State, repl: &ReplHandle) -> Scrape {
        let server = published::observe(state, &state.observed.server, ServerSnapshot::capture)
            .await
            .value;
        Scrape {
            server,
            repl: repl.view().await.status.clone(),
            traffic: repl.traffic(),
            history: repl.history(),
            settings: state.settings(),
            run_id: state.run_id.clone(),
        }
    }
}

/// The scrape being rendered; collectors read it.
#[derive(Debug, Default)]
pub struct ScrapeSlot(Mutex<Option<Arc<Scrape>>>);

impl ScrapeSlot {
    /// The current scrape (set for the duration of an encode).
    pub fn current(&self) -> Option<Arc<Scrape>> {
        self.0.lock().clone()
    }
}

/// The registry and its collectors.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    slot: Arc<ScrapeSlot>,
    sync: Arc<replication::SyncFold>,
    /// The control plane's own request metrics.
    pub http: http::HttpMetrics,
    /// One scrape at a time renders (the slot holds one scrape).
    render: Mutex<()>,
}

impl Metrics {
    /// Builds the registry with every collector.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let slot = Arc::new(ScrapeSlot::default());
        let collectors: Vec<Box<dyn Collector>> = vec![
            Box::new(server::ServerCollector(slot.clone())),
            Box::new(server::KeyspaceCollector(slot.clone())),
            Box::new(replication::ReplicationCollector(slot.clone())),
        ];
        for c in collectors {
            registry.register_collector(c);
        }
        let sync = Arc::new(replication::SyncFold::new(&mut registry));
        let http = http::HttpMetrics::new(&mut registry);
        Metrics {
            registry,
            slot,
            sync,
            http,
            render: Mutex::new(()),
        }
    }

    /// Renders `scrape`; OpenMetrics when `openmetrics`, else Prometheus text 0.0.4.
    pub fn render(&self, scrape: Scrape, openmetrics: bool) -> Result<String, std::fmt::Error> {
        let _one_at_a_time = self.render.lock();
        self.sync.fold(&scrape.history);
        *self.slot.0.lock() = Some(Arc::new(scrape));
        let mut out = String::with_capacity(16 * 1024);
        let result = if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        };
        *self.slot.0.lock() = None;
        result.map(|()| out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Prometheus exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4, or OpenMetrics 1.0 when the `Accept` header asks for `application/openmetrics-text`: redis_exporter-compatible `redis_*` series and replikv's `replikv_*` series.", body = String, content_type = "text/plain")
    )
)]
pub async fn metrics(
    axum::extract::State(api): axum::extract::State<super::ApiState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let scrape = Scrape::take(&api.state, &api.repl).await;
    match api.metrics.render(scrape, openmetrics) {
        Ok(text) => {
            let content_type = if openmetrics {
                OPENMETRICS_TEXT
            } else {
                PROMETHEUS_TEXT
            };
            let mut response = (StatusCode::OK, text).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering /metrics failed");
            super::error::ApiError::Internal.into_response()
        }
    }
}
