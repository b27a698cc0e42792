//! Lua scripting against redis-server 7.0: EVAL and functions answer byte for byte as Redis
//! does (values, conversions, error texts with their `script: <sha>, on @user_script:N.`
//! suffix, the sandbox, the bundled libraries), their effects replicate both ways between
//! replikv and Redis, functions survive a restart, and a script that runs too long is
//! answered `-BUSY` to other clients and can be killed.

use std::time::{Duration, Instant};

use crate::differential::{Mode, Pair};
use crate::harness::repl::{
    assert_same_keyspace, start, start_replica, wait_converged, wait_link_up,
};
use crate::harness::resp::Value;
use crate::harness::{Kind, Node};

/// EVAL `script` with `keys` and `args` on both servers, replies compared byte for byte.
fn eval(pair: &mut Pair, script: &str, keys: &[&str], args: &[&str]) {
    let numkeys = keys.len().to_string();
    let mut argv: Vec<&[u8]> = vec![b"EVAL", script.as_bytes(), numkeys.as_bytes()];
    argv.extend(keys.iter().map(|k| k.as_bytes()));
    argv.extend(args.iter().map(|a| a.as_bytes()));
    pair.check_mode(&argv, Mode::Exact);
}

fn check(pair: &mut Pair, argv: &[&str]) {
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    pair.check_mode(&argv, Mode::Exact);
}

/// Like [`check`], comparing the reply's shape only (HELLO carries the client id).
fn check_shape(pair: &mut Pair, argv: &[&str]) {
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    pair.check_mode(&argv, Mode::Shape);
}

#[test]
fn values_convert_as_redis_converts_them() {
    let mut pair = Pair::start(&[]);
    for script in [
        "return 1",
        "return 3.99",
        "return -7.5",
        "return 'hello'",
        "return true",
        "return false",
        "return nil",
        "return {1, 2, 3, 'ciao', {1, 2}}",
        "return {1, 2, nil, 4}",
        "return {err = 'My Error'}",
        "return redis.error_reply('My Error')",
        "return redis.error_reply('-CODE with code')",
        "return redis.status_reply('FINE')",
        "return redis.status_reply('two\\r\\nlines')",
        "return {ok = 'fine'}",
        "return {double = 3.5}",
        "return {map = {a = 1}}",
        "return {set = {x = true}}",
        "return {big_number = '12345678901234567890'}",
        "return redis.sha1hex('')",
        "return redis.sha1hex('Pizza & Mandolino')",
        "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}",
        "return redis.replicate_commands()",
        "return tostring(0.1 + 0.2)",
        "return type(getmetatable(_G))",
        "return type(rawget(_G, 'redis'))",
    ] {
        eval(&mut pair, script, &[], &[]);
    }
    eval(
        &mut pair,
        "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}",
        &["k1", "k2"],
        &["a1", "a2"],
    );
    eval(&mut pair, "return #KEYS + #ARGV", &[], &["x"]);
    // Replies of commands, converted to Lua and back.
    check(&mut pair, &["RPUSH", "list", "a", "b", "c"]);
    check(&mut pair, &["HSET", "hash", "f", "v"]);
    eval(
        &mut pair,
        "return redis.call('lrange', KEYS[1], 0, -1)",
        &["list"],
        &[],
    );
    eval(&mut pair, "return redis.call('get', 'missing')", &[], &[]);
    eval(&mut pair, "return redis.call('set', 'x', 3.5)", &[], &[]);
    eval(&mut pair, "return redis.call('get', 'x')", &[], &[]);
    eval(&mut pair, "return redis.call('incr', 'n')", &[], &[]);
    eval(&mut pair, "return redis.call('ping')", &[], &[]);
    eval(&mut pair, "return redis.pcall('incr', 'list')", &[], &[]);
    eval(
        &mut pair,
        "redis.setresp(3); return redis.call('hgetall', 'hash')",
        &[],
        &[],
    );
    eval(
        &mut pair,
        "redis.setresp(3); return redis.call('hgetall', 'nokey')",
        &[],
        &[],
    );
    eval(
        &mut pair,
        "redis.setresp(3); return redis.call('get', 'missing')",
        &[],
        &[],
    );
    // A client speaking RESP3 gets RESP3 forms.
    check_shape(&mut pair, &["HELLO", "3"]);
    eval(
        &mut pair,
        "redis.setresp(3); return redis.call('hgetall', 'hash')",
        &[],
        &[],
    );
    eval(&mut pair, "return {double = 1.5}", &[], &[]);
    eval(&mut pair, "return nil", &[], &[]);
    eval(&mut pair, "redis.setresp(3); return true", &[], &[]);
    eval(&mut pair, "return false", &[], &[]);
    check_shape(&mut pair, &["HELLO", "2"]);
    // SELECT inside a script does not change the caller's database.
    eval(
        &mut pair,
        "redis.call('select', 9); return redis.call('set', 'in9', 1)",
        &[],
        &[],
    );
    check(&mut pair, &["EXISTS", "in9"]);
}

#[test]
fn errors_and_the_sandbox_match_redis_text_for_text() {
    let mut pair = Pair::start(&[]);
    check(&mut pair, &["SET", "s", "text"]);
    for script in [
        "a = 10",
        "return b",
        "redis.call = 1",
        "cjson.encode = 1",
        "setmetatable(_G, {})",
        "local g = getmetatable(_G); g.__index = {}",
        "rawset(_G, 'x', 1)",
        "_G = {}",
        "loadfile('x')",
        "dofile('x')",
        "print('x')",
        "error('boom')",
        "error({err = 'MY custom error'})",
        "return redis.call('nosuch')",
        "return redis.call('get')",
        "return redis.call('incr', 's')",
        "redis.call('incr', 's')",
        "return redis.call()",
        "return redis.call({})",
        "return redis.call('eval', 'return 1', 0)",
        "return {pcall(redis.call, 'nosuch')}",
        "local ok, e = pcall(function() return foo end); return e",
        "return redis.setresp(4)",
        "return redis.log(99, 'x')",
        "return redis.set_repl(99)",
        "return x(",
        "return math.random(0)",
        "while true do error('inside') end",
    ] {
        eval(&mut pair, script, &[], &[]);
    }
    check(&mut pair, &["EVAL", "return 1", "2", "a"]);
    check(&mut pair, &["EVAL", "return 1", "-1"]);
    check(&mut pair, &["EVAL", "return 1", "x"]);
    check(
        &mut pair,
        &["EVALSHA", "ffd632c7d33e571e9f24556ebed26c3479a87130", "0"],
    );
    check(&mut pair, &["EVALSHA", "short", "0"]);
    check(
        &mut pair,
        &["EVAL_RO", "return redis.call('set', 'k', 'v')", "0"],
    );
    check(
        &mut pair,
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')",
            "0",
        ],
    );
    check(&mut pair, &["EVAL", "#!lua flags=bogus\nreturn 1", "0"]);
    check(&mut pair, &["EVAL", "#!lua\nreturn 1", "0"]);
    check(&mut pair, &["EVAL", "#!python\nreturn 1", "0"]);
    check(&mut pair, &["SCRIPT", "FLUSH", "bogus"]);
    check(&mut pair, &["SCRIPT", "KILL"]);
    check(&mut pair, &["FUNCTION", "KILL"]);
}

#[test]
fn the_script_cache_and_the_bundled_libraries_match_redis() {
    let mut pair = Pair::start(&[]);
    check(&mut pair, &["SCRIPT", "LOAD", "return 'loaded'"]);
    check(
        &mut pair,
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
    );
    check(
        &mut pair,
        &["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"],
    );
    check(
        &mut pair,
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "0000",
        ],
    );
    check(&mut pair, &["SCRIPT", "FLUSH"]);
    check(
        &mut pair,
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
        ],
    );
    for script in [
        "return cjson.encode({1, 2, 3, {a = 1}})",
        "return cjson.encode({name = 'x', list = {1.5, true, false}})",
        "return cjson.decode('[1,2,{\"a\":[3,4.25]}]')[3].a[2]",
        "return cjson.encode(cjson.decode('{\"k\":\"\\\\u00e9\\\\n\"}'))",
        "return cjson.decode('[1,2')",
        "return cmsgpack.pack({1, 2, 3, 'abc', -5, 3.5})",
        "return {cmsgpack.unpack(cmsgpack.pack({1, 2}, 'x', -9007199254740991))}",
        "return bit.tohex(bit.band(0xff00, 0x0ff0))",
        "return {bit.lshift(1, 31), bit.bnot(0), bit.bxor(5, 3)}",
        "return struct.pack('>I2i4', 258, -2)",
        "return {struct.unpack('>I2i4', struct.pack('>I2i4', 258, -2))}",
        "return struct.size('>I2i4d')",
        "return {tostring(math.random()), math.random(10), math.random(5, 9)}",
        "math.randomseed(42); return tostring(math.random())",
        "local t = {} for i = 1, 7999 do t[i] = i end return redis.call('rpush', 'big', unpack(t))",
    ] {
        eval(&mut pair, script, &[], &[]);
    }
}

const LIBRARY: &str = "#!lua name=mylib
local function set(keys, args) return redis.call('set', keys[1], args[1]) end
redis.register_function('myset', set)
redis.register_function{function_name = 'myget', callback = function(keys) return redis.call('get', keys[1]) end, flags = {'no-writes'}, description = 'reads a key'}";

/// A library of one function (Redis lists a library's functions in its hash table's order,
/// which a single function makes deterministic).
const ONE_FUNCTION: &str = "#!lua name=single
redis.register_function{function_name = 'only', callback = function(keys, args) return #keys + #args end, flags = {'no-writes', 'allow-stale'}, description = 'counts'}";

#[test]
fn functions_match_redis() {
    let mut pair = Pair::start(&["--enable-debug-command", "yes"]);
    check(&mut pair, &["FUNCTION", "LOAD", ONE_FUNCTION]);
    check(&mut pair, &["FUNCTION", "LIST"]);
    check(
        &mut pair,
        &["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "sing*"],
    );
    check(&mut pair, &["FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"]);
    check(&mut pair, &["FUNCTION", "LIST", "BOGUS"]);
    check(&mut pair, &["FCALL", "only", "2", "a", "b", "c"]);
    check(&mut pair, &["FUNCTION", "DELETE", "single"]);
    check(&mut pair, &["FUNCTION", "LOAD", LIBRARY]);
    check(&mut pair, &["FUNCTION", "LOAD", LIBRARY]);
    check(&mut pair, &["FCALL", "myset", "1", "k", "v"]);
    check(&mut pair, &["FCALL", "MYGET", "1", "k"]);
    check(&mut pair, &["FCALL_RO", "myget", "1", "k"]);
    check(&mut pair, &["FCALL_RO", "myset", "1", "k", "v"]);
    check(&mut pair, &["FCALL", "nosuch", "0"]);
    check(&mut pair, &["FCALL", "myset", "x"]);
    check(&mut pair, &["FUNCTION", "STATS"]);
    check(&mut pair, &["FUNCTION", "DUMP"]);
    for bad in [
        "#!lua name=bad\nreturn 1",
        "#!lua name=bad\nlocal a = b",
        "#!lua name=bad\nredis.call('ping')",
        "#!lua name=bad\nredis.register_function('f')",
        "#!lua name=bad\nredis.register_function('f', 1)",
        "#!lua name=bad\nredis.register_function{function_name = 'f', callback = function() end, flags = {'bogus'}}",
        "#!lua name=bad\nredis.register_function('myset', function() end)",
        "#!lua name=b-ad\nredis.register_function('f', function() end)",
        "#!lua\nredis.register_function('f', function() end)",
        "#!js name=bad\nredis.register_function('f', function() end)",
        "no shebang",
        "#!lua name=bad\nreturn x(",
    ] {
        check(&mut pair, &["FUNCTION", "LOAD", bad]);
    }
    check(&mut pair, &["FUNCTION", "DELETE", "nosuch"]);
    check(&mut pair, &["FUNCTION", "RESTORE", "bogus"]);
    check(&mut pair, &["FUNCTION", "DELETE", "mylib"]);
    check(&mut pair, &["FUNCTION", "LIST"]);
    check(&mut pair, &["FUNCTION", "FLUSH"]);
    check(&mut pair, &["FUNCTION", "STATS"]);
    // A dump made by Redis restores into replikv and the other way round.
    for (from, to) in [(&pair.redis, &pair.ours), (&pair.ours, &pair.redis)] {
        let mut f = from.conn();
        f.cmd(&["FUNCTION", "FLUSH"]);
        f.cmd(&["FUNCTION", "LOAD", LIBRARY]);
        let (dump, _) = f.cmd_raw(&[b"FUNCTION", b"DUMP"]);
        let Value::Bulk(payload) = dump else {
            panic!("FUNCTION DUMP answered {dump:?}");
        };
        let mut t = to.conn();
        t.cmd(&["FUNCTION", "FLUSH"]);
        let restored = t
            .cmd_raw(&[b"FUNCTION", b"RESTORE", &payload, b"REPLACE"])
            .0;
        assert_eq!(restored, Value::Simple("OK".into()));
        let reply = t.cmd(&["FCALL", "myset", "1", "dumped", "yes"]);
        assert_eq!(reply, Value::Simple("OK".into()));
    }
}

/// What one server holds of the functions, from FUNCTION LIST WITHCODE, flattened to text
/// with each library's functions sorted (Redis lists them in its hash table's order).
fn function_list(node: &Node) -> Vec<String> {
    fn text(v: &Value) -> String {
        match v {
            Value::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Simple(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Nil => "nil".into(),
            Value::Array(items) => {
                let mut parts: Vec<String> = items.iter().map(text).collect();
                parts.sort();
                format!("[{}]", parts.join(","))
            }
            other => format!("{other:?}"),
        }
    }
    let Value::Array(libraries) = node.conn().cmd(&["FUNCTION", "LIST", "WITHCODE"]) else {
        panic!("FUNCTION LIST did not answer an array");
    };
    libraries.iter().map(text).collect()
}

/// A script's writes reach a replica as the commands it ran (several wrapped in MULTI/EXEC),
/// `redis.set_repl(REPL_NONE)` keeps a write local, and FUNCTION LOAD is replicated and its
/// functions' effects too, in both directions between replikv and Redis.
#[test]
fn script_and_function_effects_replicate_both_ways() {
    for (master_kind, replica_kind) in [(Kind::Replikv, Kind::Redis), (Kind::Redis, Kind::Replikv)]
    {
        let master = start(master_kind, &[]);
        // A library loaded before the replica connects travels in the full sync's RDB.
        master.conn().cmd(&["FUNCTION", "LOAD", LIBRARY]);
        let replica = start_replica(replica_kind, &master, &[]);
        wait_link_up(&replica, Duration::from_secs(10));
        let mut m = master.conn();
        m.cmd(&[
            "EVAL",
            "redis.call('set', KEYS[1], 'a'); redis.call('incr', KEYS[2]); redis.call('rpush', KEYS[3], math.random(1000)); return 1",
            "3",
            "s",
            "n",
            "l",
        ]);
        m.cmd(&[
            "EVAL",
            "redis.set_repl(redis.REPL_NONE); redis.call('set', 'local-only', 1); redis.set_repl(redis.REPL_ALL); redis.call('set', 'replicated', 1)",
            "0",
        ]);
        m.cmd(&["FCALL", "myset", "1", "f", "from-function"]);
        m.cmd(&["FUNCTION", "LOAD", "REPLACE", LIBRARY]);
        m.cmd(&["FCALL", "myset", "1", "g", "after-replace"]);
        m.cmd(&["DEL", "local-only"]);
        wait_converged(&master, &replica, Duration::from_secs(20));
        assert_same_keyspace(&master, &replica);
        assert_eq!(
            function_list(&master),
            function_list(&replica),
            "functions differ ({master_kind:?} master, {replica_kind:?} replica)"
        );
        let mut r = replica.conn();
        assert_eq!(r.cmd(&["GET", "f"]), Value::Bulk(b"from-function".to_vec()));
        // The replica runs read-only functions and refuses the others.
        assert_eq!(
            r.cmd(&["FCALL_RO", "myget", "1", "g"]),
            Value::Bulk(b"after-replace".to_vec())
        );
        match r.cmd(&["FCALL", "myset", "1", "x", "y"]) {
            Value::Error(e) => assert!(e.starts_with("READONLY"), "{e}"),
            other => panic!("a write function ran on a read-only replica: {other:?}"),
        }
    }
}

/// `redis.set_repl` sends each write where it says, as Redis: `REPL_NONE` keeps it local,
/// `REPL_AOF` writes it to the AOF only (a replica never sees it, an AOF reload has it),
/// `REPL_REPLICA` to the replicas only (an AOF reload loses it).
#[test]
fn set_repl_sends_each_write_where_it_says() {
    let master = start(
        Kind::Replikv,
        &[
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
            "--enable-debug-command",
            "yes",
        ],
    );
    let replica = start_replica(Kind::Redis, &master, &[]);
    wait_link_up(&replica, Duration::from_secs(10));
    let mut m = master.conn();
    m.cmd(&[
        "EVAL",
        "redis.set_repl(redis.REPL_NONE); redis.call('set', 'local-only', 1); \
         redis.set_repl(redis.REPL_AOF); redis.call('set', 'aof-only', 1); \
         redis.set_repl(redis.REPL_REPLICA); redis.call('set', 'replica-only', 1); \
         redis.set_repl(redis.REPL_ALL); redis.call('set', 'marker', 1)",
        "0",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut r = replica.conn();
    while r.cmd(&["EXISTS", "marker"]) != Value::Int(1) {
        assert!(
            Instant::now() < deadline,
            "the replica never got the marker"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let exists = |c: &mut crate::harness::resp::Conn| {
        ["local-only", "aof-only", "replica-only", "marker"].map(|k| c.cmd(&["EXISTS", k]).int())
    };
    assert_eq!(exists(&mut r), [0, 0, 1, 1], "the replica");
    assert_eq!(exists(&mut m), [1, 1, 1, 1], "the master");
    assert_eq!(m.cmd(&["DEBUG", "LOADAOF"]), Value::Simple("OK".into()));
    assert_eq!(
        exists(&mut m),
        [0, 1, 0, 1],
        "the master after an AOF reload"
    );
}

/// Functions are part of the data: SAVE writes them, a restart loads them.
#[test]
fn functions_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_arg = dir.path().to_str().expect("utf-8 path").to_string();
    let node = Node::replikv(&["--dir", &dir_arg]);
    let mut c = node.conn();
    c.cmd(&["FUNCTION", "LOAD", LIBRARY]);
    c.cmd(&["FCALL", "myset", "1", "k", "v"]);
    assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
    drop(c);
    drop(node);
    let node = Node::replikv(&["--dir", &dir_arg]);
    let mut c = node.conn();
    assert_eq!(
        c.cmd(&["FCALL_RO", "myget", "1", "k"]),
        Value::Bulk(b"v".to_vec())
    );
    // The same file loads into Redis with the functions.
    drop(c);
    drop(node);
    let redis = Node::redis(&["--dir", &dir_arg]);
    let mut rc = redis.conn();
    assert_eq!(
        rc.cmd(&["FCALL_RO", "myget", "1", "k"]),
        Value::Bulk(b"v".to_vec())
    );
}

/// Past `busy-reply-threshold`, other clients get `-BUSY`, SCRIPT KILL stops a script that
/// has not written, a script that wrote cannot be killed, and the server serves again once
/// the script ends.
#[test]
fn a_busy_script_is_answered_busy_and_can_be_killed() {
    let node = Node::replikv(&[]);
    let mut c = node.conn();
    c.cmd(&["CONFIG", "SET", "busy-reply-threshold", "50"]);
    let mut runner = node.conn();
    runner.send(&[b"EVAL", b"local i = 0 while true do i = i + 1 end", b"0"]);
    let busy = wait_busy(&mut c);
    assert!(
        busy.starts_with("BUSY Redis is busy running a script. You can only call SCRIPT KILL"),
        "{busy}"
    );
    match c.cmd(&["FUNCTION", "KILL"]) {
        Value::Error(e) => assert!(e.starts_with("BUSY"), "{e}"),
        other => panic!("FUNCTION KILL killed an EVAL: {other:?}"),
    }
    // Clients that connect while the script holds the engine are served too (Redis
    // accepts them between the script's hooks): more of them than the runtime has threads.
    let mut late: Vec<_> = (0..4).map(|_| node.conn()).collect();
    for l in &mut late {
        match l.cmd(&["PING"]) {
            Value::Error(e) => assert!(e.starts_with("BUSY"), "{e}"),
            other => panic!("a client connected during the script got {other:?}"),
        }
    }
    assert_eq!(c.cmd(&["SCRIPT", "KILL"]), Value::Simple("OK".into()));
    match runner.read_raw().0 {
        Value::Error(e) => assert!(
            e.starts_with("ERR Script killed by user with SCRIPT KILL..."),
            "{e}"
        ),
        other => panic!("the killed script answered {other:?}"),
    }
    assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
    assert_eq!(
        c.cmd(&["SCRIPT", "KILL"]),
        Value::Error("NOTBUSY No scripts in execution right now.".into())
    );

    // A script that wrote runs to its end. It spins for a full second, measured in
    // microseconds: waiting for the next whole second could end before the threshold.
    runner.send(&[
        b"EVAL",
        b"redis.call('set', 'x', 1) local function now() local t = redis.call('time') return tonumber(t[1]) * 1000000 + tonumber(t[2]) end local stop = now() + 1000000 while now() < stop do end return 'done'",
        b"0",
    ]);
    wait_busy(&mut c);
    match c.cmd(&["SCRIPT", "KILL"]) {
        Value::Error(e) => assert!(e.starts_with("UNKILLABLE"), "{e}"),
        other => panic!("a script that wrote was killed: {other:?}"),
    }
    assert_eq!(runner.read_raw().0, Value::Bulk(b"done".to_vec()));
    assert_eq!(c.cmd(&["GET", "x"]), Value::Bulk(b"1".to_vec()));
}

/// Polls PING until it is answered `-BUSY`; returns the error.
fn wait_busy(c: &mut crate::harness::resp::Conn) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Value::Error(e) = c.cmd(&["PING"]) {
            return e;
        }
        assert!(Instant::now() < deadline, "the server never answered -BUSY");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The Lua debugger (SCRIPT DEBUG SYNC, what `redis-cli --ldb-sync-mode` drives) talks as
/// Redis's does, byte for byte: stops, steps, breakpoints (`b`, `redis.breakpoint()`),
/// listings, `print` of locals and globals, `trace`, `eval`, `redis` with logged commands
/// and replies, `maxlen` trimming, `redis.debug()`, unknown commands, the end of the
/// session, the script's reply, and the connection closed after it. YES (a forked
/// session) is refused: replikv does not fork.
#[test]
fn the_lua_debugger_talks_as_redis_in_sync_mode() {
    let script = "local a = {1,2,'x', y={z=true}}\n\
                  local f = function(n) return n * 2 end\n\
                  redis.call('set','k',a[3])\n\
                  redis.debug('hi', a, 1.5, nil)\n\
                  redis.breakpoint()\n\
                  local b = f(3)\n\
                  return redis.call('get','k')\n";
    let long = "0123456789".repeat(7);
    let steps: Vec<Vec<&str>> = vec![
        vec!["s"],
        vec!["p"],
        vec!["p", "a"],
        vec!["p", "nosuch"],
        vec!["p", "KEYS"],
        vec!["b", "6"],
        vec!["b", "99", "x", "-3"],
        vec!["b"],
        vec!["l", "3", "1"],
        vec!["w"],
        vec!["t"],
        vec!["e", "1+1"],
        vec!["e", "error('boom')"],
        vec!["e", "syntax error here"],
        vec!["r", "ping"],
        vec!["r", "hgetall", "nosuch"],
        vec!["r", "nosuchcmd", "x"],
        vec!["r", "set"],
        vec!["hello\0world"],
        vec!["m", "10"],
        vec!["r", "set", "x", &long],
        vec!["m", "0"],
        vec!["h"],
        vec!["n"],
        vec!["n"],
        vec!["n"],
        vec!["p"],
        vec!["c"],
        vec!["c"],
    ];
    // Addresses of Lua functions differ from run to run.
    let masked = |raw: &[u8]| {
        let text = String::from_utf8_lossy(raw).into_owned();
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("@0x") {
            out.push_str(&rest[..i + 3]);
            rest = rest[i + 3..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
        }
        out.push_str(rest);
        out
    };
    let session = |kind: Kind| -> Vec<String> {
        let node = match kind {
            Kind::Redis => Node::redis(&[]),
            Kind::Replikv => Node::replikv(&[]),
        };
        let mut c = node.conn();
        let mut seen = Vec::new();
        let mut run = |c: &mut crate::harness::resp::Conn, argv: &[&str]| {
            let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
            seen.push(masked(&c.cmd_raw(&args).1));
        };
        run(&mut c, &["SCRIPT", "DEBUG", "SYNC"]);
        run(&mut c, &["EVAL", script, "0"]);
        for step in &steps {
            run(&mut c, step);
        }
        // After `continue`: the end of the session, then the script's reply.
        seen.push(masked(&c.read_raw().1));
        assert!(
            c.is_closed(Duration::from_secs(5)),
            "{kind:?}: the connection stays open after the session"
        );
        assert_eq!(
            node.conn().cmd(&["GET", "k"]),
            Value::Bulk(b"x".to_vec()),
            "{kind:?}: a synchronous session keeps the script's writes"
        );
        if kind == Kind::Replikv {
            match node.conn().cmd(&["SCRIPT", "DEBUG", "YES"]) {
                Value::Error(e) => assert!(e.contains("SCRIPT DEBUG SYNC"), "{e}"),
                other => panic!("SCRIPT DEBUG YES answered {other:?}"),
            }
        }
        seen
    };
    let ours = session(Kind::Replikv);
    let theirs = session(Kind::Redis);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "reply {i} differs");
    }
    assert_eq!(ours.len(), theirs.len());
    assert!(ours.iter().any(|r| r.contains("<endsession>")), "{ours:?}");
}

/// The debugger's corner cases, against Redis: commands with NUL bytes are unknown
/// (Redis compares names up to the NUL), and `redis` with 100 arguments reports the
/// unknown command without harming the server; a client that leaves mid-session lets
/// the script run to its end.
#[test]
fn the_lua_debugger_survives_odd_input_and_a_client_that_leaves() {
    for kind in [Kind::Replikv, Kind::Redis] {
        let node = match kind {
            Kind::Redis => Node::redis(&[]),
            Kind::Replikv => Node::replikv(&[]),
        };
        let mut c = node.conn();
        c.cmd(&["SCRIPT", "DEBUG", "SYNC"]);
        c.cmd(&[
            "EVAL",
            "redis.call('set', 'left', 'done') return 'hello'",
            "0",
        ]);
        for odd in ["hello\0world", "hello\0", "\0hello", "\0hello\0"] {
            let text = format!("{:?}", c.cmd(&[odd]));
            assert!(
                text.contains("Unknown Redis Lua debugger command"),
                "{kind:?} {odd:?}: {text}"
            );
        }
        let mut redis = vec!["redis"];
        redis.extend(std::iter::repeat_n("test", 100));
        let text = format!("{:?}", c.cmd(&redis));
        assert!(
            text.contains("Unknown Redis command called from script"),
            "{kind:?}: {text}"
        );
        drop(c);
        let mut other = node.conn();
        assert_eq!(
            other.cmd(&["PING"]),
            Value::Simple("PONG".into()),
            "{kind:?}"
        );
        assert_eq!(
            other.cmd(&["GET", "left"]),
            Value::Bulk(b"done".to_vec()),
            "{kind:?}: the script did not run to its end"
        );
    }
}
