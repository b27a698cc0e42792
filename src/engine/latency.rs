//! Latency figures, as Redis 7.0 keeps them.
//!
//! - Per-command histograms (`latency-tracking`): one HDR histogram per command full name,
//!   recording each call's duration in nanoseconds between 1 ns and 1 s with two
//!   significant digits. INFO latencystats shows the percentiles of
//!   `latency-tracking-info-percentiles`; LATENCY HISTOGRAM the cumulative distribution.
//! - The latency monitor (`latency-monitor-threshold`): calls that took at least the
//!   threshold are samples of the event `command` (or `fast-command` for commands flagged
//!   fast), the last 160 kept per event with one sample per second (the worst), for
//!   LATENCY LATEST, HISTORY and RESET.

use std::collections::{BTreeMap, VecDeque};

use hdrhistogram::Histogram;

/// Shortest and longest durations recorded (nanoseconds); longer ones count as 1 s.
const MIN_NS: u64 = 1;
const MAX_NS: u64 = 1_000_000_000;
/// Significant digits kept across that range.
const SIGNIFICANT_DIGITS: u8 = 2;

/// Every command's histogram.
#[derive(Debug, Default)]
pub struct LatencyHistograms {
    by_command: hashbrown::HashMap<&'static str, Histogram<u64>>,
}

/// One command's cumulative distribution (LATENCY HISTOGRAM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// Calls recorded.
    pub calls: u64,
    /// (bucket upper bound in microseconds, calls at or under it), for buckets growing by
    /// powers of two from 1024 ns, only where the count grows.
    pub buckets: Vec<(u64, u64)>,
}

impl LatencyHistograms {
    /// Records one call of `command` that took `micros` microseconds (Redis's unit).
    pub fn record(&mut self, command: &'static str, micros: u64) {
        let ns = micros.saturating_mul(1000).clamp(MIN_NS, MAX_NS);
        let histogram = self.by_command.entry(command).or_insert_with(|| {
            Histogram::new_with_bounds(MIN_NS, MAX_NS, SIGNIFICANT_DIGITS)
                .expect("constant bounds are valid")
        });
        // Clamped into the bounds above: recording cannot fail.
        let _ = histogram.record(ns);
    }

    /// Commands with data, sorted by name, each with the value (microseconds) at each of
    /// `percentiles`.
    pub fn percentiles(&self, percentiles: &[f64]) -> Vec<(&'static str, Vec<f64>)> {
        let mut out: Vec<(&'static str, Vec<f64>)> = self
            .by_command
            .iter()
            .map(|(name, h)| {
                let values = percentiles
                    .iter()
                    .map(|p| h.value_at_percentile(*p) as f64 / 1000.0)
                    .collect();
                (*name, values)
            })
            .collect();
        out.sort_by_key(|(name, _)| *name);
        out
    }

    /// The distribution of `command`, if it has data.
    pub fn distribution(&self, command: &str) -> Option<Distribution> {
        let h = self.by_command.get(command)?;
        let mut buckets = Vec::new();
        let mut cumulative = 0;
        for step in h.iter_log(1024, 2.0) {
            let before = cumulative;
            cumulative += step.count_since_last_iteration();
            if cumulative > before {
                buckets.push((step.value_iterated_to() / 1000, cumulative));
            }
        }
        Some(Distribution {
            calls: h.len(),
            buckets,
        })
    }

    /// Names of the commands with data, sorted.
    pub fn commands(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.by_command.keys().copied().collect();
        names.sort_unstable();
        names
    }
}

/// Samples kept per event (Redis's `LATENCY_TS_LEN`).
const SAMPLES_PER_EVENT: usize = 160;

/// One event's samples.
#[derive(Debug, Default, Clone)]
pub struct EventSeries {
    /// (unix seconds, milliseconds), oldest first.
    pub samples: VecDeque<(i64, u64)>,
    /// The worst latency ever sampled for this event.
    pub max: u64,
}

/// The latency monitor's events.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    events: BTreeMap<&'static str, EventSeries>,
}

impl LatencyMonitor {
    /// Records `ms` for `event` at `unix_secs` when the threshold (0 = off) is reached.
    pub fn add_if_needed(&mut self, event: &'static str, ms: u64, threshold: u64, unix_secs: i64) {
        if threshold == 0 || ms < threshold {
            return;
        }
        let series = self.events.entry(event).or_default();
        series.max = series.max.max(ms);
        match series.samples.back_mut() {
            // One sample per second: the worst of that second.
            Some((at, worst)) if *at == unix_secs => *worst = (*worst).max(ms),
            _ => {
                if series.samples.len() == SAMPLES_PER_EVENT {
                    series.samples.pop_front();
                }
                series.samples.push_back((unix_secs, ms));
            }
        }
    }

    /// Every event with samples, by name.
    pub fn events(&self) -> impl Iterator<Item = (&'static str, &EventSeries)> {
        self.events.iter().map(|(name, series)| (*name, series))
    }

    /// One event's samples.
    pub fn history(&self, event: &str) -> Option<&EventSeries> {
        self.events.get(event)
    }

    /// Forgets the named events (all when `events` is empty); returns how many had data.
    pub fn reset(&mut self, events: &[&str]) -> usize {
        if events.is_empty() {
            let n = self.events.len();
            self.events.clear();
            return n;
        }
        events
            .iter()
            .filter(|e| self.events.remove(**e).is_some())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_distribution_of_recorded_calls() {
        let mut h = LatencyHistograms::default();
        for _ in 0..99 {
            h.record("get", 1);
        }
        h.record("get", 50_000);
        let p = h.percentiles(&[50.0, 99.0, 100.0]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "get");
        let v = &p[0].1;
        assert!((1.0..1.1).contains(&v[0]), "p50 {}", v[0]);
        assert!((1.0..1.1).contains(&v[1]), "p99 {}", v[1]);
        assert!((49_000.0..51_000.0).contains(&v[2]), "p100 {}", v[2]);
        let d = h.distribution("get").expect("data");
        assert_eq!(d.calls, 100);
        assert_eq!(d.buckets.first().map(|b| b.1), Some(99));
        assert_eq!(d.buckets.last().map(|b| b.1), Some(100));
        assert!(h.distribution("set").is_none());
    }

    #[test]
    fn the_monitor_keeps_the_worst_sample_per_second_and_160_at_most() {
        let mut m = LatencyMonitor::default();
        m.add_if_needed("command", 5, 0, 100);
        assert_eq!(m.events().count(), 0, "threshold 0 is off");
        m.add_if_needed("command", 5, 10, 100);
        assert_eq!(m.events().count(), 0, "under the threshold");
        m.add_if_needed("command", 20, 10, 100);
        m.add_if_needed("command", 15, 10, 100);
        m.add_if_needed("command", 12, 10, 101);
        let h = m.history("command").expect("samples");
        assert_eq!(h.samples, VecDeque::from([(100, 20), (101, 12)]));
        assert_eq!(h.max, 20);
        for t in 0..500 {
            m.add_if_needed("fast-command", 11, 10, 1000 + t);
        }
        assert_eq!(
            m.history("fast-command").map(|h| h.samples.len()),
            Some(160)
        );
        assert_eq!(m.reset(&["command", "nothing"]), 1);
        assert_eq!(m.reset(&[]), 1);
        assert_eq!(m.events().count(), 0);
    }

    #[test]
    fn durations_past_a_second_count_as_a_second() {
        let mut h = LatencyHistograms::default();
        h.record("debug", 5_000_000);
        let p = h.percentiles(&[100.0]);
        assert!(p[0].1[0] <= 1_010_000.0);
    }
}
