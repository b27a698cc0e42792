//! Feeds arbitrary bytes to a replica as its master's replication stream, cut into two
//! reads: any input is applied or ends the link with a protocol error, never a panic, and
//! never more bytes reported consumed than given. Commands that leave the process (SHUTDOWN,
//! DEBUG, SAVE, REPLICAOF, scripts...) are not run. The same properties run in CI as
//! proptests (tests/it/stream_props.rs).
#![no_main]

use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use replikv::engine::{Engine, Session, State};
use replikv::replication::Follower;
use replikv::resp::{ReplyBuf, RequestParser};

const ALLOWED: &[&str] = &[
    "SET", "DEL", "UNLINK", "INCR", "INCRBY", "APPEND", "SETRANGE", "LPUSH", "RPUSH", "LPOP",
    "RPOP", "LMOVE", "HSET", "HDEL", "HINCRBY", "SADD", "SREM", "SINTERSTORE", "ZADD", "ZREM",
    "ZINCRBY", "ZUNIONSTORE", "EXPIRE", "PEXPIREAT", "PERSIST", "SELECT", "MULTI", "EXEC",
    "DISCARD", "FLUSHDB", "FLUSHALL", "SWAPDB", "RENAME", "COPY", "SETBIT", "BITFIELD",
    "XADD", "XTRIM", "PFADD", "PING", "REPLCONF", "GETEX", "GETDEL",
];

fn guarded(
    state: &State,
    engine: &mut Engine,
    session: &mut Session,
    argv: &[Bytes],
    reply: &mut ReplyBuf,
) {
    let allowed = argv
        .first()
        .is_some_and(|name| ALLOWED.iter().any(|a| a.as_bytes().eq_ignore_ascii_case(name)));
    if allowed {
        replikv::command::run_command(state, engine, session, argv, reply);
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, input)) = data.split_first() else {
        return;
    };
    let _enter = runtime().enter();
    let mut settings = replikv::config::Settings::defaults();
    settings.dir = std::env::temp_dir();
    let state = State::new(settings, None, guarded);
    drop(state.open_master_client("127.0.0.1:1", 0));
    let cut = (cut as usize * 13) % (input.len() + 1);
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut consumed = 0;
    for piece in [&input[..cut], &input[cut..]] {
        buf.extend_from_slice(piece);
        let applied = state.apply_from_master(&mut parser, &mut buf);
        consumed += applied.consumed;
        if applied.protocol_error.is_some() {
            break;
        }
    }
    assert!(consumed <= input.len());
});
