//! The OpenAPI document: the committed copy is what the server generates, it is valid
//! OpenAPI 3.1, and every operation and response is described (client generators refuse
//! a response without a description).

use std::process::Command;

use super::{committed_openapi, python_tool, Http};
use crate::harness::{replikv_bin, Node};

const REGENERATE: &str =
    "regenerate it with: cargo run --quiet -- --openapi > openapi/replikv.json";

#[test]
fn committed_openapi_document_is_current() {
    let out = Command::new(replikv_bin())
        .arg("--openapi")
        .output()
        .expect("run replikv --openapi");
    assert!(
        out.status.success(),
        "replikv --openapi failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    let committed = std::fs::read_to_string(committed_openapi())
        .unwrap_or_else(|e| panic!("openapi/replikv.json is missing ({e}); {REGENERATE}"));
    assert!(
        generated == committed,
        "openapi/replikv.json is stale (the handlers changed the API); {REGENERATE}"
    );
    // The live server serves the same document.
    let node = Node::replikv(&[]);
    let served = Http::new(&node).get("/openapi.json");
    assert_eq!(served.status, 200);
    assert_eq!(served.content_type, "application/json");
    assert!(
        served.body == committed,
        "/openapi.json differs from openapi/replikv.json"
    );
}

#[test]
fn every_operation_and_response_is_described() {
    let text = std::fs::read_to_string(committed_openapi()).expect("openapi/replikv.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(!doc["info"]["description"].as_str().unwrap_or("").is_empty());
    assert!(!doc["info"]["license"]["name"]
        .as_str()
        .unwrap_or("")
        .is_empty());
    let paths = doc["paths"].as_object().expect("paths");
    let mut ops = 0;
    let mut ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            ops += 1;
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}: no tag"
            );
            let responses = op["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path}: no responses"));
            for (status, r) in responses {
                let d = r["description"].as_str().unwrap_or("");
                assert!(!d.is_empty(), "{method} {path} {status}: no description");
            }
            // Errors are problem documents.
            for (status, r) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
                if path == "/readyz" {
                    continue;
                }
                assert!(
                    r["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status}: error without application/problem+json"
                );
            }
        }
    }
    assert!(ops >= 19, "only {ops} operations documented");
    for path in [
        "/v1/replication",
        "/v1/replication/replicas",
        "/v1/replication/replicas/{id}",
        "/v1/replication/replicas/{id}/resync",
        "/v1/replication/backlog",
        "/v1/replication/syncs",
        "/v1/replication/master",
        "/v1/replication/resync",
        "/v1/replication/failover",
        "/v1/events",
        "/v1/server",
        "/v1/config",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
}

#[test]
fn openapi_spec_validator_accepts_the_committed_document() {
    let out = python_tool("openapi-spec-validator")
        .arg(committed_openapi())
        .output()
        .expect("run openapi-spec-validator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{text}"
    );
    assert!(text.contains("OK"), "{text}");
}
