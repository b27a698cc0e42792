//! The latency monitor's two texts: LATENCY DOCTOR's report (what each event's samples
//! say, and what to do about them) and LATENCY GRAPH's sparkline of one event. Pure
//! functions of the samples, so that they are tested here without a server.

use crate::engine::latency::{EventSeries, LatencyMonitor};

/// Width of a graph, in samples per block (Redis's `LATENCY_GRAPH_COLS`).
const GRAPH_COLUMNS: usize = 80;
/// Height of a graph's bars, in rows.
const GRAPH_ROWS: usize = 4;
/// The characters a bar is drawn with, lowest first; `|` fills the rows below the top.
const BAR_CHARS: [u8; 3] = [b'_', b'o', b'#'];

/// One event's samples, summarised as LATENCY DOCTOR reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventStats {
    /// Samples kept (at most one a second, the last 160).
    pub samples: u64,
    /// Their mean, in milliseconds (rounded down).
    pub avg: u64,
    /// Their mean absolute deviation from that mean, in milliseconds.
    pub mad: u64,
    /// Seconds from the oldest sample kept to now (at least 1).
    pub period: u64,
}

impl EventStats {
    /// The statistics of `series` at `now_secs` (unix seconds).
    pub fn of(series: &EventSeries, now_secs: i64) -> EventStats {
        let samples = series.samples.len() as u64;
        if samples == 0 {
            return EventStats {
                samples: 0,
                avg: 0,
                mad: 0,
                period: 0,
            };
        }
        let avg = series.samples.iter().map(|(_, ms)| ms).sum::<u64>() / samples;
        let mad = series
            .samples
            .iter()
            .map(|(_, ms)| avg.abs_diff(*ms))
            .sum::<u64>()
            / samples;
        let oldest = series
            .samples
            .iter()
            .map(|(at, _)| *at)
            .min()
            .unwrap_or(now_secs);
        let period = (now_secs - oldest).max(1) as u64;
        EventStats {
            samples,
            avg,
            mad,
            period,
        }
    }
}

/// What the report found worth advising, each at most once.
#[derive(Debug, Default)]
struct Advice {
    enable_slowlog: bool,
    lower_slowlog_threshold: bool,
    read_slowlog: bool,
    big_values: bool,
    cpu_starved: bool,
    huge_pages: bool,
}

impl Advice {
    fn any(&self) -> bool {
        self.enable_slowlog
            || self.lower_slowlog_threshold
            || self.read_slowlog
            || self.big_values
            || self.cpu_starved
            || self.huge_pages
    }
}

/// The settings the report's advice depends on.
#[derive(Debug, Clone, Copy)]
pub struct DoctorSettings {
    /// `latency-monitor-threshold`, in milliseconds (0 = off).
    pub threshold_ms: u64,
    /// `slowlog-log-slower-than`, in microseconds (negative = off).
    pub slowlog_slower_than_us: i64,
}

/// LATENCY DOCTOR: every event with its figures, then advice drawn from them. `huge_pages`
/// is the process's anonymous memory in transparent huge pages, in bytes.
pub fn doctor(
    monitor: &LatencyMonitor,
    settings: DoctorSettings,
    now_secs: i64,
    huge_pages: u64,
) -> String {
    let mut events = monitor.events().peekable();
    if events.peek().is_none() && settings.threshold_ms == 0 {
        return "Latency monitoring is off, so there is nothing to report. Turn it on with \
                CONFIG SET latency-monitor-threshold <milliseconds>: events that take at \
                least that long are then sampled, and this report reads them.\n"
            .to_string();
    }
    let mut report = String::new();
    let mut advice = Advice::default();
    let mut count = 0;
    for (name, series) in events {
        count += 1;
        if count == 1 {
            report.push_str("Latency spikes were sampled on this server:\n\n");
        }
        let stats = EventStats::of(series, now_secs);
        report.push_str(&format!(
            "{count}. {name}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            stats.samples,
            stats.avg,
            stats.mad,
            stats.period as f64 / stats.samples.max(1) as f64,
            series.max
        ));
        match name {
            "command" => {
                if settings.slowlog_slower_than_us < 0 {
                    advice.enable_slowlog = true;
                } else if settings.slowlog_slower_than_us as u64 / 1000 > settings.threshold_ms {
                    advice.lower_slowlog_threshold = true;
                }
                advice.read_slowlog = true;
                advice.big_values = true;
            }
            "fast-command" => advice.cpu_starved = true,
            _ => {}
        }
        report.push('\n');
    }
    advice.huge_pages = huge_pages > 0;
    if count == 0 && !advice.any() {
        report.push_str(
            "No latency spike was sampled since this server started (or since LATENCY RESET).\n",
        );
        return report;
    }
    if !advice.any() {
        report.push_str(
            "\nThese events have no simple remedy this report knows of; the figures above, \
             LATENCY HISTORY and the slow log are the place to start.\n",
        );
        return report;
    }
    report.push_str("\nAdvice:\n\n");
    let slowlog_at = settings.threshold_ms.saturating_mul(1000);
    if advice.enable_slowlog {
        report.push_str(&format!(
            "- Commands were slow, and the slow log is off, so it cannot say which. Turn it \
             on with CONFIG SET slowlog-log-slower-than {slowlog_at}.\n"
        ));
    }
    if advice.lower_slowlog_threshold {
        report.push_str(&format!(
            "- The slow log only keeps commands slower than the latency monitor's threshold \
             does, so it misses some of the spikes above. CONFIG SET slowlog-log-slower-than \
             {slowlog_at} lines the two up.\n"
        ));
    }
    if advice.read_slowlog {
        report.push_str(
            "- SLOWLOG GET lists the slowest commands with their arguments: commands of O(N) \
             cost on large values (KEYS, SMEMBERS, LRANGE 0 -1, SORT, big MGETs) are the \
             usual cause.\n",
        );
    }
    if advice.big_values {
        report.push_str(
            "- Deleting, expiring or evicting a large value frees it in the command's time \
             unless it is freed in the background: prefer UNLINK to DEL, FLUSHALL ASYNC, \
             and lazyfree-lazy-eviction / lazyfree-lazy-expire / lazyfree-lazy-server-del \
             yes, or split large values into smaller keys.\n",
        );
    }
    if advice.cpu_starved {
        report.push_str(
            "- Commands of constant cost were slow: the server did not get the CPU when it \
             needed it. Lower the load of this host, give the server a host of its own \
             (or check for a noisy neighbour on a shared VM), and measure the system's own \
             latency with 'redis-cli --intrinsic-latency 100'.\n",
        );
    }
    if advice.huge_pages {
        report.push_str(
            "- The process uses transparent huge pages, whose allocation and copying stall \
             the threads that touch them. Turn them off with \
             'echo never > /sys/kernel/mm/transparent_hugepage/enabled' (at boot as well) \
             and restart the server.\n",
        );
    }
    report
}

/// LATENCY GRAPH: a title line (highest, lowest and all-time-highest latency), a rule, and
/// the samples as bars, oldest first, each labelled below with how long ago it was taken.
pub fn graph(name: &str, series: &EventSeries, now_secs: i64) -> String {
    let values: Vec<u64> = series.samples.iter().map(|(_, ms)| *ms).collect();
    let labels: Vec<String> = series
        .samples
        .iter()
        .map(|(at, _)| age_label(now_secs - at))
        .collect();
    let high = values.iter().copied().max().unwrap_or(0);
    let low = values.iter().copied().min().unwrap_or(0);
    let mut out = format!(
        "{name} - high {high} ms, low {low} ms (all time high {} ms)\n",
        series.max
    );
    out.push_str(&"-".repeat(GRAPH_COLUMNS));
    out.push('\n');
    out.push_str(&sparkline(&values, &labels, GRAPH_COLUMNS, GRAPH_ROWS));
    out
}

/// How long ago, in the largest unit that fits: `42s`, `5m`, `3h`, `2d`.
fn age_label(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Bars `rows` high for `values`, in blocks of `columns`, each block followed by its
/// labels written downwards one character a row, after a blank row. A bar's height is its
/// value's place between the lowest and the highest value, in steps of a third of a row.
fn sparkline(values: &[u64], labels: &[String], columns: usize, rows: usize) -> String {
    let mut out = String::new();
    let low = values.iter().copied().min().unwrap_or(0);
    let high = values.iter().copied().max().unwrap_or(0);
    let range = if high == low {
        1.0
    } else {
        (high - low) as f64
    };
    let steps = BAR_CHARS.len() * rows;
    let heights: Vec<usize> = values
        .iter()
        .map(|v| {
            let scaled = ((v - low) as f64 * steps as f64).trunc() / range;
            (scaled as usize).min(steps - 1)
        })
        .collect();
    for (block, start) in (0..values.len()).step_by(columns.max(1)).enumerate() {
        if block > 0 {
            out.push('\n');
        }
        let end = (start + columns).min(values.len());
        for row in 0..rows {
            let line: String = heights[start..end]
                .iter()
                .map(|&h| {
                    let level = h as isize - ((rows - row - 1) * BAR_CHARS.len()) as isize;
                    match level {
                        l if l < 0 => ' ',
                        l if (l as usize) < BAR_CHARS.len() => BAR_CHARS[l as usize] as char,
                        _ => '|',
                    }
                })
                .collect();
            out.push_str(&line);
            out.push('\n');
        }
        let block_labels = &labels[start..end.min(labels.len())];
        let longest = block_labels.iter().map(String::len).max().unwrap_or(0);
        if block_labels.is_empty() {
            continue;
        }
        out.push_str(&" ".repeat(end - start));
        out.push('\n');
        for i in 0..longest {
            let line: String = block_labels
                .iter()
                .map(|l| l.as_bytes().get(i).map_or(' ', |&b| b as char))
                .collect();
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(samples: &[(i64, u64)]) -> EventSeries {
        EventSeries {
            samples: samples.iter().copied().collect(),
            max: samples.iter().map(|s| s.1).max().unwrap_or(0),
        }
    }

    #[test]
    fn stats_are_mean_deviation_and_period() {
        let s = series(&[(100, 10), (110, 20), (130, 30)]);
        assert_eq!(
            EventStats::of(&s, 140),
            EventStats {
                samples: 3,
                avg: 20,
                mad: 6,
                period: 40
            }
        );
        // A sample taken this second still spans one second.
        assert_eq!(EventStats::of(&series(&[(5, 7)]), 5).period, 1);
    }

    #[test]
    fn the_graph_draws_each_sample_as_a_bar_labelled_with_its_age() {
        let s = series(&[(90, 1), (95, 4), (99, 13)]);
        let g = graph("command", &s, 100);
        let lines: Vec<&str> = g.lines().collect();
        assert_eq!(
            lines[0],
            "command - high 13 ms, low 1 ms (all time high 13 ms)"
        );
        assert_eq!(lines[1], "-".repeat(80));
        // Heights in twelfths: 0, 3, 11 of the range 1..=13.
        assert_eq!(&lines[2..6], &["  #", "  |", " _|", "_||"]);
        assert_eq!(lines[6], "   ");
        assert_eq!(&lines[7..], &["151", "0ss", "s  "]);
    }

    #[test]
    fn equal_samples_sit_on_the_floor_and_long_series_wrap() {
        let values = vec![5u64; 81];
        let labels = vec!["1s".to_string(); 81];
        let text = sparkline(&values, &labels, 80, 4);
        let blocks: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(blocks.len(), 2, "{text}");
        assert!(text.lines().nth(3).is_some_and(|l| l == "_".repeat(80)));
    }

    #[test]
    fn ages_use_the_largest_unit_that_fits() {
        assert_eq!(age_label(59), "59s");
        assert_eq!(age_label(60), "1m");
        assert_eq!(age_label(7200), "2h");
        assert_eq!(age_label(3 * 86_400), "3d");
    }

    #[test]
    fn the_doctor_says_when_monitoring_is_off_or_quiet() {
        let monitor = LatencyMonitor::default();
        let off = DoctorSettings {
            threshold_ms: 0,
            slowlog_slower_than_us: 10_000,
        };
        assert!(doctor(&monitor, off, 0, 0).contains("latency-monitor-threshold"));
        let on = DoctorSettings {
            threshold_ms: 100,
            ..off
        };
        assert!(doctor(&monitor, on, 0, 0).starts_with("No latency spike"));
        assert!(doctor(&monitor, on, 0, 4096).contains("transparent huge pages"));
    }

    #[test]
    fn the_doctor_reads_command_spikes_and_advises() {
        let mut monitor = LatencyMonitor::default();
        monitor.add_if_needed("command", 250, 100, 1000);
        monitor.add_if_needed("command", 150, 100, 1001);
        let settings = DoctorSettings {
            threshold_ms: 100,
            slowlog_slower_than_us: -1,
        };
        let report = doctor(&monitor, settings, 1010, 0);
        assert!(
            report.contains("1. command: 2 latency spikes (average 200ms, mean deviation 50ms, period 5.00 sec). Worst all time event 250ms."),
            "{report}"
        );
        assert!(
            report.contains("slowlog-log-slower-than 100000"),
            "{report}"
        );
        assert!(report.contains("UNLINK"), "{report}");
    }
}
