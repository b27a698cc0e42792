//! The replication stream as a replica applies it, fuzzed in process (the properties of
//! fuzz/fuzz_targets/repl_stream.rs, run in CI as proptests): streams of data commands
//! with bytes flipped and cut anywhere never panic the replica, every byte it reports
//! consumed was part of the input, and a clean stream leaves the same dataset however it
//! was cut into reads.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use replikv::engine::{Engine, Session, State};
use replikv::keyspace::digest::dataset_digest;
use replikv::replication::Follower;
use replikv::resp::{ReplyBuf, RequestParser};

/// What a master may send that stays inside the process: data commands, transactions,
/// database switches, and REPLCONF GETACK. Anything else (SHUTDOWN, DEBUG, SAVE, REPLICAOF,
/// scripts...) is answered with an error here, as an unknown command would be.
const ALLOWED: &[&str] = &[
    "SET",
    "DEL",
    "UNLINK",
    "INCR",
    "INCRBY",
    "APPEND",
    "SETRANGE",
    "LPUSH",
    "RPUSH",
    "LPOP",
    "RPOP",
    "LMOVE",
    "HSET",
    "HDEL",
    "HINCRBY",
    "SADD",
    "SREM",
    "SINTERSTORE",
    "ZADD",
    "ZREM",
    "ZINCRBY",
    "ZUNIONSTORE",
    "EXPIRE",
    "PEXPIREAT",
    "PERSIST",
    "SELECT",
    "MULTI",
    "EXEC",
    "DISCARD",
    "FLUSHDB",
    "FLUSHALL",
    "SWAPDB",
    "RENAME",
    "COPY",
    "SETBIT",
    "BITFIELD",
    "XADD",
    "XTRIM",
    "PFADD",
    "PING",
    "REPLCONF",
    "GETEX",
    "GETDEL",
];

fn guarded(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    argv: &[Bytes],
    reply: &mut ReplyBuf,
) {
    let allowed = argv.first().is_some_and(|name| {
        ALLOWED
            .iter()
            .any(|a| a.as_bytes().eq_ignore_ascii_case(name))
    });
    if allowed {
        replikv::command::run_command(state, engine, session, argv, reply);
    }
}

/// A replica state with an open master link (and its master client's id), on a runtime
/// (some commands start tasks).
fn replica() -> (tokio::runtime::Runtime, std::sync::Arc<State>, u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut settings = replikv::config::Settings::defaults();
    settings.dir = std::env::temp_dir();
    let state = State::new(settings, None, guarded, replikv::command::describe_command);
    // Its `killed` future resolves when the master client is killed; nothing here waits.
    let client = state.open_master_client("127.0.0.1:1", 0).id;
    (runtime, state, client)
}

/// Feeds `input` to `state` as its master's stream, in pieces cut at `cuts`; returns the
/// bytes consumed, or stops at the first protocol error (the link would drop there).
fn apply((state, client): (&State, u64), input: &[u8], cuts: &[usize]) -> usize {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut consumed = 0;
    let mut start = 0;
    let mut edges: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    edges.sort_unstable();
    edges.push(input.len());
    for end in edges {
        if end < start {
            continue;
        }
        buf.extend_from_slice(&input[start..end]);
        start = end;
        let applied = state.apply_from_master(client, &mut parser, &mut buf);
        consumed += applied.consumed;
        if applied.protocol_error.is_some() {
            break;
        }
    }
    consumed
}

fn digest(state: &State) -> Vec<u8> {
    let engine = state.engine.lock();
    dataset_digest(&engine.keyspace.dbs).to_vec()
}

fn encode(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One command of the vocabulary with keys from a small set (so commands meet each
/// other's keys and types) and short values.
fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let key = prop::sample::select(vec!["a", "b", "c", "{t}1", "{t}2"]);
    let word = "[a-z0-9]{0,6}";
    let number = (-5i64..100).prop_map(|n| n.to_string());
    (
        prop::sample::select(ALLOWED.to_vec()),
        key,
        proptest::collection::vec(prop_oneof![word.boxed(), number.boxed()], 0..4),
    )
        .prop_map(|(name, key, rest)| {
            let mut argv = vec![name.as_bytes().to_vec(), key.as_bytes().to_vec()];
            argv.extend(rest.into_iter().map(String::into_bytes));
            argv
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn damaged_streams_never_panic_a_replica(
        commands in proptest::collection::vec(command(), 1..40),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cuts in proptest::collection::vec(0usize..4000, 0..10),
    ) {
        let mut input: Vec<u8> = commands.iter().flat_map(|c| encode(c)).collect();
        for (at, byte) in flips {
            let i = at.index(input.len());
            input[i] = byte;
        }
        let (_runtime, state, client) = replica();
        let _enter = _runtime.enter();
        let consumed = apply((&state, client), &input, &cuts);
        prop_assert!(consumed <= input.len());
    }

    #[test]
    fn a_clean_stream_applies_the_same_however_it_is_cut(
        commands in proptest::collection::vec(command(), 1..40),
        cuts in proptest::collection::vec(0usize..4000, 0..10),
    ) {
        let input: Vec<u8> = commands.iter().flat_map(|c| encode(c)).collect();
        let (rt_a, whole, whole_client) = replica();
        let enter_a = rt_a.enter();
        prop_assert_eq!(apply((&whole, whole_client), &input, &[]), input.len());
        drop(enter_a);
        let (rt_b, pieces, pieces_client) = replica();
        let _enter_b = rt_b.enter();
        prop_assert_eq!(apply((&pieces, pieces_client), &input, &cuts), input.len());
        prop_assert_eq!(digest(&whole), digest(&pieces));
    }
}

/// The harness above really applies what it feeds: a SET lands, a disallowed command
/// does not run.
#[test]
fn the_in_process_replica_applies_its_stream() {
    let (runtime, state, client) = replica();
    let _enter = runtime.enter();
    let mut input = encode(&[b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]);
    input.extend(encode(&[b"SHUTDOWN".to_vec()]));
    assert_eq!(apply((&state, client), &input, &[3, 9]), input.len());
    assert_eq!(state.engine.lock().keyspace.key_count(), 1);
    assert_ne!(digest(&state), replikv::keyspace::digest::EMPTY.to_vec());
}

/// A link that unwinds after REPLICAOF started a newer one (the old task is cancelled and
/// runs its clean-up later) must neither close the newer link's master client nor apply
/// its old master's stream: Redis's failover suite saw the newer link killed and counted
/// one partial resync too many when it did.
#[test]
fn an_old_link_neither_closes_nor_feeds_the_newer_master_client() {
    let (runtime, state, old) = replica();
    let _enter = runtime.enter();
    let new = state.open_master_client("127.0.0.1:2", 0).id;
    assert_ne!(old, new);
    state.close_master_client(old);
    assert!(
        state.clients.get(new).is_some(),
        "the newer master client is still registered"
    );
    let set = encode(&[b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]);
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::from(&set[..]);
    let stale = state.apply_from_master(old, &mut parser, &mut buf);
    assert!(stale.replaced && stale.consumed == 0);
    assert_eq!(state.engine.lock().keyspace.key_count(), 0);
    assert_eq!(apply((&state, new), &set, &[]), set.len());
    assert_eq!(state.engine.lock().keyspace.key_count(), 1);
}
