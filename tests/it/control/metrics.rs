//! /metrics: redis_exporter's names, types and labels, replikv's own series, both text
//! formats, and the figures agreeing with INFO.

use std::collections::HashMap;

use super::endpoints::{info, info_on};
use super::Http;
use crate::harness::Node;

/// Parsed exposition: `series (name + labels)` → value, and `family` → type.
struct Exposition {
    samples: HashMap<String, f64>,
    types: HashMap<String, String>,
}

fn parse(text: &str) -> Exposition {
    let mut samples = HashMap::new();
    let mut types = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            if let (Some(n), Some(t)) = (parts.next(), parts.next()) {
                types.insert(n.to_string(), t.to_string());
            }
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        samples.insert(series.to_string(), value);
    }
    Exposition { samples, types }
}

impl Exposition {
    fn get(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("series {series} missing"))
    }

    /// The one series of `name` whose labels contain every `k="v"` in `labels`.
    fn find(&self, name: &str, labels: &[&str]) -> (String, f64) {
        let found: Vec<(&String, &f64)> = self
            .samples
            .iter()
            .filter(|(s, _)| {
                s.starts_with(&format!("{name}{{")) && labels.iter().all(|l| s.contains(l))
            })
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        (found[0].0.clone(), *found[0].1)
    }
}

fn scrape(http: &Http) -> Exposition {
    let r = http.get("/metrics");
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    // Every series is described by one sentence (the registry adds the final period of
    // registered families itself).
    for line in r.body.lines().filter(|l| l.starts_with("# HELP ")) {
        assert!(
            line.ends_with('.') && !line.ends_with(".."),
            "help text: {line}"
        );
    }
    parse(&r.body)
}

#[test]
fn metrics_carry_exporter_names_types_and_labels() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    let mut c = node.conn();
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["GET", "missing"]);
    c.cmd(&["INCR", "k"]);
    http.get("/v1/replication");
    let m = scrape(&http);

    for (family, kind) in [
        ("redis_up", "gauge"),
        ("redis_instance_info", "gauge"),
        ("redis_uptime_in_seconds", "gauge"),
        ("redis_connected_clients", "gauge"),
        ("redis_memory_used_bytes", "gauge"),
        ("redis_memory_used_rss_bytes", "gauge"),
        ("redis_commands_processed_total", "counter"),
        ("redis_commands_total", "counter"),
        ("redis_commands_duration_seconds_total", "counter"),
        ("redis_keyspace_hits_total", "counter"),
        ("redis_keyspace_misses_total", "counter"),
        ("redis_expired_keys_total", "counter"),
        ("redis_net_input_bytes_total", "counter"),
        ("redis_db_keys", "gauge"),
        ("redis_errors_total", "counter"),
        ("redis_connected_slaves", "gauge"),
        ("redis_master_repl_offset", "gauge"),
        ("redis_second_repl_offset", "gauge"),
        ("redis_replication_backlog_bytes", "gauge"),
        ("redis_repl_backlog_is_active", "gauge"),
        ("redis_repl_backlog_first_byte_offset", "gauge"),
        ("redis_repl_backlog_history_bytes", "gauge"),
        ("redis_replica_resyncs_full", "gauge"),
        ("redis_replica_partial_resync_accepted", "gauge"),
        ("redis_replica_partial_resync_denied", "gauge"),
        ("redis_connected_slave_offset_bytes", "gauge"),
        ("redis_connected_slave_lag_seconds", "gauge"),
        ("redis_master_link_up", "gauge"),
        ("redis_net_repl_input_bytes_total", "counter"),
        ("redis_mem_replication_backlog_bytes", "gauge"),
        ("replikv_build_info", "gauge"),
        ("replikv_replica_lag_bytes", "gauge"),
        ("replikv_failover_state", "gauge"),
        ("replikv_http_requests_total", "counter"),
        ("replikv_http_request_duration_seconds", "histogram"),
    ] {
        assert_eq!(
            m.types.get(family).map(String::as_str),
            Some(kind),
            "TYPE of {family}"
        );
    }
    assert_eq!(m.get("redis_up"), 1.0);
    let server = info(&node, "server");
    let (series, v) = m.find(
        "redis_instance_info",
        &[
            "role=\"master\"",
            &format!("run_id=\"{}\"", server["run_id"]),
            &format!("tcp_port=\"{}\"", node.port),
        ],
    );
    assert_eq!(v, 1.0, "{series}");
    assert_eq!(m.find("redis_commands_total", &["cmd=\"get\""]).1, 2.0);
    assert_eq!(m.find("redis_commands_total", &["cmd=\"incr\""]).1, 1.0);
    assert_eq!(m.find("redis_errors_total", &["err=\"ERR\""]).1, 1.0);
    assert_eq!(m.find("redis_db_keys", &["db=\"db0\""]).1, 1.0);
    assert_eq!(m.get("redis_keyspace_hits_total"), 1.0);
    assert_eq!(m.get("redis_keyspace_misses_total"), 1.0);
    assert_eq!(m.get("redis_connected_slaves"), 0.0);
    assert_eq!(
        m.find("replikv_failover_state", &["state=\"no-failover\""])
            .1,
        1.0
    );
    // A master exports no master-link series.
    assert!(!m
        .samples
        .keys()
        .any(|s| s.starts_with("redis_master_link_up{")));
    // The control plane counts its own traffic by route template.
    let (_, n) = m.find(
        "replikv_http_requests_total",
        &[
            "route=\"/v1/replication\"",
            "method=\"GET\"",
            "status=\"200\"",
        ],
    );
    assert!(n >= 1.0);
}

#[test]
fn openmetrics_when_the_scraper_asks_for_it() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    let r = http.send_accept(
        "/metrics",
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    );
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("application/openmetrics-text"),
        "{}",
        r.content_type
    );
    assert!(r.body.trim_end().ends_with("# EOF"), "{}", r.body);
    assert!(
        r.body.contains("redis_commands_processed_total "),
        "{}",
        r.body
    );
}

/// INFO, then /metrics, then INFO again: every shared counter in the scrape lies between
/// the two INFO readings, and every gauge of an idle server equals them.
#[test]
fn render_info_and_metrics_agree() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    let mut c = node.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "1", "PX", "1"]);
    c.cmd(&["SELECT", "5"]);
    c.cmd(&["SET", "c", "1", "EX", "1000"]);
    c.cmd(&["GET", "c"]);
    c.cmd(&["GET", "nope"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    c.cmd(&["GET", "b"]);
    c.cmd(&["SELECT", "0"]);
    c.cmd(&["GET", "b"]);

    // INFO on the connection already open, so both readings see the same clients.
    let all = |c: &mut crate::harness::Conn| {
        let mut m = info_on(c, "all");
        m.extend(info_on(c, "keyspace"));
        m
    };
    let before = all(&mut c);
    let m = scrape(&http);
    let after = all(&mut c);
    let num = |map: &HashMap<String, String>, k: &str| -> f64 {
        map.get(k)
            .unwrap_or_else(|| panic!("INFO {k} missing"))
            .parse()
            .unwrap_or_else(|_| panic!("INFO {k}"))
    };

    for (field, series) in [
        ("total_commands_processed", "redis_commands_processed_total"),
        (
            "total_connections_received",
            "redis_connections_received_total",
        ),
        ("total_net_input_bytes", "redis_net_input_bytes_total"),
        ("total_net_output_bytes", "redis_net_output_bytes_total"),
        ("keyspace_hits", "redis_keyspace_hits_total"),
        ("keyspace_misses", "redis_keyspace_misses_total"),
        ("expired_keys", "redis_expired_keys_total"),
        ("evicted_keys", "redis_evicted_keys_total"),
        ("rejected_connections", "redis_rejected_connections_total"),
        ("uptime_in_seconds", "redis_uptime_in_seconds"),
        ("used_cpu_sys", "redis_cpu_sys_seconds_total"),
        ("used_cpu_user", "redis_cpu_user_seconds_total"),
        (
            "total_net_repl_input_bytes",
            "redis_net_repl_input_bytes_total",
        ),
        (
            "total_net_repl_output_bytes",
            "redis_net_repl_output_bytes_total",
        ),
    ] {
        // INFO prints CPU seconds with 6 decimals.
        let (lo, v, hi) = (
            num(&before, field) - 1e-6,
            m.get(series),
            num(&after, field) + 1e-6,
        );
        assert!(
            lo <= v && v <= hi,
            "{series} = {v}, INFO {field} went {lo} -> {hi}"
        );
    }
    for (field, series) in [
        ("connected_clients", "redis_connected_clients"),
        ("blocked_clients", "redis_blocked_clients"),
        ("maxclients", "redis_max_clients"),
        ("maxmemory", "redis_memory_max_bytes"),
        ("loading", "redis_loading_dump_file"),
        (
            "rdb_changes_since_last_save",
            "redis_rdb_changes_since_last_save",
        ),
        (
            "rdb_last_save_time",
            "redis_rdb_last_save_timestamp_seconds",
        ),
        ("connected_slaves", "redis_connected_slaves"),
        ("master_repl_offset", "redis_master_repl_offset"),
        ("second_repl_offset", "redis_second_repl_offset"),
        ("repl_backlog_active", "redis_repl_backlog_is_active"),
        ("repl_backlog_size", "redis_replication_backlog_bytes"),
        (
            "repl_backlog_first_byte_offset",
            "redis_repl_backlog_first_byte_offset",
        ),
        ("repl_backlog_histlen", "redis_repl_backlog_history_bytes"),
        ("sync_full", "redis_replica_resyncs_full"),
        ("sync_partial_ok", "redis_replica_partial_resync_accepted"),
        ("sync_partial_err", "redis_replica_partial_resync_denied"),
        (
            "slave_expires_tracked_keys",
            "redis_slave_expires_tracked_keys",
        ),
        (
            "mem_replication_backlog",
            "redis_mem_replication_backlog_bytes",
        ),
        ("mem_clients_slaves", "redis_mem_clients_slaves"),
        (
            "mem_total_replication_buffers",
            "redis_mem_total_replication_buffers_bytes",
        ),
    ] {
        assert_eq!(
            num(&before, field),
            num(&after, field),
            "{field} moved on an idle server"
        );
        assert_eq!(
            m.get(series),
            num(&before, field),
            "{series} vs INFO {field}"
        );
    }
    // Memory moves a little between readings; it must be the same kind of figure.
    let used = m.get("redis_memory_used_bytes");
    let (lo, hi) = (num(&before, "used_memory"), num(&after, "used_memory"));
    assert!(
        used > 0.0 && (used - lo).abs() / lo < 0.5 && (used - hi).abs() / hi < 0.5,
        "{used} vs {lo}..{hi}"
    );
    // Keyspace lines, parsed as the exporter does.
    let mut dbs = 0;
    for (k, v) in &before {
        let Some(db) = k.strip_prefix("db") else {
            continue;
        };
        if db.parse::<u32>().is_err() {
            continue;
        }
        dbs += 1;
        let field = |name: &str| -> f64 {
            v.split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|x| x.parse().ok())
                .unwrap_or_else(|| panic!("{k}:{v}"))
        };
        let label = format!("db=\"{k}\"");
        assert_eq!(m.find("redis_db_keys", &[&label]).1, field("keys"), "{k}");
        assert_eq!(
            m.find("redis_db_keys_expiring", &[&label]).1,
            field("expires"),
            "{k}"
        );
    }
    assert_eq!(dbs, 2, "{before:?}");
    // Per-command and per-error counters, parsed as the exporter parses cmdstat_/errorstat_.
    for (k, v) in &before {
        if let Some(cmd) = k.strip_prefix("cmdstat_") {
            let calls: f64 = v
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))
                .and_then(|x| x.parse().ok())
                .unwrap_or_else(|| panic!("{k}:{v}"));
            let (_, got) = m.find("redis_commands_total", &[&format!("cmd=\"{cmd}\"")]);
            let later: f64 = after[k]
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))
                .and_then(|x| x.parse().ok())
                .unwrap_or(calls);
            assert!(
                calls <= got && got <= later,
                "{cmd}: {got} vs INFO {calls}..{later}"
            );
        }
    }
    let server = &before;
    let (series, _) = m.find(
        "redis_instance_info",
        &[
            &format!("role=\"{}\"", server["role"]),
            &format!("redis_version=\"{}\"", server["redis_version"]),
            &format!("master_replid=\"{}\"", server["master_replid"]),
            &format!("process_id=\"{}\"", server["process_id"]),
            &format!("maxmemory_policy=\"{}\"", server["maxmemory_policy"]),
        ],
    );
    assert!(
        series.contains(&format!("run_id=\"{}\"", server["run_id"])),
        "{series}"
    );
}

/// INFO persistence's `aof_*` fields printed whether or not the AOF is on, with the series
/// redis_exporter names them by.
const AOF_ALWAYS: [(&str, &str); 9] = [
    ("aof_enabled", "redis_aof_enabled"),
    ("aof_rewrite_in_progress", "redis_aof_rewrite_in_progress"),
    ("aof_rewrite_scheduled", "redis_aof_rewrite_scheduled"),
    (
        "aof_last_rewrite_time_sec",
        "redis_aof_last_rewrite_duration_sec",
    ),
    (
        "aof_current_rewrite_time_sec",
        "redis_aof_current_rewrite_duration_sec",
    ),
    (
        "aof_last_bgrewrite_status",
        "redis_aof_last_bgrewrite_status",
    ),
    ("aof_last_write_status", "redis_aof_last_write_status"),
    ("aof_last_cow_size", "redis_aof_last_cow_size_bytes"),
    ("aof_rewrites", "redis_aof_rewrites_total"),
];

/// The `aof_*` fields INFO prints only while the AOF is on, as Redis does.
const AOF_WHEN_ON: [(&str, &str); 6] = [
    ("aof_current_size", "redis_aof_current_size_bytes"),
    ("aof_base_size", "redis_aof_base_size_bytes"),
    ("aof_pending_rewrite", "redis_aof_pending_rewrite"),
    ("aof_buffer_length", "redis_aof_buffer_length"),
    ("aof_pending_bio_fsync", "redis_aof_pending_bio_fsync"),
    ("aof_delayed_fsync", "redis_aof_delayed_fsync"),
];

/// An INFO persistence field as redis_exporter reads it: `ok` is 1, `err` is 0.
fn info_number(info: &HashMap<String, String>, field: &str) -> f64 {
    let raw = info
        .get(field)
        .unwrap_or_else(|| panic!("INFO {field} missing: {info:?}"));
    match raw.as_str() {
        "ok" => 1.0,
        "err" => 0.0,
        n => n
            .parse()
            .unwrap_or_else(|_| panic!("INFO {field}:{raw} is not a number")),
    }
}

/// INFO persistence, /metrics, INFO persistence again, until the two INFO readings agree
/// on every `aof_*` field (a background fsync may still move them on an idle server).
fn read_persistence_and_scrape(
    c: &mut crate::harness::Conn,
    http: &Http,
) -> (HashMap<String, String>, Exposition) {
    let aof_fields = |info: &HashMap<String, String>| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = info
            .iter()
            .filter(|(k, _)| k.starts_with("aof_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort();
        v
    };
    for _ in 0..10 {
        let before = info_on(c, "persistence");
        let m = scrape(http);
        let after = info_on(c, "persistence");
        if aof_fields(&before) == aof_fields(&after) {
            return (before, m);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("INFO persistence's aof_* fields kept moving on an idle server");
}

/// Every AOF series equals its INFO field, has redis_exporter's type, and the exposition
/// holds exactly the AOF series of `expected` (a missing or an extra one fails).
fn assert_aof_series_match_info(
    m: &Exposition,
    info: &HashMap<String, String>,
    expected: &[(&str, &str)],
) {
    let mut want: Vec<&str> = expected.iter().map(|(_, series)| *series).collect();
    want.sort();
    let mut exported: Vec<&str> = m
        .samples
        .keys()
        .filter(|s| s.starts_with("redis_aof_"))
        .map(String::as_str)
        .collect();
    exported.sort();
    assert_eq!(exported, want, "AOF series exported");
    let mut declared: Vec<&str> = m
        .types
        .keys()
        .filter(|s| s.starts_with("redis_aof_"))
        .map(String::as_str)
        .collect();
    declared.sort();
    assert_eq!(declared, want, "AOF families declared");
    for (field, series) in expected {
        let kind = if series.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        assert_eq!(
            m.types.get(*series).map(String::as_str),
            Some(kind),
            "TYPE of {series}"
        );
        assert_eq!(
            m.get(series),
            info_number(info, field),
            "{series} vs INFO {field}"
        );
    }
}

/// With `appendonly yes`, after a rewrite and a write past it, every AOF series (those of
/// the open file included) equals its INFO persistence field.
#[test]
fn aof_series_agree_with_info_when_the_aof_is_on() {
    let node = Node::replikv(&["--appendonly", "yes"]);
    let http = Http::new(&node);
    let mut c = node.conn();
    let idle = |c: &mut crate::harness::Conn| {
        let p = info_on(c, "persistence");
        p["aof_rewrite_in_progress"] == "0" && p["aof_rewrite_scheduled"] == "0"
    };
    let wait = std::time::Duration::from_secs(20);
    crate::harness::wait_until(wait, "no AOF rewrite running", || idle(&mut c));
    for i in 0..20 {
        c.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    let rewrites = info_number(&info_on(&mut c, "persistence"), "aof_rewrites");
    c.cmd(&["BGREWRITEAOF"]);
    crate::harness::wait_until(wait, "the AOF rewrite to finish", || {
        info_number(&info_on(&mut c, "persistence"), "aof_rewrites") > rewrites && idle(&mut c)
    });
    // Past the base, so the current size differs from it; then time for the everysec
    // fsync of that write to run, so that the figures hold still.
    c.cmd(&["SET", "after-rewrite", "v"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));

    let (info, m) = read_persistence_and_scrape(&mut c, &http);
    // Figures that moved, so that agreeing means something.
    assert_eq!(info["aof_enabled"], "1");
    assert_eq!(info["aof_last_bgrewrite_status"], "ok");
    assert!(
        info_number(&info, "aof_last_rewrite_time_sec") >= 0.0,
        "{info:?}"
    );
    assert!(
        info_number(&info, "aof_current_size") > info_number(&info, "aof_base_size")
            && info_number(&info, "aof_base_size") > 0.0,
        "{info:?}"
    );
    let all: Vec<(&str, &str)> = AOF_ALWAYS.iter().chain(&AOF_WHEN_ON).copied().collect();
    assert_aof_series_match_info(&m, &info, &all);
}

/// With `appendonly no`, the AOF series say it is off, and the series of the open file are
/// absent, as their INFO fields are.
#[test]
fn aof_series_say_disabled_when_the_aof_is_off() {
    let node = Node::replikv(&["--appendonly", "no"]);
    let http = Http::new(&node);
    let mut c = node.conn();
    c.cmd(&["SET", "k", "v"]);
    let (info, m) = read_persistence_and_scrape(&mut c, &http);
    assert_eq!(info["aof_enabled"], "0");
    assert_eq!(m.get("redis_aof_enabled"), 0.0);
    for (field, _) in AOF_WHEN_ON {
        assert!(
            !info.contains_key(field),
            "INFO prints {field} with the AOF off"
        );
    }
    assert_aof_series_match_info(&m, &info, &AOF_ALWAYS);
}

/// The stream told in time: a replica's staleness in milliseconds (small while it keeps up,
/// growing while it acknowledges without applying), the backlog's coverage, the write rate,
/// the seconds of writes the backlog holds and each replica's resume horizon, consistent
/// with each other and with the byte figures of the same scrape, in /metrics and over HTTP.
#[test]
fn lag_in_time_backlog_coverage_and_resume_horizon() {
    use crate::harness::repl::{start, start_replica, wait_converged};
    use crate::harness::{wait_until, Kind};
    use std::time::{Duration, Instant};

    let master = start(Kind::Replikv, &["--repl-backlog-size", "1mb"]);
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_converged(&master, &replica, Duration::from_secs(20));
    let http = Http::new(&master);
    let mut writer = master.conn();
    let value = "x".repeat(1000);
    // About 20 KB a second for the rest of the test.
    let mut write_for = |d: Duration| {
        let until = Instant::now() + d;
        let mut i = 0u64;
        while Instant::now() < until {
            writer.cmd(&["SET", &format!("k{}", i % 100), &value]);
            i += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    write_for(Duration::from_millis(2500));
    wait_converged(&master, &replica, Duration::from_secs(20));

    let m = scrape(&http);
    let (_, lag) = m.find("replikv_replica_lag_time_seconds", &[]);
    assert!(lag < 0.5, "a replica that keeps up is not stale: {lag}");
    let rate = m.get("replikv_repl_write_rate_bytes_per_second");
    assert!((5_000.0..60_000.0).contains(&rate), "write rate {rate}");
    let covered = m.get("replikv_repl_backlog_covered_seconds");
    assert!((2.0..60.0).contains(&covered), "covered {covered}");
    let size = m.get("redis_replication_backlog_bytes");
    let capacity = m.get("replikv_repl_backlog_capacity_seconds");
    assert!(
        (capacity - size / rate).abs() < 0.01,
        "{capacity} vs {size}/{rate}"
    );
    let end = m.get("redis_master_repl_offset");
    let (_, acked) = m.find("redis_connected_slave_offset_bytes", &[]);
    let (_, horizon) = m.find("replikv_replica_resume_horizon_seconds", &[]);
    let expected = (size - (end - acked)) / rate;
    assert!((horizon - expected).abs() < 0.01, "{horizon} vs {expected}");
    // The same figures over HTTP.
    let backlog = http.get("/v1/replication/backlog").json();
    assert!(
        backlog["write_rate_bytes_per_second"]
            .as_u64()
            .expect("rate")
            > 0
    );
    assert!(backlog["covered_seconds"].as_f64().expect("covered") > 0.0);
    assert!(backlog["capacity_seconds"].as_f64().is_some());
    let replicas = http.get("/v1/replication/replicas").json();
    let r = &replicas["replicas"][0];
    assert!(r["lag_ms"].as_u64().expect("lag_ms") < 500, "{r}");
    assert!(r["resume_horizon_seconds"].as_f64().expect("horizon") > 0.0);

    // A pause on the replica holds what it receives unapplied; it still acknowledges
    // (its unchanged offset) every second, and each acknowledgement shows it staler.
    assert_eq!(
        replica
            .conn()
            .cmd(&["CLIENT", "PAUSE", "4000", "WRITE"])
            .text(),
        "OK"
    );
    write_for(Duration::from_millis(2500));
    wait_until(
        Duration::from_secs(10),
        "the replica's lag in time to grow",
        || {
            let (_, lag) = scrape(&http).find("replikv_replica_lag_time_seconds", &[]);
            lag >= 1.0
        },
    );
    // Once the pause ends it applies everything and is current again.
    wait_converged(&master, &replica, Duration::from_secs(20));
    write_for(Duration::from_millis(1500));
    wait_until(
        Duration::from_secs(10),
        "the replica's lag in time to fall",
        || {
            let (_, lag) = scrape(&http).find("replikv_replica_lag_time_seconds", &[]);
            lag < 0.5
        },
    );
}
