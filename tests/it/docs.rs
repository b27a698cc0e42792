//! COMMAND DOCS against redis-server 7.0. For every command replikv implements, the reply has
//! Redis's shape (the same fields in the same order, with the same RESP types, recursively,
//! in RESP2 and RESP3) and the same interface facts (argument types, tokens, flags, versions,
//! key indexes, leaf argument names); only the words are ours (summaries, complexity, history
//! notes, what replaces a deprecated command, names of choices and blocks).

use crate::harness::{Conn, Node};

/// A reply as sent: the RESP type byte of every element, and the text of strings.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Text(u8, String),
    Int(i64),
    Agg(u8, Vec<Raw>),
}

fn parse_raw(buf: &[u8], pos: &mut usize) -> Raw {
    let end = *pos
        + buf[*pos..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("complete line");
    let kind = buf[*pos];
    let line = String::from_utf8_lossy(&buf[*pos + 1..end]).into_owned();
    *pos = end + 2;
    match kind {
        b'+' | b'-' => Raw::Text(kind, line),
        b':' => Raw::Int(line.parse().expect("integer")),
        b'$' => {
            let n: usize = line.parse().expect("bulk length");
            let text = String::from_utf8_lossy(&buf[*pos..*pos + n]).into_owned();
            *pos += n + 2;
            Raw::Text(b'$', text)
        }
        b'*' | b'~' | b'%' => {
            let n: usize = line.parse().expect("aggregate length");
            let count = if kind == b'%' { 2 * n } else { n };
            Raw::Agg(kind, (0..count).map(|_| parse_raw(buf, pos)).collect())
        }
        other => panic!("unexpected RESP type {:?}", other as char),
    }
}

/// The comparable form of a docs reply: free words become `Free`, facts keep their value.
#[derive(Debug, Clone, PartialEq)]
enum Norm {
    /// A string whose words are ours (type byte kept).
    Free(u8),
    /// A value that must match Redis.
    Fact(Raw),
    /// A map (or a RESP2 flat array used as a map): header type, keys in order.
    Map(u8, Vec<(String, Norm)>),
    /// An array or set.
    List(u8, Vec<Norm>),
}

fn pairs(raw: &Raw) -> (u8, Vec<(String, &Raw)>) {
    let Raw::Agg(kind, items) = raw else {
        panic!("expected a map, got {raw:?}")
    };
    let pairs = items
        .chunks(2)
        .map(|kv| match &kv[0] {
            Raw::Text(b'$', key) => (key.clone(), &kv[1]),
            other => panic!("map key is not a bulk string: {other:?}"),
        })
        .collect();
    (*kind, pairs)
}

fn list(raw: &Raw, each: impl Fn(&Raw) -> Norm) -> Norm {
    match raw {
        Raw::Agg(kind, items) => Norm::List(*kind, items.iter().map(each).collect()),
        other => panic!("expected an array, got {other:?}"),
    }
}

fn free(raw: &Raw) -> Norm {
    match raw {
        Raw::Text(kind, _) => Norm::Free(*kind),
        other => Norm::Fact(other.clone()),
    }
}

/// One command's docs map; subcommands are kept by name for a subset comparison.
fn command_docs(raw: &Raw) -> Norm {
    let (kind, fields) = pairs(raw);
    let fields = fields
        .into_iter()
        .map(|(key, value)| {
            let norm = match key.as_str() {
                "summary" | "complexity" | "replaced_by" => free(value),
                "history" => list(value, history_entry),
                "arguments" => list(value, argument),
                "subcommands" => {
                    let (kind, subs) = pairs(value);
                    Norm::Map(
                        kind,
                        subs.into_iter()
                            .map(|(name, docs)| (name, command_docs(docs)))
                            .collect(),
                    )
                }
                _ => Norm::Fact(value.clone()),
            };
            (key, norm)
        })
        .collect();
    Norm::Map(kind, fields)
}

/// A history entry `[version, text]`: the version is a fact, the text is ours.
fn history_entry(raw: &Raw) -> Norm {
    match raw {
        Raw::Agg(kind, items) => Norm::List(
            *kind,
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    if i == 0 {
                        Norm::Fact(item.clone())
                    } else {
                        free(item)
                    }
                })
                .collect(),
        ),
        other => Norm::Fact(other.clone()),
    }
}

fn argument(raw: &Raw) -> Norm {
    let (kind, fields) = pairs(raw);
    let nested = fields.iter().any(|(k, _)| k == "arguments");
    let fields = fields
        .into_iter()
        .map(|(key, value)| {
            let norm = match key.as_str() {
                // Choices and blocks are not shown by clients: their names are ours.
                "name" if nested => free(value),
                "arguments" => list(value, argument),
                _ => Norm::Fact(value.clone()),
            };
            (key, norm)
        })
        .collect();
    Norm::Map(kind, fields)
}

/// Compares ours with Redis's; our subcommands must be a subset of Redis's.
fn diff(path: &str, redis: &Norm, ours: &Norm, problems: &mut Vec<String>) {
    match (redis, ours) {
        (Norm::Map(rk, rf), Norm::Map(ok, of)) => {
            if rk != ok {
                problems.push(format!(
                    "{path}: map sent as {:?} by redis, {:?} by us",
                    *rk as char, *ok as char
                ));
            }
            let rkeys: Vec<&str> = rf.iter().map(|(k, _)| k.as_str()).collect();
            let okeys: Vec<&str> = of.iter().map(|(k, _)| k.as_str()).collect();
            if rkeys != okeys {
                problems.push(format!(
                    "{path}: fields {rkeys:?} (redis) vs {okeys:?} (ours)"
                ));
                return;
            }
            for ((key, r), (_, o)) in rf.iter().zip(of) {
                let sub = format!("{path}.{key}");
                if key == "subcommands" {
                    subcommands(&sub, r, o, problems);
                } else {
                    diff(&sub, r, o, problems);
                }
            }
        }
        (Norm::List(rk, ri), Norm::List(ok, oi)) => {
            if rk != ok || ri.len() != oi.len() {
                problems.push(format!("{path}: {redis:?} (redis) vs {ours:?} (ours)"));
                return;
            }
            for (i, (r, o)) in ri.iter().zip(oi).enumerate() {
                diff(&format!("{path}[{i}]"), r, o, problems);
            }
        }
        (r, o) if r == o => {}
        (r, o) => problems.push(format!("{path}: {r:?} (redis) vs {o:?} (ours)")),
    }
}

fn subcommands(path: &str, redis: &Norm, ours: &Norm, problems: &mut Vec<String>) {
    let (Norm::Map(rk, rsubs), Norm::Map(ok, osubs)) = (redis, ours) else {
        problems.push(format!("{path}: not maps"));
        return;
    };
    if rk != ok {
        problems.push(format!(
            "{path}: map sent as {:?} vs {:?}",
            *rk as char, *ok as char
        ));
    }
    for (name, o) in osubs {
        match rsubs.iter().find(|(n, _)| n == name) {
            Some((_, r)) => diff(&format!("{path}.{name}"), r, o, problems),
            None => problems.push(format!("{path}: redis has no subcommand {name}")),
        }
    }
}

fn hello3(conn: &mut Conn) {
    let reply = conn.cmd(&["HELLO", "3"]);
    assert!(!reply.is_error(), "HELLO 3: {reply:?}");
}

fn docs_raw(conn: &mut Conn, name: &str) -> Raw {
    let (_, raw) = conn.cmd_raw(&[b"COMMAND", b"DOCS", name.as_bytes()]);
    parse_raw(&raw, &mut 0)
}

/// The docs map of `name` within a COMMAND DOCS reply for that one name.
fn single(reply: &Raw, name: &str) -> Raw {
    let (_, entries) = pairs(reply);
    assert_eq!(entries.len(), 1, "COMMAND DOCS {name}: {reply:?}");
    assert_eq!(entries[0].0, name);
    entries[0].1.clone()
}

#[test]
fn command_docs_has_redis_shape_for_every_command() {
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    let names: Vec<String> = ours
        .conn()
        .cmd(&["COMMAND", "LIST"])
        .array()
        .iter()
        .map(|v| v.text())
        .filter(|n| !n.contains('|'))
        .collect();
    assert!(names.len() > 50, "COMMAND LIST: {names:?}");
    let mut problems = Vec::new();
    for resp3 in [false, true] {
        let (mut rc, mut oc) = (redis.conn(), ours.conn());
        if resp3 {
            hello3(&mut rc);
            hello3(&mut oc);
        }
        for name in &names {
            let r = docs_raw(&mut rc, name);
            let o = docs_raw(&mut oc, name);
            let path = format!("{}{name}", if resp3 { "resp3:" } else { "resp2:" });
            diff(
                &path,
                &command_docs(&single(&r, name)),
                &command_docs(&single(&o, name)),
                &mut problems,
            );
        }
    }
    assert!(
        problems.is_empty(),
        "COMMAND DOCS differs from Redis 7.0:\n{}",
        problems.join("\n")
    );
}

#[test]
fn command_docs_for_several_names_subcommands_and_unknown_names() {
    let redis = Node::redis(&[]);
    let ours = Node::replikv(&[]);
    for resp3 in [false, true] {
        let (mut rc, mut oc) = (redis.conn(), ours.conn());
        if resp3 {
            hello3(&mut rc);
            hello3(&mut oc);
        }
        // Unknown names, a subcommand of a command without subcommands, two levels of
        // subcommands: Redis answers an empty map, byte for byte.
        for args in [
            &["COMMAND", "DOCS", "nosuchcommand"][..],
            &[
                "COMMAND",
                "DOCS",
                "get|x",
                "config|get|x",
                "config|",
                "|get",
                "",
            ],
        ] {
            let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            let (_, r) = rc.cmd_raw(&bytes);
            let (_, o) = oc.cmd_raw(&bytes);
            assert_eq!(
                String::from_utf8_lossy(&o),
                String::from_utf8_lossy(&r),
                "{args:?} resp3={resp3}"
            );
        }
        // Known names in any case, unknown ones skipped, a subcommand by its full name,
        // a name asked twice answered twice.
        let args: &[&[u8]] = &[
            b"COMMAND",
            b"DOCS",
            b"GET",
            b"nosuch",
            b"CONFIG|get",
            b"get",
        ];
        let (_, r) = rc.cmd_raw(args);
        let (_, o) = oc.cmd_raw(args);
        let (r, o) = (parse_raw(&r, &mut 0), parse_raw(&o, &mut 0));
        let (rk, rentries) = pairs(&r);
        let (ok, oentries) = pairs(&o);
        assert_eq!(rk, ok);
        let rnames: Vec<&str> = rentries.iter().map(|(n, _)| n.as_str()).collect();
        let onames: Vec<&str> = oentries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(onames, ["get", "config|get", "get"]);
        assert_eq!(onames, rnames);
        let mut problems = Vec::new();
        for ((name, rd), (_, od)) in rentries.iter().zip(&oentries) {
            diff(name, &command_docs(rd), &command_docs(od), &mut problems);
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

#[test]
fn command_docs_without_names_documents_every_command_once() {
    let ours = Node::replikv(&[]);
    let mut conn = ours.conn();
    let listed = conn.cmd(&["COMMAND", "COUNT"]).int();
    let (_, raw) = conn.cmd_raw(&[b"COMMAND", b"DOCS"]);
    let all = parse_raw(&raw, &mut 0);
    let (_, entries) = pairs(&all);
    assert_eq!(entries.len() as i64, listed);
    for (name, docs) in entries {
        let (_, fields) = pairs(docs);
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(&keys[..3], ["summary", "since", "group"], "{name}");
        match fields[0].1 {
            Raw::Text(b'$', summary) => assert!(!summary.is_empty(), "{name} has no summary"),
            other => panic!("{name}: summary {other:?}"),
        }
    }
}

/// LOLWUT as Redis 7.0 answers it, byte for byte where Redis's answer is not random: the
/// version line (bulk in RESP2, verbatim in RESP3), Schotter's first two rows (VERSION 5
/// with at most two rows of squares), the argument errors and clamps, the version taken
/// as an unsigned int. The random drawings (more Schotter rows, VERSION 6's skyline) have
/// Redis's size and trailer. And the command table is Redis 7.0's but for cluster mode
/// and modules.
#[test]
fn lolwut_and_the_command_table_match_redis() {
    let mut pair = crate::differential::Pair::start(&[]);
    pair.script(
        "LOLWUT
         LOLWUT 5
         LOLWUT VERSION
         LOLWUT VERSION 7
         LOLWUT VERSION 5 66 8 2
         LOLWUT VERSION 5 1 1 1
         LOLWUT VERSION 5 0 0 0
         LOLWUT VERSION 5 10 3 1
         LOLWUT VERSION 5 2000 300 2
         LOLWUT VERSION 4294967301 20 4 2
         LOLWUT VERSION x
         LOLWUT VERSION 5 x
         LOLWUT VERSION 6 10 y
         COMMAND INFO lolwut",
    );
    for conn in [&mut pair.rc, &mut pair.oc] {
        conn.cmd(&["HELLO", "3"]);
    }
    pair.check("LOLWUT VERSION 5 40 5 2");
    pair.check("LOLWUT");
    // Random drawings: the same lines, as long, and the same trailer.
    // A line's visible characters: color escapes (`ESC [ ... m`) are not counted.
    let shape = |text: &str| -> Vec<usize> {
        text.lines()
            .map(|l| {
                let mut visible = 0;
                let mut in_escape = false;
                for c in l.chars() {
                    match (in_escape, c) {
                        (false, '\x1b') => in_escape = true,
                        (true, 'm') => in_escape = false,
                        (true, _) => {}
                        (false, _) => visible += 1,
                    }
                }
                visible
            })
            .collect()
    };
    for args in [
        &["LOLWUT", "VERSION", "5", "40", "6", "9"][..],
        &["LOLWUT"][..],
        &["LOLWUT", "VERSION", "6"][..],
        &["LOLWUT", "VERSION", "6", "33", "7"][..],
    ] {
        let theirs = pair.rc.cmd(args).text();
        let ours = pair.oc.cmd(args).text();
        assert_eq!(shape(&ours), shape(&theirs), "{args:?}");
        let last = |t: &str| t.lines().last().map(str::to_string);
        assert_eq!(last(&ours), last(&theirs), "{args:?}");
    }
    let names = |c: &mut Conn| -> std::collections::BTreeSet<String> {
        c.cmd(&["COMMAND", "LIST"])
            .array()
            .iter()
            .map(|v| v.text())
            .collect()
    };
    let (theirs, ours) = (names(&mut pair.rc), names(&mut pair.oc));
    let missing: Vec<&String> = theirs.difference(&ours).collect();
    let top_level: Vec<&str> = missing
        .iter()
        .map(|n| n.as_str())
        .filter(|n| !n.contains('|'))
        .collect();
    assert_eq!(top_level, ["cluster", "module", "restore-asking"]);
    // Subcommands: only those of the two missing commands.
    let subcommands: Vec<&str> = missing
        .iter()
        .map(|n| n.as_str())
        .filter(|n| n.contains('|') && !n.starts_with("cluster|") && !n.starts_with("module|"))
        .collect();
    assert_eq!(subcommands, Vec::<&str>::new());
    assert!(
        ours.is_subset(&theirs),
        "{:?}",
        ours.difference(&theirs).collect::<Vec<_>>()
    );
}
