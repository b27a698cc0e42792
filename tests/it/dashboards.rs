//! The shipped Grafana dashboards, proven against a real Prometheus (Debian's `prometheus`)
//! scraping a live replikv master and replica under traffic: every query of every panel
//! returns data, every metric a panel names is exported, the variables resolve, and the
//! dashboards' structure is what Grafana's provisioning needs. The queries of the widely
//! used Redis dashboard (grafana.com 763, `tests/fixtures/dashboard-763-queries.txt`) run
//! against the same Prometheus. `conf/prometheus.yml` passes `promtool check config`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value as Json;

use crate::harness::repl::{start_replica, wait_link_up};
use crate::harness::{free_port, wait_until, Kind, Node};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A Prometheus server on a loopback port, scraping `targets` every second with the
/// static `namespace="replikv"` label the shipped config uses; stopped on drop.
struct Prometheus {
    child: Child,
    port: u16,
    agent: ureq::Agent,
    /// Its configuration, data and log; kept until the server is stopped.
    _dir: Option<tempfile::TempDir>,
}

impl Prometheus {
    /// Starts Prometheus and waits until it is ready. The port is free when chosen, but
    /// another test's server may bind it first; Prometheus then exits, and a new port is
    /// tried, as `Node::redis` does.
    fn start(targets: &[String]) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: replikv\n    scrape_interval: 1s\n    \
             static_configs:\n      - targets: [{}]\n        labels:\n          namespace: replikv\n",
            list.join(", ")
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write config");
        let log_path = dir.path().join("prometheus.log");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        for _ in 0..5 {
            let port = free_port();
            let log = std::fs::File::create(&log_path).expect("prometheus log file");
            let child = Command::new("prometheus")
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=warn")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start prometheus (Debian package `prometheus`; scripts/test installs it)");
            let mut p = Prometheus {
                child,
                port,
                agent: agent.clone(),
                _dir: None,
            };
            let mut exited = false;
            wait_until(Duration::from_secs(60), "prometheus is ready", || {
                exited = !matches!(p.child.try_wait(), Ok(None));
                exited || p.get("/-/ready").is_some_and(|(status, _)| status == 200)
            });
            if !exited {
                p._dir = Some(dir);
                return p;
            }
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        panic!(
            "prometheus exited at start five times (its port taken each time?); its log:\n{log}"
        );
    }

    fn get(&self, path_and_query: &str) -> Option<(u16, String)> {
        let url = format!("http://127.0.0.1:{}{path_and_query}", self.port);
        let mut resp = self.agent.get(&url).call().ok()?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().ok()?;
        Some((status, body))
    }

    /// An API call's `data`, failing the test on an error status.
    fn api(&self, path: &str, param: &str, value: &str) -> Json {
        let (status, body) = self
            .get(&format!("{path}?{param}={}", percent_encode(value)))
            .unwrap_or_else(|| panic!("prometheus did not answer {path} {value}"));
        let reply: Json = serde_json::from_str(&body).expect("prometheus answers JSON");
        assert!(
            status == 200 && reply["status"] == "success",
            "prometheus refused {value:?}: {body}"
        );
        reply["data"].clone()
    }

    /// The series an instant query returns.
    fn query(&self, expr: &str) -> Vec<Json> {
        let data = self.api("/api/v1/query", "query", expr);
        match data["result"].as_array() {
            Some(v) => v.clone(),
            None => vec![data["result"].clone()],
        }
    }

    /// The label sets of the series `selector` matches.
    fn series(&self, selector: &str) -> Vec<Json> {
        self.api("/api/v1/series", "match[]", selector)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query with Grafana's variables replaced as a dashboard showing every node would.
fn resolve(expr: &str) -> String {
    expr.replace("${namespace}", "replikv")
        .replace("$namespace", "replikv")
        .replace("${instance}", ".*")
        .replace("$instance", ".*")
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "10s")
        .replace("$__range", "1h")
}

/// Metric names in a query: identifiers followed by a `{` selector.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let bytes = expr.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || b"_:".contains(&bytes[i]))
            {
                i += 1;
            }
            if bytes.get(i) == Some(&b'{') {
                names.insert(expr[start..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    names
}

/// Every panel of a dashboard, rows' nested panels included.
fn panels(dashboard: &Json) -> Vec<Json> {
    let mut out = Vec::new();
    for p in dashboard["panels"].as_array().expect("panels") {
        out.push(p.clone());
        if let Some(nested) = p["panels"].as_array() {
            out.extend(nested.iter().cloned());
        }
    }
    out
}

/// The structure Grafana's file provisioning needs, checked without a Grafana.
fn check_structure(name: &str, d: &Json) -> Vec<(String, String)> {
    assert!(
        d["uid"]
            .as_str()
            .is_some_and(|u| (8..=40).contains(&u.len())),
        "{name}: uid"
    );
    assert!(
        d["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{name}: title"
    );
    let vars: Vec<&str> = d["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .map(|v| v["name"].as_str().expect("variable name"))
        .collect();
    assert_eq!(
        vars,
        ["DS_PROMETHEUS", "namespace", "instance"],
        "{name}: variables"
    );
    let mut ids = BTreeSet::new();
    let mut cells: HashMap<(i64, i64), String> = HashMap::new();
    let mut queries = Vec::new();
    for p in panels(d) {
        let title = p["title"].as_str().unwrap_or("").to_string();
        assert!(
            ids.insert(p["id"].as_i64().expect("panel id")),
            "{name}: id of {title}"
        );
        let g = &p["gridPos"];
        let (x, y, w, h) = (
            g["x"].as_i64().expect("x"),
            g["y"].as_i64().expect("y"),
            g["w"].as_i64().expect("w"),
            g["h"].as_i64().expect("h"),
        );
        assert!(
            x >= 0 && w > 0 && h > 0 && x + w <= 24,
            "{name}: gridPos of {title}"
        );
        for cx in x..x + w {
            for cy in y..y + h {
                if let Some(other) = cells.insert((cx, cy), title.clone()) {
                    panic!("{name}: panels {other:?} and {title:?} overlap at ({cx},{cy})");
                }
            }
        }
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(
            p["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{name}: datasource of {title}"
        );
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{name}: {title} has no query");
        for t in targets {
            assert!(t["refId"].is_string(), "{name}: refId in {title}");
            let expr = t["expr"].as_str().expect("expr").to_string();
            let used: Vec<&str> = expr
                .split('$')
                .skip(1)
                .map(|rest| {
                    rest.trim_start_matches('{')
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or("")
                })
                .collect();
            for v in used {
                assert!(
                    vars.contains(&v) || ["__rate_interval", "__interval", "__range"].contains(&v),
                    "{name}: {title} uses undefined ${v}"
                );
            }
            queries.push((format!("{name}: {title}"), expr));
        }
    }
    queries
}

/// Writes, reads, misses, errors, expiring keys and control-plane calls, so that every
/// series a dashboard reads has moved.
fn drive_traffic(master: &Node, replica: &Node, round: usize) {
    let mut c = master.conn();
    for i in 0..50 {
        c.cmd(&["SET", &format!("k{round}:{i}"), "v"]);
        c.cmd(&["GET", &format!("k{round}:{i}")]);
        c.cmd(&["GET", &format!("missing{i}")]);
    }
    c.cmd(&["SET", &format!("ttl{round}"), "v", "EX", "1000"]);
    c.cmd(&["SET", &format!("gone{round}"), "v", "PX", "1"]);
    c.cmd(&["HSET", "h", "f", "v"]);
    assert!(c.cmd(&["INCR", "h"]).is_error());
    for node in [master, replica] {
        let url = format!("http://127.0.0.1:{}/v1/replication", node.http_port);
        let _ = ureq::get(&url).call();
    }
}

#[test]
fn every_dashboard_query_returns_data_from_a_real_prometheus() {
    let out = Command::new("promtool")
        .args(["check", "config"])
        .arg(repo("conf/prometheus.yml"))
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "conf/prometheus.yml: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let mut queries = Vec::new();
    let mut dashboards = 0;
    for entry in std::fs::read_dir(repo("grafana/dashboards")).expect("grafana/dashboards") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("read dashboard");
            let d: Json =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            queries.extend(check_structure(&name, &d));
            dashboards += 1;
        }
    }
    assert!(dashboards >= 2, "the replication and overview dashboards");
    let fixture = std::fs::read_to_string(repo("tests/fixtures/dashboard-763-queries.txt"))
        .expect("the 763 query list");
    for line in fixture.lines().map(str::trim) {
        if !line.is_empty() && !line.starts_with('#') {
            queries.push(("dashboard 763".to_string(), line.to_string()));
        }
    }

    let master = Node::replikv(&["--http-port", "0", "--repl-diskless-sync-delay", "0"]);
    let replica = start_replica(Kind::Replikv, &master, &["--http-port", "0"]);
    wait_link_up(&replica, Duration::from_secs(20));
    let targets: Vec<String> = [&master, &replica]
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.http_port))
        .collect();
    let prom = Prometheus::start(&targets);
    // Enough samples for every rate() window: traffic between scrapes for ~8 s.
    let mut round = 0;
    wait_until(Duration::from_secs(60), "8 scrapes of both nodes", || {
        drive_traffic(&master, &replica, round);
        round += 1;
        std::thread::sleep(Duration::from_millis(500));
        prom.query("min(count_over_time(redis_up{namespace=\"replikv\"}[1m])) >= 8")
            .len()
            == 1
            && prom.query("redis_up{namespace=\"replikv\"} == 1").len() == 2
    });

    // The variables: label_values(redis_up, namespace) and the instances of it.
    let namespaces: BTreeSet<String> = prom
        .series("redis_up")
        .iter()
        .filter_map(|s| s["namespace"].as_str().map(String::from))
        .collect();
    assert_eq!(namespaces, BTreeSet::from(["replikv".to_string()]));
    let instances = prom.series("redis_up{namespace=~\"replikv\"}");
    assert_eq!(instances.len(), 2, "{instances:?}");

    let mut empty = Vec::new();
    let mut names = BTreeSet::new();
    for (panel, expr) in &queries {
        names.extend(metric_names(expr));
        let result = prom.query(&resolve(expr));
        if result.is_empty() {
            empty.push(format!("{panel}: {expr}"));
        }
    }
    // Each metric on its own: a panel combining a missing series with `or` would still
    // have returned data above.
    for name in &names {
        if prom
            .query(&format!("{name}{{namespace=\"replikv\"}}"))
            .is_empty()
        {
            empty.push(format!("metric {name} is not exported"));
        }
    }
    assert!(
        empty.is_empty(),
        "{} of {} queries returned no data:\n{}",
        empty.len(),
        queries.len(),
        empty.join("\n")
    );
}

#[test]
fn variable_substitution_and_metric_extraction() {
    assert_eq!(
        resolve("rate(redis_commands_total{namespace=~\"$namespace\",instance=~\"$instance\"}[$__rate_interval])"),
        "rate(redis_commands_total{namespace=~\"replikv\",instance=~\".*\"}[1m])"
    );
    let names = metric_names(
        "sum by (cmd) (rate(redis_commands_duration_seconds_total{a=\"1\"}[1m])) / on() redis_up{}",
    );
    assert_eq!(
        names,
        BTreeSet::from([
            "redis_commands_duration_seconds_total".to_string(),
            "redis_up".to_string()
        ])
    );
    assert_eq!(percent_encode("a b{\"}"), "a%20b%7B%22%7D");
}
