#![allow(dead_code)]
//! The process harness: starts real replikv and Debian redis-server nodes on loopback
//! ephemeral ports, each in its own temporary directory, and stops them on drop.
//! Reused by every scenario test (differential, interop, replication, control plane).

pub mod proxy;
pub mod repl;
pub mod resp;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use resp::{Conn, Value};

/// Which server a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// This project's binary.
    Replikv,
    /// Debian's redis-server 7.0.
    Redis,
}

/// A running server process.
pub struct Node {
    /// What runs.
    pub kind: Kind,
    /// RESP port.
    pub port: u16,
    /// HTTP control plane port (replikv only, 0 when disabled).
    pub http_port: u16,
    /// Working directory (removed on drop).
    pub dir: tempfile::TempDir,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

/// What every replikv a test starts gets: ephemeral RESP and HTTP ports, loopback only, no
/// save rules.
const BASELINE: [&str; 8] = [
    "--port",
    "0",
    "--http-port",
    "0",
    "--bind",
    "127.0.0.1",
    "--save",
    "",
];

/// The replikv binary built by cargo for these tests.
pub fn replikv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_replikv"))
}

/// Path of a Debian redis tool, failing the test with a clear message when missing (the
/// project's test script installs them; a test never skips silently).
pub fn redis_tool(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{name} is not installed: run scripts/test, which installs redis-server and redis-tools"
    );
}

/// A free loopback port (bound then released; redis-server cannot bind port 0).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The lines `child` writes to its (piped) standard output, gathered by a thread as they
/// come, for a failing test to show.
pub fn collect_stdout(child: &mut std::process::Child) -> Arc<Mutex<Vec<String>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    if let Some(out) = child.stdout.take() {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(mut l) = log.lock() {
                    l.push(line);
                }
            }
        });
    }
    log
}

/// Polls `f` until it returns true or `timeout` passes; panics with `what` on timeout.
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Node {
    /// Starts replikv with `args` added to a test baseline (ephemeral ports, no save rules,
    /// its own directory).
    pub fn replikv(args: &[&str]) -> Node {
        Self::replikv_with_env(args, &[])
    }

    /// Like [`Node::replikv`], with extra environment variables for the process.
    pub fn replikv_with_env(args: &[&str], env: &[(&str, &str)]) -> Node {
        Self::replikv_wrapped(&[], args, env)
    }

    /// Like [`Node::replikv_with_env`], started through `wrapper` (a command that execs its
    /// last arguments, such as `prlimit --nofile=512:512`).
    pub fn replikv_wrapped(wrapper: &[&str], args: &[&str], env: &[(&str, &str)]) -> Node {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = match wrapper.split_first() {
            Some((program, wrapper_args)) => {
                let mut cmd = Command::new(program);
                cmd.args(wrapper_args).arg(replikv_bin());
                cmd
            }
            None => Command::new(replikv_bin()),
        };
        cmd.args(BASELINE)
            .args(["--enable-debug-command", "yes"])
            .arg("--dir")
            .arg(dir.path())
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Self::spawn_replikv(cmd, dir)
    }

    /// Starts replikv with exactly `args` (for config-file tests), in `dir`.
    pub fn replikv_raw(args: &[&str], dir: tempfile::TempDir) -> Node {
        let mut cmd = Command::new(replikv_bin());
        cmd.args(args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Self::spawn_replikv(cmd, dir)
    }

    fn spawn_replikv(mut cmd: Command, dir: tempfile::TempDir) -> Node {
        let mut child = cmd.spawn().expect("spawn replikv");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<(u16, u16)>();
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if line.contains("Ready to accept connections") {
                        let port = field(&line, "port=").unwrap_or(0);
                        let http = field(&line, "http_port=").unwrap_or(0);
                        let _ = tx.send((port, http));
                    }
                    if std::env::var_os("REPLIKV_TEST_LOG").is_some() {
                        eprintln!("[replikv] {line}");
                    }
                    if let Ok(mut l) = log.lock() {
                        l.push(line);
                    }
                }
            });
        }
        let (port, http_port) = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                let lines = log.lock().map(|l| l.join("\n")).unwrap_or_default();
                panic!("replikv did not become ready; output:\n{lines}");
            }
        };
        Node {
            kind: Kind::Replikv,
            port,
            http_port,
            dir,
            child,
            log,
        }
    }

    /// Starts Debian redis-server 7.0 with `args` added to a test baseline.
    pub fn redis(args: &[&str]) -> Node {
        // The port is free when chosen, but another test's server may bind it before
        // redis-server does; then redis-server exits, and a new port is tried.
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            let port_s = port.to_string();
            let mut cmd = Command::new(redis_tool("redis-server"));
            cmd.args([
                "--port",
                &port_s,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "yes",
            ])
            .arg("--dir")
            .arg(dir.path())
            .args(args);
            if let Some(node) = Self::spawn_redis(cmd, dir, port) {
                return node;
            }
        }
        panic!("redis-server exited at start five times (its port taken each time?)");
    }

    /// Starts Debian redis-server 7.0 from the config file `conf`, which sets `port`.
    pub fn redis_with_config(conf: &str, port: u16) -> Node {
        let mut cmd = Command::new(redis_tool("redis-server"));
        cmd.arg(conf);
        Self::spawn_redis(cmd, tempfile::tempdir().expect("tempdir"), port)
            .expect("redis-server exited at start")
    }

    /// Starts redis-server and waits until it answers on `port`; `None` when it exits first
    /// (its port was taken). The answer must come from this process (INFO's `process_id`),
    /// not from another test's server that took the port.
    fn spawn_redis(mut cmd: Command, dir: tempfile::TempDir, port: u16) -> Option<Node> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn redis-server");
        let log = collect_stdout(&mut child);
        let mut node = Node {
            kind: Kind::Redis,
            port,
            http_port: 0,
            dir,
            child,
            log,
        };
        let pid = node.pid().to_string();
        let mut exited = false;
        wait_until(
            Duration::from_secs(20),
            "redis-server to answer PING",
            || {
                if node.has_exited() {
                    exited = true;
                    return true;
                }
                match Conn::try_cmd(port, &["INFO", "server"]) {
                    Some(Value::Bulk(info)) => {
                        let info = String::from_utf8_lossy(&info);
                        let ours = info
                            .lines()
                            .any(|l| l.strip_prefix("process_id:") == Some(pid.as_str()));
                        // Serving: its dataset is loaded (INFO answers while it loads).
                        ours && Conn::try_cmd(port, &["PING"]) == Some(Value::Simple("PONG".into()))
                    }
                    // A password, or rules that refuse INFO: it answers, and it runs.
                    Some(Value::Error(_)) => true,
                    _ => false,
                }
            },
        );
        (!exited).then_some(node)
    }

    /// A new connection.
    pub fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }

    /// Output lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits up to five seconds for an output line containing `needle`; true when one came.
    /// The output is collected by another thread, so it may trail what a client sees:
    /// positive checks wait, negative ones use [`Node::log_contains`].
    pub fn wait_for_log(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if self.log_contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// True when some output line contains `needle`.
    pub fn log_contains(&self, needle: &str) -> bool {
        self.log_lines().iter().any(|l| l.contains(needle))
    }

    /// Waits for the process to exit (after SHUTDOWN) and returns its exit status code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// True once the process has exited, however it ended (a signal included).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Freezes the process with SIGSTOP and returns once every one of its threads is
    /// stopped: the signal is delivered asynchronously, and on a loaded machine a thread
    /// can still run (answer, reconnect) for milliseconds after `kill` returned.
    pub fn freeze(&self) {
        self.signal("STOP");
        let tasks = format!("/proc/{}/task", self.pid());
        wait_until(Duration::from_secs(10), "every thread to stop", || {
            std::fs::read_dir(&tasks).is_ok_and(|dir| {
                dir.filter_map(Result::ok).all(|task| {
                    std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
                        // The state follows the command name, which is in parentheses.
                        stat.rsplit_once(')')
                            .and_then(|(_, rest)| rest.split_whitespace().next())
                            .is_some_and(|state| state == "T" || state == "t")
                    })
                })
            })
        });
    }

    /// Sends signal `name` (`TERM`, `INT`, `STOP`, `CONT`...) to the process.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{name} {}", self.pid());
    }
}

/// Runs replikv with `args` in `dir` until it exits (failing the test after 20 s): its exit
/// code and output.
pub fn run_to_exit(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(replikv_bin())
        .args(BASELINE)
        .args(args)
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn replikv");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("replikv did not exit (it started on a file it should refuse)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (status.code(), text)
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn field(line: &str, name: &str) -> Option<u16> {
    let start = line.find(name)? + name.len();
    let digits: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}
