//! Client-side caching (CLIENT TRACKING) against redis-server 7.0: one scenario runs on
//! both servers with three clients (a tracking client, a writer, and a RESP2 subscriber
//! invalidations can be redirected to), and every frame each client receives — replies and
//! invalidation messages, in order — must be the same bytes. Then what a differential run
//! cannot show: invalidations on a replica caused by its master's stream, the tracking
//! table's limit, and the INFO and CLIENT LIST figures.

use std::time::Duration;

use crate::differential::split;
use crate::harness::repl::{start, start_replica, wait_converged, wait_link_up};
use crate::harness::resp::Value;
use crate::harness::{wait_until, Conn, Kind, Node};

/// The scenario: `T` is the tracking client, `W` the writer, `R` the redirection target
/// (subscribed to `__redis__:invalidate` in RESP2). `$R` stands for R's client id.
const SCENARIO: &str = "
    T HELLO 3
    T CLIENT TRACKING on
    W SET k1 v
    T GET k1
    W SET k1 v2
    W SET k1 v3
    T MGET k1 k2 k3
    W DEL k2 k3
    W SET k1 v4
    T HSET h f 1
    T HGET h f
    T HDEL h f
    T CLIENT TRACKINGINFO
    T CLIENT GETREDIR
    T MSET a 1 b 2
    T GET a
    T MULTI
    T INCR a
    T GET b
    T EXEC
    T GET a
    W FLUSHALL
    T CLIENT TRACKING off
    T CLIENT GETREDIR
    T CLIENT TRACKING on NOLOOP
    T GET n
    T SET n 1
    T GET n
    W SET n 2
    T CLIENT TRACKINGINFO
    T CLIENT TRACKING on OPTIN
    T CLIENT TRACKING off
    T CLIENT CACHING yes
    T CLIENT TRACKING on OPTIN
    T CLIENT TRACKING on OPTOUT
    T CLIENT TRACKING on OPTIN OPTOUT
    T GET o1
    T CLIENT CACHING yes
    T CLIENT TRACKINGINFO
    T GET o2
    T GET o3
    W MSET o1 x o2 y o3 z
    T CLIENT CACHING no
    T CLIENT CACHING maybe
    T CLIENT TRACKING off
    T CLIENT TRACKING on OPTOUT
    T CLIENT CACHING no
    T GET p1
    T GET p2
    W MSET p1 x p2 y
    T CLIENT TRACKING off
    T CLIENT TRACKING on BCAST PREFIX user: PREFIX acct:
    T CLIENT TRACKING on BCAST PREFIX us
    T CLIENT TRACKING on BCAST PREFIX x PREFIX xy
    T CLIENT TRACKING on
    T CLIENT TRACKING on BCAST OPTIN
    T CLIENT TRACKING on PREFIX z
    T CLIENT TRACKING on BCAST PREFIX z
    T CLIENT TRACKINGINFO
    W MULTI
    W SET user:1 a
    W SET acct:1 b
    W SET user:2 c
    W SET other d
    W EXEC
    W SET z9 e
    T SET user:3 own
    T CLIENT TRACKING off
    T CLIENT TRACKING on BCAST NOLOOP
    T SET mine 1
    W SET theirs 1
    T CLIENT TRACKING off
    T CLIENT TRACKING on REDIRECT 0
    T CLIENT TRACKING on REDIRECT notanumber
    T CLIENT TRACKING on REDIRECT $R REDIRECT $R
    T CLIENT TRACKING maybe
    T CLIENT TRACKING on BOGUS
    T HELLO 2
    T CLIENT TRACKING on
    T GET r0
    W SET r0 x
    T CLIENT TRACKING off
    T CLIENT TRACKING on REDIRECT $R
    T GET r1
    W SET r1 y
    T CLIENT TRACKINGINFO
    T CLIENT GETREDIR
    T GET r1
    W FLUSHDB
    T CLIENT TRACKING off
    T HELLO 3
    T CLIENT TRACKING on REDIRECT $R
    T GET r2
    R QUIT
    W SET r2 z
    T CLIENT TRACKINGINFO
    T CLIENT TRACKING off
    T CLIENT TRACKINGINFO
";

/// One server's three clients and what each received.
struct Clients {
    tracker: Conn,
    writer: Conn,
    target: Option<Conn>,
    target_id: String,
    transcript: Vec<u8>,
    tracker_in_multi: bool,
    writer_in_multi: bool,
}

impl Clients {
    fn new(node: &Node) -> Clients {
        let tracker = node.conn();
        let writer = node.conn();
        let mut target = node.conn();
        let Value::Int(target_id) = target.cmd(&["CLIENT", "ID"]) else {
            panic!("CLIENT ID is an integer");
        };
        target.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
        Clients {
            tracker,
            writer,
            target: Some(target),
            target_id: target_id.to_string(),
            transcript: Vec::new(),
            tracker_in_multi: false,
            writer_in_multi: false,
        }
    }

    /// Runs one scenario line, then reads everything each client was sent (a PING on each
    /// is answered after whatever the server queued for it before).
    fn step(&mut self, line: &str) {
        let (who, command) = line.split_once(' ').expect("`WHO command`");
        let command = command.replace("$R", &self.target_id);
        let args = split(&command);
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let name = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
        self.log(&format!("{who}> {}\n", line.split_once(' ').unwrap().1));
        let conn = match who {
            "T" => &mut self.tracker,
            "W" => &mut self.writer,
            _ => self.target.as_mut().expect("R is connected"),
        };
        conn.send(&refs);
        let (_, raw) = conn.read_raw();
        if name == "HELLO" {
            // It names the client's id, which differs between the servers.
            self.log("(HELLO reply)\n");
        } else {
            let names_target = command.contains("GETREDIR") || command.contains("TRACKINGINFO");
            self.log_frame(&raw, names_target);
        }
        match (who, name.as_str()) {
            ("T", "MULTI") => self.tracker_in_multi = true,
            ("T", "EXEC" | "DISCARD") => self.tracker_in_multi = false,
            ("W", "MULTI") => self.writer_in_multi = true,
            ("W", "EXEC" | "DISCARD") => self.writer_in_multi = false,
            ("R", "QUIT") => self.target = None,
            _ => {}
        }
        self.sync();
    }

    /// Reads each client's pending frames up to its PING reply.
    fn sync(&mut self) {
        if !self.tracker_in_multi {
            let frames = drain_to_pong(&mut self.tracker);
            self.log_frames("T", frames);
        }
        if !self.writer_in_multi {
            let frames = drain_to_pong(&mut self.writer);
            self.log_frames("W", frames);
        }
        if let Some(target) = self.target.as_mut() {
            let frames = drain_to_pong(target);
            self.log_frames("R", frames);
        }
    }

    fn log_frames(&mut self, who: &str, frames: Vec<Vec<u8>>) {
        for f in frames {
            self.log(&format!("{who}< "));
            let broken = f.windows(21).any(|w| w == b"tracking-redir-broken");
            self.log_frame(&f, broken);
        }
    }

    /// Logs a frame; one that names the redirection target (`names_target`) has its id
    /// written as `$R`, since ids differ between the servers.
    fn log_frame(&mut self, raw: &[u8], names_target: bool) {
        let mut text = String::from_utf8_lossy(raw).into_owned();
        if names_target {
            text = text.replace(&format!(":{}\r\n", self.target_id), ":$R\r\n");
        }
        self.log(&format!("{text:?}\n"));
    }

    fn log(&mut self, s: &str) {
        self.transcript.extend_from_slice(s.as_bytes());
    }
}

/// Sends PING and returns every frame received before its reply.
fn drain_to_pong(conn: &mut Conn) -> Vec<Vec<u8>> {
    conn.send(&[b"PING"]);
    let mut frames = Vec::new();
    loop {
        let (v, raw) = conn.read_raw();
        let is_pong = match &v {
            Value::Simple(s) => s == "PONG",
            // A subscribed RESP2 client's PING reply.
            Value::Array(items) => {
                matches!(items.first(), Some(Value::Bulk(b)) if b == b"pong") && items.len() == 2
            }
            _ => false,
        };
        if is_pong {
            return frames;
        }
        frames.push(raw);
    }
}

fn transcript(node: &Node) -> String {
    let mut clients = Clients::new(node);
    for line in SCENARIO.lines().map(str::trim).filter(|l| !l.is_empty()) {
        clients.step(line);
    }
    String::from_utf8(clients.transcript).expect("the transcript is text")
}

#[test]
fn every_frame_each_client_receives_matches_redis() {
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    let expected = transcript(&redis);
    let got = transcript(&ours);
    // Sanity: the scenario does exercise invalidations of each kind.
    for needle in [
        "invalidate",
        "tracking-redir-broken",
        "__redis__:invalidate",
        "overlaps with",
    ] {
        assert!(expected.contains(needle), "scenario shows {needle}");
    }
    if expected != got {
        let first = expected
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let around = |t: &str| {
            t.lines()
                .skip(first.saturating_sub(8))
                .take(16)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "transcripts differ at line {first}\n--- redis\n{}\n--- replikv\n{}",
            around(&expected),
            around(&got)
        );
    }
}

/// A tracking client of a replica is invalidated when the master's stream changes a key
/// it read (the master here is a real Redis).
#[test]
fn a_replicas_tracking_clients_hear_of_the_masters_writes() {
    let master = start(Kind::Redis, &[]);
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(20));
    let mut m = master.conn();
    m.cmd(&["SET", "price", "10"]);
    wait_converged(&master, &replica, Duration::from_secs(20));
    let mut t = replica.conn();
    t.cmd(&["HELLO", "3"]);
    assert_eq!(
        t.cmd(&["CLIENT", "TRACKING", "on"]),
        Value::Simple("OK".into())
    );
    assert_eq!(t.cmd(&["GET", "price"]), Value::Bulk(b"10".to_vec()));
    m.cmd(&["SET", "price", "11"]);
    let push = t.read_raw().1;
    assert_eq!(push, b">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nprice\r\n");
    assert_eq!(t.cmd(&["GET", "price"]), Value::Bulk(b"11".to_vec()));
}

/// `tracking-table-max-keys`: past it, keys are forgotten and their readers invalidated,
/// until the table is back within the limit; INFO counts keys, items and clients.
#[test]
fn the_tracking_table_stays_within_its_limit() {
    let node = Node::replikv(&[]);
    let mut target = node.conn();
    let Value::Int(target_id) = target.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID");
    };
    target.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
    let mut t = node.conn();
    let id = target_id.to_string();
    t.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id]);
    for i in 0..300 {
        t.cmd(&["GET", &format!("key{i}")]);
    }
    let info = |c: &mut Conn, field: &str| -> i64 {
        let Value::Bulk(text) = c.cmd(&["INFO"]) else {
            panic!("INFO is a bulk string");
        };
        let text = String::from_utf8(text).expect("utf-8");
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("INFO has {field}"))
    };
    let mut admin = node.conn();
    assert_eq!(info(&mut admin, "tracking_total_keys"), 300);
    assert_eq!(info(&mut admin, "tracking_total_items"), 300);
    assert_eq!(info(&mut admin, "tracking_clients"), 1);
    admin.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "10"]);
    // The cron (or the next command) forgets 290 keys: 290 invalidation messages.
    for _ in 0..290 {
        let Value::Array(msg) = target.read_raw().0 else {
            panic!("a Pub/Sub message");
        };
        assert_eq!(msg[1], Value::Bulk(b"__redis__:invalidate".to_vec()));
    }
    wait_until(
        Duration::from_secs(10),
        "the table within its limit",
        || info(&mut admin, "tracking_total_keys") == 10,
    );
    target.set_timeout(Duration::from_millis(300));
    assert!(
        target.try_read().is_none(),
        "no more invalidations than keys forgotten"
    );
}

/// CLIENT LIST shows tracking (`t`), broadcast (`B`) and a broken redirection (`R`), and
/// `redir=` the target, as Redis.
#[test]
fn client_list_shows_the_tracking_flags() {
    let node = Node::replikv(&[]);
    let mut target = node.conn();
    let Value::Int(target_id) = target.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID");
    };
    let mut t = node.conn();
    t.cmd(&["HELLO", "3"]);
    let me = |t: &mut Conn| -> String {
        match t.cmd(&["CLIENT", "INFO"]) {
            Value::Bulk(b) | Value::Verbatim(_, b) => String::from_utf8(b).expect("utf-8"),
            other => panic!("CLIENT INFO: {other:?}"),
        }
    };
    assert!(me(&mut t).contains(" flags=N "), "{}", me(&mut t));
    assert!(me(&mut t).contains(" redir=-1 "));
    t.cmd(&[
        "CLIENT",
        "TRACKING",
        "on",
        "BCAST",
        "REDIRECT",
        &target_id.to_string(),
    ]);
    let line = me(&mut t);
    assert!(line.contains(" flags=tB "), "{line}");
    assert!(line.contains(&format!(" redir={target_id} ")), "{line}");
    target.cmd(&["QUIT"]);
    let mut w = node.conn();
    w.cmd(&["SET", "anything", "1"]);
    // The broken redirection is reported to the client itself (RESP3).
    let push = t.read_raw().1;
    assert!(
        String::from_utf8_lossy(&push).contains("tracking-redir-broken"),
        "{push:?}"
    );
    let line = me(&mut t);
    assert!(line.contains(" flags=tRB "), "{line}");
}
