//! Bearer-token auth: mutating calls without or with a wrong token get 401 and change
//! nothing; reads stay open unless `http-auth-reads yes`; probes and metrics always open;
//! the token may come from the environment.

use super::Http;
use crate::harness::Node;

fn maxclients(node: &Node) -> String {
    node.conn().cmd(&["CONFIG", "GET", "maxclients"]).array()[1].text()
}

/// Every mutating call, with a body that would succeed or be refused past auth.
const MUTATIONS: &[(&str, &str, Option<&str>)] = &[
    ("PATCH", "/v1/config", Some(r#"{"maxclients": "77"}"#)),
    (
        "PUT",
        "/v1/replication/master",
        Some(r#"{"host": "127.0.0.1", "port": 6379}"#),
    ),
    ("DELETE", "/v1/replication/master", None),
    ("POST", "/v1/replication/resync", None),
    ("POST", "/v1/replication/replicas/1/resync", None),
    ("POST", "/v1/replication/failover", Some("{}")),
    ("DELETE", "/v1/replication/failover", None),
];

fn assert_all_mutations_refused(node: &Node, http: &Http) {
    let before_repl = http.get("/v1/replication").json();
    for (method, path, body) in MUTATIONS {
        let r = match body {
            Some(b) => http.json(method, path, b),
            None => http.send(method, path, None),
        };
        r.problem(401, "unauthorized");
        assert_eq!(r.www_authenticate, "Bearer", "{method} {path}");
    }
    assert_eq!(
        maxclients(node),
        "10000",
        "a refused PATCH changed the config"
    );
    let after_repl = http.get("/v1/replication").json();
    assert_eq!(
        before_repl, after_repl,
        "a refused call changed replication"
    );
}

#[test]
fn mutations_need_the_token_and_refusals_change_nothing() {
    let node = Node::replikv(&["--http-auth-token", "s3cret-token"]);
    assert_all_mutations_refused(&node, &Http::new(&node));
    assert_all_mutations_refused(&node, &Http::new(&node).with_token("wrong-token!"));
    assert_all_mutations_refused(&node, &Http::new(&node).with_token("s3cret-toke"));

    // Reads, probes, metrics and the document stay open.
    let open = Http::new(&node);
    for path in [
        "/v1/replication",
        "/v1/server",
        "/v1/config",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert_eq!(open.get(path).status, 200, "{path}");
    }
    // The token is never shown.
    assert!(!open.get("/v1/config").body.contains("s3cret-token"));

    // With the token, the same calls pass auth.
    let ok = Http::new(&node).with_token("s3cret-token");
    let r = ok.json("PATCH", "/v1/config", r#"{"maxclients": "77"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(maxclients(&node), "77");
    assert_eq!(ok.send("POST", "/v1/replication/resync", None).status, 409);
    // The scheme name is case-insensitive, as RFC 9110 says.
    let r = Http::new(&node).send_with_header(
        "PATCH",
        "/v1/config",
        "authorization",
        "bearer s3cret-token",
        r#"{"maxclients": "78"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn reads_need_the_token_with_http_auth_reads() {
    let node = Node::replikv(&["--http-auth-token", "tok", "--http-auth-reads", "yes"]);
    let open = Http::new(&node);
    for path in [
        "/v1/replication",
        "/v1/server",
        "/v1/config",
        "/v1/replication/syncs",
        "/v1/events",
    ] {
        open.get(path).problem(401, "unauthorized");
    }
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs/"] {
        assert_eq!(open.get(path).status, 200, "{path}");
    }
    let ok = Http::new(&node).with_token("tok");
    assert_eq!(ok.get("/v1/replication").status, 200);
}

#[test]
fn the_token_can_come_from_the_environment() {
    let node = Node::replikv_with_env(&[], &[("REPLIKV_HTTP_AUTH_TOKEN", "from-env")]);
    Http::new(&node)
        .json("PATCH", "/v1/config", r#"{"maxclients": "5"}"#)
        .problem(401, "unauthorized");
    assert_eq!(maxclients(&node), "10000");
    let r = Http::new(&node).with_token("from-env").json(
        "PATCH",
        "/v1/config",
        r#"{"maxclients": "5"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // CONFIG GET does not show the environment's token (CONFIG REWRITE must not persist it).
    let shown = node
        .conn()
        .cmd(&["CONFIG", "GET", "http-auth-token"])
        .array()[1]
        .text();
    assert_eq!(shown, "");
    // A token set at run time takes over from the environment's.
    let r = Http::new(&node).with_token("from-env").json(
        "PATCH",
        "/v1/config",
        r#"{"http-auth-token": "rotated"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    Http::new(&node)
        .with_token("from-env")
        .json("PATCH", "/v1/config", r#"{"maxclients": "6"}"#)
        .problem(401, "unauthorized");
    let r = Http::new(&node).with_token("rotated").json(
        "PATCH",
        "/v1/config",
        r#"{"maxclients": "6"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn without_a_token_loopback_callers_may_change_things() {
    let node = Node::replikv(&[]);
    let r = Http::new(&node).json("PATCH", "/v1/config", r#"{"maxclients": "9"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(maxclients(&node), "9");
}
