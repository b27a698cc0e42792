//! redis-cli against replikv: one-shot commands, `-a`, `--raw`, INFO, and an interactive
//! session (through a pseudo-terminal) in which help and hints raise no error.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::{redis_tool, Node};

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new(redis_tool("redis-cli"))
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli");
    assert!(
        out.status.success(),
        "redis-cli {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn one_shot_commands() {
    let node = Node::replikv(&[]);
    assert_eq!(cli(node.port, &["PING"]), "PONG\n");
    assert_eq!(cli(node.port, &["SET", "greeting", "hello world"]), "OK\n");
    assert_eq!(cli(node.port, &["GET", "greeting"]), "hello world\n");
    assert_eq!(cli(node.port, &["INCR", "n"]), "1\n");
    assert_eq!(cli(node.port, &["--no-raw", "GET", "nokey"]), "(nil)\n");
    let info = cli(node.port, &["INFO"]);
    for field in [
        "# Server",
        "redis_version:",
        "# Replication",
        "role:master",
        "# Keyspace",
        "db0:keys=2",
    ] {
        assert!(info.contains(field), "INFO lacks {field}:\n{info}");
    }
}

#[test]
fn password_with_dash_a() {
    let node = Node::replikv(&["--requirepass", "pw"]);
    let out = cli(node.port, &["--no-auth-warning", "-a", "pw", "PING"]);
    assert_eq!(out, "PONG\n");
    let out = cli(node.port, &["PING"]);
    assert!(out.contains("NOAUTH"), "{out}");
}

#[test]
fn interactive_session_has_working_help() {
    let node = Node::replikv(&[]);
    // `script` gives redis-cli a terminal, so it runs its interactive mode (COMMAND DOCS,
    // hints, help) exactly as a user would.
    let cmdline = format!("{} -p {}", redis_tool("redis-cli").display(), node.port);
    let mut child = Command::new("script")
        .args(["-qfec", &cmdline, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("TERM", "dumb")
        .spawn()
        .expect("script(1) from util-linux");
    {
        let stdin = child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(b"SET k v\nGET k\nhelp GET\nhelp @string\nquit\n")
            .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("OK"), "{text}");
    assert!(text.contains("\"v\""), "{text}");
    assert!(text.contains("GET"), "{text}");
    assert!(!text.contains("ERR"), "{text}");
    assert!(!text.contains("Assertion"), "{text}");
}
