//! One trace per sync across both nodes: the replica sends its trace context in the
//! handshake (`REPLCONF traceparent`), the master's side of the sync joins it, and both sync
//! histories carry the same W3C trace id — with or without an exporter. A Redis master
//! refuses the option and the sync goes on; a Redis replica leaves the master its own
//! trace. With the standard OTLP environment variables, both processes export their spans
//! to a collector (a small OTLP/HTTP receiver in the test) under that trace id.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::control::Http;
use crate::harness::repl::{info_field, start_replica, wait_link_up};
use crate::harness::{wait_until, Kind, Node};

/// The newest sync session of `side` in a node's history: (trace id, kind, peer).
fn last_session(node: &Node, side: &str) -> Option<(String, String, String)> {
    let syncs = Http::new(node).get("/v1/replication/syncs").json();
    syncs["syncs"]
        .as_array()?
        .iter()
        .filter(|s| s["side"] == side)
        .max_by_key(|s| s["id"].as_u64())
        .map(|s| {
            (
                s["trace_id"].as_str().unwrap_or("").to_string(),
                s["kind"].as_str().unwrap_or("").to_string(),
                s["peer"].as_str().unwrap_or("").to_string(),
            )
        })
}

fn is_trace_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id != "0".repeat(32)
}

#[test]
fn both_sides_of_a_sync_share_one_trace_without_an_exporter() {
    let master = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
    master.conn().cmd(&["SET", "k", "v"]);
    let replica = start_replica(Kind::Replikv, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(20));
    let (ours, kind, _) = last_session(&replica, "replica").expect("replica session");
    let (theirs, master_kind, peer) = last_session(&master, "master").expect("master session");
    assert!(is_trace_id(&ours), "{ours:?}");
    assert_eq!(ours, theirs, "one trace across both nodes");
    assert_eq!((kind.as_str(), master_kind.as_str()), ("full", "full"));
    assert!(peer.ends_with(&format!(":{}", replica.port)), "{peer}");

    // The link is cut: the partial resync is a new sync, so a new trace, again shared.
    master.conn().cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    wait_until(Duration::from_secs(20), "a partial resync", || {
        last_session(&master, "master").is_some_and(|(t, k, _)| t != ours && k == "partial")
    });
    wait_link_up(&replica, Duration::from_secs(20));
    let (again, kind, _) = last_session(&replica, "replica").expect("replica session");
    let (master_again, _, _) = last_session(&master, "master").expect("master session");
    assert_eq!(kind, "partial");
    assert!(is_trace_id(&again) && again != ours, "{again} vs {ours}");
    assert_eq!(again, master_again);
}

#[test]
fn redis_on_either_side_leaves_each_node_its_own_trace() {
    // A Redis master refuses `REPLCONF traceparent`: the replica syncs anyway, quietly.
    let redis = Node::redis(&["--repl-diskless-sync-delay", "0"]);
    let replica = start_replica(Kind::Replikv, &redis, &[]);
    wait_link_up(&replica, Duration::from_secs(20));
    let (id, kind, _) = last_session(&replica, "replica").expect("session");
    assert!(is_trace_id(&id), "{id:?}");
    assert_eq!(kind, "full");
    assert!(!replica.log_contains("refused a REPLCONF"));

    // A Redis replica sends no context: the master's session has a trace of its own.
    let master = Node::replikv(&["--repl-diskless-sync-delay", "0"]);
    let redis_replica = start_replica(Kind::Redis, &master, &[]);
    wait_link_up(&redis_replica, Duration::from_secs(20));
    wait_until(Duration::from_secs(10), "the master's session", || {
        last_session(&master, "master").is_some_and(|(t, _, _)| is_trace_id(&t))
    });
}

#[test]
fn replconf_traceparent_is_checked() {
    let master = Node::replikv(&[]);
    let mut c = master.conn();
    let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert_eq!(c.cmd(&["REPLCONF", "traceparent", good]).text(), "OK");
    let bad = c.cmd(&["REPLCONF", "traceparent", "00-xyz"]);
    assert!(
        bad.is_error() && bad.text().contains("W3C traceparent"),
        "{bad:?}"
    );
}

/// Requests received: (request line, body).
type Requests = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An OTLP/HTTP receiver: answers every POST with an empty success and keeps the bodies.
struct Collector {
    port: u16,
    bodies: Requests,
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let kept = kept.clone();
                std::thread::spawn(move || serve_requests(stream, kept));
            }
        });
        Collector { port, bodies }
    }

    /// Its OTLP/HTTP base URL.
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// True when one request body holds all of these byte strings.
    fn received(&self, needles: &[&[u8]]) -> bool {
        self.bodies
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, b)| needles.iter().all(|n| b.windows(n.len()).any(|w| w == *n)))
    }
}

fn serve_requests(stream: std::net::TcpStream, kept: Requests) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        kept.lock()
            .expect("lock")
            .push((request_line.trim_end().to_string(), body));
        let reply =
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The standard variables that make a process export its spans to `endpoint`, in batches
/// sent every 100 ms (the default 5 s would slow the tests down).
fn export_env(endpoint: &str) -> [(&'static str, &str); 2] {
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn spans_of_both_nodes_reach_a_collector_under_one_trace_id() {
    let collector = Collector::start();
    let endpoint = collector.endpoint();
    let env = export_env(&endpoint);
    let master = Node::replikv_with_env(&["--repl-diskless-sync-delay", "0"], &env);
    master.conn().cmd(&["SET", "k", "v"]);
    let port = master.port.to_string();
    let replica = Node::replikv_with_env(&["--replicaof", "127.0.0.1", &port], &env);
    wait_link_up(&replica, Duration::from_secs(20));
    let (trace, _, _) = last_session(&replica, "replica").expect("session");
    assert!(is_trace_id(&trace), "{trace:?}");
    let raw = hex_bytes(&trace);
    // Finished phases of both sides arrive under the shared trace id, each process posting
    // its own spans: the replica's handshake, the master's transfer of the snapshot.
    wait_until(
        Duration::from_secs(20),
        "both nodes' spans under one trace",
        || {
            collector.received(&[&raw, b"repl.replica.handshake"])
                && collector.received(&[&raw, b"repl.master.snapshot_wait"])
                && collector.received(&[&raw, b"repl.master.transfer"])
        },
    );
    // Each process names itself by its run id (INFO run_id) as service.instance.id.
    for node in [&master, &replica] {
        let run_id = info_field(node, "server", "run_id");
        assert!(
            collector.received(&[b"service.instance.id", run_id.as_bytes(), b"replikv"]),
            "no spans from the process with run id {run_id}"
        );
    }
    let bodies = collector.bodies.lock().expect("lock");
    assert!(bodies
        .iter()
        .all(|(line, _)| line.starts_with("POST /v1/traces")));
}

/// `otel-endpoint` and `otel-service-name` change at run time: a master started without a
/// collector exports the spans of the next sync to the one CONFIG SET names, under the
/// service name set the same way.
#[test]
fn config_set_points_the_spans_at_a_new_collector() {
    let collector = Collector::start();
    let endpoint = format!("http://127.0.0.1:{}", collector.port);
    let env = [("OTEL_BSP_SCHEDULE_DELAY", "100")];
    let master = Node::replikv_with_env(&["--repl-diskless-sync-delay", "0"], &env);
    let mut c = master.conn();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "otel-endpoint",
            &endpoint,
            "otel-service-name",
            "moved-here"
        ]),
        crate::harness::Value::Simple("OK".into())
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "otel-endpoint"]).array()[1].text(),
        endpoint
    );
    let port = master.port.to_string();
    let replica = Node::replikv(&["--replicaof", "127.0.0.1", &port]);
    wait_link_up(&replica, Duration::from_secs(20));
    wait_until(
        Duration::from_secs(20),
        "the master's spans at the collector named at run time",
        || collector.received(&[b"repl.master.transfer", b"moved-here"]),
    );
    // Only the master exports: the replica was given no collector.
    let run_id = info_field(&replica, "server", "run_id");
    assert!(!collector.received(&[run_id.as_bytes()]));
}

/// A span as a collector received it.
#[derive(Debug, Clone)]
struct SeenSpan {
    /// `service.instance.id` of the process that sent it (its run id).
    process: String,
    name: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
    attributes: std::collections::HashMap<String, String>,
    /// (trace id, span id) of each linked span.
    links: Vec<(Vec<u8>, Vec<u8>)>,
}

impl SeenSpan {
    fn attr(&self, key: &str) -> &str {
        self.attributes.get(key).map_or("", String::as_str)
    }
}

/// Decodes every OTLP/HTTP body the collector kept (protobuf `ExportTraceServiceRequest`).
fn decode_spans(collector: &Collector) -> Vec<SeenSpan> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
    use prost::Message;
    fn text(kv: &KeyValue) -> String {
        match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(Value::StringValue(s)) => s.clone(),
            Some(Value::IntValue(i)) => i.to_string(),
            Some(Value::BoolValue(b)) => b.to_string(),
            Some(Value::DoubleValue(d)) => d.to_string(),
            other => format!("{other:?}"),
        }
    }
    let bodies = collector.bodies.lock().expect("lock");
    let mut spans = Vec::new();
    for (_, body) in bodies.iter() {
        let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
        for rs in request.resource_spans {
            let process = rs
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|kv| kv.key == "service.instance.id")
                .map(text)
                .unwrap_or_default();
            for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
                spans.push(SeenSpan {
                    process: process.clone(),
                    name: span.name,
                    trace_id: span.trace_id,
                    span_id: span.span_id,
                    parent_span_id: span.parent_span_id,
                    attributes: span
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), text(kv)))
                        .collect(),
                    links: span
                        .links
                        .into_iter()
                        .map(|l| (l.trace_id, l.span_id))
                        .collect(),
                });
            }
        }
    }
    spans
}

/// The one span named `name` sent by `process` in `trace`.
fn one<'a>(spans: &'a [SeenSpan], process: &str, trace: &[u8], name: &str) -> &'a SeenSpan {
    let found: Vec<&SeenSpan> = spans
        .iter()
        .filter(|s| s.process == process && s.trace_id == trace && s.name == name)
        .collect();
    assert_eq!(found.len(), 1, "{name} from {process}: {found:#?}");
    found[0]
}

/// The whole tree of one full sync between two replikv nodes, as exported: one trace, every
/// phase of both sides as a child span of its side's session, the master's session a child
/// of the replica's handshake (the context it sent), the shared snapshot job under the
/// replica's wait for it, and each span carrying what it moved.
#[test]
fn a_full_sync_is_one_trace_with_every_phase_of_both_sides() {
    let collector = Collector::start();
    let endpoint = collector.endpoint();
    let env = export_env(&endpoint);
    let master = Node::replikv_with_env(&["--repl-diskless-sync-delay", "0"], &env);
    let mut c = master.conn();
    for i in 0..5 {
        c.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    let port = master.port.to_string();
    let replica = Node::replikv_with_env(&["--replicaof", "127.0.0.1", &port], &env);
    wait_link_up(&replica, Duration::from_secs(20));
    let (trace, kind, _) = last_session(&replica, "replica").expect("session");
    assert_eq!(kind, "full");
    let trace = hex_bytes(&trace);
    // The master's side reaches its last phase (stream) once the replica's ACK is read.
    wait_until(
        Duration::from_secs(20),
        "the master's session succeeded",
        || {
            let syncs = Http::new(&master).get("/v1/replication/syncs").json();
            syncs["syncs"].as_array().is_some_and(|all| {
                all.iter()
                    .any(|s| s["side"] == "master" && s["outcome"] == "succeeded")
            })
        },
    );
    // The sessions' own spans end with the link.
    assert_eq!(replica.conn().cmd(&["REPLICAOF", "NO", "ONE"]).text(), "OK");
    let (m_run, r_run) = (
        info_field(&master, "server", "run_id"),
        info_field(&replica, "server", "run_id"),
    );
    let replica_spans = [
        "sync",
        "connect",
        "handshake",
        "psync",
        "receive",
        "load",
        "catchup",
    ];
    let master_spans = [
        "sync",
        "psync",
        "snapshot_wait",
        "snapshot",
        "transfer",
        "catchup",
    ];
    let missing = || -> Vec<String> {
        let spans = decode_spans(&collector);
        let expected = (replica_spans
            .iter()
            .map(|p| (&r_run, format!("repl.replica.{p}"))))
        .chain(
            master_spans
                .iter()
                .map(|p| (&m_run, format!("repl.master.{p}"))),
        );
        expected
            .filter(|(process, name)| {
                !spans
                    .iter()
                    .any(|s| &s.process == *process && s.trace_id == trace && &s.name == name)
            })
            .map(|(_, name)| name)
            .collect()
    };
    // Each process exports in batches, so the spans arrive over several requests.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !missing().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let names: Vec<(String, String)> = decode_spans(&collector)
        .into_iter()
        .map(|s| (s.name, hex(&s.trace_id)))
        .collect();
    assert!(
        missing().is_empty(),
        "missing {:?}; trace {}; received {names:?}",
        missing(),
        hex(&trace)
    );
    let spans = decode_spans(&collector);

    // The replica: its session is the trace's root, each phase a child of it.
    let session = one(&spans, &r_run, &trace, "repl.replica.sync");
    assert!(session.parent_span_id.is_empty(), "{session:?}");
    assert_eq!(session.attr("kind"), "full");
    assert_eq!(session.attr("keys"), "5");
    assert!(session.attr("bytes").parse::<u64>().expect("bytes") > 0);
    assert_eq!(
        session.attr("replid"),
        info_field(&master, "replication", "master_replid")
    );
    for phase in [
        "connect",
        "handshake",
        "psync",
        "receive",
        "load",
        "catchup",
    ] {
        let span = one(&spans, &r_run, &trace, &format!("repl.replica.{phase}"));
        assert_eq!(span.parent_span_id, session.span_id, "{phase}");
    }
    let receive = one(&spans, &r_run, &trace, "repl.replica.receive");
    assert_eq!(receive.attr("bytes"), session.attr("bytes"));
    assert_eq!(
        one(&spans, &r_run, &trace, "repl.replica.load").attr("keys"),
        "5"
    );

    // The master: its session under the replica's handshake, its phases under the session.
    let handshake = one(&spans, &r_run, &trace, "repl.replica.handshake");
    let m_session = one(&spans, &m_run, &trace, "repl.master.sync");
    assert_eq!(m_session.parent_span_id, handshake.span_id);
    assert_eq!(m_session.attr("kind"), "full");
    // The replica left (REPLICAOF NO ONE): the master's session says how its link ended.
    assert_eq!(m_session.attr("error_code"), "peer_closed");
    for phase in ["psync", "snapshot_wait", "transfer", "catchup"] {
        let span = one(&spans, &m_run, &trace, &format!("repl.master.{phase}"));
        assert_eq!(span.parent_span_id, m_session.span_id, "{phase}");
    }
    let psync = one(&spans, &m_run, &trace, "repl.master.psync");
    assert_eq!(
        (psync.attr("decision"), psync.attr("cause")),
        ("fullresync", "no_history")
    );
    assert_eq!(
        (
            psync.attr("requested_replid"),
            psync.attr("requested_offset")
        ),
        ("?", "-1")
    );
    let wait = one(&spans, &m_run, &trace, "repl.master.snapshot_wait");
    let snapshot = one(&spans, &m_run, &trace, "repl.master.snapshot");
    assert_eq!(snapshot.parent_span_id, wait.span_id);
    assert_eq!(snapshot.attr("keys"), "5");
    assert_eq!(snapshot.attr("diskless"), "true");
    let transfer = one(&spans, &m_run, &trace, "repl.master.transfer");
    assert_eq!(
        transfer.attr("bytes"),
        session.attr("bytes"),
        "bytes sent = bytes received"
    );
    assert_eq!(transfer.attr("keys"), "5");
}

/// One diskless snapshot serving two replicas: it belongs to the first one's trace and is
/// linked from the other's wait, so both traces lead to it.
#[test]
fn a_snapshot_shared_by_two_replicas_is_linked_from_both_traces() {
    let collector = Collector::start();
    let endpoint = collector.endpoint();
    let env = export_env(&endpoint);
    // The job waits for two replicas (or 5 s), so both are in its batch.
    let master = Node::replikv_with_env(
        &[
            "--repl-diskless-sync-delay",
            "5",
            "--repl-diskless-sync-max-replicas",
            "2",
        ],
        &env,
    );
    master.conn().cmd(&["SET", "k", "v"]);
    let port = master.port.to_string();
    let a = Node::replikv_with_env(&["--replicaof", "127.0.0.1", &port], &env);
    let b = Node::replikv_with_env(&["--replicaof", "127.0.0.1", &port], &env);
    wait_link_up(&a, Duration::from_secs(20));
    wait_link_up(&b, Duration::from_secs(20));
    let traces: Vec<Vec<u8>> = [&a, &b]
        .iter()
        .map(|n| hex_bytes(&last_session(n, "replica").expect("session").0))
        .collect();
    assert_ne!(traces[0], traces[1]);
    let m_run = info_field(&master, "server", "run_id");
    let snapshot = |spans: &[SeenSpan]| -> Option<SeenSpan> {
        spans
            .iter()
            .find(|s| s.process == m_run && s.name == "repl.master.snapshot")
            .cloned()
    };
    wait_until(Duration::from_secs(20), "the snapshot span", || {
        snapshot(&decode_spans(&collector)).is_some()
    });
    let spans = decode_spans(&collector);
    let job = snapshot(&spans).expect("snapshot");
    assert_eq!(job.attr("replicas"), "2");
    let waits: Vec<&SeenSpan> = spans
        .iter()
        .filter(|s| s.process == m_run && s.name == "repl.master.snapshot_wait")
        .collect();
    assert_eq!(waits.len(), 2, "{waits:#?}");
    // One wait is its parent (same trace); the other is linked.
    let (parent, other): (Vec<&&SeenSpan>, Vec<&&SeenSpan>) =
        waits.iter().partition(|w| w.span_id == job.parent_span_id);
    assert_eq!(parent.len(), 1, "the job's parent is one replica's wait");
    assert_eq!(parent[0].trace_id, job.trace_id);
    assert_eq!(
        job.links,
        vec![(other[0].trace_id.clone(), other[0].span_id.clone())]
    );
    let mut seen = vec![job.trace_id.clone(), other[0].trace_id.clone()];
    seen.sort();
    let mut expected = traces.clone();
    expected.sort();
    assert_eq!(seen, expected, "the job reaches both replicas' traces");
}

/// A collector that accepts connections and never answers (a hung collector), or nothing
/// listening at all (a dead one): spans are dropped on the exporter's own thread, so a
/// client's commands see no added latency while syncs produce spans, and the process still
/// stops promptly.
#[test]
fn a_hung_or_dead_collector_costs_clients_nothing() {
    use std::time::Instant;
    let hung = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hung_port = hung.local_addr().expect("addr").port();
    let dead_port = crate::harness::free_port();
    for port in [hung_port, dead_port] {
        let endpoint = format!("http://127.0.0.1:{port}");
        let env = export_env(&endpoint);
        let mut master = Node::replikv_with_env(&["--repl-diskless-sync-delay", "0"], &env);
        let replica = Node::replikv_with_env(
            &["--replicaof", "127.0.0.1", &master.port.to_string()],
            &env,
        );
        wait_link_up(&replica, Duration::from_secs(20));
        let mut admin = master.conn();
        let mut client = master.conn();
        let mut worst = Duration::ZERO;
        let resyncs = |node: &Node| -> u64 {
            ["sync_partial_ok", "sync_full"]
                .iter()
                .map(|f| info_field(node, "stats", f).parse::<u64>().expect("count"))
                .sum()
        };
        // Twenty link cuts, each a new sync session with its spans, while a client pings.
        for _ in 0..20 {
            let before = resyncs(&master);
            admin.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
            for _ in 0..50 {
                let sent = Instant::now();
                assert_eq!(client.cmd(&["PING"]).text(), "PONG");
                worst = worst.max(sent.elapsed());
            }
            // Back once the master served the replica's next sync and streams to it again.
            wait_until(Duration::from_secs(20), "the replica to sync again", || {
                resyncs(&master) > before
                    && info_field(&master, "replication", "slave0").contains("state=online")
            });
        }
        // A machine this busy may stall a process for tens of milliseconds; an exporter
        // blocking the server would show its 10 s export timeout here.
        assert!(
            worst < Duration::from_millis(500),
            "worst PING {worst:?} (port {port})"
        );
        // SHUTDOWN flushes what it can and exits; a hung collector holds it a second at
        // most (the flush's bound), not the exporter's timeout.
        let stopping = Instant::now();
        master.conn().send(&[b"SHUTDOWN", b"NOSAVE"]);
        assert!(
            master.wait_exit(Duration::from_secs(15)).is_some(),
            "exited"
        );
        assert!(
            stopping.elapsed() < Duration::from_secs(4),
            "shutdown took {:?} with the collector on port {port}",
            stopping.elapsed()
        );
    }
    drop(hung);
}
