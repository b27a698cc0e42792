//! Latency figures against redis-server 7.0: per-command histograms (LATENCY HISTOGRAM,
//! INFO latencystats, their directives) and the latency monitor (LATENCY LATEST, HISTORY,
//! RESET with latency-monitor-threshold).

use crate::differential::Pair;
use crate::harness::repl::info;

#[test]
fn latency_histograms_and_their_directives_as_redis() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        CONFIG GET latency-tracking
        CONFIG GET latency-tracking-info-percentiles
        CONFIG SET latency-tracking-info-percentiles \"50.0 99.0 99.9 100\"
        CONFIG GET latency-tracking-info-percentiles
        CONFIG SET latency-tracking-info-percentiles 101
        CONFIG SET latency-tracking-info-percentiles abc
        CONFIG GET latency-tracking-info-percentiles
        CONFIG RESETSTAT
        // CONFIG RESETSTAT itself is the only call recorded.
        ?LATENCY HISTOGRAM
        SET a b
        SET a c
        // Values are durations: same shape, free numbers.
        ?LATENCY HISTOGRAM set
        ?LATENCY HISTOGRAM SET nosuchcommand
        LATENCY HISTOGRAM nosuchcommand
        CONFIG SET latency-tracking no
        SET a d
        ?LATENCY HISTOGRAM set
        CONFIG SET latency-tracking yes
        CONFIG RESETSTAT
        LATENCY HISTOGRAM set
        ",
    );
    // INFO latencystats: one line per command with data, the configured percentiles.
    pair.check("SET k v");
    pair.check("GET k");
    for node in [&pair.redis, &pair.ours] {
        let stats = info(&mut node.conn(), "latencystats");
        for cmd in ["set", "get"] {
            let line = stats
                .get(&format!("latency_percentiles_usec_{cmd}"))
                .unwrap_or_else(|| panic!("{:?}: no latencystats for {cmd}: {stats:?}", node.kind));
            let labels: Vec<&str> = line
                .split(',')
                .map(|p| p.split_once('=').expect("p=v").0)
                .collect();
            assert_eq!(labels, ["p50", "p99", "p99.9", "p100"], "{:?}", node.kind);
            for part in line.split(',') {
                let value = part.split_once('=').expect("p=v").1;
                let (_, decimals) = value.split_once('.').expect("three decimals");
                assert_eq!(decimals.len(), 3, "{value}");
            }
        }
    }
}

#[test]
fn the_latency_monitor_records_slow_commands_as_redis() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        LATENCY LATEST
        LATENCY HISTORY command
        DEBUG SLEEP 0.02
        // Off by default: nothing recorded.
        LATENCY LATEST
        CONFIG SET latency-monitor-threshold 10
        DEBUG SLEEP 0.05
        ?LATENCY LATEST
        ?LATENCY HISTORY command
        LATENCY HISTORY nosuchevent
        LATENCY RESET nosuchevent
        LATENCY RESET command
        LATENCY LATEST
        DEBUG SLEEP 0.03
        LATENCY RESET
        ",
    );
    // The sample is the command's time in milliseconds, and also the worst so far.
    pair.check("DEBUG SLEEP 0.06");
    let latest = pair.oc.cmd(&["LATENCY", "LATEST"]).array();
    let row = latest[0].array();
    assert_eq!(row[0].text(), "command");
    let (latest_ms, max_ms) = (row[2].int(), row[3].int());
    assert!((60..1000).contains(&latest_ms), "latest {latest_ms}");
    assert_eq!(max_ms, latest_ms);
}

/// `text` with every run of digits replaced by `N`: the figures of a latency sample differ
/// by a millisecond or a second between two servers, the layout around them must not.
fn digits_masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// LATENCY GRAPH and DOCTOR next to Redis's: HELP lists them as Redis's does, GRAPH of an
/// event without samples is refused with Redis's error, GRAPH of a sampled event is drawn
/// the same (title, rule, bars, age labels: the same bytes once figures are masked), and
/// DOCTOR reports each event on the line Redis writes for it, then advice; both are
/// verbatim strings in RESP3. The advice is in replikv's own words.
#[test]
fn latency_graph_and_doctor_as_redis() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    pair.script(
        "
        LATENCY HELP
        LATENCY GRAPH command
        LATENCY GRAPH
        CONFIG SET latency-monitor-threshold 20
        DEBUG SLEEP 0.1
        ",
    );
    let graphs: Vec<String> = [&mut pair.rc, &mut pair.oc]
        .into_iter()
        .map(|c| c.cmd(&["LATENCY", "GRAPH", "command"]).text())
        .collect();
    assert_eq!(
        digits_masked(&graphs[1]),
        digits_masked(&graphs[0]),
        "replikv's graph:\n{}\nRedis's:\n{}",
        graphs[1],
        graphs[0]
    );
    assert!(graphs[1].starts_with("command - high "), "{}", graphs[1]);

    let reports: Vec<String> = [&mut pair.rc, &mut pair.oc]
        .into_iter()
        .map(|c| c.cmd(&["LATENCY", "DOCTOR"]).text())
        .collect();
    let event_line = |report: &str| {
        report
            .lines()
            .find(|l| l.starts_with("1. command: "))
            .map(digits_masked)
    };
    assert!(event_line(&reports[0]).is_some(), "Redis: {}", reports[0]);
    assert_eq!(
        event_line(&reports[1]),
        event_line(&reports[0]),
        "{}",
        reports[1]
    );
    assert!(reports[1].contains("SLOWLOG GET"), "{}", reports[1]);

    for c in [&mut pair.rc, &mut pair.oc] {
        c.cmd(&["HELLO", "3"]);
        let (_, raw) = c.cmd_raw(&[b"LATENCY", b"DOCTOR"]);
        assert!(raw.starts_with(b"="), "{}", String::from_utf8_lossy(&raw));
        c.cmd(&["LATENCY", "RESET"]);
        c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "0"]);
        // Nothing sampled and the monitor off: both say so, and how to turn it on.
        let text = c.cmd(&["LATENCY", "DOCTOR"]).text();
        assert!(text.contains("latency-monitor-threshold"), "{text}");
    }
}
