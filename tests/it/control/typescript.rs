//! The OpenAPI document in TypeScript, as a front-end or a Node service would use it:
//! openapi-typescript generates the types, a script written against them with openapi-fetch
//! must compile under `tsc --strict`, then drives a live server. The tools come from
//! scripts/node-tools/package.json (exact versions), installed by scripts/test into .node/.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::committed_openapi;
use crate::harness::Node;

fn node_modules() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".node/node_modules");
    assert!(
        dir.join(".bin/tsc").is_file() && dir.join(".bin/openapi-typescript").is_file(),
        "the Node tools are missing from {}: scripts/test installs them (npm install --prefix .node, from scripts/node-tools/package.json)",
        dir.display()
    );
    dir
}

fn show(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn generated_typescript_types_compile_strictly_and_drive_a_live_server() {
    let modules = node_modules();
    let work = tempfile::tempdir().expect("tempdir");
    let w = work.path();
    let out = Command::new(modules.join(".bin/openapi-typescript"))
        .arg(committed_openapi())
        .arg("-o")
        .arg(w.join("replikv.d.ts"))
        .output()
        .expect("run openapi-typescript");
    assert!(out.status.success(), "openapi-typescript:\n{}", show(&out));
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/control/drive_client.ts"),
        w.join("drive_client.ts"),
    )
    .expect("copy the script");
    std::fs::write(w.join("package.json"), "{\"type\":\"module\"}\n").expect("package.json");
    std::os::unix::fs::symlink(&modules, w.join("node_modules")).expect("link node_modules");
    let out = Command::new(modules.join(".bin/tsc"))
        .current_dir(w)
        .args([
            "--strict",
            "--noUncheckedIndexedAccess",
            "--noEmitOnError",
            "--module",
            "nodenext",
            "--moduleResolution",
            "nodenext",
            "--target",
            "es2022",
            "--lib",
            "es2022,dom",
            "--types",
            "node",
            "--outDir",
            "out",
            "drive_client.ts",
        ])
        .output()
        .expect("run tsc");
    assert!(out.status.success(), "tsc --strict:\n{}", show(&out));

    let node = Node::replikv(&["--http-auth-token", "ts-token"]);
    let mut c = node.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2"]);
    let out = Command::new("node")
        .current_dir(w)
        .arg("out/drive_client.js")
        .arg(format!("http://127.0.0.1:{}", node.http_port))
        .arg("ts-token")
        .output()
        .expect("run node");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("client OK"),
        "the TypeScript client failed:\n{}",
        show(&out)
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxclients"]).array()[1].text(),
        "321"
    );
}
