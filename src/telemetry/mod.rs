//! Telemetry: logging and tracing set-up, process figures (memory, CPU), and later the OTLP
//! exporter and the Prometheus text writer. Knows no other subsystem.

pub mod deadlock;
pub mod logging;
pub mod process;
pub mod proctitle;
