//! Start-up: the command line, config files (comments, quotes, include), errors with file,
//! line and reason, `--version`, `--help`, ephemeral ports.

use std::process::Command;
use std::time::Duration;

use crate::harness::{replikv_bin, Node, Value};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(replikv_bin())
        .args(args)
        .output()
        .expect("run replikv");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_and_help() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("replikv v="), "{out}");
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Usage: replikv"), "{out}");
}

#[test]
fn unknown_directive_on_the_command_line_stops_start_up() {
    let (code, _, err) = run(&["--port", "0", "--no-such-directive", "1"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Bad directive or wrong number of arguments"),
        "{err}"
    );
    assert!(err.contains("no-such-directive"), "{err}");
}

#[test]
fn bad_value_in_a_config_file_names_file_line_and_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.conf");
    std::fs::write(&path, "# a comment\nport 0\n\nmaxclients lots\n").expect("write");
    let (code, _, err) = run(&[path.to_str().expect("utf8")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bad.conf"), "{err}");
    assert!(err.contains("at line 4"), "{err}");
    assert!(err.contains("maxclients lots"), "{err}");
    assert!(
        err.contains("argument couldn't be parsed into an integer"),
        "{err}"
    );
}

#[test]
fn config_file_with_include_and_quotes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inc = dir.path().join("extra.conf");
    std::fs::write(&inc, "databases 4\n").expect("write");
    let main = dir.path().join("main.conf");
    std::fs::write(
        &main,
        format!(
            "# test config\nport 0\nhttp-port 0\nbind 127.0.0.1\nsave \"\"\nrequirepass \"two words\"\ninclude {}\n",
            inc.display()
        ),
    )
    .expect("write");
    let node = Node::replikv_raw(
        &[main.to_str().expect("utf8")],
        tempfile::tempdir().expect("tempdir"),
    );
    let mut c = node.conn();
    assert!(c.cmd(&["PING"]).is_error());
    assert_eq!(c.cmd(&["AUTH", "two words"]), Value::Simple("OK".into()));
    assert_eq!(c.cmd(&["SELECT", "3"]), Value::Simple("OK".into()));
    assert!(c.cmd(&["SELECT", "4"]).is_error());
    // CONFIG REWRITE keeps the file's comments and records the change.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients", "321"]),
        Value::Simple("OK".into())
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Value::Simple("OK".into()));
    let text = std::fs::read_to_string(&main).expect("read");
    assert!(text.starts_with("# test config\n"), "{text}");
    assert!(text.contains("maxclients 321"), "{text}");
}

#[test]
fn shipped_configs_are_valid() {
    for file in ["conf/replikv.conf", "conf/replica.conf"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        assert!(path.exists(), "{file} is missing");
        let lines = replikv::config::read_file(&path).expect("readable");
        let mut settings = replikv::config::Settings::defaults();
        settings
            .apply_lines(&lines)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/replikv.conf");
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::replikv_raw(
        &[
            sample.to_str().expect("utf8"),
            "--port",
            "0",
            "--http-port",
            "0",
            "--dir",
            dir.path().to_str().expect("utf8"),
        ],
        tempfile::tempdir().expect("tempdir"),
    );
    assert_eq!(node.conn().cmd(&["PING"]), Value::Simple("PONG".into()));
}

#[test]
fn every_directive_is_documented_in_the_sample_config() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/replikv.conf"),
    )
    .expect("read");
    for d in replikv::config::DIRECTIVES {
        let documented = text.lines().any(|l| {
            let l = l.trim_start_matches('#').trim_start();
            l.split_whitespace().next() == Some(d.name)
        });
        assert!(documented, "conf/replikv.conf does not list {}", d.name);
    }
}

#[test]
fn ephemeral_port_is_reported_and_shutdown_exits() {
    let mut node = Node::replikv(&[]);
    assert!(node.port > 0);
    let mut c = node.conn();
    c.send(&[b"SHUTDOWN", b"NOSAVE"]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)), Some(0));
}
