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
