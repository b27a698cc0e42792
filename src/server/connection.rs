//! One client connection: read what the socket has, parse every complete command, run them
//! all under one acquisition of the engine lock, write all replies with one write.
//!
//! A blocked client (BLPOP...) stops executing its input until its reply arrives, its
//! timeout passes, or it disconnects; commands it pipelined behind the blocking one wait in
//! order. Pub/Sub messages arrive on a channel and are written between batches.
//!
//! Output is bounded: a batch stops executing once [`OUT_BATCH`] bytes of replies wait, and
//! nothing more runs until they are written, so a client that does not read holds at most
//! one batch of replies. Its input is still read meanwhile, into the query buffer (counted
//! as client memory, bounded by `client-query-buffer-limit`): a client that writes its
//! whole pipeline before it reads a reply, as Redis clients may, would otherwise wait on
//! the server while the server waits on it. `client-output-buffer-limit` (normal or
//! pubsub class) closes a client whose unwritten output passes the hard limit, or the soft
//! one for its seconds; `timeout` and CLIENT KILL reach a client stuck in a write too.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::command::ctx::{Action, BlockedWait, TimeoutReply};
use crate::command::execute;
use crate::engine::{ClientInfo, Session, State};
use crate::replication::{LinkRead, LinkWrite};
use crate::resp::parser::Parsed;
use crate::resp::{Argv, ParseLimits, Proto, ReplyBuf, RequestParser};
use crate::scripting::control::KillOutcome;

/// Smallest free space kept in the read buffer before a read.
const READ_CHUNK: usize = 16 * 1024;
/// Largest single reservation for a big bulk argument announced by its header.
const MAX_RESERVE: usize = 64 * 1024 * 1024;
/// Replies held before a batch stops to write them: the most a client that does not read
/// can make the server hold (beyond one reply larger than this).
const OUT_BATCH: usize = 1024 * 1024;
/// Commands parsed ahead of execution at most: a large pipeline waits in the query buffer
/// as bytes, not as a queue of parsed arguments several times its size (the batch parses
/// more as it runs them, under the same engine acquisition).
const PARSE_AHEAD: usize = 64;
/// Reply buffer capacity kept between batches (Redis's reply chunk, 16 KiB).
const OUT_KEEP: usize = 16 * 1024;
/// The reply buffer's room kept after a write, unless large writes keep coming.
const OUT_SMALL: usize = 1024;
/// Writes over [`OUT_SMALL`] in a row after which the reply buffer keeps [`OUT_KEEP`].
const LARGE_STREAK: u32 = 4;
/// Pushed messages written in one vectored write at most.
const PUSH_BURST: usize = 64;
/// How often a write that makes no progress re-checks the limits and the idle timeout.
const STALL_CHECK: Duration = Duration::from_millis(250);
/// How long a connection blocks its thread on the engine lock before looking whether a
/// script holds it.
const ENGINE_LOCK_SLICE: Duration = Duration::from_millis(2);
/// Times a connection finding the engine taken lets its worker run other tasks before it
/// waits on the lock.
const ENGINE_LOCK_YIELDS: usize = 16;
/// A script that has run this long is waited for asynchronously rather than on the lock.
const SCRIPT_SHORT: Duration = Duration::from_millis(1);
/// How often a client waiting for a running script looks whether it timed out.
const SCRIPT_POLL: Duration = Duration::from_millis(10);

/// One unit of parsed input.
enum Input {
    /// A command to run.
    Command(Argv),
    /// Malformed input: answered in order after the commands before it, then the
    /// connection closes.
    ProtocolError(String),
}

/// Why the connection loop ended.
enum End {
    /// Peer closed or errored.
    Gone,
    /// We close (QUIT, protocol error, kill, limits).
    Close,
    /// The server is shutting down.
    Shutdown,
    /// The client became a replica: the socket goes to the replication link.
    HandOff(Box<crate::replication::master::HandOff>),
}

struct Conn {
    state: Arc<State>,
    info: Arc<ClientInfo>,
    session: Session,
    rd: LinkRead,
    wr: LinkWrite,
    rbuf: BytesMut,
    parser: RequestParser,
    out: ReplyBuf,
    pending: VecDeque<Input>,
    /// Bytes of the commands in `pending`: with what is left in `rbuf`, the query buffer
    /// CLIENT LIST shows while they run (Redis trims its buffer after a batch).
    pending_bytes: usize,
    push_rx: crate::engine::push::PushReceiver,
    /// The query buffer was given back while the client is idle: no room is reserved
    /// before its next bytes arrive (the first read allocates a little, then it grows).
    rbuf_released: bool,
    /// Consecutive writes larger than [`OUT_SMALL`]: while they keep coming, the reply
    /// buffer keeps up to [`OUT_KEEP`] of room.
    large_writes: u32,
}

/// A connection lent to the Lua debugger: blocking reads and writes on this worker thread
/// (the runtime moves its other tasks elsewhere meanwhile).
struct DebugLink {
    rd: LinkRead,
    wr: LinkWrite,
}

impl std::fmt::Debug for DebugLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DebugLink").finish_non_exhaustive()
    }
}

/// How long the debugger waits for its output to leave (Redis's `connSendTimeout`).
const DEBUG_SEND_TIMEOUT: Duration = Duration::from_secs(5);

impl crate::scripting::debugger::Console for DebugLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        block_on_link(self.rd.read(buf))
    }

    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        let wr = &mut self.wr;
        block_on_link(async {
            match tokio::time::timeout(DEBUG_SEND_TIMEOUT, async {
                wr.write_all(data).await?;
                wr.flush().await
            })
            .await
            {
                Ok(done) => done,
                Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
            }
        })
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

/// Runs socket I/O to completion from the synchronous debugger.
fn block_on_link<T>(io: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(io))
}

/// Serves one client until it disconnects, is killed, or the server stops. `is_local`: the
/// peer is on loopback or a Unix-domain socket (protected mode, `enable-* local`).
pub async fn serve(
    state: Arc<State>,
    rd: LinkRead,
    wr: LinkWrite,
    is_local: bool,
    info: Arc<ClientInfo>,
) {
    let (push_tx, push_rx) = crate::engine::push::push_queue();
    let _ = info.push.set(push_tx.clone());
    // Authenticated from the start when the default user needs no password (Redis 7.0).
    let open = state.engine.default_user().is_open();
    let mut session = Session::new(info.clone(), open, is_local);
    session.push_tx = Some(push_tx);
    let mut conn = Conn {
        state,
        info,
        session,
        rd,
        wr,
        // Allocated at the first read, as Redis allocates its query buffer: a connection
        // that never sends costs no read buffer.
        rbuf: BytesMut::new(),
        parser: RequestParser::new(),
        out: ReplyBuf::new(Proto::Resp2),
        pending: VecDeque::new(),
        pending_bytes: 0,
        push_rx,
        rbuf_released: true,
        large_writes: 0,
    };
    conn.note_query_buffer();
    let end = conn.run().await;
    if matches!(end, End::Shutdown) {
        tracing::debug!(client = conn.info.id, "closing client for shutdown");
    }
    if !matches!(end, End::HandOff(_)) {
        conn.release_buffers();
    }
    conn.cleanup().await;
    if let End::HandOff(handoff) = end {
        let Conn {
            state,
            info,
            rd,
            wr,
            rbuf,
            ..
        } = conn;
        let source: Arc<dyn crate::replication::SyncSource> = state.clone();
        info.hold_replica_socket();
        let holder = info.clone();
        let flag = info.clone();
        let killed = crate::replication::master::ClientKill {
            is_killed: Box::new(move || flag.killed.load(std::sync::atomic::Ordering::Acquire)),
            notified: Box::pin(async move { info.kill_notify.notified().await }),
        };
        let shutdown = state.shutdown.subscribe();
        // Boxed: the replica link's future is large and only replicas need it; inline, it
        // would size every connection's task.
        Box::pin(crate::replication::master::serve(
            source, rd, wr, rbuf, *handoff, killed, shutdown,
        ))
        .await;
        holder.release_replica_socket();
    }
}

impl Conn {
    async fn run(&mut self) -> End {
        let mut shutdown = self.state.shutdown.subscribe();
        loop {
            if let Some(end) = self.process_pending().await {
                return end;
            }
            let idle_timeout = self.idle_timeout();
            if !self.make_room_for_big_arg()
                && self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK
                && !self.rbuf_released
            {
                let wanted = self
                    .parser
                    .bytes_wanted(&self.rbuf)
                    .unwrap_or(0)
                    .clamp(READ_CHUNK, MAX_RESERVE);
                if self.rbuf.is_empty() {
                    // A fresh buffer of the size wanted, not the small one grown past a
                    // size class.
                    self.rbuf = BytesMut::with_capacity(wanted);
                } else {
                    self.rbuf.reserve(wanted);
                }
                self.note_query_buffer();
            }
            tokio::select! {
                biased;
                _ = self.info.kill_notify.notified() => return End::Close,
                _ = shutdown.changed() => return End::Shutdown,
                _ = self.info.housekeeping.notified() => self.resize_query_buffer(),
                Some(msg) = self.push_rx.recv() => {
                    if let Err(end) = self.write_push(msg).await {
                        return end;
                    }
                }
                r = self.rd.read_buf(&mut self.rbuf) => match r {
                    Ok(0) | Err(_) => return End::Gone,
                    Ok(n) => {
                        self.note_read(n);
                        if let Some(end) = self.parse_input() {
                            let _ = self.flush().await;
                            return end;
                        }
                    }
                },
                _ = sleep_or_never(idle_timeout) => {
                    tracing::debug!(client = self.info.id, "closing idle client");
                    return End::Close;
                }
            }
            if self.info.killed.load(Ordering::Acquire) {
                return End::Close;
            }
        }
    }

    /// Makes room for the next read while a big argument is read into a buffer of its own
    /// (see [`RequestParser::big_arg_wanted`]); false when none is. That buffer only ever
    /// gets exactly what the argument lacks (the cron may have shrunk it while the client
    /// idled), or a read's worth once the argument is complete but not parsed yet: never
    /// a doubling, which would leave the value in an allocation up to twice its length for
    /// as long as the keyspace holds it.
    fn make_room_for_big_arg(&mut self) -> bool {
        let Some(wanted) = self.parser.big_arg_wanted(&self.rbuf) else {
            return false;
        };
        let spare = self.rbuf.capacity() - self.rbuf.len();
        if spare < wanted.max(1) {
            let room = if wanted == 0 { READ_CHUNK } else { wanted };
            self.reallocate_query_buffer(self.rbuf.len() + room);
            self.note_query_buffer();
        }
        true
    }

    /// Publishes the query buffer's allocation and its peak use (CLIENT LIST, the cron's
    /// resize decisions): what it holds, or what a bulk being read needs, if more.
    fn note_query_buffer(&self) {
        let len = self.rbuf.len();
        let needed = len + self.parser.bytes_wanted(&self.rbuf).unwrap_or(0);
        self.info.qbuf_cap.store(
            crate::telemetry::process::allocation_size(self.rbuf.capacity()),
            Ordering::Relaxed,
        );
        self.info.qbuf_peak.fetch_max(needed, Ordering::Relaxed);
    }

    /// Redis's `clientsCronResizeQueryBuffer`, when the cron found the buffer wasteful: an
    /// idle client's buffer shrinks to what it holds (nothing: it is released); a busy
    /// one's, when over 32 KiB and twice its recent peak, to that peak (never below what
    /// it holds or what the bulk being read needs). The peak restarts from here.
    fn resize_query_buffer(&mut self) {
        let len = self.rbuf.len();
        let needed = len + self.parser.bytes_wanted(&self.rbuf).unwrap_or(0);
        let cap = self.rbuf.capacity();
        let peak = self.info.qbuf_peak.load(Ordering::Relaxed);
        let idle_ms =
            crate::keyspace::now_ms() - self.info.last_interaction_ms.load(Ordering::Relaxed);
        if cap - len > 4 * 1024 {
            if idle_ms > 2000 {
                self.reallocate_query_buffer(len);
                self.rbuf_released = len == 0;
            } else if cap > 32 * 1024 && cap / 2 > peak {
                self.reallocate_query_buffer(len.max(peak).max(needed));
            }
        }
        self.info.qbuf_peak.store(needed, Ordering::Relaxed);
        self.note_query_buffer();
    }

    /// All input was run: the parsed-command queue a large pipeline grew is released, and
    /// the query buffer takes back the room its consumed bytes occupy, so that its
    /// capacity (CLIENT LIST, client memory) shows its whole allocation; the cron shrinks
    /// it as Redis shrinks its query buffers.
    fn release_consumed_input(&mut self) {
        if self.pending.capacity() > PARSE_AHEAD {
            self.pending = VecDeque::new();
        }
        if self.rbuf.try_reclaim(READ_CHUNK) {
            self.note_query_buffer();
        }
    }

    /// SCRIPT DEBUG SYNC: while this client's command runs, its socket is the Lua
    /// debugger's (an EVAL reads debugger commands and writes its log directly, holding
    /// the engine, as Redis's synchronous session blocks its server).
    fn lend_link_to_debugger(&mut self) {
        if !self.session.lua_debug {
            return;
        }
        let rd = std::mem::replace(&mut self.rd, Box::new(tokio::io::empty()));
        let wr = std::mem::replace(&mut self.wr, Box::new(tokio::io::sink()));
        self.session.debug_console = Some(Box::new(DebugLink { rd, wr }));
    }

    /// Takes the socket back from the debugger (see [`Conn::lend_link_to_debugger`]).
    fn take_link_back(&mut self) {
        let Some(console) = self.session.debug_console.take() else {
            return;
        };
        if let Ok(link) = console.into_any().downcast::<DebugLink>() {
            self.rd = link.rd;
            self.wr = link.wr;
        }
    }

    /// Moves what the query buffer holds into a new allocation of `capacity` bytes.
    fn reallocate_query_buffer(&mut self, capacity: usize) {
        let mut fresh = BytesMut::with_capacity(capacity);
        fresh.extend_from_slice(&self.rbuf);
        self.rbuf = fresh;
    }

    /// The idle timeout that applies now, if any.
    fn idle_timeout(&self) -> Option<Duration> {
        let t = self.state.settings.read().timeout;
        (t > 0
            && !self.session.in_pubsub()
            && !self.session.is_master_link
            && !self.session.replconf.dual_channel_offered)
            .then(|| Duration::from_secs(t))
    }

    /// Parses complete commands from the read buffer into `pending`, up to [`PARSE_AHEAD`]
    /// of them (the rest stays as bytes, which cost less than parsed arguments). Returns an
    /// end when the input is malformed or over the query buffer limit.
    fn parse_input(&mut self) -> Option<End> {
        let settings = self.state.settings();
        let unparsed = self.rbuf.len();
        while self.pending.len() < PARSE_AHEAD {
            let limits = ParseLimits {
                max_bulk_len: settings.proto_max_bulk_len as i64,
                unauthenticated: !self.session.authenticated,
                from_master: self.session.is_master_link,
            };
            match self.parser.next(&mut self.rbuf, limits) {
                Ok(Some(Parsed::Command(argv))) => self.pending.push_back(Input::Command(argv)),
                Ok(Some(Parsed::Empty)) => {}
                Ok(None) => break,
                Err(e) => {
                    // Commands parsed before the error still run, then the error is sent and
                    // the connection closes, as Redis does.
                    tracing::debug!(client = self.info.id, error = %e, "protocol error");
                    self.pending
                        .push_back(Input::ProtocolError(format!("ERR {e}")));
                    break;
                }
            }
            // A client that authenticates mid-buffer gets the normal limits for the rest.
            if !self.session.authenticated && !self.pending.is_empty() {
                break;
            }
        }
        self.pending_bytes += unparsed - self.rbuf.len();
        self.info
            .qbuf
            .store(self.pending_bytes + self.rbuf.len(), Ordering::Relaxed);
        if !self.session.is_master_link
            && self.rbuf.len() as u64 > settings.client_query_buffer_limit
        {
            tracing::warn!(client = self.info.id, addr = %self.info.addr, "closing client that reached max query buffer length");
            return Some(End::Close);
        }
        None
    }

    /// Executes pending commands until they run out or one blocks; writes the replies.
    async fn process_pending(&mut self) -> Option<End> {
        loop {
            if self.pending.is_empty() {
                // Input not parsed yet: a client that is not authenticated gets its commands
                // parsed one at a time (an AUTH among them changes the limits for the rest),
                // but every one of them is answered, in order.
                if !self.rbuf.is_empty() {
                    if let Some(end) = self.parse_input() {
                        return Some(end);
                    }
                }
                if self.pending.is_empty() {
                    return None;
                }
            }
            let mut end = None;
            let mut blocked = None;
            let mut wait_replicas = None;
            let mut await_shutdown = None;
            let mut paused = None;
            {
                let state = self.state.clone();
                let mut engine = match self.lock_engine(&state).await {
                    Ok(Some(guard)) => guard,
                    // A busy script's refusals answered every pending command.
                    Ok(None) => continue,
                    Err(end) => return Some(end),
                };
                if std::mem::take(&mut self.session.unwatch_pending) {
                    engine.unwatch_all(&mut self.session);
                }
                self.info
                    .last_interaction_ms
                    .store(crate::keyspace::now_ms(), Ordering::Relaxed);
                let mut published_reply_cap = self.out.buf.capacity();
                loop {
                    // Input parsed a few commands at a time, under the same acquisition.
                    if self.pending.is_empty() && !self.rbuf.is_empty() && end.is_none() {
                        end = self.parse_input();
                    }
                    let Some(input) = self.pending.pop_front() else {
                        break;
                    };
                    let argv = match input {
                        Input::Command(argv) => argv,
                        Input::ProtocolError(msg) => {
                            self.out.error(&msg);
                            end = Some(End::Close);
                            self.pending.clear();
                            break;
                        }
                    };
                    let was_authenticated = self.session.authenticated;
                    self.lend_link_to_debugger();
                    let action =
                        execute(&state, &mut engine, &mut self.session, &argv, &mut self.out);
                    self.take_link_back();
                    if self.out.buf.capacity() != published_reply_cap {
                        // Client memory as the next command's eviction sees it (Redis
                        // updates a client's memory after each command): unpublished, a
                        // batch's replies would count against `maxmemory` but not against
                        // `maxmemory-clients`, and keys would go before the clients.
                        published_reply_cap = self.out.buf.capacity();
                        self.note_reply_buffer();
                    }
                    match action {
                        Action::None => {}
                        Action::Close => {
                            // Gone for the engine before the last reply is written (a
                            // client redirecting invalidations here sees it at once).
                            self.push_rx.close();
                            end = Some(End::Close);
                            self.pending.clear();
                            break;
                        }
                        Action::Shutdown => {
                            end = Some(End::Shutdown);
                            self.pending.clear();
                            break;
                        }
                        Action::AwaitShutdown(outcome) => {
                            // Blocked from now on, under the engine lock: an INFO that
                            // follows counts it, as Redis counts a client blocked by its
                            // command.
                            self.info.blocked.store(true, Ordering::Relaxed);
                            await_shutdown = Some(outcome);
                            break;
                        }
                        Action::Blocked(wait) => {
                            blocked = Some(wait);
                            break;
                        }
                        Action::HandOff(handoff) => {
                            end = Some(End::HandOff(handoff));
                            self.pending.clear();
                            break;
                        }
                        Action::WaitReplicas {
                            numreplicas,
                            offset,
                            deadline,
                        } => {
                            wait_replicas = Some((numreplicas, offset, deadline));
                            break;
                        }
                        Action::Paused => {
                            // Nothing ran: the command waits, first in line, for the pause
                            // to change.
                            self.pending.push_front(Input::Command(argv));
                            paused =
                                Some((engine.pauses.subscribe(), engine.pauses.client_deadline()));
                            break;
                        }
                    }
                    if !was_authenticated && self.session.authenticated && !self.rbuf.is_empty() {
                        break;
                    }
                    if self.out.len() >= OUT_BATCH {
                        break;
                    }
                }
                if self.pending.is_empty() {
                    self.pending_bytes = 0;
                    self.info.qbuf.store(self.rbuf.len(), Ordering::Relaxed);
                    if self.rbuf.is_empty() {
                        self.release_consumed_input();
                    }
                }
            }
            // Clients' memory against `maxmemory-clients`, after this batch grew ours
            // (its replies are published: see above).
            self.info
                .reply_pending
                .store(self.out.len(), Ordering::Relaxed);
            self.state.evict_clients_if_needed();
            if self.info.killed.load(Ordering::Acquire) {
                self.out.buf.clear();
                self.pending.clear();
                return Some(End::Close);
            }
            if end.is_none() && self.over_output_limit() {
                // As Redis: a client over its limit gets none of the replies that broke it.
                self.out.buf.clear();
                self.pending.clear();
                return Some(End::Close);
            }
            if matches!(end, Some(End::Shutdown)) {
                self.state.request_shutdown();
            }
            // The writes these replies acknowledge reach the AOF first.
            self.state.engine.aof_sink().write_through();
            if let Err(gone) = self.flush().await {
                return Some(end.unwrap_or(gone));
            }
            if let Some(end) = end {
                return Some(end);
            }
            // The waits are boxed: rare, and their state would otherwise be part of every
            // idle connection's task.
            if let Some(wait) = blocked {
                if let Some(end) = Box::pin(self.wait_blocked(wait)).await {
                    return Some(end);
                }
            }
            if let Some((numreplicas, offset, deadline)) = wait_replicas {
                let waited = Box::pin(self.wait_replicas(numreplicas, offset, deadline));
                if let Some(end) = waited.await {
                    return Some(end);
                }
            }
            if let Some(outcome) = await_shutdown {
                if let Some(end) = Box::pin(self.wait_shutdown(outcome)).await {
                    return Some(end);
                }
            }
            if let Some((changes, deadline)) = paused {
                if let Some(end) = Box::pin(self.wait_pause(changes, deadline)).await {
                    return Some(end);
                }
            }
        }
    }

    /// Waits for a blocked command's reply, its timeout, a disconnect or a kill.
    async fn wait_blocked(&mut self, mut wait: BlockedWait) -> Option<End> {
        let mut shutdown = self.state.shutdown.subscribe();
        let reply = loop {
            tokio::select! {
                biased;
                r = &mut wait.rx => break r.ok(),
                _ = self.info.kill_notify.notified() => {
                    self.unblock().await;
                    return Some(End::Close);
                }
                _ = shutdown.changed() => {
                    self.unblock().await;
                    return Some(End::Shutdown);
                }
                _ = sleep_until_or_never(wait.deadline) => {
                    if self.unblock_timed_out().await {
                        break None;
                    }
                    // Served at the same instant: the reply is in the channel.
                    break wait.rx.try_recv().ok();
                }
                Some(msg) = self.push_rx.recv() => {
                    if let Err(end) = self.write_push(msg).await {
                        self.unblock().await;
                        return Some(end);
                    }
                }
                r = self.rd.read_buf(&mut self.rbuf) => match r {
                    Ok(0) | Err(_) => {
                        self.unblock().await;
                        return Some(End::Gone);
                    }
                    Ok(n) => {
                        self.state.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                        let limit = self.state.settings.read().client_query_buffer_limit;
                        if self.rbuf.len() as u64 > limit {
                            self.unblock().await;
                            return Some(End::Close);
                        }
                        if !self.make_room_for_big_arg()
                            && self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK
                        {
                            self.rbuf.reserve(READ_CHUNK);
                        }
                    }
                },
            }
        };
        // A served wait's write (the pop) was handed to the AOF by whoever served it.
        self.state.engine.aof_sink().write_through();
        match reply {
            Some(bytes) => self.out.raw(&bytes),
            None => match wait.timeout_reply {
                TimeoutReply::NullArray => self.out.null_array(),
                TimeoutReply::NullBulk => self.out.null(),
            },
        }
        if let Err(end) = self.flush().await {
            return Some(end);
        }
        // Input that arrived while blocked runs now.
        self.parse_input()
    }

    /// WAIT: replies with the number of replicas that acknowledged `offset`, once there are
    /// `numreplicas` of them or the deadline passes.
    /// Waits while a pause holds this client's next command: until the pauses change (an
    /// unpause, a failover's end) or a CLIENT PAUSE's deadline, reading input meanwhile.
    async fn wait_pause(
        &mut self,
        mut changes: tokio::sync::watch::Receiver<u64>,
        deadline: Option<std::time::Instant>,
    ) -> Option<End> {
        let mut shutdown = self.state.shutdown.subscribe();
        let deadline = deadline.map(tokio::time::Instant::from_std);
        self.info.blocked.store(true, Ordering::Relaxed);
        let end = tokio::select! {
            biased;
            _ = self.info.kill_notify.notified() => Some(End::Close),
            _ = shutdown.changed() => Some(End::Shutdown),
            _ = changes.changed() => None,
            _ = sleep_until_or_never(deadline) => None,
            r = self.rd.read_buf(&mut self.rbuf) => match r {
                Ok(0) | Err(_) => Some(End::Gone),
                Ok(_) => None,
            },
        };
        self.info.blocked.store(false, Ordering::Relaxed);
        if end.is_some() {
            return end;
        }
        if !self.make_room_for_big_arg() && self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK {
            self.rbuf.reserve(READ_CHUNK);
        }
        self.parse_input()
    }

    /// SHUTDOWN waiting for lagging replicas: no reply while it waits; the connection ends
    /// with the server, or the client is told the shutdown was aborted or failed.
    async fn wait_shutdown(
        &mut self,
        mut outcome: tokio::sync::watch::Receiver<crate::engine::shutdown::Outcome>,
    ) -> Option<End> {
        use crate::engine::shutdown::Outcome;
        let mut shutdown = self.state.shutdown.subscribe();
        self.info.blocked.store(true, Ordering::Relaxed);
        let end = loop {
            match *outcome.borrow_and_update() {
                Outcome::Pending => {}
                Outcome::Exiting => break Some(End::Shutdown),
                Outcome::Cancelled => break None,
            }
            tokio::select! {
                biased;
                _ = self.info.kill_notify.notified() => break Some(End::Close),
                _ = shutdown.changed() => break Some(End::Shutdown),
                changed = outcome.changed() => {
                    if changed.is_err() {
                        break None;
                    }
                }
            }
        };
        self.info.blocked.store(false, Ordering::Relaxed);
        if end.is_some() {
            return end;
        }
        self.out.error(crate::command::error::SHUTDOWN_FAILED);
        if let Err(end) = self.flush().await {
            return Some(end);
        }
        None
    }

    async fn wait_replicas(
        &mut self,
        numreplicas: u64,
        offset: u64,
        deadline: Option<tokio::time::Instant>,
    ) -> Option<End> {
        let hub = self.state.repl.clone();
        let mut acks = hub.acks.subscribe();
        let mut shutdown = self.state.shutdown.subscribe();
        self.info.blocked.store(true, Ordering::Relaxed);
        let end = loop {
            let acked = hub.replicas.acked_at_least(offset) as u64;
            if acked >= numreplicas {
                break None;
            }
            tokio::select! {
                biased;
                _ = self.info.kill_notify.notified() => break Some(End::Close),
                _ = shutdown.changed() => break Some(End::Shutdown),
                changed = acks.changed() => {
                    if changed.is_err() {
                        break None;
                    }
                }
                _ = sleep_until_or_never(deadline) => break None,
                r = self.rd.read_buf(&mut self.rbuf) => match r {
                    Ok(0) | Err(_) => break Some(End::Gone),
                    Ok(_) => {
                        if !self.make_room_for_big_arg()
                            && self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK
                        {
                            self.rbuf.reserve(READ_CHUNK);
                        }
                    }
                },
            }
        };
        self.info.blocked.store(false, Ordering::Relaxed);
        if end.is_some() {
            return end;
        }
        self.out.int(hub.replicas.acked_at_least(offset) as i64);
        if let Err(end) = self.flush().await {
            return Some(end);
        }
        self.parse_input()
    }

    /// Takes the engine lock for the pending commands without ever parking this task's
    /// thread behind a running script (that thread may be the one that must serve SCRIPT
    /// KILL): the lock is tried in short slices, and a script found running is waited out
    /// asynchronously. `None` when no command is left to run.
    async fn lock_engine<'s>(
        &mut self,
        state: &'s State,
    ) -> Result<Option<crate::engine::EngineGuard<'s>>, End> {
        loop {
            if let Some(end) = self.wait_out_script().await {
                return Err(end);
            }
            if self.pending.is_empty() {
                return Ok(None);
            }
            for _ in 0..ENGINE_LOCK_YIELDS {
                if let Some(guard) = state.engine.try_lock() {
                    return Ok(Some(guard));
                }
                tokio::task::yield_now().await;
            }
            if let Some(guard) = state.engine.try_lock_for(ENGINE_LOCK_SLICE) {
                return Ok(Some(guard));
            }
        }
    }

    /// While a script runs, this client's commands wait for it; once the script passed
    /// `busy-reply-threshold`, they are answered as Redis answers them: `SCRIPT KILL` and
    /// `FUNCTION KILL` are served, `SHUTDOWN NOSAVE` stops the script and then runs, commands
    /// flagged `allow-busy` and our master's stream wait, every other command gets `-BUSY`.
    /// None of this takes the engine lock, which the script holds.
    async fn wait_out_script(&mut self) -> Option<End> {
        use crate::command::flags::ALLOW_BUSY;
        use crate::command::table::TABLE;
        let state = self.state.clone();
        let control = state.engine.script();
        loop {
            // Most scripts end within microseconds: the engine lock (tried in short
            // slices) is the cheaper wait for them.
            if control.running_for().is_none_or(|d| d < SCRIPT_SHORT) {
                return None;
            }
            let Some(Input::Command(argv)) = self.pending.front() else {
                return None;
            };
            if !control.timed_out() || self.session.is_master_link {
                control.wait_finished(SCRIPT_POLL).await;
                continue;
            }
            let spec = TABLE.resolve(argv).ok();
            let name = spec.map_or("", |s| s.fullname);
            let reply = match name {
                "script|kill" | "function|kill" => {
                    match control.request_kill(name == "script|kill") {
                        KillOutcome::Killed => None,
                        KillOutcome::Refused(text) => Some(text),
                    }
                }
                "function|stats" => match control.function_stats(&mut self.out) {
                    Ok(()) => {
                        self.pending.pop_front();
                        if let Err(end) = self.flush().await {
                            return Some(end);
                        }
                        continue;
                    }
                    Err(text) => Some(text),
                },
                "shutdown" if argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave")) => {
                    control.force_kill();
                    control.wait_finished(SCRIPT_POLL).await;
                    continue;
                }
                // MULTI needs only the session: served at once, as Redis serves it, so the
                // commands that follow are refused into the transaction (EXECABORT), never
                // run half of it after the script.
                "multi" if self.session.authenticated => {
                    if self.session.begin_multi() {
                        None
                    } else {
                        Some(crate::command::error::MULTI_NESTED)
                    }
                }
                _ if spec.is_some_and(|s| s.has(ALLOW_BUSY)) => {
                    control.wait_finished(SCRIPT_POLL).await;
                    continue;
                }
                // A refused EXEC ends its transaction, as any refused EXEC does.
                "exec" if self.session.multi.is_some() => {
                    self.session.abandon_transaction();
                    let refusal = crate::command::CmdError::Fixed(control.busy_reply());
                    let abort = crate::command::error::exec_abort(&refusal).to_bytes();
                    self.pending.pop_front();
                    self.out.error_bytes(&abort);
                    if let Err(end) = self.flush().await {
                        return Some(end);
                    }
                    continue;
                }
                _ => {
                    self.session.fail_queued_transaction();
                    Some(control.busy_reply())
                }
            };
            self.pending.pop_front();
            match reply {
                None => self.out.ok(),
                Some(text) => self.out.error(text),
            }
            if let Err(end) = self.flush().await {
                return Some(end);
            }
        }
    }

    /// Removes this client's wait; true when it was still waiting.
    async fn unblock(&mut self) -> bool {
        let state = self.state.clone();
        let mut engine = state.engine.lock_async().await;
        let e = &mut *engine;
        e.blocking.unblock(&mut e.keyspace, self.info.id).is_some()
    }

    /// Ends a wait whose timeout passed; true when the client was still blocked (not
    /// served at the same instant). The command counts as one call.
    async fn unblock_timed_out(&mut self) -> bool {
        let state = self.state.clone();
        let mut engine = state.engine.lock_async().await;
        let e = &mut *engine;
        match e.blocking.unblock(&mut e.keyspace, self.info.id) {
            Some(waiter) => {
                crate::command::exec::count_timed_out(e, &waiter.argv);
                true
            }
            None => false,
        }
    }

    /// Writes pushed messages (Pub/Sub, invalidations, MONITOR): the first and those
    /// queued behind it, up to [`PUSH_BURST`].
    async fn write_push(&mut self, msg: Bytes) -> Result<(), End> {
        // Replies held go first: the client sees everything in the order it was made.
        self.flush().await?;
        let mut burst: smallvec::SmallVec<[Bytes; 16]> = smallvec::smallvec![msg];
        while burst.len() < PUSH_BURST {
            match self.push_rx.try_recv() {
                Some(more) => burst.push(more),
                None => break,
            }
        }
        let len: usize = burst.iter().map(Bytes::len).sum();
        let footprint: usize = burst.iter().map(crate::engine::push::footprint).sum();
        self.info.omem.fetch_sub(
            len.min(self.info.omem.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
        let result = self.write_burst(&burst).await;
        drop(burst);
        self.push_rx.written(footprint as u64);
        if len >= OUT_KEEP {
            // Freed on this thread: `maxmemory`'s figure must not go on counting it.
            crate::telemetry::process::note_release();
        }
        result
    }

    /// Writes `burst` from the messages themselves, with vectored writes: copied into the
    /// reply buffer, a burst of invalidations that an eviction sent would grow memory that
    /// `maxmemory` counts while the messages themselves are out of its count (see
    /// `engine::push::in_flight_bytes`), and the next command would evict again. What the
    /// socket does not take at once goes through the reply buffer's stalled path (output
    /// limit, CLIENT KILL, timeout), whose end gives back the room it grew.
    async fn write_burst(&mut self, burst: &[Bytes]) -> Result<(), End> {
        let (mut next, mut offset, mut written) = (0, 0, 0);
        while next < burst.len() {
            let mut slices = [std::io::IoSlice::new(&[]); PUSH_BURST];
            let pending = burst[next..].iter().enumerate().map(|(i, m)| {
                let skip = if i == 0 { offset } else { 0 };
                std::io::IoSlice::new(&m[skip..])
            });
            let mut count = 0;
            for (slot, slice) in slices.iter_mut().zip(pending) {
                *slot = slice;
                count += 1;
            }
            match self.wr.write_vectored(&slices[..count]).now_or_never() {
                Some(Ok(0)) | Some(Err(_)) => return self.finish_flush(written, Err(End::Gone)),
                Some(Ok(mut n)) => {
                    written += n;
                    while n > 0 {
                        let left = burst[next].len() - offset;
                        if n < left {
                            offset += n;
                            break;
                        }
                        n -= left;
                        next += 1;
                        offset = 0;
                    }
                }
                None => break,
            }
        }
        if next == burst.len() {
            return self.finish_flush(written, Ok(()));
        }
        self.state
            .stats
            .net_output_bytes
            .fetch_add(written as u64, Ordering::Relaxed);
        self.out.raw(&burst[next][offset..]);
        for more in &burst[next + 1..] {
            self.out.raw(more);
        }
        self.flush().await
    }

    /// True (and the client is being closed) when its unwritten output breaks its class's
    /// `client-output-buffer-limit`. A master's link is never limited.
    fn over_output_limit(&mut self) -> bool {
        if self.session.is_master_link {
            return false;
        }
        self.info
            .reply_pending
            .store(self.out.len(), Ordering::Relaxed);
        self.note_reply_buffer();
        let limit = self.info.output_limit(&self.state.settings.read());
        self.info.enforce_output_limit(&limit)
    }

    /// Writes the replies held. A write that makes no progress is abandoned (the client is
    /// closed) on CLIENT KILL, on its output limit, or past `timeout` without progress.
    async fn flush(&mut self) -> Result<(), End> {
        if self.out.is_empty() {
            return Ok(());
        }
        let total = self.out.len();
        let mut written = 0;
        // Most writes complete at once: no timer, no waiter registration for them.
        while written < total {
            match self.wr.write(&self.out.buf[written..]).now_or_never() {
                Some(Ok(0)) | Some(Err(_)) => return self.finish_flush(written, Err(End::Gone)),
                Some(Ok(n)) => written += n,
                None => break,
            }
        }
        let mut result = Ok(());
        if written < total {
            result = self.flush_stalled(&mut written).await;
        }
        self.finish_flush(written, result)
    }

    /// The slow path of [`Conn::flush`]: the socket is full because the client does not read.
    async fn flush_stalled(&mut self, written: &mut usize) -> Result<(), End> {
        let total = self.out.len();
        let last_progress = tokio::time::Instant::now();
        self.push_rx.set_stalled(true);
        self.detach_pending();
        let result = self
            .flush_stalled_inner(written, total, last_progress)
            .await;
        self.push_rx.set_stalled(false);
        result
    }

    async fn flush_stalled_inner(
        &mut self,
        written: &mut usize,
        total: usize,
        mut last_progress: tokio::time::Instant,
    ) -> Result<(), End> {
        let mut check = tokio::time::interval_at(last_progress + STALL_CHECK, STALL_CHECK);
        while *written < total {
            self.info
                .reply_pending
                .store(total - *written, Ordering::Relaxed);
            if self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK {
                self.rbuf.reserve(READ_CHUNK);
                self.note_query_buffer();
            }
            tokio::select! {
                biased;
                _ = self.info.kill_notify.notified() => return Err(End::Close),
                r = self.wr.write(&self.out.buf[*written..]) => match r {
                    Ok(0) | Err(_) => return Err(End::Gone),
                    Ok(n) => {
                        *written += n;
                        last_progress = tokio::time::Instant::now();
                    }
                },
                r = self.rd.read_buf(&mut self.rbuf) => match r {
                    // As in the main loop (and Redis): a closed input ends the client.
                    Ok(0) | Err(_) => return Err(End::Gone),
                    Ok(n) => self.note_stalled_input(n)?,
                },
                _ = check.tick() => {
                    if self.info.killed.load(Ordering::Acquire) || self.over_output_limit() {
                        return Err(End::Close);
                    }
                    let idle = self.idle_timeout();
                    if idle.is_some_and(|t| last_progress.elapsed() > t) {
                        tracing::debug!(client = self.info.id, "closing a client that stopped reading");
                        return Err(End::Close);
                    }
                }
            }
        }
        Ok(())
    }

    /// Counts `n` bytes just read into the query buffer, and checks clients' memory: a
    /// client that sends without completing a command grows only here.
    fn note_read(&mut self, n: usize) {
        self.rbuf_released = false;
        let stats = &self.state.stats;
        stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
        stats.reads_processed.fetch_add(1, Ordering::Relaxed);
        self.note_query_buffer();
        self.state.evict_clients_if_needed();
    }

    /// Copies the small arguments of the commands parsed ahead out of the query buffer
    /// before input is read during a stall: views into it would keep its whole allocation
    /// alive once it grows into a new one, memory that nothing counts. Large arguments are
    /// most of their own allocation and stay where they are.
    fn detach_pending(&mut self) {
        const SMALL: usize = 4 * 1024;
        for input in &mut self.pending {
            if let Input::Command(argv) = input {
                for arg in argv.iter_mut().filter(|a| a.len() < SMALL) {
                    *arg = Bytes::copy_from_slice(arg);
                }
            }
        }
    }

    /// Input read while the output is stalled: kept for after the flush, within the
    /// query buffer's limit and client memory.
    fn note_stalled_input(&mut self, n: usize) -> Result<(), End> {
        self.note_read(n);
        self.info
            .qbuf
            .store(self.pending_bytes + self.rbuf.len(), Ordering::Relaxed);
        let limit = self.state.settings.read().client_query_buffer_limit;
        if !self.session.is_master_link && self.rbuf.len() as u64 > limit {
            tracing::warn!(client = self.info.id, addr = %self.info.addr, "closing client that reached max query buffer length");
            return Err(End::Close);
        }
        Ok(())
    }

    fn finish_flush(&mut self, written: usize, result: Result<(), End>) -> Result<(), End> {
        self.state
            .stats
            .net_output_bytes
            .fetch_add(written as u64, Ordering::Relaxed);
        self.state
            .stats
            .writes_processed
            .fetch_add(1, Ordering::Relaxed);
        self.info.reply_pending.store(0, Ordering::Relaxed);
        self.out.buf.clear();
        // What a burst of replies grew goes back once written, as Redis frees its reply
        // blocks: kept, it would count as client memory (and against `maxmemory`) for as
        // long as the client lives. One large reply (an INFO) leaves nothing behind, or
        // the command that measures memory would raise it; a client that keeps getting
        // large replies keeps room for them (no allocation per reply).
        self.large_writes = if written > OUT_SMALL {
            self.large_writes.saturating_add(1)
        } else {
            0
        };
        let keep = if self.large_writes >= LARGE_STREAK {
            OUT_KEEP
        } else {
            OUT_SMALL
        };
        if self.out.buf.capacity() > keep {
            self.out.buf.shrink_to(keep);
            // Freed on this thread after the command's growth was counted: `maxmemory`'s
            // figure must be taken again, or the next command evicts for room that is free.
            crate::telemetry::process::note_release();
        }
        self.note_reply_buffer();
        result
    }

    /// Publishes the reply buffer's allocation (client memory, `maxmemory-clients`).
    fn note_reply_buffer(&self) {
        self.info.reply_cap.store(
            crate::telemetry::process::allocation_size(self.out.buf.capacity()),
            Ordering::Relaxed,
        );
    }

    /// Lets the buffers go as soon as the connection is over, before the clean-up waits
    /// for the engine: an evicted client's memory is then free for the key eviction that
    /// may be waiting on it.
    fn release_buffers(&mut self) {
        self.out.buf = Vec::new();
        self.pending.clear();
        self.note_reply_buffer();
        self.rbuf = BytesMut::new();
        self.note_query_buffer();
        crate::telemetry::process::note_release();
        self.state.clients.released(&self.info);
    }

    /// Releases everything the client held: subscriptions, watches, a blocked wait.
    async fn cleanup(&mut self) {
        self.push_rx.close();
        let state = self.state.clone();
        let mut engine = state.engine.lock_async().await;
        let e = &mut *engine;
        let id = self.info.id;
        e.blocking.unblock(&mut e.keyspace, id);
        e.subscriptions.remove_client(id);
        e.monitors.remove(id);
        e.tracking.disable(&mut e.keyspace, id);
        for w in self.session.watched.drain(..) {
            e.keyspace.dbs[w.db].unwatch(&w.key, id);
        }
    }
}

async fn sleep_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_or_never(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
