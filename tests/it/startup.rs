//! Start-up: the command line, config files (comments, quotes, include), errors with file,
//! line and reason, `--version`, `--help`, ephemeral ports.

use std::process::Command;
use std::time::Duration;

use crate::harness::{replikv_bin, run_to_exit, Node, Value};

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
fn printing_to_a_reader_that_stops_early_is_not_a_crash() {
    use std::io::Read;
    for flag in ["--openapi", "--help"] {
        let mut child = Command::new(replikv_bin())
            .arg(flag)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = [0u8; 1];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("some output");
        // The pipe is closed here, with most of the output unread.
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{flag}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{flag}: {stderr}");
    }
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

/// A port `p` with `p` and `p + 3000` both free (for `http-port auto`).
fn port_pair() -> u16 {
    loop {
        let p = crate::harness::free_port();
        if p <= 62_000 && std::net::TcpListener::bind(("127.0.0.1", p + 3000)).is_ok() {
            return p;
        }
    }
}

/// The shipped master and replica configurations run side by side on one host as they are
/// (only the ports and the directory moved out of the way of other tests): the replica
/// syncs, and each control plane listens on its RESP port + 3000 with no extra flag.
#[test]
fn the_shipped_master_and_replica_configs_work_together_on_one_host() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf8").to_string();
    let (p1, p2) = (port_pair(), port_pair());
    let (p1s, p2s) = (p1.to_string(), p2.to_string());
    let master_conf = root.join("conf/replikv.conf");
    let replica_conf = root.join("conf/replica.conf");
    let master = Node::replikv_raw(
        &[
            master_conf.to_str().expect("utf8"),
            "--port",
            &p1s,
            "--dir",
            &d,
        ],
        tempfile::tempdir().expect("tempdir"),
    );
    let replica = Node::replikv_raw(
        &[
            replica_conf.to_str().expect("utf8"),
            "--port",
            &p2s,
            "--replicaof",
            "127.0.0.1",
            &p1s,
            "--dir",
            &d,
        ],
        tempfile::tempdir().expect("tempdir"),
    );
    assert_eq!(master.http_port, p1 + 3000);
    assert_eq!(replica.http_port, p2 + 3000);
    crate::harness::repl::wait_link_up(&replica, Duration::from_secs(30));
    assert_eq!(
        master.conn().cmd(&["SET", "shipped", "yes"]),
        Value::Simple("OK".into())
    );
    crate::harness::repl::wait_converged(&master, &replica, Duration::from_secs(30));
    assert_eq!(
        replica.conn().cmd(&["GET", "shipped"]),
        Value::Bulk(b"yes".to_vec())
    );
}

/// A taken control-plane port stops the start with a clear message, unless the operator
/// said `http-enabled optional`: then the server starts without it and says so.
#[test]
fn a_taken_http_port_stops_the_start_unless_optional() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, text) = run_to_exit(dir.path(), &["--http-port", &port]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("Could not bind the HTTP control plane"),
        "{text}"
    );
    assert!(text.contains("http-enabled optional"), "{text}");
    let node = Node::replikv(&["--http-port", &port, "--http-enabled", "optional"]);
    assert_eq!(node.http_port, 0);
    assert_eq!(node.conn().cmd(&["PING"]), Value::Simple("PONG".into()));
    assert!(node.wait_for_log("starting without it"));
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

/// The process title (`proc-title-template`), read where `ps` reads it: Redis's default
/// (`<program> <bind>:<port>`), then a template with every variable, set at run time; an
/// unknown variable is refused with Redis's text and changes nothing.
#[test]
fn the_process_title_follows_proc_title_template() {
    let node = Node::replikv(&[]);
    let cmdline = || {
        let raw = std::fs::read(format!("/proc/{}/cmdline", node.pid())).expect("cmdline");
        let text = String::from_utf8_lossy(&raw).replace('\0', " ");
        text.trim_end().to_string()
    };
    let bin = replikv_bin();
    let bin = bin.display().to_string();
    let port = node.port;
    assert_eq!(cmdline(), format!("{bin} 127.0.0.1:{port}"));
    let mut c = node.conn();
    let set =
        |c: &mut crate::harness::Conn, t: &str| c.cmd(&["CONFIG", "SET", "proc-title-template", t]);
    assert_eq!(
        set(
            &mut c,
            "TEST {title} {listen-addr} {port} {tls-port} {config-file} {{x}"
        ),
        Value::Simple("OK".into())
    );
    assert_eq!(
        cmdline(),
        format!("TEST {bin} 127.0.0.1:{port} {port} 0 - {{x}}")
    );
    assert_eq!(
        set(&mut c, "{invalid-var}"),
        Value::Error(
            "ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables".into()
        )
    );
    assert!(cmdline().starts_with("TEST "), "unchanged: {}", cmdline());
}

/// `rename-command`, side by side with Redis: the old name is an unknown command, the new
/// one runs it, an empty new name disables a command; CONFIG REWRITE keeps the line, so a
/// restart keeps the rename. A command that does not exist stops start-up.
#[test]
fn rename_command_renames_and_disables_as_redis() {
    let args = [
        "--rename-command",
        "flushdb",
        "badger",
        "--rename-command",
        "lastsave",
        "",
    ];
    let mut pair = crate::differential::Pair::start(&args);
    pair.script(
        "
        SET k v
        FLUSHDB
        BADGER
        DBSIZE
        LASTSAVE
        badger
        ",
    );
    let (code, _, err) = run(&["--rename-command", "nosuchcommand", "x"]);
    assert_ne!(code, 0);
    assert!(err.contains("No such command in rename-command"), "{err}");
}

/// CONFIG REWRITE keeps `rename-command` lines (they are not settings it writes), so the
/// rename survives a restart from the rewritten file.
#[test]
fn config_rewrite_keeps_rename_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = crate::harness::free_port();
    let conf = dir.path().join("replikv.conf");
    std::fs::write(
        &conf,
        format!("port {port}\nrename-command flushdb badger\n"),
    )
    .expect("write config");
    let conf = conf.display().to_string();
    let node = Node::replikv_raw(
        &[&conf, "--http-port", "0"],
        tempfile::tempdir().expect("tempdir"),
    );
    let mut c = node.conn();
    c.cmd(&["CONFIG", "SET", "maxmemory", "1mb"]);
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Value::Simple("OK".into()));
    let text = std::fs::read_to_string(&conf).expect("read config");
    assert!(text.contains("rename-command flushdb badger"), "{text}");
    assert!(text.contains("maxmemory"), "{text}");
    assert!(matches!(c.cmd(&["FLUSHDB"]), Value::Error(e) if e.starts_with("ERR unknown command")));
}

/// `io-threads` sets how many threads run connections: 1 by default, as Redis, and then
/// INFO says no I/O thread is active, as Redis's does; the directive is read at start-up
/// only, refused by CONFIG SET with Redis's text. With two, the two workers share the
/// engine and a pipelined workload from several clients counts every command once.
#[test]
fn io_threads_sets_the_threads_that_run_connections() {
    let io_threads_active =
        |node: &Node| crate::harness::repl::info_field(node, "server", "io_threads_active");
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    for node in [&redis, &ours] {
        let mut c = node.conn();
        assert_eq!(
            c.cmd(&["CONFIG", "GET", "io-threads"]),
            Value::Array(vec![
                Value::Bulk(b"io-threads".to_vec()),
                Value::Bulk(b"1".to_vec())
            ]),
            "{:?}",
            node.kind
        );
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "io-threads", "2"]),
            Value::Error(
                "ERR CONFIG SET failed (possibly related to argument 'io-threads') - can't set immutable config".into()
            ),
            "{:?}",
            node.kind
        );
        assert_eq!(io_threads_active(node), "0", "{:?}", node.kind);
    }

    let two = Node::replikv(&["--io-threads", "2"]);
    assert_eq!(io_threads_active(&two), "1");
    let clients: Vec<std::thread::JoinHandle<()>> = (0..4)
        .map(|_| {
            let mut c = two.conn();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let batch: Vec<u8> = (0..100)
                        .flat_map(|_| crate::harness::resp::encode(&[b"INCR", b"counter"]))
                        .collect();
                    c.send_raw(&batch);
                    for _ in 0..100 {
                        assert!(matches!(c.read_raw().0, Value::Int(_)));
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }
    assert_eq!(
        two.conn().cmd(&["GET", "counter"]),
        Value::Bulk(b"8000".to_vec())
    );
}
