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
    // Many refusals on purpose: no rate limit here (its own test below).
    let node = Node::replikv(&[
        "--http-auth-token",
        "s3cret-token",
        "--http-auth-max-failures",
        "0",
    ]);
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

/// `Authorization: Basic` for user `default` (the tests' own tiny base64 encoder).
fn basic(password: &str) -> String {
    basic_user("default", password)
}

/// `Authorization: Basic` for `user`.
fn basic_user(user: &str, password: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{user}:{password}").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in raw.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A server with `requirepass` and no token: the control plane asks for that password on
/// every change and on the configuration, even from loopback; it never lets the caller set
/// the first token; refused calls change nothing.
#[test]
fn the_server_password_protects_the_control_plane() {
    let node = Node::replikv(&["--requirepass", "hunter2", "--http-auth-max-failures", "0"]);
    let http = Http::new(&node);
    let auth = |c: &mut crate::harness::Conn| {
        assert_eq!(
            c.cmd(&["AUTH", "hunter2"]),
            crate::harness::Value::Simple("OK".into())
        );
    };
    let mut c = node.conn();
    auth(&mut c);
    for (method, path, body) in MUTATIONS {
        let r = match body {
            Some(b) => http.json(method, path, b),
            None => http.send(method, path, None),
        };
        r.problem(401, "unauthorized");
        assert!(
            r.www_authenticate.starts_with("Basic realm="),
            "{method} {path}: {}",
            r.www_authenticate
        );
    }
    // The attack of the issue: drop the password, then write without one.
    http.json("PATCH", "/v1/config", r#"{"requirepass": ""}"#)
        .problem(401, "unauthorized");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "requirepass"]).array()[1].text(),
        "hunter2"
    );
    http.get("/v1/config").problem(401, "unauthorized");
    assert_eq!(http.get("/v1/replication").status, 200);
    assert_eq!(http.get("/healthz").status, 200);

    // The password opens it, as Basic or as Bearer.
    let with_basic = |method: &str, path: &str, body: &str| {
        http.request(
            method,
            path,
            &[("Authorization", &basic("hunter2"))],
            Some(("application/json", body)),
        )
    };
    let r = with_basic("PATCH", "/v1/config", r#"{"maxclients": "55"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    c.cmd(&["CONFIG", "GET", "maxclients"]);
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxclients"]).array()[1].text(),
        "55"
    );
    http.request(
        "GET",
        "/v1/config",
        &[("Authorization", &basic("wrong"))],
        None,
    )
    .problem(401, "unauthorized");
    assert_eq!(
        http.request(
            "GET",
            "/v1/config",
            &[("Authorization", &basic("hunter2"))],
            None
        )
        .status,
        200
    );
    let bearer = Http::new(&node).with_token("hunter2");
    assert_eq!(bearer.get("/v1/config").status, 200);
    // Nor the password nor loopback may set the first token.
    with_basic("PATCH", "/v1/config", r#"{"http-auth-token": "mine"}"#).problem(403, "forbidden");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "http-auth-token"]).array()[1].text(),
        ""
    );
}

/// ACL users protect the control plane as they protect RESP: once the default user is off,
/// even a server without `requirepass` asks for credentials; a user opens what its rules
/// allow (reads as INFO, the configuration as CONFIG GET, changes as CONFIG SET), 403
/// otherwise; wrong passwords get 401.
#[test]
fn acl_users_open_what_their_rules_allow() {
    let node = Node::replikv(&["--http-auth-max-failures", "0"]);
    let mut c = node.conn();
    for rule in [
        &["ACL", "SETUSER", "ops", "on", ">o", "~*", "&*", "+@all"][..],
        &[
            "ACL",
            "SETUSER",
            "viewer",
            "on",
            ">v",
            "+info",
            "+config|get",
        ],
        &["ACL", "SETUSER", "default", "off"],
    ] {
        assert_eq!(c.cmd(rule), crate::harness::Value::Simple("OK".into()));
    }
    let http = Http::new(&node);
    let with = |user: &str, pw: &str, method: &str, path: &str, body: Option<&str>| {
        http.request(
            method,
            path,
            &[("Authorization", &basic_user(user, pw))],
            body.map(|b| ("application/json", b)),
        )
    };
    // No credentials: the default user is off, so the plane is closed like RESP.
    http.json("PATCH", "/v1/config", r#"{"maxclients": "55"}"#)
        .problem(401, "unauthorized");
    http.get("/v1/config").problem(401, "unauthorized");
    // The viewer sees the configuration but may not change it.
    assert_eq!(with("viewer", "v", "GET", "/v1/config", None).status, 200);
    with(
        "viewer",
        "v",
        "PATCH",
        "/v1/config",
        Some(r#"{"maxclients": "55"}"#),
    )
    .problem(403, "forbidden");
    with("viewer", "bad", "GET", "/v1/config", None).problem(401, "unauthorized");
    with("nobody", "v", "GET", "/v1/config", None).problem(401, "unauthorized");
    // The operator changes it.
    let r = with(
        "ops",
        "o",
        "PATCH",
        "/v1/config",
        Some(r#"{"maxclients": "55"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let mut ops = node.conn();
    ops.cmd(&["AUTH", "ops", "o"]);
    assert_eq!(
        ops.cmd(&["CONFIG", "GET", "maxclients"]).array()[1].text(),
        "55"
    );
}

/// With no credential at all, loopback callers may change things but still cannot set the
/// token over HTTP (that would lock every other operator out).
#[test]
fn the_token_is_never_set_over_http_without_the_token() {
    let node = Node::replikv(&[]);
    Http::new(&node)
        .json("PATCH", "/v1/config", r#"{"http-auth-token": "mine"}"#)
        .problem(403, "forbidden");
    let r = Http::new(&node).json("PATCH", "/v1/config", r#"{"maxclients": "9"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Browsers are kept out: a Host that is not this server's (DNS rebinding), a change from
/// another origin or site, a change whose body is not JSON (a form, a text/plain fetch).
#[test]
fn browsers_cannot_drive_changes_from_other_sites() {
    let node = Node::replikv(&["--http-allowed-hosts", "ops.internal"]);
    let http = Http::new(&node);
    http.request(
        "GET",
        "/v1/replication",
        &[("Host", "evil.example:9379")],
        None,
    )
    .problem(403, "forbidden");
    http.request(
        "PATCH",
        "/v1/config",
        &[("Host", "evil.example")],
        Some(("application/json", r#"{"maxclients": "3"}"#)),
    )
    .problem(403, "forbidden");
    for host in ["ops.internal:9379", "localhost", "127.0.0.1"] {
        assert_eq!(
            http.request("GET", "/v1/replication", &[("Host", host)], None)
                .status,
            200,
            "{host}"
        );
    }
    let port = node.http_port;
    let own = format!("http://127.0.0.1:{port}");
    let host = format!("127.0.0.1:{port}");
    http.request(
        "POST",
        "/v1/replication/resync",
        &[("Origin", "http://evil.example"), ("Host", &host)],
        None,
    )
    .problem(403, "forbidden");
    http.request(
        "POST",
        "/v1/replication/resync",
        &[("Sec-Fetch-Site", "cross-site")],
        None,
    )
    .problem(403, "forbidden");
    // The same origin (the /docs page) passes, to the handler's own answer.
    http.request(
        "POST",
        "/v1/replication/resync",
        &[("Origin", &own), ("Host", &host)],
        None,
    )
    .problem(409, "conflict");
    http.send("POST", "/v1/replication/resync", Some(("text/plain", "x")))
        .problem(415, "unsupported-media-type");
    http.send(
        "PATCH",
        "/v1/config",
        Some(("application/x-www-form-urlencoded", "maxclients=3")),
    )
    .problem(415, "unsupported-media-type");
    assert_eq!(maxclients(&node), "10000");
}

/// `dir` and `dbfilename` change at run time only where enable-protected-configs allows,
/// over RESP with Redis's exact error and over HTTP as a 422 naming the directive.
#[test]
fn protected_configs_need_enable_protected_configs() {
    let redis = Node::redis(&[]);
    let node = Node::replikv(&[]);
    for n in [&redis, &node] {
        let (_, raw) = n.conn().cmd_raw(&[b"CONFIG", b"SET", b"dir", b"/tmp"]);
        assert_eq!(
            String::from_utf8_lossy(&raw),
            "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n",
            "{:?}",
            n.kind
        );
    }
    let p = Http::new(&node)
        .json("PATCH", "/v1/config", r#"{"dbfilename": "x.rdb"}"#)
        .problem(422, "invalid-field");
    assert_eq!(p["field"], "dbfilename");
    let open = Node::replikv(&["--enable-protected-configs", "yes"]);
    let dir = open.dir.path().to_str().expect("utf8").to_string();
    assert_eq!(
        open.conn().cmd(&["CONFIG", "SET", "dir", &dir]),
        crate::harness::Value::Simple("OK".into())
    );
    let r = Http::new(&open).json("PATCH", "/v1/config", r#"{"dbfilename": "x.rdb"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Failed credentials are counted per address: past ten a minute, even the right one gets
/// 429 with Retry-After until the minute is over.
#[test]
fn failed_credentials_are_rate_limited() {
    let node = Node::replikv(&["--http-auth-token", "right"]);
    let wrong = Http::new(&node).with_token("wrong");
    for _ in 0..10 {
        wrong
            .json("PATCH", "/v1/config", r#"{"maxclients": "5"}"#)
            .problem(401, "unauthorized");
    }
    wrong
        .json("PATCH", "/v1/config", r#"{"maxclients": "5"}"#)
        .problem(429, "too-many-failures");
    Http::new(&node)
        .with_token("right")
        .json("PATCH", "/v1/config", r#"{"maxclients": "5"}"#)
        .problem(429, "too-many-failures");
    assert_eq!(maxclients(&node), "10000");
    // Probes stay open.
    assert_eq!(Http::new(&node).get("/healthz").status, 200);
    assert!(node.wait_for_log("control plane: authentication failed"));
}
