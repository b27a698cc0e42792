//! Small helpers over prometheus-client's descriptor encoder, so a collector reads as a list
//! of `name, help, value` lines.
//!
//! Counters are named without `_total`: the encoder appends it (`redis_commands_processed`
//! is exposed as `redis_commands_processed_total`).

use std::fmt::Error;

use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeMetric,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

/// A label set: `(name, value)` pairs.
pub type Labels = Vec<(&'static str, String)>;

/// Writes series through one descriptor encoder.
pub struct Out<'a, 'b>(pub &'a mut DescriptorEncoder<'b>);

impl Out<'_, '_> {
    /// One unlabelled gauge.
    pub fn gauge<V: EncodeGaugeValue>(
        &mut self,
        name: &str,
        help: &str,
        v: V,
    ) -> Result<(), Error> {
        let g = ConstGauge::new(v);
        let enc = self
            .0
            .encode_descriptor(name, help, None, g.metric_type())?;
        g.encode(enc)
    }

    /// One unlabelled counter (`_total` is appended).
    pub fn counter(&mut self, name: &str, help: &str, v: u64) -> Result<(), Error> {
        let c = ConstCounter::new(v);
        let enc = self
            .0
            .encode_descriptor(name, help, None, c.metric_type())?;
        c.encode(enc)
    }

    /// One unlabelled counter of seconds (`_total` is appended).
    pub fn counter_f64(&mut self, name: &str, help: &str, v: f64) -> Result<(), Error> {
        let c = ConstCounter::new(v);
        let enc = self
            .0
            .encode_descriptor(name, help, None, c.metric_type())?;
        c.encode(enc)
    }

    /// A gauge family: one series per label set (the family is declared even when empty).
    pub fn gauges<V: EncodeGaugeValue + Copy>(
        &mut self,
        name: &str,
        help: &str,
        rows: &[(Labels, V)],
    ) -> Result<(), Error> {
        let mut enc = self
            .0
            .encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (labels, v) in rows {
            ConstGauge::new(*v).encode(enc.encode_family(labels)?)?;
        }
        Ok(())
    }

    /// A counter family, of integers or floats (`_total` is appended).
    pub fn counters<V: EncodeCounterValue + Copy>(
        &mut self,
        name: &str,
        help: &str,
        rows: &[(Labels, V)],
    ) -> Result<(), Error> {
        let mut enc = self
            .0
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        for (labels, v) in rows {
            ConstCounter::new(*v).encode(enc.encode_family(labels)?)?;
        }
        Ok(())
    }
}
