//! The HTTP control plane against live nodes: every endpoint, auth, errors as problem
//! documents, metrics agreeing with INFO, the OpenAPI document (fresh, valid, generating a
//! working Python client) and schemathesis fuzzing it.
//!
//! HTTP client: `ureq` (blocking, no TLS features): tests stay plain synchronous code like
//! the rest of the suite, statuses come back as values instead of errors, and it can stream
//! a body for the Server-Sent Events test. A hand-written client would be smaller but would
//! need its own chunked-encoding reader, and bugs in it would look like server bugs.

mod auth;
mod busy;
mod endpoints;
mod live;
mod metrics;
mod openapi;
mod python;
mod typescript;

use std::process::Command;
use std::time::Duration;

use crate::harness::Node;

/// A response: status, content type and body.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, empty when absent.
    pub content_type: String,
    /// `WWW-Authenticate`, empty when absent.
    pub www_authenticate: String,
    /// `Age`, empty when absent (figures served fresh).
    pub age: String,
    /// Body as text.
    pub body: String,
}

impl Reply {
    /// The body as JSON, failing the test with the body shown when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// Asserts a problem document with `status` and `urn:replikv:problem:<kind>`; returns it.
    pub fn problem(&self, status: u16, kind: &str) -> serde_json::Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "body: {}",
            self.body
        );
        let p = self.json();
        assert_eq!(p["type"], format!("urn:replikv:problem:{kind}"), "{p}");
        assert_eq!(p["status"], status, "{p}");
        assert!(p["title"].is_string() && p["detail"].is_string(), "{p}");
        p
    }
}

/// A blocking client for one node's control plane.
pub struct Http {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl Http {
    /// A client for `node`'s control plane.
    pub fn new(node: &Node) -> Http {
        assert!(node.http_port > 0, "the node has no control plane");
        Http::on_port(node.http_port)
    }

    /// A client for the control plane listening on `port`.
    pub fn on_port(port: u16) -> Http {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Http {
            base: format!("http://127.0.0.1:{port}"),
            agent,
            token: None,
        }
    }

    /// The same client sending `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: &str) -> Http {
        self.token = Some(token.to_string());
        self
    }

    /// Sends a request with an optional body (sent as `content_type`).
    pub fn send(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Reply {
        self.request(method, path, &[], body)
    }

    /// Sends a request with extra headers and an optional body (`(content_type, text)`).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &str)>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(t) = &self.token {
            builder = builder.header("Authorization", format!("Bearer {t}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let result = match body {
            Some((content_type, text)) => {
                let request = builder
                    .header("Content-Type", content_type)
                    .body(text.to_string())
                    .expect("request");
                self.agent.run(request)
            }
            None => {
                let request = builder.body(()).expect("request");
                self.agent.run(request)
            }
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let content_type = header("content-type");
        let www_authenticate = header("www-authenticate");
        let age = header("age");
        let body = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        Reply {
            status: response.status().as_u16(),
            content_type,
            www_authenticate,
            age,
            body,
        }
    }

    /// Sends `body` as JSON with one extra header.
    pub fn send_with_header(
        &self,
        method: &str,
        path: &str,
        name: &str,
        value: &str,
        body: &str,
    ) -> Reply {
        self.request(
            method,
            path,
            &[(name, value)],
            Some(("application/json", body)),
        )
    }

    /// GET with an `Accept` header.
    pub fn send_accept(&self, path: &str, accept: &str) -> Reply {
        self.request("GET", path, &[("Accept", accept)], None)
    }

    /// GET.
    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    /// A JSON body with `method`.
    pub fn json(&self, method: &str, path: &str, body: &str) -> Reply {
        self.send(method, path, Some(("application/json", body)))
    }
}

/// A tool from the project's .venv (which scripts/test creates), else from PATH; fails with
/// a clear message when it is missing: these tests never skip.
pub fn python_tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".venv/bin")
        .join(name);
    if venv.is_file() {
        Command::new(venv)
    } else if found {
        Command::new(name)
    } else {
        panic!(
            "{name} is not installed: run scripts/test (it creates .venv from scripts/requirements-test.txt), or `python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-test.txt`"
        )
    }
}

/// The committed OpenAPI document's path.
pub fn committed_openapi() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/replikv.json")
}

/// Opens `GET /v1/events` on `node` as a raw Server-Sent Events stream, read line by line
/// (reads wait at most `timeout`).
pub fn open_event_stream(
    node: &Node,
    timeout: Duration,
) -> std::io::BufReader<std::net::TcpStream> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", node.http_port)).expect("connect");
    stream.set_read_timeout(Some(timeout)).expect("timeout");
    stream
        .write_all(
            b"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
        )
        .expect("write");
    std::io::BufReader::new(stream)
}
