//! Per-client state: the connection's own [`Session`] and the shared [`ClientInfo`] other
//! clients see through CLIENT LIST / CLIENT KILL, kept in the [`ClientRegistry`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::config::OutputLimit;
use crate::keyspace::{now_ms, Blob, WatchFlag};
use crate::resp::{Argv, Proto};

/// What kind of client a connection is, as CLIENT LIST / KILL TYPE name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// An ordinary client.
    Normal,
    /// One of our replicas (after SYNC/PSYNC).
    Replica,
    /// Our master's replication link.
    Master,
}

/// What other clients may learn about (and do to) a connection.
#[derive(Debug)]
pub struct ClientInfo {
    /// Unique, increasing client id.
    pub id: u64,
    /// Peer address `ip:port`.
    pub addr: String,
    /// Local address `ip:port`.
    pub laddr: String,
    /// When the connection was accepted.
    pub created: Instant,
    /// Connection name (CLIENT SETNAME).
    pub name: Mutex<Option<Bytes>>,
    /// Selected database.
    pub db: AtomicUsize,
    /// Unix ms of the last command.
    pub last_interaction_ms: AtomicI64,
    /// Full name of the last command (`client|list`).
    pub last_cmd: Mutex<&'static str>,
    kind: AtomicU8,
    /// Channel subscriptions.
    pub sub: AtomicUsize,
    /// Pattern subscriptions.
    pub psub: AtomicUsize,
    /// Shard channel subscriptions (CLIENT LIST `ssub`).
    pub ssub: AtomicUsize,
    /// Commands queued in MULTI, or -1.
    pub multi: AtomicI64,
    /// Protocol version (2 or 3).
    pub resp: AtomicU8,
    /// Bytes waiting in the query buffer.
    pub qbuf: AtomicUsize,
    /// Bytes the query buffer holds allocated (CLIENT LIST `qbuf` + `qbuf-free`).
    pub qbuf_cap: AtomicUsize,
    /// The most the query buffer held (or a bulk being read needed) since the connection
    /// last resized it: what a resize keeps room for.
    pub qbuf_peak: AtomicUsize,
    /// The cron asks the connection to look at its query buffer (Redis's
    /// `clientsCronResizeQueryBuffer`, run by the connection that owns the buffer).
    pub housekeeping: Notify,
    /// Bytes of Pub/Sub messages queued for the connection task and not taken yet.
    pub omem: AtomicUsize,
    /// Bytes of replies the connection task holds and has not written yet (a client that
    /// does not read keeps them there).
    pub reply_pending: AtomicUsize,
    /// Bytes the connection's reply buffer holds allocated (what it costs, written or not).
    pub reply_cap: AtomicUsize,
    /// What `maxmemory-clients` counted for this client when it evicted it: memory being
    /// freed, not counted against `maxmemory` until the connection has let it go.
    evicted_memory: AtomicU64,
    /// Unix ms when the output first went over its class's soft limit (0 = it is not).
    pub over_soft_since_ms: AtomicI64,
    /// Blocked in a blocking command.
    pub blocked: AtomicBool,
    /// In MONITOR mode (CLIENT LIST flag `O`).
    pub monitor: AtomicBool,
    /// The ACL user it is authenticated as (CLIENT LIST `user=`; ACL DELUSER closes it).
    pub user: Mutex<Bytes>,
    /// Set when the client must be disconnected (CLIENT KILL, output limits, shutdown).
    pub killed: AtomicBool,
    /// Wakes the connection task when `killed` is set.
    pub kill_notify: Notify,
    /// Total bytes read from this client.
    pub net_in: AtomicU64,
    /// Where messages the engine sends this client go (Pub/Sub, invalidations), drained by
    /// its connection task; closed when the connection ends. Unset for internal clients.
    pub push: std::sync::OnceLock<super::push::PushSender>,
    /// CLIENT TRACKING's CLIENT LIST flags (see [`tracking_flags`]).
    pub tracking: AtomicU8,
    /// CLIENT NO-EVICT: never disconnected by `maxmemory-clients` (CLIENT LIST flag `e`).
    pub no_evict: AtomicBool,
    /// CLIENT LIST `redir=`: the tracking redirection (0 = none, -1 = not tracking).
    pub tracking_redirect: AtomicI64,
    /// The descriptor of the client's socket, which its connection task owns (none for
    /// internal clients).
    pub raw_fd: Option<std::os::fd::RawFd>,
    /// A replica link's own handle on its socket (see [`ClientInfo::hold_replica_socket`]).
    replica_socket: Mutex<Option<std::os::fd::OwnedFd>>,
}

impl ClientInfo {
    /// Shared info for a new connection.
    pub fn new(id: u64, addr: String, laddr: String) -> ClientInfo {
        ClientInfo {
            id,
            addr,
            laddr,
            created: Instant::now(),
            name: Mutex::new(None),
            db: AtomicUsize::new(0),
            last_interaction_ms: AtomicI64::new(now_ms()),
            last_cmd: Mutex::new("NULL"),
            kind: AtomicU8::new(0),
            sub: AtomicUsize::new(0),
            psub: AtomicUsize::new(0),
            ssub: AtomicUsize::new(0),
            multi: AtomicI64::new(-1),
            resp: AtomicU8::new(2),
            qbuf: AtomicUsize::new(0),
            qbuf_cap: AtomicUsize::new(0),
            qbuf_peak: AtomicUsize::new(0),
            housekeeping: Notify::new(),
            omem: AtomicUsize::new(0),
            reply_pending: AtomicUsize::new(0),
            reply_cap: AtomicUsize::new(0),
            evicted_memory: AtomicU64::new(0),
            over_soft_since_ms: AtomicI64::new(0),
            blocked: AtomicBool::new(false),
            monitor: AtomicBool::new(false),
            user: Mutex::new(Bytes::from_static(b"default")),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
            net_in: AtomicU64::new(0),
            push: std::sync::OnceLock::new(),
            tracking: AtomicU8::new(0),
            no_evict: AtomicBool::new(false),
            tracking_redirect: AtomicI64::new(-1),
            raw_fd: None,
            replica_socket: Mutex::new(None),
        }
    }

    /// The client's kind.
    pub fn kind(&self) -> ClientKind {
        match self.kind.load(Ordering::Relaxed) {
            1 => ClientKind::Replica,
            2 => ClientKind::Master,
            _ => ClientKind::Normal,
        }
    }

    /// Changes the client's kind.
    pub fn set_kind(&self, kind: ClientKind) {
        let v = match kind {
            ClientKind::Normal => 0,
            ClientKind::Replica => 1,
            ClientKind::Master => 2,
        };
        self.kind.store(v, Ordering::Relaxed);
    }

    /// True when subscribed to anything.
    pub fn is_pubsub(&self) -> bool {
        self.sub.load(Ordering::Relaxed)
            + self.psub.load(Ordering::Relaxed)
            + self.ssub.load(Ordering::Relaxed)
            > 0
    }

    /// Everything queued for this client and not written yet (CLIENT LIST `omem`).
    pub fn output_pending(&self) -> usize {
        self.omem.load(Ordering::Relaxed) + self.reply_pending.load(Ordering::Relaxed)
    }

    /// The `client-output-buffer-limit` class that applies: pubsub for a subscriber,
    /// normal otherwise (replicas are limited by their link, masters never).
    pub fn output_limit(&self, settings: &crate::config::Settings) -> OutputLimit {
        if self.is_pubsub() {
            settings.obuf_pubsub
        } else {
            settings.obuf_normal
        }
    }

    /// Checks what is queued for this client against `limit`; on a breach the client is
    /// closed (logged once, in Redis's words) and true is returned.
    pub fn enforce_output_limit(&self, limit: &OutputLimit) -> bool {
        let mut since = self.over_soft_since_ms.load(Ordering::Relaxed);
        let breach = limit.check(self.output_pending() as u64, &mut since, now_ms());
        self.over_soft_since_ms.store(since, Ordering::Relaxed);
        if breach.is_none() {
            return false;
        }
        if !self.killed.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.describe()
            );
            self.kill_notify.notify_one();
        }
        true
    }

    /// The cron's visit (Redis's `clientsCronResizeQueryBuffer` conditions): true when the
    /// connection should resize its query buffer — it wastes more than 4 KiB and the client
    /// is idle for over 2 s, or it is over 32 KiB and twice its peak since the last visit
    /// (the connection then resizes and restarts the peak); otherwise the peak restarts from
    /// what the buffer holds now.
    pub fn query_buffer_visit(&self, now_ms: i64) -> bool {
        let cap = self.qbuf_cap.load(Ordering::Relaxed);
        let held = self.qbuf.load(Ordering::Relaxed);
        let idle_ms = now_ms - self.last_interaction_ms.load(Ordering::Relaxed);
        let peak = self.qbuf_peak.load(Ordering::Relaxed);
        let resize = cap.saturating_sub(held) > 4 * 1024
            && (idle_ms > 2000 || (cap > 32 * 1024 && cap / 2 > peak));
        if !resize {
            self.qbuf_peak.store(held, Ordering::Relaxed);
        }
        resize
    }

    /// What this client's buffers cost, as `maxmemory-clients` and CLIENT LIST `tot-mem`
    /// count them: the allocations of its query and reply buffers (not only the bytes they
    /// hold: the allocator's figure, which `maxmemory` reads, counts the allocations) and
    /// the messages queued for it.
    pub fn buffer_memory(&self) -> usize {
        let reply = self
            .reply_cap
            .load(Ordering::Relaxed)
            .max(self.reply_pending.load(Ordering::Relaxed));
        self.qbuf_cap.load(Ordering::Relaxed) + reply + self.omem.load(Ordering::Relaxed)
    }

    /// Whether `maxmemory-clients` may disconnect this client (Redis's
    /// `clientEvictionAllowed`): normal and Pub/Sub connections, unless CLIENT NO-EVICT.
    fn evictable(&self) -> bool {
        self.kind() == ClientKind::Normal
            && !self.no_evict.load(Ordering::Relaxed)
            && !self.killed.load(Ordering::Relaxed)
            && self.push.get().is_some()
    }

    /// Asks the connection to close. A replica link's socket is shut down at once, before
    /// the killing command's reply goes out, as Redis closes it before its next event-loop
    /// turn: a test (or an operator) that kills the link and then asks the replica sees it
    /// disconnected, and the link cannot send another byte.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        if let Some(socket) = self.replica_socket.lock().as_ref() {
            let _ = socket2::SockRef::from(socket).shutdown(std::net::Shutdown::Both);
        }
        self.kill_notify.notify_one();
    }

    /// Keeps a duplicate of the socket's descriptor for as long as the connection is a
    /// replica link, so that [`ClientInfo::kill`] can shut it down from any thread. Called
    /// at the hand-off, while the connection task still owns the socket.
    pub fn hold_replica_socket(&self) {
        let Some(fd) = self.raw_fd else { return };
        // SAFETY: the connection task owns the socket behind `fd` and keeps it open for the
        // whole call (it is the caller); the duplicate made here is owned separately.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        if let Ok(dup) = borrowed.try_clone_to_owned() {
            *self.replica_socket.lock() = Some(dup);
        }
    }

    /// Drops the duplicate once the replica link has ended.
    pub fn release_replica_socket(&self) {
        self.replica_socket.lock().take();
    }

    /// The CLIENT LIST / CLIENT INFO line for this client.
    pub fn describe(&self) -> String {
        let now = now_ms();
        let name = self
            .name
            .lock()
            .as_ref()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let mut flags = String::new();
        match self.kind() {
            ClientKind::Replica => flags.push('S'),
            ClientKind::Master => flags.push('M'),
            ClientKind::Normal if self.monitor.load(Ordering::Relaxed) => flags.push('O'),
            ClientKind::Normal => {}
        }
        if self.is_pubsub() {
            flags.push('P');
        }
        if self.multi.load(Ordering::Relaxed) >= 0 {
            flags.push('x');
        }
        if self.blocked.load(Ordering::Relaxed) {
            flags.push('b');
        }
        let tracking = self.tracking.load(Ordering::Relaxed);
        for (bit, letter) in [
            (tracking_flags::ON, 't'),
            (tracking_flags::BROKEN_REDIRECT, 'R'),
            (tracking_flags::BCAST, 'B'),
        ] {
            if tracking & bit != 0 {
                flags.push(letter);
            }
        }
        if self.no_evict.load(Ordering::Relaxed) {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let qbuf = self.qbuf.load(Ordering::Relaxed);
        let qbuf_free = self.qbuf_cap.load(Ordering::Relaxed).saturating_sub(qbuf);
        let omem = self.output_pending();
        format!(
            "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            name,
            self.created.elapsed().as_secs(),
            ((now - self.last_interaction_ms.load(Ordering::Relaxed)).max(0) / 1000),
            flags,
            self.db.load(Ordering::Relaxed),
            self.sub.load(Ordering::Relaxed),
            self.psub.load(Ordering::Relaxed),
            self.ssub.load(Ordering::Relaxed),
            self.multi.load(Ordering::Relaxed),
            qbuf,
            qbuf_free,
            omem,
            self.buffer_memory(),
            self.last_cmd.lock(),
            String::from_utf8_lossy(&self.user.lock()),
            self.tracking_redirect.load(Ordering::Relaxed),
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// The client-side caching state CLIENT LIST shows, as bits of [`ClientInfo::tracking`]
/// (kept up to date by the engine's tracking module).
pub mod tracking_flags {
    /// Tracking is on (`t`).
    pub const ON: u8 = 1;
    /// The redirection target is gone (`R`).
    pub const BROKEN_REDIRECT: u8 = 2;
    /// Broadcast mode (`B`).
    pub const BCAST: u8 = 4;
}

/// Every connected client, by id.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_id: AtomicU64,
    /// When clients' memory was last checked against `maxmemory-clients` (Unix ms).
    last_memory_check_ms: AtomicI64,
    /// Buffer bytes of evicted clients whose connections have not released them yet: the
    /// key eviction that follows a client eviction must not count them (Redis frees an
    /// evicted client at once; here its task does, a moment later).
    being_freed: AtomicU64,
}

impl ClientRegistry {
    /// An empty registry; ids start at 1... as Redis's do after its internal clients.
    pub fn new() -> ClientRegistry {
        ClientRegistry {
            clients: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            last_memory_check_ms: AtomicI64::new(0),
            being_freed: AtomicU64::new(0),
        }
    }

    /// Redis's client eviction (`maxmemory-clients`): while the evictable clients' buffers
    /// hold more than `limit` bytes together, disconnects the one holding most. It walks
    /// every client, so a caller that runs often (after each batch, the cron) passes
    /// `throttle` and the walk happens at most once a millisecond; the key eviction that
    /// must come after it does not. Returns how many were evicted.
    pub fn evict_over(&self, limit: u64, now_ms: i64, throttle: bool) -> u64 {
        if throttle {
            let last = self.last_memory_check_ms.load(Ordering::Relaxed);
            if now_ms <= last
                || self
                    .last_memory_check_ms
                    .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                return 0;
            }
        }
        let mut candidates: Vec<(usize, Arc<ClientInfo>)> = self
            .clients
            .lock()
            .values()
            .filter(|c| c.evictable())
            .map(|c| (c.buffer_memory(), c.clone()))
            .collect();
        let mut total: u64 = candidates.iter().map(|(m, _)| *m as u64).sum();
        if total <= limit {
            return 0;
        }
        candidates.sort_unstable_by_key(|c| std::cmp::Reverse(c.0));
        let mut evicted = 0;
        for (memory, client) in candidates {
            if total <= limit {
                break;
            }
            tracing::debug!("Evicting client: {}", client.describe());
            client
                .evicted_memory
                .store(memory as u64, Ordering::Relaxed);
            self.being_freed.fetch_add(memory as u64, Ordering::Relaxed);
            client.kill();
            total = total.saturating_sub(memory as u64);
            evicted += 1;
        }
        evicted
    }

    /// Clients' buffer memory by kind, for INFO memory: `(normal, replicas, replica_count)`,
    /// normal counting Pub/Sub clients and the master's link as Redis's `mem_clients_normal`
    /// does.
    pub fn memory_by_kind(&self) -> (u64, u64, usize) {
        let clients = self.clients.lock();
        let (mut normal, mut replicas, mut count) = (0u64, 0u64, 0usize);
        for c in clients.values() {
            let memory = c.buffer_memory() as u64;
            if c.kind() == ClientKind::Replica {
                replicas += memory;
                count += 1;
            } else {
                normal += memory;
            }
        }
        (normal, replicas, count)
    }

    /// Bytes evicted clients still hold (see [`ClientRegistry::released`]).
    pub fn memory_being_freed(&self) -> u64 {
        self.being_freed.load(Ordering::Relaxed)
    }

    /// The connection of `client` has dropped its buffers: what its eviction counted as
    /// being freed is freed. Called again by [`ClientRegistry::unregister`] (no effect then).
    pub fn released(&self, client: &ClientInfo) {
        let memory = client.evicted_memory.swap(0, Ordering::Relaxed);
        if memory > 0 {
            self.being_freed.fetch_sub(memory, Ordering::Relaxed);
        }
    }

    /// A fresh client id.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Adds a client.
    pub fn register(&self, info: Arc<ClientInfo>) {
        self.clients.lock().insert(info.id, info);
    }

    /// Removes a client.
    pub fn unregister(&self, id: u64) {
        if let Some(client) = self.clients.lock().remove(&id) {
            self.released(&client);
        }
    }

    /// All clients, in id order.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }

    /// The client with `id`.
    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }

    /// Number of connected clients of the normal and pub/sub kinds (INFO connected_clients
    /// excludes replicas).
    pub fn count(&self) -> usize {
        self.clients
            .lock()
            .values()
            .filter(|c| c.kind() != ClientKind::Replica)
            .count()
    }

    /// Number of clients blocked in a blocking command.
    pub fn blocked_count(&self) -> usize {
        self.clients
            .lock()
            .values()
            .filter(|c| c.blocked.load(Ordering::Relaxed))
            .count()
    }
}

/// A MULTI in progress.
#[derive(Debug, Default)]
pub struct MultiState {
    /// Commands queued so far.
    pub queued: Vec<Argv>,
    /// A command failed to queue: EXEC will answer EXECABORT.
    pub error: bool,
}

/// A WATCHed key.
#[derive(Debug, Clone)]
pub struct WatchedKey {
    /// Database number.
    pub db: usize,
    /// The key.
    pub key: Blob,
}

/// What CLIENT REPLY asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Replies are sent.
    On,
    /// Replies are dropped until CLIENT REPLY ON.
    Off,
    /// The next command's reply is dropped.
    SkipNext,
}

/// The connection's own state; only its task touches it.
#[derive(Debug)]
pub struct Session {
    /// Shared info (id, name, counters).
    pub info: Arc<ClientInfo>,
    /// SCRIPT DEBUG SYNC: this client's next EVAL runs under the Lua debugger.
    pub lua_debug: bool,
    /// While a command of a [`Session::lua_debug`] client runs: its connection, lent by
    /// the connection task for the debugger to talk over (see `scripting::debugger`).
    pub debug_console: Option<Box<dyn crate::scripting::debugger::Console>>,
    /// Selected database.
    pub db: usize,
    /// Protocol.
    pub proto: Proto,
    /// Passed AUTH (or no password is configured).
    pub authenticated: bool,
    /// The ACL user's name (`default` until AUTH names another).
    pub user: Bytes,
    /// The ACL epoch `acl_unrestricted` was computed at.
    pub acl_epoch: u64,
    /// The user may do anything (no ACL check needed), as of `acl_epoch`.
    pub acl_unrestricted: bool,
    /// Transaction being queued.
    pub multi: Option<MultiState>,
    /// WATCHed keys.
    pub watched: Vec<WatchedKey>,
    /// A transaction was dropped while a script held the engine: release its watches
    /// once the engine is ours (see [`Session::abandon_transaction`]).
    pub unwatch_pending: bool,
    /// Set by writes to watched keys.
    pub watch_flag: WatchFlag,
    /// Channel subscriptions.
    pub channels: Vec<Bytes>,
    /// Pattern subscriptions.
    pub patterns: Vec<Bytes>,
    /// Shard channel subscriptions (SSUBSCRIBE), in subscription order.
    pub shard_channels: Vec<Bytes>,
    /// CLIENT REPLY: whether command replies reach the client.
    pub reply_mode: ReplyMode,
    /// This session applies our master's replication stream (no replies, no gates).
    pub is_master_link: bool,
    /// This session replays the append-only file (no gates, nothing propagated).
    pub is_aof_client: bool,
    /// The connection comes from a loopback address (for `enable-debug-command local`).
    pub is_local: bool,
    /// Where Pub/Sub messages for this client go (drained by its connection task).
    pub push_tx: Option<super::push::PushSender>,
    /// What a replica announced with REPLCONF before PSYNC.
    pub replconf: ReplconfState,
    /// Replication offset right after this client's last propagated write (WAIT).
    pub last_write_offset: u64,
}

/// What a connecting replica told us with REPLCONF.
#[derive(Debug, Default, Clone)]
pub struct ReplconfState {
    /// `listening-port`.
    pub listening_port: u16,
    /// `ip-address`.
    pub ip_address: Option<String>,
    /// `capa eof`.
    pub capa_eof: bool,
    /// `capa psync2`.
    pub capa_psync2: bool,
    /// `rdb-only 1`.
    pub rdb_only: bool,
    /// `rdb-filter-only`: the replica wants an RDB without keys.
    pub rdb_filter: Option<crate::replication::RdbFilter>,
    /// `capa replikv-dual-channel` (see `replication::dual_channel`).
    pub capa_dual_channel: bool,
    /// It was answered `+DUALCHANNELSYNC`: a replica waiting for its snapshot channel,
    /// which `timeout` does not close (a disk snapshot or the admission cap may hold it
    /// longer).
    pub dual_channel_offered: bool,
    /// `rdb-channel <id>`: this connection carries the snapshot of main connection `id`'s
    /// dual-channel full sync.
    pub rdb_channel_for: Option<u64>,
    /// `traceparent`: the replica's W3C trace context, which our side of its sync joins.
    pub traceparent: Option<String>,
}

impl Session {
    /// A session whose commands must be applied whatever they ask (Redis's
    /// `mustObeyClient`): our master's stream, and the AOF being replayed. Limits meant
    /// for clients (argument sizes, LIMIT without `~`, load timeouts) do not apply.
    pub fn must_obey(&self) -> bool {
        self.is_master_link || self.is_aof_client
    }

    /// Starts queueing a transaction (MULTI); false when one is being queued already.
    pub fn begin_multi(&mut self) -> bool {
        if self.multi.is_some() {
            return false;
        }
        self.multi = Some(MultiState::default());
        self.info.multi.store(0, Ordering::Relaxed);
        true
    }

    /// Drops the transaction being queued without the engine (EXEC refused while a script
    /// runs): its watches are released at the next engine lock
    /// ([`Session::unwatch_pending`]).
    pub fn abandon_transaction(&mut self) {
        self.multi = None;
        self.info.multi.store(-1, Ordering::Relaxed);
        self.unwatch_pending = true;
    }

    /// A command refused while a transaction is being queued: EXEC will answer EXECABORT.
    pub fn fail_queued_transaction(&mut self) {
        if let Some(m) = self.multi.as_mut() {
            m.error = true;
        }
    }

    /// A session for a newly accepted client.
    pub fn new(info: Arc<ClientInfo>, authenticated: bool, is_local: bool) -> Session {
        Session {
            info,
            lua_debug: false,
            debug_console: None,
            db: 0,
            proto: Proto::Resp2,
            authenticated,
            user: Bytes::from_static(b"default"),
            acl_epoch: u64::MAX,
            acl_unrestricted: false,
            multi: None,
            watched: Vec::new(),
            unwatch_pending: false,
            watch_flag: Arc::new(AtomicBool::new(false)),
            channels: Vec::new(),
            patterns: Vec::new(),
            shard_channels: Vec::new(),
            reply_mode: ReplyMode::On,
            is_master_link: false,
            is_aof_client: false,
            is_local,
            push_tx: None,
            replconf: ReplconfState::default(),
            last_write_offset: 0,
        }
    }

    /// Authenticates as `user` (AUTH, HELLO AUTH, RESET back to the default user).
    pub fn set_user(&mut self, user: &[u8]) {
        self.authenticated = true;
        if self.user != user {
            self.user = Bytes::copy_from_slice(user);
            *self.info.user.lock() = self.user.clone();
        }
        self.acl_epoch = u64::MAX;
    }

    /// The client id.
    pub fn id(&self) -> u64 {
        self.info.id
    }

    /// True when subscribed to a channel, pattern or shard channel.
    pub fn in_pubsub(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty() || !self.shard_channels.is_empty()
    }
}
