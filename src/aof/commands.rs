//! A dataset written as commands: the body of an AOF base file when
//! `aof-use-rdb-preamble no`, command for command what Redis 7.0's `rewriteAppendOnlyFileRio`
//! writes, so that either server loads the other's file and a diff against Redis's output
//! shows only the order of keys and of hash-table-encoded members.
//!
//! Collections go in variadic commands of at most [`ITEMS_PER_CMD`] items (Redis's
//! `AOF_REWRITE_ITEMS_PER_CMD`): few enough that loading never builds a huge argv, many
//! enough that a big value costs few commands. Output is built in one reusable buffer and
//! handed to the writer every [`FLUSH_AT`] bytes, so an unbuffered file costs few syscalls
//! and memory stays bounded by one buffer plus the largest single element.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::keyspace::types::stream::StreamId;
use crate::keyspace::types::{Hash, Set, Stream, ZSet};
use crate::keyspace::{KeyspaceSnapshot, StrValue, Value};
use crate::resp::format_double;

/// Items per variadic command (RPUSH, SADD, ZADD pairs, HMSET pairs).
const ITEMS_PER_CMD: usize = 64;

/// The buffer is handed to the writer once it holds this many bytes.
const FLUSH_AT: usize = 64 * 1024;

/// What a dataset written as commands held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Keys written (expired ones included).
    pub keys: u64,
    /// Bytes handed to the writer.
    pub bytes: u64,
}

/// Writes `functions` (each a library's code, FUNCTION LOAD of each) then every database of
/// `snapshot` as commands into `out`. Stops with an `ErrorKind::Interrupted` io error when
/// `cancel` becomes true (checked every key).
///
/// Keys whose TTL already passed when the snapshot was taken are written too, with their
/// PEXPIREAT, as Redis 7.0 and the RDB writer do: whoever loads the file decides (a master
/// drops them, a replica keeps them until its master's DEL).
pub fn write_dataset(
    snapshot: &KeyspaceSnapshot,
    functions: &[bytes::Bytes],
    out: &mut impl Write,
    cancel: Option<&AtomicBool>,
) -> io::Result<Written> {
    let mut e = Emitter {
        out,
        buf: Vec::with_capacity(FLUSH_AT + FLUSH_AT / 4),
        written: 0,
    };
    for code in functions {
        e.header(3);
        e.bulk(b"FUNCTION");
        e.bulk(b"LOAD");
        e.bulk(code);
        e.maybe_flush()?;
    }
    let mut keys = 0u64;
    for db in &snapshot.dbs {
        if db.len == 0 {
            continue;
        }
        e.header(2);
        e.bulk(b"SELECT");
        e.bulk_int(db.id as i64);
        for item in db.items() {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "AOF rewrite cancelled",
                ));
            }
            let key: &[u8] = &item.key;
            e.value(key, &item.value)?;
            if item.has_expire() {
                e.header(3);
                e.bulk(b"PEXPIREAT");
                e.bulk(key);
                e.bulk_int(item.expire_at());
            }
            keys += 1;
            e.maybe_flush()?;
        }
    }
    e.flush()?;
    e.out.flush()?;
    Ok(Written {
        keys,
        bytes: e.written,
    })
}

/// RESP arrays of bulk strings into a buffer that drains into the writer.
struct Emitter<'w, W: Write> {
    out: &'w mut W,
    buf: Vec<u8>,
    written: u64,
}

impl<W: Write> Emitter<'_, W> {
    /// `*n\r\n`.
    fn header(&mut self, n: usize) {
        self.buf.push(b'*');
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `$len\r\nbytes\r\n`.
    fn bulk(&mut self, b: &[u8]) {
        self.buf.push(b'$');
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(b.len()).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer as a bulk string (`rioWriteBulkLongLong`).
    fn bulk_int(&mut self, n: i64) {
        self.bulk(itoa::Buffer::new().format(n).as_bytes());
    }

    /// A score as `%.17g` prints it (`rioWriteBulkDouble`): `inf` and `-inf` for the
    /// infinities, `-0` kept.
    fn bulk_double(&mut self, d: f64) {
        self.bulk(format_double(d).as_bytes());
    }

    /// A stream ID as `ms-seq`, both unsigned.
    fn bulk_id(&mut self, id: StreamId) {
        let mut text = [0u8; 41];
        let mut b = itoa::Buffer::new();
        let ms = b.format(id.ms).as_bytes();
        let mut len = ms.len();
        text[..len].copy_from_slice(ms);
        text[len] = b'-';
        len += 1;
        let seq = b.format(id.seq).as_bytes();
        text[len..len + seq.len()].copy_from_slice(seq);
        len += seq.len();
        self.bulk(&text[..len]);
    }

    /// Hands the buffer over once it is large.
    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands everything buffered to the writer; a buffer grown by one huge value is shrunk
    /// back so that it does not stay allocated for the rest of the rewrite.
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.out.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        if self.buf.capacity() > 4 * FLUSH_AT {
            self.buf.shrink_to(2 * FLUSH_AT);
        }
        Ok(())
    }

    /// The commands that rebuild `value` under `key`.
    fn value(&mut self, key: &[u8], value: &Value) -> io::Result<()> {
        match value {
            Value::Str(s) => {
                self.header(3);
                self.bulk(b"SET");
                self.bulk(key);
                match s {
                    StrValue::Int(n) => self.bulk_int(*n),
                    StrValue::Embstr(b) | StrValue::Raw(b) => self.bulk(b),
                    StrValue::Shared(b) => self.bulk(b),
                }
            }
            Value::List(l) => {
                let mut batch = Batch::new(b"RPUSH", key, l.len(), 1);
                for item in &l.items {
                    batch.item(self)?;
                    self.bulk(item);
                }
            }
            Value::Set(s) => {
                let mut batch = Batch::new(b"SADD", key, s.len(), 1);
                match &**s {
                    Set::Intset(members) => {
                        for n in members {
                            batch.item(self)?;
                            self.bulk_int(*n);
                        }
                    }
                    Set::Table(members) => {
                        for (m, ()) in members.iter() {
                            batch.item(self)?;
                            self.bulk(m);
                        }
                    }
                }
            }
            Value::ZSet(z) => {
                let mut batch = Batch::new(b"ZADD", key, z.len(), 2);
                match &**z {
                    ZSet::Listpack(entries) => {
                        for (m, score) in entries {
                            batch.item(self)?;
                            self.bulk_double(*score);
                            self.bulk(m);
                        }
                    }
                    // Redis walks the member dict here, not the skiplist.
                    ZSet::Skiplist { dict, .. } => {
                        for (m, score) in dict.iter() {
                            batch.item(self)?;
                            self.bulk_double(*score);
                            self.bulk(m);
                        }
                    }
                }
            }
            Value::Hash(h) => {
                let mut batch = Batch::new(b"HMSET", key, h.len(), 2);
                let pairs: Box<dyn Iterator<Item = _>> = match &**h {
                    Hash::Listpack(pairs) => Box::new(pairs.iter().map(|(f, v)| (f, v))),
                    Hash::Table(map) => Box::new(map.iter()),
                };
                for (f, v) in pairs {
                    batch.item(self)?;
                    self.bulk(f);
                    self.bulk(v);
                }
            }
            Value::Stream(s) => self.stream(key, s)?,
        }
        Ok(())
    }

    /// A stream: its entries, its counters (XSETID also restores a last ID that XDEL or
    /// XSETID moved past the last entry), then each group with its consumers and PEL.
    fn stream(&mut self, key: &[u8], s: &Stream) -> io::Result<()> {
        if s.is_empty() {
            // A stream key may exist without entries; adding one with MAXLEN 0 creates the
            // key and leaves it empty.
            self.header(7);
            self.bulk(b"XADD");
            self.bulk(key);
            self.bulk(b"MAXLEN");
            self.bulk(b"0");
            self.bulk_id(StreamId::new(0, 1));
            self.bulk(b"x");
            self.bulk(b"y");
        } else {
            for (id, fields) in s.range(StreamId::MIN, StreamId::MAX, false) {
                self.header(3 + 2 * fields.pairs());
                self.bulk(b"XADD");
                self.bulk(key);
                self.bulk_id(*id);
                for part in fields.interleaved() {
                    self.bulk(part);
                }
                self.maybe_flush()?;
            }
        }
        self.header(7);
        self.bulk(b"XSETID");
        self.bulk(key);
        self.bulk_id(s.last_id);
        self.bulk(b"ENTRIESADDED");
        // Redis keeps these counters unsigned and prints them as signed 64-bit integers.
        self.bulk_int(s.entries_added as i64);
        self.bulk(b"MAXDELETEDID");
        self.bulk_id(s.max_deleted_id);
        for (group_name, group) in &s.groups {
            self.header(7);
            self.bulk(b"XGROUP");
            self.bulk(b"CREATE");
            self.bulk(key);
            self.bulk(group_name);
            self.bulk_id(group.last_id);
            self.bulk(b"ENTRIESREAD");
            // Unknown is Redis's -1, which XGROUP CREATE accepts back.
            self.bulk_int(group.entries_read.map_or(-1, |n| n as i64));
            for (consumer_name, consumer) in &group.consumers {
                if consumer.pel.is_empty() {
                    self.header(5);
                    self.bulk(b"XGROUP");
                    self.bulk(b"CREATECONSUMER");
                    self.bulk(key);
                    self.bulk(group_name);
                    self.bulk(consumer_name);
                    continue;
                }
                for id in &consumer.pel {
                    // A consumer's PEL and the group's agree; an ID missing from the
                    // group's would have no delivery record to restore.
                    let Some(nack) = group.pel.get(id) else {
                        continue;
                    };
                    // FORCE makes the loader create the delivery record it lacks, JUSTID
                    // keeps the count at RETRYCOUNT instead of adding one. A record whose
                    // entry was deleted since is written all the same, as Redis does:
                    // Redis's XCLAIM then drops it on load.
                    self.header(12);
                    self.bulk(b"XCLAIM");
                    self.bulk(key);
                    self.bulk(group_name);
                    self.bulk(consumer_name);
                    self.bulk(b"0");
                    self.bulk_id(*id);
                    self.bulk(b"TIME");
                    self.bulk_int(nack.delivery_time);
                    self.bulk(b"RETRYCOUNT");
                    self.bulk_int(nack.delivery_count as i64);
                    self.bulk(b"JUSTID");
                    self.bulk(b"FORCE");
                    self.maybe_flush()?;
                }
            }
        }
        Ok(())
    }
}

/// Splits a collection of `left` items into commands of at most [`ITEMS_PER_CMD`] items,
/// each announcing exactly the arguments it carries.
struct Batch<'k> {
    name: &'static [u8],
    key: &'k [u8],
    args_per_item: usize,
    left: usize,
    in_command: usize,
}

impl<'k> Batch<'k> {
    fn new(name: &'static [u8], key: &'k [u8], len: usize, args_per_item: usize) -> Self {
        Batch {
            name,
            key,
            args_per_item,
            left: len,
            in_command: 0,
        }
    }

    /// Called before each item's arguments: starts a new command when the last is full.
    fn item<W: Write>(&mut self, e: &mut Emitter<'_, W>) -> io::Result<()> {
        if self.in_command == 0 {
            e.maybe_flush()?;
            let items = self.left.clamp(1, ITEMS_PER_CMD);
            e.header(2 + items * self.args_per_item);
            e.bulk(self.name);
            e.bulk(self.key);
        }
        self.in_command += 1;
        if self.in_command == ITEMS_PER_CMD {
            self.in_command = 0;
        }
        self.left = self.left.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::types::stream::{Consumer, Group, IdRequest, NodeLimits};
    use crate::keyspace::types::{EncodingLimits, List};
    use crate::keyspace::{blob, Keyspace, NO_EXPIRE};
    use std::collections::BTreeMap;

    type Argv = Vec<Vec<u8>>;

    /// Parses RESP arrays of bulk strings, strictly (every byte accounted for).
    fn parse(mut b: &[u8]) -> Vec<Argv> {
        fn line(b: &mut &[u8], prefix: u8) -> usize {
            assert_eq!(
                b[0],
                prefix,
                "at {:?}",
                String::from_utf8_lossy(&b[..b.len().min(40)])
            );
            let end = b.windows(2).position(|w| w == b"\r\n").expect("CRLF");
            let n = std::str::from_utf8(&b[1..end])
                .expect("utf8")
                .parse()
                .expect("number");
            *b = &b[end + 2..];
            n
        }
        let mut cmds = Vec::new();
        while !b.is_empty() {
            let n = line(&mut b, b'*');
            let mut argv = Vec::with_capacity(n);
            for _ in 0..n {
                let len = line(&mut b, b'$');
                argv.push(b[..len].to_vec());
                assert_eq!(&b[len..len + 2], b"\r\n");
                b = &b[len + 2..];
            }
            cmds.push(argv);
        }
        cmds
    }

    fn argv(parts: &[&str]) -> Argv {
        parts.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    fn text(cmds: &[Argv]) -> Vec<Vec<String>> {
        cmds.iter()
            .map(|c| {
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .collect()
    }

    /// The key a command is about (XGROUP names it after its subcommand).
    fn key_of(cmd: &Argv) -> Vec<u8> {
        if cmd[0] == b"XGROUP" {
            cmd[2].clone()
        } else {
            cmd[1].clone()
        }
    }

    /// Output split into: the commands before the first SELECT, then per database the
    /// commands of each key (keys come in hash order, each key's commands together).
    #[allow(clippy::type_complexity)]
    fn split(cmds: &[Argv]) -> (Vec<Argv>, BTreeMap<String, BTreeMap<Vec<u8>, Vec<Argv>>>) {
        let mut head = Vec::new();
        let mut dbs: BTreeMap<String, BTreeMap<Vec<u8>, Vec<Argv>>> = BTreeMap::new();
        let mut db: Option<String> = None;
        let mut last_key: Option<Vec<u8>> = None;
        for c in cmds {
            if c[0] == b"SELECT" {
                let id = String::from_utf8(c[1].clone()).expect("utf8");
                assert!(!dbs.contains_key(&id), "db {id} selected twice");
                dbs.insert(id.clone(), BTreeMap::new());
                db = Some(id);
                last_key = None;
                continue;
            }
            let Some(id) = &db else {
                head.push(c.clone());
                continue;
            };
            let k = key_of(c);
            let keys = dbs.get_mut(id).expect("db");
            if last_key.as_ref() != Some(&k) {
                assert!(!keys.contains_key(&k), "commands of {k:?} not together");
                last_key = Some(k.clone());
            }
            keys.entry(k).or_default().push(c.clone());
        }
        (head, dbs)
    }

    fn str_val(s: &[u8]) -> Value {
        Value::Str(StrValue::from_bytes(s))
    }

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    /// Entries 1-1, 1-2 (deleted), 1-3 and 2-0; group g1 with a PEL of two entries (one
    /// deleted since, one retried) for alice and nothing for bob; group g2 whose read count
    /// is unknown.
    fn stream() -> Stream {
        let l = NodeLimits::default();
        let mut s = Stream::new();
        let adds: [(StreamId, &[&str]); 4] = [
            (id(1, 1), &["a", "1"]),
            (id(1, 2), &["b", "2", "c", "3"]),
            (id(1, 3), &["a", "x y"]),
            (id(2, 0), &["", ""]),
        ];
        for (i, f) in adds {
            s.append(IdRequest::Exact(i), f, l).expect("append");
        }
        let mut g = Group::new(id(1, 3), Some(3));
        g.deliver(id(1, 2), b"alice", 1_700_000_000_001);
        g.deliver(id(1, 3), b"alice", 1_700_000_000_002);
        if let Some(n) = g.pel.get_mut(&id(1, 3)) {
            n.delivery_count = 5;
        }
        g.consumers.insert(blob(b"bob"), Consumer::default());
        s.groups.insert(blob(b"g1"), g);
        s.groups.insert(blob(b"g2"), Group::new(id(0, 0), None));
        assert!(s.delete(id(1, 2)));
        s
    }

    fn sample() -> Keyspace {
        let l = EncodingLimits::default();
        let mut ks = Keyspace::new(16, l);
        let db = &mut ks.dbs[0];
        db.insert(b"str", str_val(b"hello"), NO_EXPIRE, 0);
        db.insert(b"int", str_val(b"-42"), 5_000_000_000_000, 0);
        db.insert(b"bin", str_val(&[0, 13, 10, 255]), NO_EXPIRE, 0);
        db.insert(b"expired", str_val(b"old"), 1, 0);
        let mut list = List::new();
        for i in 0..130 {
            list.items.push_back(blob(format!("e{i}").as_bytes()));
        }
        db.insert(b"list", Value::List(Box::new(list)), NO_EXPIRE, 0);
        let ints = Set::from_members([blob(b"3"), blob(b"-1"), blob(b"2")], &l);
        assert_eq!(ints.encoding(), "intset");
        db.insert(b"set:int", Value::Set(Box::new(ints)), NO_EXPIRE, 0);
        let strs = Set::from_members((0..70).map(|i| blob(format!("m{i}").as_bytes())), &l);
        db.insert(b"set:ht", Value::Set(Box::new(strs)), NO_EXPIRE, 0);
        let mut zs = ZSet::default();
        zs.add(b"a", 1.5, &l);
        zs.add(b"b", 0.1, &l);
        zs.add(b"top", f64::INFINITY, &l);
        zs.add(b"bottom", f64::NEG_INFINITY, &l);
        zs.add(b"ten", 10.0, &l);
        assert_eq!(zs.encoding(), "listpack");
        db.insert(b"zset", Value::ZSet(Box::new(zs)), NO_EXPIRE, 0);
        let mut zneg = ZSet::with_hint(1000, 1, &l);
        zneg.add(b"z", -0.0, &l);
        assert_eq!(zneg.encoding(), "skiplist");
        db.insert(b"zset:sl", Value::ZSet(Box::new(zneg)), NO_EXPIRE, 0);
        let mut h = Hash::new();
        for i in 0..70 {
            h.set(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), &l);
        }
        assert_eq!(h.encoding(), "listpack");
        db.insert(b"hash", Value::Hash(Box::new(h)), NO_EXPIRE, 0);
        let mut ht = Hash::new();
        ht.set(b"long", &[b'v'; 100], &l);
        assert_eq!(ht.encoding(), "hashtable");
        db.insert(b"hash:ht", Value::Hash(Box::new(ht)), 7_000, 0);
        db.insert(b"stream", Value::Stream(Box::new(stream())), NO_EXPIRE, 0);
        db.insert(
            b"empty",
            Value::Stream(Box::new(Stream::new())),
            NO_EXPIRE,
            0,
        );
        ks.dbs[3].insert(b"other", str_val(b"x"), NO_EXPIRE, 0);
        ks
    }

    fn write(ks: &Keyspace, functions: &[bytes::Bytes]) -> (Vec<u8>, Written) {
        let mut out = Vec::new();
        let w = write_dataset(&ks.snapshot(), functions, &mut out, None).expect("write");
        (out, w)
    }

    #[test]
    fn every_type_comes_out_as_redis_writes_it() {
        let ks = sample();
        let functions = [
            bytes::Bytes::from_static(
                b"#!lua name=one\nredis.register_function('f', function() return 1 end)",
            ),
            bytes::Bytes::from_static(b"#!lua name=two\n"),
        ];
        let (out, w) = write(&ks, &functions);
        assert_eq!(w.bytes as usize, out.len());
        assert_eq!(w.keys, 14);
        let cmds = parse(&out);
        let (head, dbs) = split(&cmds);
        assert_eq!(
            head,
            functions
                .iter()
                .map(|f| vec![b"FUNCTION".to_vec(), b"LOAD".to_vec(), f.to_vec()])
                .collect::<Vec<_>>()
        );
        assert_eq!(dbs.keys().collect::<Vec<_>>(), ["0", "3"]);
        assert_eq!(cmds.iter().position(|c| c[0] == b"SELECT"), Some(2));
        assert_eq!(cmds[2], argv(&["SELECT", "0"]));
        let db0 = &dbs["0"];
        assert_eq!(db0.len(), 13);
        let get = |k: &str| text(&db0[k.as_bytes()]);
        let strs = |v: &[&[&str]]| -> Vec<Vec<String>> {
            v.iter()
                .map(|c| c.iter().map(|s| s.to_string()).collect())
                .collect()
        };

        assert_eq!(get("str"), strs(&[&["SET", "str", "hello"]]));
        assert_eq!(
            get("int"),
            strs(&[
                &["SET", "int", "-42"],
                &["PEXPIREAT", "int", "5000000000000"]
            ])
        );
        assert_eq!(
            db0[&b"bin"[..]],
            vec![vec![b"SET".to_vec(), b"bin".to_vec(), vec![0, 13, 10, 255]]]
        );
        // Already expired when the snapshot was taken: written anyway, the loader decides.
        assert_eq!(
            get("expired"),
            strs(&[&["SET", "expired", "old"], &["PEXPIREAT", "expired", "1"]])
        );

        let list = get("list");
        assert_eq!(list.len(), 3);
        let mut n = 0;
        for (cmd, size) in list.iter().zip([64, 64, 2]) {
            assert_eq!(cmd[..2], ["RPUSH", "list"]);
            assert_eq!(cmd.len(), 2 + size);
            for e in &cmd[2..] {
                assert_eq!(*e, format!("e{n}"));
                n += 1;
            }
        }

        assert_eq!(
            get("set:int"),
            strs(&[&["SADD", "set:int", "-1", "2", "3"]])
        );
        let set = get("set:ht");
        assert_eq!(set.iter().map(|c| c.len()).collect::<Vec<_>>(), [66, 8]);
        let mut members: Vec<String> = set
            .iter()
            .inspect(|c| assert_eq!(c[..2], ["SADD", "set:ht"]))
            .flat_map(|c| c[2..].to_vec())
            .collect();
        members.sort();
        let mut want: Vec<String> = (0..70).map(|i| format!("m{i}")).collect();
        want.sort();
        assert_eq!(members, want);

        assert_eq!(
            get("zset"),
            strs(&[&[
                "ZADD",
                "zset",
                "-inf",
                "bottom",
                "0.10000000000000001",
                "b",
                "1.5",
                "a",
                "10",
                "ten",
                "inf",
                "top"
            ]])
        );
        assert_eq!(get("zset:sl"), strs(&[&["ZADD", "zset:sl", "-0", "z"]]));

        let hash = get("hash");
        assert_eq!(hash.iter().map(|c| c.len()).collect::<Vec<_>>(), [130, 14]);
        let mut n = 0;
        for cmd in &hash {
            assert_eq!(cmd[..2], ["HMSET", "hash"]);
            for pair in cmd[2..].chunks(2) {
                assert_eq!(pair, [format!("f{n}"), format!("{n}")]);
                n += 1;
            }
        }
        assert_eq!(n, 70);
        assert_eq!(
            get("hash:ht"),
            vec![
                vec![
                    "HMSET".to_string(),
                    "hash:ht".into(),
                    "long".into(),
                    "v".repeat(100)
                ],
                vec!["PEXPIREAT".to_string(), "hash:ht".into(), "7000".into()],
            ]
        );

        assert_eq!(
            get("stream"),
            strs(&[
                &["XADD", "stream", "1-1", "a", "1"],
                &["XADD", "stream", "1-3", "a", "x y"],
                &["XADD", "stream", "2-0", "", ""],
                &[
                    "XSETID",
                    "stream",
                    "2-0",
                    "ENTRIESADDED",
                    "4",
                    "MAXDELETEDID",
                    "1-2"
                ],
                &[
                    "XGROUP",
                    "CREATE",
                    "stream",
                    "g1",
                    "1-3",
                    "ENTRIESREAD",
                    "3"
                ],
                &[
                    "XCLAIM",
                    "stream",
                    "g1",
                    "alice",
                    "0",
                    "1-2",
                    "TIME",
                    "1700000000001",
                    "RETRYCOUNT",
                    "1",
                    "JUSTID",
                    "FORCE"
                ],
                &[
                    "XCLAIM",
                    "stream",
                    "g1",
                    "alice",
                    "0",
                    "1-3",
                    "TIME",
                    "1700000000002",
                    "RETRYCOUNT",
                    "5",
                    "JUSTID",
                    "FORCE"
                ],
                &["XGROUP", "CREATECONSUMER", "stream", "g1", "bob"],
                &[
                    "XGROUP",
                    "CREATE",
                    "stream",
                    "g2",
                    "0-0",
                    "ENTRIESREAD",
                    "-1"
                ],
            ])
        );
        assert_eq!(
            get("empty"),
            strs(&[
                &["XADD", "empty", "MAXLEN", "0", "0-1", "x", "y"],
                &[
                    "XSETID",
                    "empty",
                    "0-0",
                    "ENTRIESADDED",
                    "0",
                    "MAXDELETEDID",
                    "0-0"
                ],
            ])
        );

        assert_eq!(
            text(&dbs["3"][&b"other"[..]]),
            strs(&[&["SET", "other", "x"]])
        );
    }

    #[test]
    fn bytes_are_exactly_redis_framing() {
        let mut ks = Keyspace::new(2, EncodingLimits::default());
        ks.dbs[1].insert(b"k", str_val(b"v"), 1_234, 0);
        let (out, w) = write(&ks, &[bytes::Bytes::from_static(b"code")]);
        assert_eq!(
            out,
            b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$4\r\ncode\r\n\
              *2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n\
              *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
              *3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$4\r\n1234\r\n"
        );
        assert_eq!(
            w,
            Written {
                keys: 1,
                bytes: out.len() as u64
            }
        );
        let (out, w) = write(&Keyspace::new(16, EncodingLimits::default()), &[]);
        assert!(out.is_empty());
        assert_eq!(w, Written::default());
    }

    #[test]
    fn emptied_stream_with_groups_and_large_values() {
        let l = NodeLimits::default();
        let mut s = Stream::new();
        for ms in [5, 6] {
            s.append(IdRequest::Exact(id(ms, 0)), &[b"f", b"v"], l)
                .expect("append");
        }
        s.delete(id(5, 0));
        s.delete(id(6, 0));
        let mut g = Group::new(id(6, 0), Some(2));
        g.deliver(id(6, 0), b"c", 99);
        s.groups.insert(blob(b"g"), g);
        let mut ks = Keyspace::new(1, EncodingLimits::default());
        ks.dbs[0].insert(b"s", Value::Stream(Box::new(s)), NO_EXPIRE, 0);
        // Larger than the flush threshold: the buffer grows for it, then shrinks back.
        let big = vec![b'z'; 3 * FLUSH_AT + 17];
        ks.dbs[0].insert(b"big", str_val(&big), NO_EXPIRE, 0);
        let (out, w) = write(&ks, &[]);
        assert_eq!(w.bytes as usize, out.len());
        let (_, dbs) = split(&parse(&out));
        assert_eq!(
            dbs["0"][&b"big"[..]],
            vec![vec![b"SET".to_vec(), b"big".to_vec(), big]]
        );
        assert_eq!(
            dbs["0"][&b"s"[..]],
            vec![
                argv(&["XADD", "s", "MAXLEN", "0", "0-1", "x", "y"]),
                argv(&[
                    "XSETID",
                    "s",
                    "6-0",
                    "ENTRIESADDED",
                    "2",
                    "MAXDELETEDID",
                    "6-0"
                ]),
                argv(&["XGROUP", "CREATE", "s", "g", "6-0", "ENTRIESREAD", "2"]),
                argv(&[
                    "XCLAIM",
                    "s",
                    "g",
                    "c",
                    "0",
                    "6-0",
                    "TIME",
                    "99",
                    "RETRYCOUNT",
                    "1",
                    "JUSTID",
                    "FORCE"
                ]),
            ]
        );
    }

    #[test]
    fn cancellation_stops_with_interrupted() {
        let ks = sample();
        let cancel = AtomicBool::new(true);
        let mut out = Vec::new();
        let err =
            write_dataset(&ks.snapshot(), &[], &mut out, Some(&cancel)).expect_err("cancelled");
        assert_eq!(err.kind(), io::ErrorKind::Interrupted);
        cancel.store(false, Ordering::Relaxed);
        let mut out = Vec::new();
        let w = write_dataset(&ks.snapshot(), &[], &mut out, Some(&cancel)).expect("write");
        assert_eq!(w.keys, 14);
    }

    #[test]
    fn write_errors_are_returned() {
        struct Failing;
        impl Write for Failing {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let err = write_dataset(&sample().snapshot(), &[], &mut Failing, None).expect_err("fails");
        assert_eq!(err.to_string(), "disk full");
    }
}
