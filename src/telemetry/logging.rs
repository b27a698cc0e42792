//! Log and trace set-up: `tracing` with Redis's log levels mapped onto tracing levels, to
//! standard output or to `logfile`, plus an OpenTelemetry layer exporting spans over
//! OTLP/HTTP when an endpoint is configured (`otel-endpoint`, or the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` variables).
//! Export failures never affect the server: spans are dropped and the exporter logs.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

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

/// What to set up.
#[derive(Debug, Clone, Default)]
pub struct LogConfig {
    /// Redis log level name.
    pub level: String,
    /// Log file; empty = standard output.
    pub logfile: String,
    /// OTLP/HTTP endpoint (base URL like `http://127.0.0.1:4318`, or a full `/v1/traces`
    /// URL); empty = the environment decides, else no export.
    pub otel_endpoint: String,
    /// `service.name` of exported spans.
    pub service_name: String,
}

/// Keeps the span exporter alive; dropping it flushes pending spans.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

/// The OTLP traces URL to export to, if any.
fn traces_endpoint(configured: &str) -> Option<String> {
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(url) = from_env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return Some(url);
    }
    let base = if configured.is_empty() {
        from_env("OTEL_EXPORTER_OTLP_ENDPOINT")?
    } else {
        configured.to_string()
    };
    if base.ends_with("/v1/traces") {
        Some(base)
    } else {
        Some(format!("{}/v1/traces", base.trim_end_matches('/')))
    }
}

/// Installs the global subscriber (and the OTLP exporter when configured).
pub fn init(config: &LogConfig) -> Result<TelemetryGuard, String> {
    let mut guard = TelemetryGuard::default();
    let otel_layer = match traces_endpoint(&config.otel_endpoint) {
        Some(url) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(url.clone())
                .build()
                .map_err(|e| format!("cannot build the OTLP exporter for {url}: {e}"))?;
            let resource = opentelemetry_sdk::Resource::builder()
                .with_service_name(config.service_name.clone())
                .build();
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build();
            let tracer = provider.tracer("replikv");
            guard.provider = Some(provider);
            // Only replication spans go out: per-command spans would flood the collector.
            let filter = EnvFilter::new("replikv=info");
            Some(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(filter),
            )
        }
        None => None,
    };
    let fmt_filter = filter_for(&config.level);
    let registry = tracing_subscriber::registry().with(otel_layer);
    if config.logfile.is_empty() {
        let fmt = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(std::io::stdout().is_terminal())
            .with_filter(fmt_filter);
        registry.with(fmt).try_init().map_err(|e| e.to_string())?;
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
            .map_err(|e| format!("can't open the log file {}: {e}", config.logfile))?;
        let fmt = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .with_filter(fmt_filter);
        registry.with(fmt).try_init().map_err(|e| e.to_string())?;
    }
    Ok(guard)
}

/// The OpenTelemetry trace id of the current span, when traces are exported.
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// The start-up banner (`always-show-logo yes`): the version (and the Redis version it is
/// compatible with), the port and the process id.
/// Test harnesses written for Redis (its own suite among them) wait for its ` PID: <pid>`
/// line before they talk to a server they started.
pub fn banner(port: u16, pid: u32, redis_version: &str) -> String {
    format!(
        concat!(
            "\n",
            "    +---------------------------------------------+\n",
            "    |  replikv {version:<8} (Redis {compat} compatible)   |\n",
            "    |  Running in standalone mode                 |\n",
            "    |  Port: {port:<37}|\n",
            "    |  PID: {pid:<38}|\n",
            "    +---------------------------------------------+"
        ),
        version = env!("CARGO_PKG_VERSION"),
        compat = redis_version,
        port = port,
        pid = pid
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_gets_the_traces_path() {
        assert_eq!(
            traces_endpoint("http://127.0.0.1:4318").as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(
            traces_endpoint("http://x/v1/traces").as_deref(),
            Some("http://x/v1/traces")
        );
    }
}
