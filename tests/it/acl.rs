//! ACL users against redis-server 7.0: the same rules give the same users (ACL LIST,
//! GETUSER), the same refusals (NOPERM texts, DRYRUN, the ACL log's fields) and the same
//! logins; users declared in the configuration or an ACL file; replication through a
//! restricted replication user in both directions between replikv and Redis.

use std::time::Duration;

use crate::differential::Pair;
use crate::harness::repl::{start, wait_link_up};
use crate::harness::resp::Value;
use crate::harness::{run_to_exit, wait_until, Kind, Node};

#[test]
fn users_rules_and_refusals_match_redis() {
    let mut pair = Pair::start(&[]);
    pair.script(
        "
        ACL WHOAMI
        ACL USERS
        ACL LIST
        ACL SETUSER alice on >pw ~cached:* +get +@string -set
        ACL SETUSER bob on nopass %R~r* %W~w* +@all -debug (~x* +get) (+set %W~y*)
        ACL SETUSER carol >a >b <a #0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        ACL SETUSER dave on nopass resetchannels &news.* ~* +@all -@dangerous +client|list
        // (Several single-command rules are listed in the order of Redis's command dict,
        // which its hash seed shuffles: one each here.)
        ACL SETUSER erin on nopass allkeys +@read -hgetall
        ACL SETUSER gina on nopass allkeys +select|0
        ACL SETUSER frank on nopass ~* &* +@all -@write -@admin
        ACL LIST
        ACL USERS
        ACL GETUSER alice
        ACL GETUSER bob
        ACL GETUSER carol
        ACL GETUSER dave
        ACL GETUSER erin
        ACL GETUSER frank
        ACL GETUSER nobody
        // Errors, with Redis's texts.
        ACL SETUSER x %X~a
        ACL SETUSER x +nosuchcommand
        ACL SETUSER x +@nosuchcategory
        ACL SETUSER x <never
        ACL SETUSER x #abc
        ACL SETUSER x +config|get|x
        ACL SETUSER x \"(~a\" +get
        ACL SETUSER x allkeys ~more
        ACL SETUSER x &* &more
        ACL SETUSER \"a b\"
        ACL DELUSER default
        ACL DRYRUN nobody get a
        ACL DRYRUN alice nosuch a
        ACL DRYRUN alice set
        ACL GENPASS 0
        ACL GENPASS 5000
        ACL CAT nosuch
        ACL BOGUS
        // What each user may do.
        ACL DRYRUN alice get cached:1
        ACL DRYRUN alice get other
        ACL DRYRUN alice set cached:1 v
        ACL DRYRUN alice append cached:1 v
        ACL DRYRUN bob get r1
        ACL DRYRUN bob set r1 v
        ACL DRYRUN bob set w1 v
        ACL DRYRUN bob set w1 v GET
        ACL DRYRUN bob get x1
        ACL DRYRUN bob set y1 v
        ACL DRYRUN bob debug sleep 0
        ACL DRYRUN bob bitfield r1 GET u8 0
        ACL DRYRUN bob bitfield r1 SET u8 0 1
        ACL DRYRUN bob sort r1 STORE w1
        ACL DRYRUN bob sort r1 STORE r2
        ACL DRYRUN bob migrate h 1 \"\" 0 10 AUTH pw KEYS w1 r1
        ACL DRYRUN bob lmove r1 w1 LEFT RIGHT
        ACL DRYRUN dave publish news.today hi
        ACL DRYRUN dave publish sport hi
        ACL DRYRUN dave subscribe news.a sport
        ACL DRYRUN dave psubscribe news.*
        ACL DRYRUN dave psubscribe news.a*
        ACL DRYRUN dave client list
        ACL DRYRUN dave client kill id 1
        ACL DRYRUN gina select 0
        ACL DRYRUN gina select 1
        ACL DRYRUN erin hgetall h
        ACL DRYRUN erin hget h f
        ACL DRYRUN frank set a b
        ACL DRYRUN frank get a
        ACL DRYRUN frank config get x
        // Logging in, and running as those users.
        AUTH alice wrong
        AUTH nobody pw
        AUTH alice pw
        ACL WHOAMI
        GET cached:1
        GET other
        SET cached:1 v
        MULTI
        GET other
        DISCARD
        AUTH bob anything
        SET w1 v
        SET r1 v
        GET x1
        SET y1 v
        MGET x1 y1
        AUTH dave x
        PUBLISH news.today hi
        PUBLISH sport hi
        AUTH default x
        ?ACL LOG
        ?ACL LOG 1
        ACL LOG RESET
        ACL LOG
        ACL DELUSER alice carol nobody
        ACL USERS
        ~ACL CAT
        ~ACL CAT string
        ~ACL CAT list
        ~ACL CAT hash
        ~ACL CAT set
        ~ACL CAT sortedset
        ~ACL CAT bitmap
        ~ACL CAT hyperloglog
        ~ACL CAT geo
        ~ACL CAT stream
        ~ACL CAT pubsub
        ~ACL CAT blocking
        ~ACL CAT transaction
        ~ACL CAT scripting
        ",
    );
}

/// ACL LOG: the entries Redis writes, field by field (client info compared for its `cmd`
/// and `user`; addresses and ids differ between the two servers).
#[test]
fn the_acl_log_records_what_redis_records() {
    let mut pair = Pair::start(&[]);
    pair.script(
        "
        ACL SETUSER u on >p ~k* &c* +get +publish +multi +exec
        AUTH u p
        GET other
        GET other
        MULTI
        GET other2
        EXEC
        PUBLISH d hi
        SET k v
        AUTH u bad
        AUTH default x
        ",
    );
    let entries = |node: &Node| -> Vec<Vec<String>> {
        let Value::Array(items) = node.conn().cmd(&["ACL", "LOG"]) else {
            panic!("ACL LOG is an array");
        };
        items
            .into_iter()
            .map(|e| {
                let Value::Array(fields) = e else {
                    panic!("an entry is a map")
                };
                let text: Vec<String> = fields.iter().map(|f| f.text()).collect();
                text.chunks(2)
                    .filter(|kv| kv[0] != "age-seconds")
                    .map(|kv| {
                        if kv[0] == "client-info" {
                            let keep: Vec<&str> = kv[1]
                                .split(' ')
                                .filter(|f| f.starts_with("cmd=") || f.starts_with("user="))
                                .collect();
                            format!("client-info={}", keep.join(" "))
                        } else {
                            format!("{}={}", kv[0], kv[1])
                        }
                    })
                    .collect()
            })
            .collect()
    };
    assert_eq!(entries(&pair.ours), entries(&pair.redis));
    assert_eq!(entries(&pair.ours).len(), 5, "{:?}", entries(&pair.ours));
}

/// Users declared with `user` lines start the server with them; a broken line stops the
/// start with Redis's words; an ACL file is loaded at start, saved and loaded back.
#[test]
fn users_from_the_configuration_and_from_an_acl_file() {
    let node = Node::replikv(&["--user", "ops", "on", ">secret", "~*", "+@all"]);
    let mut c = node.conn();
    assert_eq!(
        c.cmd(&["AUTH", "ops", "secret"]),
        Value::Simple("OK".into())
    );
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]), Value::Bulk(b"ops".to_vec()));
    let listed: Vec<String> = c
        .cmd(&["ACL", "LIST"])
        .array()
        .iter()
        .map(|l| l.text())
        .collect();
    let listed = listed.join("\n");
    assert!(listed.contains("user ops on #"), "{listed}");

    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out) = run_to_exit(
        dir.path(),
        &[
            "--port",
            "0",
            "--http-port",
            "0",
            "--user",
            "bad",
            "+nosuch",
        ],
    );
    assert_ne!(code, Some(0));
    assert!(
        out.contains("Error in user declaration 'bad': Unknown command or category name in ACL"),
        "{out}"
    );

    // An ACL file, relative to `dir` as Redis reads it.
    let acl_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        acl_dir.path().join("users.acl"),
        "user alice on >a ~a* +get\nuser default on nopass ~* &* +@all\n",
    )
    .expect("write acl file");
    let dir_arg = acl_dir.path().display().to_string();
    let node = Node::replikv(&["--dir", &dir_arg, "--aclfile", "users.acl"]);
    let mut c = node.conn();
    assert_eq!(c.cmd(&["AUTH", "alice", "a"]), Value::Simple("OK".into()));
    assert!(c.cmd(&["SET", "a1", "v"]).is_error());
    let mut admin = node.conn();
    admin.cmd(&["ACL", "SETUSER", "bob", "on", ">b", "~b*", "+@all"]);
    assert_eq!(admin.cmd(&["ACL", "SAVE"]), Value::Simple("OK".into()));
    let saved = std::fs::read_to_string(acl_dir.path().join("users.acl")).expect("saved");
    assert!(saved.contains("user bob on #"), "{saved}");
    admin.cmd(&["ACL", "DELUSER", "bob"]);
    assert_eq!(admin.cmd(&["ACL", "LOAD"]), Value::Simple("OK".into()));
    assert_eq!(
        admin.cmd(&["ACL", "USERS"]),
        Value::Array(vec![
            Value::Bulk(b"alice".to_vec()),
            Value::Bulk(b"bob".to_vec()),
            Value::Bulk(b"default".to_vec())
        ])
    );
    // ACL LOAD closed alice's connection (its user was replaced), as Redis 7.0 does.
    assert!(
        c.is_closed(Duration::from_secs(5)),
        "alice's client stays open"
    );
}

/// A replica logs in with `masteruser`/`masterauth` as a user allowed only what
/// replication needs; the default user is off. Both directions with Redis.
#[test]
fn replication_through_a_restricted_user_both_ways() {
    for (master_kind, replica_kind) in [
        (Kind::Replikv, Kind::Replikv),
        (Kind::Redis, Kind::Replikv),
        (Kind::Replikv, Kind::Redis),
    ] {
        let master = start(master_kind, &[]);
        let mut m = master.conn();
        for rule in [
            &[
                "ACL",
                "SETUSER",
                "repl",
                "on",
                ">rpw",
                "+psync",
                "+replconf",
                "+ping",
            ][..],
            &["ACL", "SETUSER", "admin", "on", ">apw", "~*", "&*", "+@all"],
        ] {
            assert_eq!(m.cmd(rule), Value::Simple("OK".into()));
        }
        m.cmd(&["SET", "before", "1"]);
        assert_eq!(
            m.cmd(&["ACL", "SETUSER", "default", "off"]),
            Value::Simple("OK".into())
        );
        let port = master.port.to_string();
        let replica = start(
            replica_kind,
            &[
                "--replicaof",
                "127.0.0.1",
                &port,
                "--masteruser",
                "repl",
                "--masterauth",
                "rpw",
            ],
        );
        wait_link_up(&replica, Duration::from_secs(20));
        let mut m = master.conn();
        assert_eq!(m.cmd(&["AUTH", "admin", "apw"]), Value::Simple("OK".into()));
        m.cmd(&["SET", "after", "2"]);
        // The checks below read the master as its admin.
        wait_until(
            Duration::from_secs(20),
            "the replica to get `after`",
            || replica.conn().cmd(&["GET", "after"]) == Value::Bulk(b"2".to_vec()),
        );
        assert_eq!(
            replica.conn().cmd(&["GET", "before"]),
            Value::Bulk(b"1".to_vec()),
            "{master_kind:?} -> {replica_kind:?}"
        );
        // The default user is off on the master: a plain client is refused.
        assert!(master.conn().cmd(&["GET", "after"]).is_error());
    }
}

/// EXEC checks each queued command again: rules changed by another client after MULTI
/// refuse the commands they no longer allow, with Redis's words, and log them.
#[test]
fn exec_checks_the_rules_again_as_redis() {
    let run = |node: &Node| -> (Vec<u8>, String) {
        let mut admin = node.conn();
        admin.cmd(&["ACL", "SETUSER", "hank", "on", "nopass", "~*", "+@all"]);
        let mut c = node.conn();
        assert_eq!(c.cmd(&["AUTH", "hank", "x"]), Value::Simple("OK".into()));
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "k1", "v"]);
        c.cmd(&["GET", "k1"]);
        c.cmd(&["SET", "other", "v"]);
        admin.cmd(&["ACL", "SETUSER", "hank", "-set", "resetkeys", "~k*"]);
        let (_, raw) = c.cmd_raw(&[b"EXEC"]);
        let log = admin.cmd(&["ACL", "LOG", "1"]).array();
        let fields: Vec<String> = log[0].array().iter().map(|f| f.text()).collect();
        (raw, fields[..6].join(" "))
    };
    let (redis, ours) = (Node::redis(&[]), Node::replikv(&[]));
    let (r, o) = (run(&redis), run(&ours));
    assert_eq!(String::from_utf8_lossy(&o.0), String::from_utf8_lossy(&r.0));
    assert_eq!(o.1, r.1);
}

/// CONFIG REWRITE writes the users as `user` lines (as Redis does without an ACL file), so
/// a node restarted from its file has them; the same rules give the same lines on Redis.
#[test]
fn config_rewrite_keeps_the_users() {
    let write_conf = |dir: &std::path::Path, port: u16| {
        let conf = dir.join("node.conf");
        std::fs::write(
            &conf,
            format!(
                "# users\nport {port}\nbind 127.0.0.1\nsave \"\"\ndir {}\nuser old on nopass ~* +get\n",
                dir.display()
            ),
        )
        .expect("write config");
        conf.to_str().expect("utf8").to_string()
    };
    let rules: &[&str] = &[
        "ACL", "SETUSER", "app", "on", ">pw", "~app:*", "+@read", "+set",
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let port = crate::harness::free_port();
    let conf = write_conf(dir.path(), port);
    let args = [conf.as_str(), "--http-port", "0"];
    let node = Node::replikv_raw(&args, tempfile::tempdir().expect("tempdir"));
    let mut c = node.conn();
    assert_eq!(c.cmd(rules), Value::Simple("OK".into()));
    assert_eq!(c.cmd(&["ACL", "DELUSER", "old"]), Value::Int(1));
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Value::Simple("OK".into()));
    let ours = std::fs::read_to_string(&conf).expect("read config");
    drop(c);
    drop(node);

    // Redis, from the same file, after the same commands, writes the same user lines.
    let rdir = tempfile::tempdir().expect("tempdir");
    let rport = crate::harness::free_port();
    let rconf = write_conf(rdir.path(), rport);
    let redis = Node::redis_with_config(&rconf, rport);
    let mut r = redis.conn();
    assert_eq!(r.cmd(rules), Value::Simple("OK".into()));
    r.cmd(&["ACL", "DELUSER", "old"]);
    assert_eq!(r.cmd(&["CONFIG", "REWRITE"]), Value::Simple("OK".into()));
    let theirs = std::fs::read_to_string(&rconf).expect("read config");
    let users = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("user "))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        users(&ours),
        users(&theirs),
        "ours:\n{ours}\nredis:\n{theirs}"
    );
    assert!(!ours.contains("user old"), "{ours}");

    let node = Node::replikv_raw(&args, tempfile::tempdir().expect("tempdir"));
    let mut c = node.conn();
    assert_eq!(c.cmd(&["AUTH", "app", "pw"]), Value::Simple("OK".into()));
    assert_eq!(c.cmd(&["SET", "app:1", "v"]), Value::Simple("OK".into()));
    assert!(c.cmd(&["DEL", "app:1"]).is_error());
}

/// COMMAND GETKEYSANDFLAGS (the key specs the ACL checks keys with) matches Redis.
#[test]
fn getkeysandflags_matches_redis() {
    let mut pair = Pair::start(&[]);
    pair.script(
        "
        COMMAND GETKEYSANDFLAGS SET k v
        COMMAND GETKEYSANDFLAGS SET k v GET
        COMMAND GETKEYSANDFLAGS GET k
        COMMAND GETKEYSANDFLAGS MSET a 1 b 2
        COMMAND GETKEYSANDFLAGS LMOVE src dst LEFT RIGHT
        COMMAND GETKEYSANDFLAGS EXISTS a b
        COMMAND GETKEYSANDFLAGS SINTERCARD 2 a b LIMIT 1
        COMMAND GETKEYSANDFLAGS ZUNIONSTORE d 2 a b WEIGHTS 1 2
        COMMAND GETKEYSANDFLAGS EVAL \"return 1\" 2 a b x
        COMMAND GETKEYSANDFLAGS EVAL \"return 1\" 0
        COMMAND GETKEYSANDFLAGS XREAD COUNT 2 STREAMS s1 s2 0 0
        COMMAND GETKEYSANDFLAGS XREADGROUP GROUP g c STREAMS s 0
        COMMAND GETKEYSANDFLAGS GEORADIUS src 1 1 1 km STORE a STOREDIST b
        COMMAND GETKEYSANDFLAGS SORT s BY w_* GET o_* STORE d
        COMMAND GETKEYSANDFLAGS SORT_RO s
        COMMAND GETKEYSANDFLAGS MIGRATE h 1 \"\" 0 10 AUTH pw KEYS a b
        COMMAND GETKEYSANDFLAGS MIGRATE h 1 k 0 10
        COMMAND GETKEYSANDFLAGS BITFIELD k GET u8 0
        COMMAND GETKEYSANDFLAGS BITFIELD k SET u8 0 1
        COMMAND GETKEYSANDFLAGS OBJECT ENCODING k
        COMMAND GETKEYSANDFLAGS MEMORY USAGE k
        COMMAND GETKEYSANDFLAGS DEL a b c
        COMMAND GETKEYSANDFLAGS RENAME a b
        COMMAND GETKEYSANDFLAGS COPY a b
        COMMAND GETKEYSANDFLAGS BLMPOP 0 2 a b LEFT
        COMMAND GETKEYSANDFLAGS PING
        COMMAND GETKEYSANDFLAGS NOSUCH a
        COMMAND GETKEYSANDFLAGS GET
        COMMAND GETKEYSANDFLAGS ZUNIONSTORE d 0 a
        COMMAND GETKEYSANDFLAGS SPUBLISH c m
        ",
    );
}
