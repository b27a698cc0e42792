//! Server-assisted client-side caching (`CLIENT TRACKING`), as Redis 7.0 does it.
//!
//! Two ways to follow changes:
//! - **default mode**: the keys a client reads are remembered in one table shared by every
//!   database (key → ids of the clients that read it); the first change to such a key sends
//!   each of them one invalidation and forgets the key, until they read it again;
//! - **broadcast mode** (`BCAST`): a client names prefixes (the empty prefix is every key);
//!   every change to a matching key is announced, batched per prefix.
//!
//! Invalidations go to the client itself as RESP3 push messages, or, redirected to another
//! client, as RESP3 pushes or RESP2 Pub/Sub messages on `__redis__:invalidate`. A flush (or
//! a dataset replaced by a load) invalidates everything at once with a null.
//!
//! Changes reach this module through the keyspace's modified-key log (kept only while
//! tracking is in use, see [`Tracking::in_use`]), which the executor drains with
//! [`Tracking::flush`] after each command, after eviction, and after each cron cycle. The
//! client whose command just ran gets its own invalidations in its reply buffer, after the
//! reply that caused them (or before the reply when eviction, not the command, caused
//! them), exactly where Redis writes them; everyone else gets them through their push
//! queue.
//!
//! Bounded: the table holds at most `tracking-table-max-keys` keys; past it, keys are
//! forgotten (their clients invalidated, as if the keys changed) with an effort that grows
//! while the table stays over the limit, as Redis's `trackingLimitUsedSlots`.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::session::ClientInfo;
use crate::config::Settings;
use crate::keyspace::types::HMap;
use crate::keyspace::{blob, Blob, Keyspace};
use crate::resp::{Proto, ReplyBuf};

/// Room for an invalidation frame's head (a RESP2 `message` on the invalidation channel
/// is the longest: 46 bytes).
const FRAME_HEAD: usize = 64;

/// The Pub/Sub channel RESP2 clients receive redirected invalidations on.
pub const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// CLIENT LIST flag bits kept in [`ClientInfo::tracking`].
pub use super::session::tracking_flags as flags;

/// How a client asked to be tracked (CLIENT TRACKING ON's options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// `BCAST`: announce every change to keys under the client's prefixes.
    pub bcast: bool,
    /// `OPTIN`: remember reads only after `CLIENT CACHING yes`.
    pub optin: bool,
    /// `OPTOUT`: remember reads except after `CLIENT CACHING no`.
    pub optout: bool,
    /// `NOLOOP`: no invalidations for the client's own changes.
    pub noloop: bool,
}

/// One client's tracking state.
#[derive(Debug)]
pub struct Tracker {
    info: Arc<ClientInfo>,
    /// The client invalidations are redirected to (`REDIRECT id`), if any.
    redirect: Option<Arc<ClientInfo>>,
    /// Its options.
    pub options: Options,
    /// `CLIENT CACHING yes|no` was given for the next command (or transaction).
    pub caching: bool,
    /// The redirection target disconnected.
    pub broken_redirect: bool,
    /// Broadcast prefixes, sorted.
    pub prefixes: Vec<Blob>,
}

impl Tracker {
    /// The redirection target's id, 0 when invalidations go to the client itself.
    pub fn redirect_id(&self) -> u64 {
        self.redirect.as_ref().map_or(0, |r| r.id)
    }

    /// Whether this client's reads are remembered now (OPTIN/OPTOUT and CLIENT CACHING).
    fn remembers_reads(&self) -> bool {
        let optin_refuses = self.options.optin && !self.caching;
        let optout_refuses = self.options.optout && self.caching;
        !self.options.bcast && !optin_refuses && !optout_refuses
    }

    fn publish_flags(&self) {
        let mut bits = flags::ON;
        if self.broken_redirect {
            bits |= flags::BROKEN_REDIRECT;
        }
        if self.options.bcast {
            bits |= flags::BCAST;
        }
        self.info.tracking.store(bits, Ordering::Relaxed);
        self.info
            .tracking_redirect
            .store(self.redirect_id() as i64, Ordering::Relaxed);
    }
}

/// A broadcast prefix: its clients and the keys under it changed since the last flush, each
/// with the client that changed it last (none for expiry and eviction).
#[derive(Debug, Default)]
struct Prefix {
    clients: Vec<u64>,
    changed: BTreeMap<Blob, Option<u64>>,
}

/// The client whose command is running, and its reply buffer: its own invalidations are
/// written there, in order with its replies.
pub struct Current<'a> {
    /// Client id.
    pub id: u64,
    /// Its reply buffer.
    pub out: &'a mut ReplyBuf,
}

/// What one invalidation message says.
#[derive(Debug)]
enum Payload {
    /// One key changed.
    Key(Blob),
    /// Several keys (broadcast), already encoded as a RESP array.
    Encoded(Bytes),
    /// Every key (a flush): a null.
    All,
}

/// Every tracking client, the table of remembered reads, and the broadcast prefixes.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Key → ids (sorted) of the clients that read it since its last change.
    table: HMap<Blob, Vec<u64>>,
    /// Sum of the id lists' lengths (INFO `tracking_total_items`).
    items: usize,
    prefixes: BTreeMap<Blob, Prefix>,
    trackers: HMap<u64, Tracker>,
    /// Consecutive limit rounds that left the table over `tracking-table-max-keys`.
    limit_rounds: u32,
    /// Invalidations decided and not sent yet (sent by the next [`Tracking::flush`]).
    pending: Vec<(u64, Payload)>,
}

impl Tracking {
    /// True while anything needs the keyspace's modified-key log.
    pub fn in_use(&self) -> bool {
        !self.trackers.is_empty() || !self.table.is_empty()
    }

    /// Clients with tracking on (INFO `tracking_clients`).
    pub fn clients(&self) -> usize {
        self.trackers.len()
    }

    /// Keys in the table (INFO `tracking_total_keys`).
    pub fn keys(&self) -> usize {
        self.table.len()
    }

    /// Client entries across the table (INFO `tracking_total_items`).
    pub fn items(&self) -> usize {
        self.items
    }

    /// Broadcast prefixes in use (INFO `tracking_total_prefixes`).
    pub fn prefix_count(&self) -> usize {
        self.prefixes.len()
    }

    /// Client `id`'s tracking state, when it tracks.
    pub fn tracker(&self, id: u64) -> Option<&Tracker> {
        self.trackers.get(&id)
    }

    /// Client `id`'s tracking state, for CLIENT CACHING.
    pub fn tracker_mut(&mut self, id: u64) -> Option<&mut Tracker> {
        self.trackers.get_mut(&id)
    }

    /// Turns tracking on for `info` (CLIENT TRACKING ON, options already checked): a
    /// client tracking already keeps its prefixes and gains `prefixes`, as in Redis.
    pub fn enable(
        &mut self,
        keyspace: &mut Keyspace,
        info: Arc<ClientInfo>,
        options: Options,
        redirect: Option<Arc<ClientInfo>>,
        prefixes: Vec<Blob>,
    ) {
        let id = info.id;
        let tracker = self.trackers.entry(id).or_insert_with(|| Tracker {
            info,
            redirect: None,
            options: Options::default(),
            caching: false,
            broken_redirect: false,
            prefixes: Vec::new(),
        });
        tracker.redirect = redirect;
        tracker.options = options;
        tracker.broken_redirect = false;
        if options.bcast {
            let wanted = if prefixes.is_empty() {
                vec![Blob::default()]
            } else {
                prefixes
            };
            for p in wanted {
                if let Err(at) = tracker.prefixes.binary_search(&p) {
                    tracker.prefixes.insert(at, p.clone());
                    self.prefixes.entry(p).or_default().clients.push(id);
                }
            }
        }
        tracker.publish_flags();
        keyspace.log_modified_keys(true);
    }

    /// Turns tracking off for client `id` (CLIENT TRACKING OFF, RESET, disconnect). Its
    /// entries in the table go lazily, as in Redis: skipped, then dropped with their key.
    pub fn disable(&mut self, keyspace: &mut Keyspace, id: u64) {
        let Some(tracker) = self.trackers.remove(&id) else {
            return;
        };
        for p in &tracker.prefixes {
            if let Some(prefix) = self.prefixes.get_mut(p) {
                prefix.clients.retain(|&c| c != id);
                if prefix.clients.is_empty() {
                    self.prefixes.remove(p);
                }
            }
        }
        tracker.info.tracking.store(0, Ordering::Relaxed);
        tracker.info.tracking_redirect.store(-1, Ordering::Relaxed);
        if !self.in_use() {
            keyspace.log_modified_keys(false);
        }
    }

    /// Ends a command for client `id`: a `CLIENT CACHING` answer lasts for the next command
    /// only (or the whole transaction it is given in), as in Redis.
    pub fn command_done(&mut self, id: u64, was_client_command: bool, in_multi: bool) {
        if was_client_command || in_multi {
            return;
        }
        if let Some(t) = self.trackers.get_mut(&id) {
            t.caching = false;
        }
    }

    /// Remembers that client `id` read `keys`, when it tracks in default mode and its
    /// OPTIN/OPTOUT choice lets this read count. The changes made so far (by `id`, unless
    /// expiry made them) are judged first: a key changed and then read in one transaction
    /// is invalidated for the readers before the change, not for this read.
    pub fn remember<'k>(
        &mut self,
        keyspace: &mut Keyspace,
        id: u64,
        keys: impl Iterator<Item = &'k [u8]>,
    ) {
        self.collect(keyspace, Some(id));
        if !self.trackers.get(&id).is_some_and(Tracker::remembers_reads) {
            return;
        }
        for key in keys {
            if !self.table.contains_key(key) {
                self.table.insert(blob(key), Vec::new());
            }
            let Some(ids) = self.table.get_mut(key) else {
                continue;
            };
            if let Err(at) = ids.binary_search(&id) {
                ids.insert(at, id);
                self.items += 1;
            }
        }
    }

    /// Sends the invalidations for everything modified since the last flush: `caller` made
    /// the changes not caused by expiry (for NOLOOP); `current`'s own messages go to its
    /// reply buffer.
    pub fn flush(
        &mut self,
        keyspace: &mut Keyspace,
        settings: &Settings,
        caller: Option<u64>,
        mut current: Option<Current<'_>>,
    ) {
        if !self.in_use() {
            return;
        }
        self.collect(keyspace, caller);
        let mut messages = std::mem::take(&mut self.pending);
        self.broadcast(&mut messages);
        self.deliver(messages, settings, &mut current);
    }

    /// Judges the keyspace's changes since the last call: invalidations for the table's
    /// readers (queued in `pending`), keys for the broadcast prefixes. `caller` made the
    /// changes expiry did not.
    fn collect(&mut self, keyspace: &mut Keyspace, caller: Option<u64>) {
        let mut messages = std::mem::take(&mut self.pending);
        let mut everything = false;
        for db in &mut keyspace.dbs {
            let modified = db.take_modified();
            everything |= modified.all;
            for (key, by_expiry) in modified.keys {
                let by = if by_expiry { None } else { caller };
                self.invalidate(key, by, true, &mut messages);
            }
        }
        // One null per client, however many databases a FLUSHALL emptied.
        if everything {
            self.invalidate_all(&mut messages);
        }
        self.pending = messages;
    }

    /// Keeps the table within `tracking-table-max-keys` (0: no limit): forgets keys,
    /// invalidating them for their clients, up to an effort of 100 keys per consecutive
    /// round spent over the limit (Redis's `trackingLimitUsedSlots`).
    pub fn enforce_limit(&mut self, settings: &Settings, mut current: Option<Current<'_>>) {
        let max = settings.tracking_table_max_keys as usize;
        if max == 0 || self.table.len() <= max {
            self.limit_rounds = 0;
            return;
        }
        let effort = 100 * (self.limit_rounds as usize + 1);
        let excess = self.table.len() - max;
        let victims: Vec<Blob> = self
            .table
            .keys()
            .take(excess.min(effort))
            .cloned()
            .collect();
        let mut messages = Vec::new();
        for key in victims {
            self.invalidate(key, None, false, &mut messages);
        }
        self.deliver(messages, settings, &mut current);
        if self.table.len() > max {
            self.limit_rounds += 1;
        } else {
            self.limit_rounds = 0;
        }
    }

    /// Redis's `trackingInvalidateKey`: queues `key`'s invalidation for every client that
    /// read it, forgets it, and (`bcast`) records it for the prefixes it falls under.
    fn invalidate(
        &mut self,
        key: Blob,
        caller: Option<u64>,
        bcast: bool,
        messages: &mut Vec<(u64, Payload)>,
    ) {
        if bcast {
            for (prefix, state) in self.prefixes.iter_mut() {
                if key.starts_with(prefix) {
                    state.changed.insert(key.clone(), caller);
                }
            }
        }
        let Some(ids) = self.table.remove(&key) else {
            return;
        };
        self.items -= ids.len();
        for id in ids {
            let Some(t) = self.trackers.get(&id) else {
                continue;
            };
            // A client that switched to broadcast mode does not hear about keys it read
            // before; NOLOOP hides the client's own changes.
            if t.options.bcast || (t.options.noloop && caller == Some(id)) {
                continue;
            }
            messages.push((id, Payload::Key(key.clone())));
        }
    }

    /// A flush: every tracking client is told that every key changed; the table empties.
    fn invalidate_all(&mut self, messages: &mut Vec<(u64, Payload)>) {
        let mut ids: Vec<u64> = self.trackers.keys().copied().collect();
        ids.sort_unstable();
        messages.extend(ids.into_iter().map(|id| (id, Payload::All)));
        self.table = HMap::default();
        self.items = 0;
    }

    /// Announces, per prefix, the keys changed under it to its broadcast clients (NOLOOP
    /// clients without the keys they changed themselves).
    fn broadcast(&mut self, messages: &mut Vec<(u64, Payload)>) {
        for state in self.prefixes.values_mut() {
            if state.changed.is_empty() {
                continue;
            }
            let changed = std::mem::take(&mut state.changed);
            let all = encode_keys(changed.keys());
            for &id in &state.clients {
                let noloop = self.trackers.get(&id).is_some_and(|t| t.options.noloop);
                if !noloop {
                    messages.push((id, Payload::Encoded(all.clone())));
                    continue;
                }
                let mut theirs = changed
                    .iter()
                    .filter(|(_, by)| **by != Some(id))
                    .map(|(k, _)| k)
                    .peekable();
                if theirs.peek().is_some() {
                    messages.push((id, Payload::Encoded(encode_keys(theirs))));
                }
            }
        }
    }

    /// Redis's `sendTrackingMessage` for each message: to the redirection target when
    /// there is one (a RESP3 push, or a RESP2 Pub/Sub message if it is subscribed), else to
    /// the client itself in RESP3 (RESP2 without redirection cannot receive pushes). A gone
    /// target marks the redirection broken and tells a RESP3 client so.
    fn deliver(
        &mut self,
        messages: Vec<(u64, Payload)>,
        settings: &Settings,
        current: &mut Option<Current<'_>>,
    ) {
        for (id, payload) in messages {
            let Some(tracker) = self.trackers.get_mut(&id) else {
                continue;
            };
            let own_proto = proto_of(&tracker.info);
            let (target, redirected) = match &tracker.redirect {
                Some(r) if is_gone(r) => {
                    tracker.broken_redirect = true;
                    tracker.publish_flags();
                    if own_proto == Proto::Resp3 {
                        let mut frame = ReplyBuf::new(Proto::Resp3);
                        frame.push(2);
                        frame.bulk(b"tracking-redir-broken");
                        frame.int(tracker.redirect_id() as i64);
                        send(&tracker.info, frame.buf, settings, current);
                    }
                    continue;
                }
                Some(r) => (r.clone(), true),
                None => (tracker.info.clone(), false),
            };
            // Sized whole (see `ReplyBuf::with_capacity`): a queued frame counts in flight
            // by its length.
            let payload_len = match &payload {
                Payload::Key(key) => key.len() + 32,
                Payload::Encoded(keys) => keys.len(),
                Payload::All => 8,
            };
            let mut frame = ReplyBuf::with_capacity(proto_of(&target), FRAME_HEAD + payload_len);
            if frame.proto == Proto::Resp3 {
                frame.push(2);
                frame.bulk(b"invalidate");
            } else if redirected && target.is_pubsub() {
                frame.push(3);
                frame.bulk(b"message");
                frame.bulk(INVALIDATE_CHANNEL);
            } else {
                continue;
            }
            match &payload {
                Payload::Key(key) => {
                    frame.array(1);
                    frame.bulk(key);
                }
                Payload::Encoded(keys) => frame.raw(keys),
                // Redis writes the null of the tracking client's own protocol.
                Payload::All => frame.raw(if own_proto == Proto::Resp3 {
                    b"_\r\n"
                } else {
                    b"$-1\r\n"
                }),
            }
            send(&target, frame.buf, settings, current);
        }
    }
}

/// A RESP array of `keys`.
fn encode_keys<'k>(keys: impl Iterator<Item = &'k Blob>) -> Bytes {
    let keys: Vec<&Blob> = keys.collect();
    let size = 16 + keys.iter().map(|k| k.len() + 24).sum::<usize>();
    let mut out = ReplyBuf::with_capacity(Proto::Resp2, size);
    out.array(keys.len());
    for k in keys {
        out.bulk(k);
    }
    Bytes::from(out.buf)
}

fn proto_of(info: &ClientInfo) -> Proto {
    if info.resp.load(Ordering::Relaxed) == 3 {
        Proto::Resp3
    } else {
        Proto::Resp2
    }
}

/// True when the client disconnected (or is being closed): Redis no longer finds its id.
fn is_gone(info: &ClientInfo) -> bool {
    info.killed.load(Ordering::Acquire) || info.push.get().is_none_or(|tx| tx.is_closed())
}

/// Writes `frame` to `to`: into the running command's reply buffer when `to` is that
/// client, else through its push queue (counted in its output, within its limit).
fn send(to: &ClientInfo, frame: Vec<u8>, settings: &Settings, current: &mut Option<Current<'_>>) {
    if let Some(cur) = current.as_mut() {
        if cur.id == to.id {
            cur.out.raw(&frame);
            return;
        }
    }
    let Some(tx) = to.push.get() else {
        return;
    };
    if to.killed.load(Ordering::Acquire) {
        return;
    }
    to.omem.fetch_add(frame.len(), Ordering::Relaxed);
    if to.enforce_output_limit(&to.output_limit(settings)) {
        to.omem.fetch_sub(frame.len(), Ordering::Relaxed);
        return;
    }
    let _ = tx.send(Bytes::from(frame));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::push::{push_queue, PushReceiver};
    use crate::keyspace::value::StrValue;
    use crate::keyspace::{EncodingLimits, Value, NO_EXPIRE};

    fn client(id: u64, resp: u8) -> (Arc<ClientInfo>, PushReceiver) {
        let info = Arc::new(ClientInfo::new(
            id,
            "127.0.0.1:1".into(),
            "127.0.0.1:2".into(),
        ));
        info.resp.store(resp, Ordering::Relaxed);
        let (tx, rx) = push_queue();
        info.push.set(tx).unwrap();
        (info, rx)
    }

    fn set(ks: &mut Keyspace, key: &str) {
        let v = Value::Str(StrValue::from_bytes(b"v"));
        ks.dbs[0].insert(key.as_bytes(), v, NO_EXPIRE, 0);
    }

    fn drain(rx: &mut PushReceiver) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(b) = rx.try_recv() {
            all.extend_from_slice(&b);
        }
        all
    }

    fn setup() -> (Keyspace, Settings, Tracking) {
        let settings = Settings::defaults();
        (
            Keyspace::new(2, EncodingLimits::default()),
            settings,
            Tracking::default(),
        )
    }

    #[test]
    fn a_read_key_is_invalidated_once_on_its_first_change() {
        let (mut ks, settings, mut t) = setup();
        let (info, mut rx) = client(1, 3);
        t.enable(&mut ks, info, Options::default(), None, Vec::new());
        t.remember(&mut ks, 1, [&b"k"[..]].into_iter());
        assert_eq!((t.keys(), t.items()), (1, 1));
        set(&mut ks, "k");
        set(&mut ks, "other");
        t.flush(&mut ks, &settings, Some(2), None);
        assert_eq!(
            drain(&mut rx),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        set(&mut ks, "k");
        t.flush(&mut ks, &settings, Some(2), None);
        assert!(
            drain(&mut rx).is_empty(),
            "forgotten after the first change"
        );
        assert_eq!((t.keys(), t.items()), (0, 0));
    }

    /// A queued frame counts in flight by its length (`push::footprint`): its allocation
    /// must be about that long, or a burst of invalidations after an eviction holds twice
    /// what `maxmemory` allows for and the next command evicts again (Redis 7.0's "client
    /// tracking don't cause eviction feedback loop" drained the keyspace).
    #[test]
    fn an_invalidation_frame_occupies_about_its_length() {
        let (mut ks, settings, mut t) = setup();
        let (info, mut rx) = client(1, 3);
        t.enable(&mut ks, info, Options::default(), None, Vec::new());
        let key = "k".repeat(1000);
        t.remember(&mut ks, 1, [key.as_bytes()].into_iter());
        set(&mut ks, &key);
        t.flush(&mut ks, &settings, Some(2), None);
        let frame = Vec::from(rx.try_recv().expect("an invalidation"));
        assert!(frame.ends_with(format!("{key}\r\n").as_bytes()));
        assert!(
            frame.capacity() <= frame.len() + FRAME_HEAD + 32,
            "{} bytes in an allocation of {}",
            frame.len(),
            frame.capacity()
        );
    }

    #[test]
    fn noloop_hides_the_clients_own_changes() {
        let (mut ks, settings, mut t) = setup();
        let (info, mut rx) = client(1, 3);
        let noloop = Options {
            noloop: true,
            ..Options::default()
        };
        t.enable(&mut ks, info, noloop, None, Vec::new());
        t.remember(&mut ks, 1, [&b"k"[..]].into_iter());
        set(&mut ks, "k");
        t.flush(&mut ks, &settings, Some(1), None);
        assert!(drain(&mut rx).is_empty());
        assert_eq!(t.keys(), 0, "the key is forgotten all the same");
    }

    #[test]
    fn the_running_clients_own_messages_go_to_its_reply_buffer() {
        let (mut ks, settings, mut t) = setup();
        let (info, mut rx) = client(1, 3);
        t.enable(&mut ks, info, Options::default(), None, Vec::new());
        t.remember(&mut ks, 1, [&b"k"[..]].into_iter());
        set(&mut ks, "k");
        let mut out = ReplyBuf::new(Proto::Resp3);
        out.int(1);
        t.flush(
            &mut ks,
            &settings,
            Some(1),
            Some(Current {
                id: 1,
                out: &mut out,
            }),
        );
        assert_eq!(
            out.buf,
            b":1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        assert!(drain(&mut rx).is_empty());
    }

    #[test]
    fn redirected_to_a_resp2_subscriber_as_pubsub_messages() {
        let (mut ks, settings, mut t) = setup();
        let (info, _) = client(1, 2);
        let (target, mut rx) = client(2, 2);
        target.sub.store(1, Ordering::Relaxed);
        t.enable(
            &mut ks,
            info,
            Options::default(),
            Some(target.clone()),
            Vec::new(),
        );
        t.remember(&mut ks, 1, [&b"k"[..]].into_iter());
        ks.dbs[1].clear();
        t.flush(&mut ks, &settings, None, None);
        assert_eq!(
            drain(&mut rx),
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
        );
        assert_eq!(t.keys(), 0, "a flush empties the table");
    }

    #[test]
    fn a_gone_redirection_target_is_reported_to_a_resp3_client() {
        let (mut ks, settings, mut t) = setup();
        let (info, mut rx) = client(1, 3);
        let (target, target_rx) = client(7, 2);
        t.enable(
            &mut ks,
            info.clone(),
            Options::default(),
            Some(target),
            Vec::new(),
        );
        t.remember(&mut ks, 1, [&b"k"[..]].into_iter());
        drop(target_rx);
        set(&mut ks, "k");
        t.flush(&mut ks, &settings, None, None);
        assert_eq!(
            drain(&mut rx),
            b">2\r\n$21\r\ntracking-redir-broken\r\n:7\r\n"
        );
        assert!(t.tracker(1).unwrap().broken_redirect);
        let bits = info.tracking.load(Ordering::Relaxed);
        assert_eq!(bits, flags::ON | flags::BROKEN_REDIRECT);
    }

    #[test]
    fn broadcast_batches_per_prefix_and_noloop_drops_own_keys() {
        let (mut ks, settings, mut t) = setup();
        let (a, mut rx_a) = client(1, 3);
        let (b, mut rx_b) = client(2, 3);
        let bcast = Options {
            bcast: true,
            ..Options::default()
        };
        let bcast_noloop = Options {
            noloop: true,
            ..bcast
        };
        t.enable(&mut ks, a, bcast, None, vec![blob(b"a:")]);
        t.enable(&mut ks, b, bcast_noloop, None, vec![blob(b"a:")]);
        set(&mut ks, "a:2");
        set(&mut ks, "a:1");
        set(&mut ks, "b:1");
        t.flush(&mut ks, &settings, Some(2), None);
        assert_eq!(
            drain(&mut rx_a),
            b">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\na:1\r\n$3\r\na:2\r\n"
        );
        assert!(drain(&mut rx_b).is_empty(), "all its own changes");
        assert_eq!(t.prefix_count(), 1);
        t.disable(&mut ks, 1);
        t.disable(&mut ks, 2);
        assert_eq!(t.prefix_count(), 0);
        assert!(!ks.dbs[0].logs_modified_keys(), "no log once nobody tracks");
    }

    #[test]
    fn optin_remembers_only_after_caching_yes_for_one_command() {
        let (mut ks, _, mut t) = setup();
        let (info, _) = client(1, 3);
        let optin = Options {
            optin: true,
            ..Options::default()
        };
        t.enable(&mut ks, info, optin, None, Vec::new());
        t.remember(&mut ks, 1, [&b"a"[..]].into_iter());
        assert_eq!(t.keys(), 0);
        t.tracker_mut(1).unwrap().caching = true;
        t.command_done(1, true, false);
        t.remember(&mut ks, 1, [&b"b"[..]].into_iter());
        t.command_done(1, false, false);
        t.remember(&mut ks, 1, [&b"c"[..]].into_iter());
        assert_eq!(t.keys(), 1, "only the read right after CLIENT CACHING yes");
    }

    #[test]
    fn the_limit_forgets_keys_with_growing_effort() {
        let (mut ks, mut settings, mut t) = setup();
        let (info, mut rx) = client(1, 3);
        t.enable(&mut ks, info, Options::default(), None, Vec::new());
        let keys: Vec<String> = (0..250).map(|i| format!("key{i}")).collect();
        t.remember(&mut ks, 1, keys.iter().map(|k| k.as_bytes()));
        settings.tracking_table_max_keys = 1;
        t.enforce_limit(&settings, None);
        assert_eq!(t.keys(), 150, "100 keys in the first round");
        t.enforce_limit(&settings, None);
        assert_eq!(t.keys(), 1, "then up to 200");
        let sent = drain(&mut rx);
        let messages = sent.windows(12).filter(|w| w == b"$10\r\ninvalid").count();
        assert_eq!(messages, 249);
    }
}
