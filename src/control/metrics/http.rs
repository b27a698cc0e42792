//! The control plane's own traffic: requests by route, method and status, and their
//! latency by route. Routes are the router's templates (`/v1/replication/replicas/{id}`),
//! never raw paths, so the label set stays bounded whatever clients send.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::super::ApiState;

type HttpLabels = Vec<(&'static str, String)>;

/// Request counters and latency histograms.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Family<HttpLabels, Counter>,
    durations: Family<HttpLabels, Histogram>,
}

/// Latency buckets in seconds: the control plane answers in well under a millisecond.
const BUCKETS: [f64; 10] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0,
];

impl HttpMetrics {
    /// Registers the metrics.
    pub fn new(registry: &mut Registry) -> HttpMetrics {
        let requests = Family::<HttpLabels, Counter>::default();
        let durations = Family::<HttpLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(BUCKETS)) as fn() -> Histogram,
        );
        let durations: Family<HttpLabels, Histogram> = durations;
        // The registry ends each help text with a period itself.
        registry.register(
            "replikv_http_requests",
            "Control-plane requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "replikv_http_request_duration_seconds",
            "Control-plane time to response headers, by route",
            durations.clone(),
        );
        HttpMetrics {
            requests,
            durations,
        }
    }

    fn record(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("method", method.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
        self.durations
            .get_or_create(&vec![("route", route.to_string())])
            .observe(seconds);
    }
}

/// The middleware that records every request.
pub async fn track(State(api): State<ApiState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    api.metrics.http.record(
        &route,
        method,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}
