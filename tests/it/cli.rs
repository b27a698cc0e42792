//! redis-cli against replikv: one-shot commands, `-a`, `--raw`, INFO, and an interactive
//! session (through a pseudo-terminal) in which help and hints raise no error.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{redis_tool, Node, Value};

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

/// Runs `redis-cli <mode> <file>` against `port` and checks the file with redis-check-rdb.
fn dump_and_check(port: u16, mode: &str, file: &std::path::Path) {
    let out = Command::new(redis_tool("redis-cli"))
        .args(["-p", &port.to_string(), mode])
        .arg(file)
        .output()
        .expect("redis-cli");
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && report.contains("Transfer finished with success"),
        "{report}"
    );
    let check = Command::new(redis_tool("redis-check-rdb"))
        .arg(file)
        .output()
        .expect("redis-check-rdb");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && report.contains("RDB looks OK"),
        "{report}"
    );
}

/// `redis-cli --rdb` asks for a full sync as a replica would and saves the payload: from a
/// replikv master, disk-based and diskless, the file is a valid RDB (redis-check-rdb says so)
/// that a fresh server loads with every key.
#[test]
fn redis_cli_dumps_an_rdb_from_replikv() {
    let node = Node::replikv(&[]);
    let mut c = node.conn();
    assert_eq!(
        c.cmd(&["DEBUG", "POPULATE", "5000", "key", "100"]).text(),
        "OK"
    );
    let digest = c.cmd(&["DEBUG", "DIGEST"]).text();
    let dir = tempfile::tempdir().expect("tempdir");
    for diskless in ["no", "yes"] {
        c.cmd(&["CONFIG", "SET", "repl-diskless-sync", diskless]);
        let file = dir.path().join(format!("cli-{diskless}.rdb"));
        dump_and_check(node.port, "--rdb", &file);
        let loaded = Node::replikv(&[
            "--dir",
            dir.path().to_str().expect("utf8"),
            "--dbfilename",
            file.file_name().and_then(|n| n.to_str()).expect("name"),
        ]);
        let mut l = loaded.conn();
        assert_eq!(l.cmd(&["DBSIZE"]).int(), 5000);
        assert_eq!(l.cmd(&["DEBUG", "DIGEST"]).text(), digest);
    }
}

/// `redis-cli --functions-rdb` (`REPLCONF rdb-filter-only functions`): the file holds the
/// function libraries and no key, redis-check-rdb accepts it, and redis-server 7.0 loads
/// it with the library. The filter's refusals are Redis's.
#[test]
fn redis_cli_dumps_a_functions_only_rdb_from_replikv() {
    let node = Node::replikv(&[]);
    let mut c = node.conn();
    assert_eq!(
        c.cmd(&["DEBUG", "POPULATE", "5000", "key", "100"]).text(),
        "OK"
    );
    let lib = "#!lua name=lib1\nredis.register_function('func1', function() return 123 end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]).text(), "lib1");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("functions.rdb");
    dump_and_check(node.port, "--functions-rdb", &file);
    let redis = Node::redis(&[
        "--dir",
        dir.path().to_str().expect("utf8"),
        "--dbfilename",
        "functions.rdb",
    ]);
    let mut r = redis.conn();
    assert_eq!(r.cmd(&["DBSIZE"]).int(), 0);
    assert_eq!(r.cmd(&["FCALL", "func1", "0"]).int(), 123);

    // Refusals, in Redis's words.
    let mut raw = node.conn();
    assert_eq!(
        raw.cmd(&["REPLCONF", "rdb-filter-only", "keys"]),
        Value::Error("ERR Unsupported rdb-filter-only option: keys".into())
    );
    assert_eq!(raw.cmd(&["REPLCONF", "rdb-filter-only", ""]).text(), "OK");
    assert_eq!(
        raw.cmd(&["SYNC"]),
        Value::Error("ERR Filtered replica requires EOF capability".into())
    );
}

#[test]
fn password_with_dash_a() {
    let node = Node::replikv(&["--requirepass", "pw"]);
    let out = cli(node.port, &["--no-auth-warning", "-a", "pw", "PING"]);
    assert_eq!(out, "PONG\n");
    let out = cli(node.port, &["PING"]);
    assert!(out.contains("NOAUTH"), "{out}");
}

/// An interactive redis-cli in a pseudo-terminal (script(1)), typed at as a user types: a
/// line goes in only once the prompt is back, because linenoise flushes pending input each
/// time it enters raw mode. With a real terminal type, redis-cli runs its full interactive
/// machinery: COMMAND DOCS at start, hints refreshed at every key, `help` from the docs.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<Vec<u8>>>,
    /// `\n` followed by the prompt: a command has finished and the next prompt is up.
    ready: Vec<u8>,
}

impl Session {
    fn start(port: u16, cli_args: &[&str]) -> Session {
        // A fixed, wide terminal: otherwise linenoise asks the terminal for its cursor
        // position, which nobody answers, and it would clip long hints.
        let cmdline = format!(
            "stty cols 4000 rows 50 && exec {} -p {port} {}",
            redis_tool("redis-cli").display(),
            cli_args.join(" ")
        );
        let mut child = Command::new("script")
            .args(["-qfec", &cmdline, "/dev/null"])
            .env("TERM", "xterm")
            .env("SHELL", "/bin/sh")
            .env("REDISCLI_HISTFILE", "/dev/null")
            .env("REDISCLI_RCFILE", "/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script(1) from util-linux");
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().expect("stdout");
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 65536];
            while let Ok(n) = stdout.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("output").extend_from_slice(&chunk[..n]);
            }
        });
        let prompt = format!("127.0.0.1:{port}> ").into_bytes();
        let mut session = Session {
            stdin: child.stdin.take(),
            child,
            output,
            ready: [b"\n".as_slice(), &prompt].concat(),
        };
        session.wait_for(0, &prompt, "the first prompt");
        session
    }

    fn len(&self) -> usize {
        self.output.lock().expect("output").len()
    }

    /// Everything printed from byte `from` on, as text.
    fn since(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.output.lock().expect("output")[from..]).into_owned()
    }

    fn wait_for(&mut self, from: usize, needle: &[u8], what: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            {
                let out = self.output.lock().expect("output");
                if out[from..].windows(needle.len()).any(|w| w == needle) {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("redis-cli: no {what}; transcript:\n{:?}", self.since(0));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin");
        stdin.write_all(bytes).expect("write to script");
        stdin.flush().expect("flush");
    }

    /// Types `line`, presses Enter, and answers what was printed meanwhile (echo, hints,
    /// the command's output) once the next prompt is up.
    fn line(&mut self, line: &str) -> String {
        let from = self.len();
        self.send(line.as_bytes());
        self.send(b"\r");
        self.wait_for(from, &self.ready.clone(), &format!("prompt after {line:?}"));
        self.since(from)
    }

    /// Types `line` for its hints only: Ctrl-U erases it before Enter, so nothing runs.
    fn hints_for(&mut self, line: &str) -> Vec<String> {
        let from = self.len();
        self.send(line.as_bytes());
        self.send(b"\x15\r");
        self.wait_for(from, &self.ready.clone(), &format!("prompt after {line:?}"));
        hints(&self.since(from))
    }

    /// Quits and answers redis-cli's exit status and the whole transcript.
    fn quit(mut self) -> (ExitStatus, String) {
        self.send(b"quit\r");
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // The reader thread drains what is left.
                std::thread::sleep(Duration::from_millis(50));
                return (status, self.since(0));
            }
            if Instant::now() > deadline {
                panic!("redis-cli did not quit; transcript:\n{:?}", self.since(0));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hints linenoise drew (in grey) while a line was typed, in order.
fn hints(transcript: &str) -> Vec<String> {
    const START: &str = "\x1b[0;90;49m";
    transcript
        .split(START)
        .skip(1)
        .filter_map(|s| s.split_once("\x1b[0m").map(|(hint, _)| hint.to_string()))
        .collect()
}

/// COMMAND DOCS of one command over a plain connection, as (field, value) pairs.
fn docs_of(port: u16, name: &str) -> Vec<(String, Value)> {
    let reply = crate::harness::Conn::connect(port).cmd(&["COMMAND", "DOCS", name]);
    let outer = reply.array();
    assert_eq!(outer.len(), 2, "COMMAND DOCS {name}: {reply:?}");
    outer[1]
        .array()
        .chunks(2)
        .map(|kv| (kv[0].text(), kv[1].clone()))
        .collect()
}

fn field(docs: &[(String, Value)], key: &str) -> String {
    docs.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.text())
        .unwrap_or_else(|| panic!("no {key} in {docs:?}"))
}

/// Top-level commands of `port` whose docs group is `group`, upper case as redis-cli shows.
fn commands_in_group(port: u16, group: &str) -> Vec<String> {
    let all = crate::harness::Conn::connect(port)
        .cmd(&["COMMAND", "DOCS"])
        .array();
    let mut names: Vec<String> = all
        .chunks(2)
        .filter(|kv| {
            kv[1]
                .array()
                .chunks(2)
                .any(|f| f[0].text() == "group" && f[1].text() == group)
        })
        .map(|kv| kv[0].text().to_ascii_uppercase())
        .collect();
    names.sort();
    names
}

const SET_SYNOPSIS: &str = "key value [NX|XX] [GET] [EX seconds|PX milliseconds\
                            |EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]";

/// Runs the same interactive checks in RESP2 (default) or RESP3 (`-3`).
fn interactive_help_and_hints(cli_args: &[&str]) {
    let node = Node::replikv(&[]);
    let set_summary = field(&docs_of(node.port, "set"), "summary");
    let mut cli = Session::start(node.port, cli_args);

    // Hints: as SET is typed, the synopsis from our docs follows the cursor, and shrinks
    // as arguments are filled in.
    let typed = cli.line("SET k v");
    assert!(typed.contains("OK"), "{typed:?}");
    let shown = hints(&typed);
    assert!(
        shown.contains(&format!(" {SET_SYNOPSIS}")),
        "hints: {shown:#?}"
    );
    assert!(
        shown.iter().any(|h| h.starts_with(" [NX|XX] [GET]")),
        "hints: {shown:#?}"
    );
    let get = cli.line("GET k");
    assert!(get.contains("\"v\""), "{get:?}");

    // help SET: our summary and the synopsis built from our argument tree.
    let help = cli.line("help SET");
    assert!(
        help.contains(&format!("SET\x1b[0m \x1b[90m{SET_SYNOPSIS}\x1b[0m")),
        "{help:?}"
    );
    assert!(
        help.contains(&format!("summary:\x1b[0m {set_summary}")),
        "{help:?}"
    );
    assert!(help.contains("since:\x1b[0m 1.0.0"), "{help:?}");
    assert!(help.contains("group:\x1b[0m string"), "{help:?}");

    // help on a subcommand, and its hint.
    let help = cli.line("help CONFIG SET");
    assert!(
        help.contains("CONFIG SET\x1b[0m \x1b[90mparameter value [parameter value ...]\x1b[0m"),
        "{help:?}"
    );
    let shown = cli.hints_for("CONFIG SET ");
    assert_eq!(
        shown.last().map(String::as_str),
        Some("parameter value [parameter value ...]")
    );

    // help @string: exactly the string commands, each with its synopsis and summary.
    let strings = commands_in_group(node.port, "string");
    assert!(strings.len() >= 20, "{strings:?}");
    let listing = cli.line("help @string");
    let mut listed: Vec<String> = listing
        .split("\x1b[1m")
        .skip(1)
        .filter_map(|s| s.split_once("\x1b[0m").map(|(name, _)| name.to_string()))
        .collect();
    listed.sort();
    assert_eq!(listed, strings, "{listing:?}");
    assert!(
        !listing.contains("summary:\x1b[0m \r"),
        "an empty summary: {listing:?}"
    );

    let (status, transcript) = cli.quit();
    assert!(
        status.success(),
        "redis-cli exited with {status:?}:\n{transcript:?}"
    );
    for bad in ["Assertion", "Unknown type", "(error)", "(null)"] {
        assert!(
            !transcript.contains(bad),
            "{bad:?} in transcript:\n{transcript:?}"
        );
    }
}

#[test]
fn interactive_session_has_working_help() {
    interactive_help_and_hints(&[]);
}

#[test]
fn interactive_session_in_resp3_has_working_help() {
    interactive_help_and_hints(&["-3"]);
}

/// The hint redis-cli shows after each command name is the same against redis-server 7.0
/// and replikv: argument names, tokens, optional and repeated parts all come from the docs.
#[test]
fn hints_match_redis_server_for_every_command() {
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    let mut lines = Vec::new();
    for name in crate::harness::Conn::connect(ours.port)
        .cmd(&["COMMAND", "LIST"])
        .array()
    {
        let name = name.text().to_ascii_uppercase();
        let words: Vec<&str> = name.split('|').collect();
        lines.push(format!("{} ", words.join(" ")));
    }
    lines.sort();
    assert!(lines.len() > 50);
    let mut rcli = Session::start(redis.port, &[]);
    let mut ocli = Session::start(ours.port, &[]);
    let mut differ = Vec::new();
    let mut with_arguments = 0;
    for line in &lines {
        let theirs = rcli.hints_for(line);
        let mine = ocli.hints_for(line);
        with_arguments += usize::from(mine.last().is_some_and(|h| !h.is_empty()));
        if theirs.last() != mine.last() {
            differ.push(format!(
                "{line:?}\n  redis:   {:?}\n  replikv: {:?}",
                theirs.last(),
                mine.last()
            ));
        }
    }
    assert!(differ.is_empty(), "hints differ:\n{}", differ.join("\n"));
    // Most commands take arguments: their hints were seen, not just equally absent.
    assert!(
        with_arguments * 2 > lines.len(),
        "{with_arguments} hints for {} lines",
        lines.len()
    );
    for cli in [rcli, ocli] {
        let (status, transcript) = cli.quit();
        assert!(status.success(), "{status:?}\n{transcript:?}");
    }
}
