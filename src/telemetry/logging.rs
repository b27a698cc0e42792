//! Log and trace set-up: `tracing` with Redis's log levels mapped onto tracing levels, to
//! standard output or to `logfile`, plus an OpenTelemetry layer for the replication spans.
//!
//! The OpenTelemetry layer is always installed, so every sync session has a W3C trace id
//! (in the sync history, the events and the logs) whether or not spans are exported; they
//! are exported over OTLP/HTTP only when an endpoint is configured (`otel-endpoint`, or the
//! standard `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` variables).
//! Export runs on the batch processor's own thread: a dead or slow collector costs dropped
//! spans, never a client's latency. The two ends of a sync share one trace: the replica
//! sends its context with `REPLCONF traceparent` ([`current_traceparent`]) and the master
//! parents its session on it ([`context_from_traceparent`]).

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use std::sync::Arc;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanProcessor};
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

/// `otel-service-name`'s default.
pub const DEFAULT_SERVICE_NAME: &str = "replikv";

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
    /// The RESP port (the `server.port` resource attribute).
    pub port: u16,
}

/// Keeps the span exporter alive; dropping it flushes pending spans.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

/// How long stopping waits for the last spans to reach the collector: enough for a live
/// one, and all a hung one can cost a shutdown.
const FLUSH_ON_EXIT: std::time::Duration = std::time::Duration::from_secs(1);

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown_with_timeout(FLUSH_ON_EXIT);
        }
    }
}

/// The span processor the tracer provider keeps for its whole life: it hands finished
/// spans to the batch exporter installed now, which CONFIG SET `otel-endpoint` /
/// `otel-service-name` replace. The tracer, and so every trace id, stays the same; only
/// where spans go (and the resource they are exported with) changes.
#[derive(Debug, Clone, Default)]
struct ExportSwitch(Arc<parking_lot::RwLock<Option<BatchSpanProcessor>>>);

impl SpanProcessor for ExportSwitch {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if let Some(batch) = &*self.0.read() {
            batch.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.read().as_ref().map_or(Ok(()), |b| b.force_flush())
    }

    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> OTelSdkResult {
        self.0
            .read()
            .as_ref()
            .map_or(Ok(()), |b| b.shutdown_with_timeout(timeout))
    }
}

/// The switch of the tracer provider [`init`] installed.
static EXPORT_SWITCH: std::sync::OnceLock<ExportSwitch> = std::sync::OnceLock::new();

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

/// The resource spans are exported with: `service.name`, the run id, the version, the port.
fn resource_for(config: &LogConfig) -> opentelemetry_sdk::Resource {
    // `otel-service-name` wins when set; at its default, OTEL_SERVICE_NAME (read by the
    // resource's own detectors, with OTEL_RESOURCE_ATTRIBUTES) does.
    let env_name = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.is_empty());
    let mut resource = opentelemetry_sdk::Resource::builder().with_attributes([
        opentelemetry::KeyValue::new("service.instance.id", super::process::run_id()),
        opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        opentelemetry::KeyValue::new("server.port", i64::from(config.port)),
    ]);
    if !(env_name && config.service_name == DEFAULT_SERVICE_NAME) {
        resource = resource.with_service_name(config.service_name.clone());
    }
    resource.build()
}

/// The batch exporter for `config`, `None` when no endpoint is configured.
fn exporter_for(config: &LogConfig) -> Result<Option<BatchSpanProcessor>, String> {
    let Some(url) = traces_endpoint(&config.otel_endpoint) else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url.clone())
        .build()
        .map_err(|e| format!("cannot build the OTLP exporter for {url}: {e}"))?;
    let mut batch = BatchSpanProcessor::builder(exporter).build();
    batch.set_resource(&resource_for(config));
    Ok(Some(batch))
}

/// Installs the global subscriber (and the OTLP exporter when configured).
pub fn init(config: &LogConfig) -> Result<TelemetryGuard, String> {
    let switch = ExportSwitch::default();
    *switch.0.write() = exporter_for(config)?;
    let _ = EXPORT_SWITCH.set(switch.clone());
    let provider = SdkTracerProvider::builder()
        .with_resource(resource_for(config))
        .with_span_processor(switch)
        .build();
    let tracer = provider.tracer("replikv");
    let guard = TelemetryGuard {
        provider: Some(provider),
    };
    // Only replication spans (info level, this crate): commands have no spans.
    let otel_layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(EnvFilter::new("replikv=info"));
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

/// CONFIG SET `otel-endpoint` / `otel-service-name`: spans finished from now on go to a
/// new exporter, with the new resource; the old exporter flushes what it holds on a thread
/// of its own, so a dead collector never holds up the command. A process whose tracing was
/// not set up by [`init`] (a library user's) has nothing to change.
pub fn reconfigure(config: &LogConfig) -> Result<(), String> {
    let Some(switch) = EXPORT_SWITCH.get() else {
        return Ok(());
    };
    let next = exporter_for(config)?;
    let old = std::mem::replace(&mut *switch.0.write(), next);
    if let Some(old) = old {
        let _ = std::thread::Builder::new()
            .name("otel-shutdown".into())
            .spawn(move || {
                let _ = old.shutdown();
            });
    }
    Ok(())
}

/// The current span's context as a W3C `traceparent` header value
/// (`00-<trace id>-<span id>-<flags>`), when there is a valid one.
pub fn current_traceparent() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        )
    })
}

/// The remote parent a W3C `traceparent` value names, or `None` when it is malformed
/// (version `00`, 32 and 16 lower-case hex digits, not all zero, two hex flag digits).
pub fn context_from_traceparent(value: &str) -> Option<opentelemetry::Context> {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    let parts: Vec<&str> = value.split('-').collect();
    let [version, trace, span, flags] = parts[..] else {
        return None;
    };
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if version != "00" || !hex(trace, 32) || !hex(span, 16) || !hex(flags, 2) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace).ok()?;
    let span_id = SpanId::from_hex(span).ok()?;
    let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()?);
    let sc = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
    sc.is_valid()
        .then(|| opentelemetry::Context::new().with_remote_span_context(sc))
}

/// Makes `span` a child of the remote parent `traceparent` names (a no-op when malformed).
/// Call it before the span is first entered.
pub fn set_remote_parent(span: &tracing::Span, traceparent: &str) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if let Some(cx) = context_from_traceparent(traceparent) {
        let _ = span.set_parent(cx);
    }
}

/// The OpenTelemetry trace id of the current span.
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
    fn traceparent_values_are_checked() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(context_from_traceparent(good).is_some());
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(context_from_traceparent(bad).is_none(), "{bad:?}");
        }
    }

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
