//! Every endpoint against a live node: health, server, config, replication reads, the
//! mutations' answers on a master, the event stream, errors as problem documents.

use std::io::BufRead;
use std::time::Duration;

use super::Http;
use crate::harness::Node;

/// INFO's `field:value` lines, on a new connection.
pub fn info(node: &Node, section: &str) -> std::collections::HashMap<String, String> {
    info_on(&mut node.conn(), section)
}

/// INFO's `field:value` lines, on `conn`.
pub fn info_on(
    conn: &mut crate::harness::Conn,
    section: &str,
) -> std::collections::HashMap<String, String> {
    let text = conn.cmd(&["INFO", section]).text();
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect()
}

#[test]
fn control_plane_port_is_in_the_ready_line_and_info() {
    let node = Node::replikv(&[]);
    assert!(node.http_port > 0);
    assert_ne!(node.http_port, node.port);
    assert_eq!(
        info(&node, "server")["replikv_http_port"],
        node.http_port.to_string()
    );
}

#[test]
fn http_enabled_no_starts_no_listener() {
    let node = Node::replikv(&["--http-enabled", "no"]);
    assert_eq!(node.http_port, 0);
    assert_eq!(info(&node, "server")["replikv_http_port"], "0");
}

#[test]
fn health_and_readiness_on_a_master() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    let r = http.get("/healthz");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    let r = http.get("/readyz");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["ready"], true);
    assert_eq!(r.json()["reasons"].as_array().map(Vec::len), Some(0));
}

#[test]
fn server_reports_identity_ports_and_dataset() {
    let node = Node::replikv(&[]);
    let mut c = node.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2", "EX", "100"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["SET", "c", "3"]);
    let http = Http::new(&node);
    let r = http.get("/v1/server");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/json");
    let v = r.json();
    let server = info(&node, "server");
    assert_eq!(v["run_id"], server["run_id"].as_str());
    assert_eq!(v["redis_version"], server["redis_version"].as_str());
    assert_eq!(v["process_id"], node.pid());
    assert_eq!(v["role"], "master");
    assert_eq!(v["ports"]["resp"], node.port);
    assert_eq!(v["ports"]["http"], node.http_port);
    assert_eq!(v["dataset"]["keys"], 3);
    assert_eq!(v["dataset"]["expires"], 1);
    assert_eq!(v["dataset"]["loading"], false);
    assert!(
        v["dataset"]["used_memory_bytes"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    assert!(v["connected_clients"].as_u64().unwrap_or(0) >= 1, "{v}");
    let started = v["started_at"].as_str().unwrap_or("");
    assert!(started.ends_with('Z') && started.contains('T'), "{started}");
    // One width for every timestamp: milliseconds always written.
    assert_eq!(started.len(), "2026-01-01T00:00:00.000Z".len(), "{started}");
}

#[test]
fn config_lists_directives_without_secrets() {
    let node = Node::replikv(&["--requirepass", "hunter2"]);
    // The password is the credential the configuration asks for (no http-auth-token).
    let http = Http::new(&node).with_token("hunter2");
    let r = http.get("/v1/config");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("hunter2"), "a secret leaked: {}", r.body);
    let v = r.json();
    let find = |name: &str| {
        v["directives"]
            .as_array()
            .and_then(|d| d.iter().find(|x| x["name"] == name).cloned())
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let maxclients = find("maxclients");
    assert_eq!(maxclients["value"], "10000");
    assert_eq!(maxclients["mutable"], true);
    assert_eq!(find("port")["mutable"], true);
    assert_eq!(find("databases")["mutable"], false);
    let pass = find("requirepass");
    assert_eq!(pass["secret"], true);
    assert!(pass["value"].is_null());
}

#[test]
fn patch_config_goes_through_config_set() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    let mut c = node.conn();
    let get = |c: &mut crate::harness::Conn, name: &str| {
        c.cmd(&["CONFIG", "GET", name]).array()[1].text()
    };

    let r = http.json(
        "PATCH",
        "/v1/config",
        r#"{"maxclients": "500", "hz": "20"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let names: Vec<String> = r.json()["directives"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| x["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["hz", "maxclients"].map(String::from).to_vec());
    assert_eq!(get(&mut c, "maxclients"), "500");
    assert_eq!(get(&mut c, "hz"), "20");

    // A refused value: 422 naming the field, and nothing applied (all or nothing).
    let r = http.json(
        "PATCH",
        "/v1/config",
        r#"{"maxclients": "600", "hz": "abc"}"#,
    );
    let p = r.problem(422, "invalid-field");
    assert_eq!(p["field"], "hz");
    assert_eq!(get(&mut c, "maxclients"), "500");
    // RESP refuses the same thing with Redis's text.
    let e = c.cmd(&["CONFIG", "SET", "maxclients", "600", "hz", "abc"]);
    assert!(e.is_error(), "{e:?}");
    assert!(e.text().contains("argument 'hz'"), "{e:?}");

    let p = http
        .json("PATCH", "/v1/config", r#"{"databases": "4"}"#)
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "databases");
    assert!(
        p["detail"].as_str().unwrap_or("").contains("cannot change"),
        "{p}"
    );
    let p = http
        .json("PATCH", "/v1/config", r#"{"no-such-directive": "1"}"#)
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "no-such-directive");
    // Aliases work as in CONFIG SET.
    let r = http.json("PATCH", "/v1/config", r#"{"slave-read-only": "no"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(get(&mut c, "replica-read-only"), "no");

    // Unreadable bodies.
    http.json("PATCH", "/v1/config", "{not json")
        .problem(400, "bad-request");
    http.json("PATCH", "/v1/config", r#"{"maxclients": 5}"#)
        .problem(422, "invalid-field");
    http.json("PATCH", "/v1/config", r#"["maxclients"]"#)
        .problem(400, "bad-request");
    http.send("PATCH", "/v1/config", Some(("text/plain", r#"{"hz":"5"}"#)))
        .problem(415, "unsupported-media-type");
    assert_eq!(get(&mut c, "hz"), "20");
}

#[test]
fn replication_reads_on_a_master() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    let repl = info(&node, "replication");

    let v = http.get("/v1/replication").json();
    assert_eq!(v["role"], "master");
    assert_eq!(v["replid"], repl["master_replid"].as_str());
    assert_eq!(v["replid2"], repl["master_replid2"].as_str());
    assert_eq!(
        v["master_repl_offset"].to_string(),
        repl["master_repl_offset"]
    );
    assert_eq!(
        v["second_repl_offset"].to_string(),
        repl["second_repl_offset"]
    );
    assert!(v["master_link"].is_null(), "{v}");
    assert_eq!(v["replicas"], serde_json::json!([]));
    assert_eq!(v["failover"]["state"], "no-failover");

    assert_eq!(
        http.get("/v1/replication/replicas").json()["replicas"],
        serde_json::json!([])
    );
    let p = http
        .get("/v1/replication/replicas/7")
        .problem(404, "unknown-replica");
    assert!(p["detail"].as_str().unwrap_or("").contains('7'), "{p}");
    let p = http
        .get("/v1/replication/replicas/abc")
        .problem(400, "bad-request");
    assert!(p["detail"].as_str().is_some(), "{p}");
    // The problem names the parameter, not the value that failed to parse.
    assert_eq!(p["field"], "id", "{p}");

    let b = http.get("/v1/replication/backlog").json();
    assert_eq!(
        b["active"].as_bool(),
        Some(repl["repl_backlog_active"] == "1")
    );
    assert_eq!(b["size"].to_string(), repl["repl_backlog_size"]);
    assert_eq!(b["histlen"].to_string(), repl["repl_backlog_histlen"]);
    assert_eq!(
        b["first_byte_offset"].to_string(),
        repl["repl_backlog_first_byte_offset"]
    );
    assert_eq!(
        b["master_repl_offset"].to_string(),
        repl["master_repl_offset"]
    );
    let stats = info(&node, "stats");
    assert_eq!(b["full_syncs_served"].to_string(), stats["sync_full"]);
    assert_eq!(
        b["partial_resyncs_accepted"].to_string(),
        stats["sync_partial_ok"]
    );
    assert_eq!(
        b["partial_resyncs_refused"].to_string(),
        stats["sync_partial_err"]
    );

    let s = http.get("/v1/replication/syncs");
    assert_eq!(s.status, 200);
    assert_eq!(s.json()["syncs"], serde_json::json!([]));
    assert_eq!(
        http.get("/v1/replication/syncs?limit=5&side=replica")
            .status,
        200
    );
    let p = http
        .get("/v1/replication/syncs?limit=0")
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "limit");
    http.get("/v1/replication/syncs?limit=many")
        .problem(400, "bad-request");
    http.get("/v1/replication/syncs?limit=100001")
        .problem(422, "invalid-field");
    http.get("/v1/replication/syncs?side=sideways")
        .problem(400, "bad-request");

    assert_eq!(
        http.get("/v1/replication/failover").json()["state"],
        "no-failover"
    );
    // A changed backlog size shows at once.
    node.conn()
        .cmd(&["CONFIG", "SET", "repl-backlog-size", "2mb"]);
    assert_eq!(
        http.get("/v1/replication/backlog").json()["size"],
        2 * 1024 * 1024
    );
}

#[test]
fn mutations_refused_on_a_master_are_problems_and_change_nothing() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    let before = http.get("/v1/replication").json();

    // REPLICAOF NO ONE on a master is a no-op that succeeds.
    let r = http.send("DELETE", "/v1/replication/master", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["role"], "master");
    assert_eq!(r.json()["replid"], before["replid"]);

    // A master has no link to resync: 409 pointing at the per-replica call.
    let p = http
        .send("POST", "/v1/replication/resync", None)
        .problem(409, "conflict");
    assert!(
        p["detail"].as_str().unwrap_or("").contains("/replicas/"),
        "{p}"
    );
    http.send("POST", "/v1/replication/replicas/5/resync", None)
        .problem(404, "unknown-replica");
    let p = http
        .send("POST", "/v1/replication/replicas/x/resync", None)
        .problem(400, "bad-request");
    assert_eq!(p["field"], "id", "{p}");

    // FAILOVER needs replicas; ABORT needs a failover.
    let p = http
        .json("POST", "/v1/replication/failover", "{}")
        .problem(409, "conflict");
    assert!(
        p["detail"].as_str().unwrap_or("").contains("replicas"),
        "{p}"
    );
    let p = http
        .json("POST", "/v1/replication/failover", r#"{"force": true}"#)
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "force");
    let p = http
        .json(
            "POST",
            "/v1/replication/failover",
            r#"{"target": {"host": "127.0.0.1"}}"#,
        )
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "port", "{p}");
    http.send("DELETE", "/v1/replication/failover", None)
        .problem(409, "conflict");

    // PUT master: validation first.
    let p = http
        .json(
            "PUT",
            "/v1/replication/master",
            r#"{"host": "127.0.0.1", "port": 0}"#,
        )
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "port");
    let p = http
        .json("PUT", "/v1/replication/master", r#"{"host": "127.0.0.1"}"#)
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "port");
    let p = http
        .json(
            "PUT",
            "/v1/replication/master",
            r#"{"host": "", "port": 6379}"#,
        )
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "host");
    let p = http
        .json(
            "PUT",
            "/v1/replication/master",
            r#"{"host": "h", "port": 70000}"#,
        )
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "port");
    http.json("PUT", "/v1/replication/master", "[]")
        .problem(400, "bad-request");

    let after = http.get("/v1/replication").json();
    assert_eq!(after["role"], "master");
    assert_eq!(after["replid"], before["replid"]);
}

#[test]
fn unknown_routes_and_methods_are_refused_cleanly() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    http.get("/v2/nothing").problem(404, "not-found");
    let r = http.send("DELETE", "/v1/server", None);
    assert_eq!(r.status, 405, "{}", r.body);
    // A body over the limit never reaches the handler.
    let big = format!(r#"{{"hz": "{}"}}"#, "1".repeat(100 * 1024));
    let r = http.json("PATCH", "/v1/config", &big);
    assert!(
        r.status == 413 || r.status == 400,
        "{} {}",
        r.status,
        r.body
    );
    assert_eq!(
        node.conn().cmd(&["CONFIG", "GET", "hz"]).array()[1].text(),
        "10"
    );
}

#[test]
fn event_stream_opens_with_the_replication_state() {
    let node = Node::replikv(&[]);
    let mut reader = super::open_event_stream(&node, Duration::from_secs(10));
    let mut head = String::new();
    let mut event = None;
    let mut data = None;
    for _ in 0..64 {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read") == 0 {
            break;
        }
        head.push_str(&line);
        if let Some(e) = line.trim_end().strip_prefix("event: ") {
            event = Some(e.to_string());
        }
        if let Some(d) = line.trim_end().strip_prefix("data: ") {
            data = Some(d.to_string());
            break;
        }
    }
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{head}"
    );
    assert_eq!(event.as_deref(), Some("status"), "{head}");
    let v: serde_json::Value = serde_json::from_str(&data.unwrap_or_default()).expect("json");
    assert_eq!(v["type"], "status");
    assert!(v["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
    assert_eq!(v["state"]["role"], "master");
    assert_eq!(
        v["state"]["replid"],
        info(&node, "replication")["master_replid"].as_str()
    );
}

#[test]
fn docs_page_and_its_assets_are_served_from_the_binary() {
    let node = Node::replikv(&[]);
    let http = Http::new(&node);
    let page = http.get("/docs/");
    assert_eq!(page.status, 200);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(page.body.contains("swagger-ui"), "{}", page.body);
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let r = http.get(asset);
        assert_eq!(r.status, 200, "{asset}");
        assert!(r.body.len() > 100, "{asset}");
    }
    assert!(http
        .get("/docs/swagger-initializer.js")
        .body
        .contains("/openapi.json"));
    // The page refers to no other host: it works on a machine without internet.
    assert!(!page.body.contains("https://"), "{}", page.body);
}
