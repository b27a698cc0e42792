//! What a handler sees: [`Ctx`] (the engine, the calling session, the arguments, the reply
//! buffer and the command table), and what it hands back to the connection ([`Action`]).

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::error::CmdError;
use super::{CommandTable, Spec};
use crate::engine::{Engine, Session, State};
use crate::keyspace::{Blob, Db, Value};
use crate::resp::{Argv, ReplyBuf};

/// What the connection must do after a command.
#[derive(Debug, Default)]
pub enum Action {
    /// Nothing: go on with the next command.
    #[default]
    None,
    /// Write the replies, then close (QUIT, protocol errors).
    Close,
    /// The client is blocked: stop processing its input until the reply arrives or the
    /// deadline passes.
    Blocked(BlockedWait),
    /// Stop the server (SHUTDOWN).
    Shutdown,
    /// SHUTDOWN waits for lagging replicas: no reply until it ends; the server stops, or
    /// the client gets an error when it is aborted or fails.
    AwaitShutdown(tokio::sync::watch::Receiver<crate::engine::shutdown::Outcome>),
    /// The client became a replica (PSYNC/SYNC): hand the socket to the replication link.
    HandOff(Box<crate::replication::master::HandOff>),
    /// A pause holds this command (CLIENT PAUSE, a failover holding writes): nothing ran;
    /// the connection puts the command back and retries it when the pause changes.
    Paused,
    /// WAIT: block until enough replicas acknowledged `offset`, or the deadline.
    WaitReplicas {
        /// Replicas wanted.
        numreplicas: u64,
        /// Offset they must have acknowledged.
        offset: u64,
        /// When to give up; `None` waits forever.
        deadline: Option<tokio::time::Instant>,
    },
}

/// A blocked client's wait, handed to its connection.
#[derive(Debug)]
pub struct BlockedWait {
    /// Receives the reply when another client's write serves this one.
    pub rx: oneshot::Receiver<Vec<u8>>,
    /// When to give up; `None` waits forever.
    pub deadline: Option<tokio::time::Instant>,
    /// What to answer on timeout.
    pub timeout_reply: TimeoutReply,
}

/// The reply a blocking command gives when its timeout passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` / `_` (BLPOP, BZPOPMIN, BLMPOP...).
    NullArray,
    /// `$-1` / `_` (BLMOVE, BRPOPLPUSH).
    NullBulk,
}

/// What a blocking handler asks for when it cannot be served now.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// Keys to wait on.
    pub keys: Vec<Blob>,
    /// How long to wait; `None` = forever.
    pub timeout: Option<Duration>,
    /// What to answer on timeout.
    pub timeout_reply: TimeoutReply,
    /// The command to re-run when a key becomes ready, when it differs from the one sent
    /// (XREAD's `$` resolved to the stream's last ID at the time it blocked).
    pub rerun_as: Option<Vec<Bytes>>,
}

/// How a command is being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    /// Sent by a client.
    Normal,
    /// Queued in MULTI, now run by EXEC: blocking commands must not block.
    Exec,
    /// Called by a Lua script (`redis.call`): no blocking either, and a few commands
    /// (XREAD BLOCK) refuse outright, as Redis refuses them from scripts.
    Script,
    /// Re-run for a blocked client whose key became ready.
    Serving,
}

/// Everything a handler can reach.
pub struct Ctx<'a> {
    /// Shared server state (clients, settings, stats).
    pub state: &'a State,
    /// The engine (keyspace and friends), locked.
    pub engine: &'a mut Engine,
    /// The calling client.
    pub session: &'a mut Session,
    /// Arguments, command name first.
    pub argv: &'a [Bytes],
    /// Where the reply goes.
    pub out: &'a mut ReplyBuf,
    /// The command's row.
    pub spec: &'static Spec,
    /// Unix ms, fixed for the whole command (as Redis caches `mstime` per command).
    pub now: i64,
    /// Changes made; a write with `dirty > 0` is propagated.
    pub dirty: u64,
    /// Propagate this instead of the command itself (deterministic forms).
    pub rewrite: Option<Vec<Argv>>,
    /// Propagate even without changes (PUBLISH).
    pub force_propagate: bool,
    /// Set by a blocking handler that cannot be served now.
    pub block: Option<BlockRequest>,
    /// What the connection must do next.
    pub action: Action,
    /// How the command runs.
    pub mode: CallMode,
    /// When re-run for a blocked client ([`CallMode::Serving`]): the key that became ready,
    /// the only one it may be served from (as Redis serves a waiter from the ready key).
    pub ready_key: Option<&'a [u8]>,
    /// Every command (EXEC runs queued ones, COMMAND lists them): handed down by the
    /// executor, so that no family imports the table that imports every family.
    pub table: &'static CommandTable,
    /// Indexes of arguments the slow log and MONITOR must not show (passwords): see
    /// [`Ctx::redact`].
    pub redacted: Vec<usize>,
    /// The handler wrote an error reply itself (a script's: counted as the script returned
    /// it, or not counted when its cause was counted where it happened, which Redis replies
    /// with `ERR_REPLY_FLAG_NO_STATS_UPDATE`): the command counts as failed all the same.
    pub replied_error: bool,
}

impl<'a> Ctx<'a> {
    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> &'a [u8] {
        &self.argv[i]
    }

    /// Argument `i` as the buffer it arrived in, for a value that may keep it
    /// ([`StrValue::from_arg`](crate::keyspace::value::StrValue::from_arg)).
    pub fn arg_bytes(&self, i: usize) -> &'a Bytes {
        &self.argv[i]
    }

    /// Hides argument `i` from the slow log and MONITOR (shown as `(redacted)`), as
    /// Redis's `redactClientCommandArgument`: for passwords and other secrets.
    pub fn redact(&mut self, i: usize) {
        if !self.redacted.contains(&i) {
            self.redacted.push(i);
        }
    }

    /// The selected database.
    pub fn db(&mut self) -> &mut Db {
        let db = self.session.db;
        &mut self.engine.keyspace.dbs[db]
    }

    /// Runs `f` on the reply buffer and the bytes of the string at `key` (a read lookup,
    /// counted as a hit or miss): replies are written from the stored bytes, with no copy of
    /// the value. `None` when the key is missing, WRONGTYPE when it holds another type.
    pub fn with_string<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&mut ReplyBuf, &[u8]) -> R,
    ) -> Result<Option<R>, CmdError> {
        let (now, clock) = (self.now, self.clock());
        let db = self.session.db;
        let out = &mut *self.out;
        match self.engine.keyspace.dbs[db].get_counted(key, now, clock) {
            None => Ok(None),
            Some(item) => match &item.value {
                Value::Str(s) => {
                    let mut scratch = itoa::Buffer::new();
                    Ok(Some(f(out, s.as_bytes(&mut scratch))))
                }
                _ => Err(CmdError::Fixed(super::error::WRONGTYPE)),
            },
        }
    }

    /// The most elements a reply can hold before it passes this client's output hard
    /// limit (each element takes at least 4 bytes); unlimited when no hard limit applies.
    /// Commands that generate elements on request (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER with
    /// a negative count) stop there, as Redis stops once the client is to be closed.
    pub fn reply_element_cap(&self) -> usize {
        let hard = self.session.info.output_limit(&self.engine.settings).hard;
        if hard == 0 || self.session.must_obey() {
            usize::MAX
        } else {
            usize::try_from(hard / 4 + 1).unwrap_or(usize::MAX)
        }
    }

    /// The LRU clock for new items.
    pub fn clock(&self) -> u32 {
        self.engine.keyspace.lru_clock()
    }

    /// Records that `key` in the selected database was modified: counts a change and
    /// signals WATCHers. Handlers that change a value in place call this.
    pub fn modified(&mut self, key: &[u8]) {
        self.dirty += 1;
        let db = self.session.db;
        self.engine.keyspace.dbs[db].touch(key);
    }

    /// Reports a keyspace event of `class` on `key` in the selected database (see
    /// [`crate::engine::notify`]); the events the command's lookups caused go first.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.session.db;
        self.notify_in(db, class, event, key);
    }

    /// Reports what a `...STORE` command did to its destination: `event` when it stored a
    /// value there, `del` when an empty result deleted it (Redis's rule for every command
    /// that stores a computed collection).
    pub fn notify_stored(&mut self, stored: bool, class: u32, event: &str, key: &[u8]) {
        if stored {
            self.notify(class, event, key);
        } else {
            self.notify(crate::engine::notify::GENERIC, "del", key);
        }
    }

    /// [`Ctx::notify`] for a key of database `db` (MOVE, COPY ... DB).
    pub fn notify_in(&mut self, db: usize, class: u32, event: &str, key: &[u8]) {
        if self.engine.settings.notify_keyspace_events & class == 0 {
            return;
        }
        self.engine.notify_pending();
        self.engine.notify(class, event, key, db);
    }

    /// Propagates `commands` instead of the command itself.
    pub fn propagate_as(&mut self, commands: Vec<Argv>) {
        self.rewrite = Some(commands);
    }

    /// True when a blocking command may block (not inside EXEC, not on the master link).
    pub fn may_block(&self) -> bool {
        matches!(self.mode, CallMode::Normal | CallMode::Serving) && !self.session.is_master_link
    }

    /// Asks to block on `keys`.
    pub fn block_on(
        &mut self,
        keys: Vec<Blob>,
        timeout: Option<Duration>,
        timeout_reply: TimeoutReply,
    ) {
        self.block = Some(BlockRequest {
            keys,
            timeout,
            timeout_reply,
            rerun_as: None,
        });
    }

    /// Asks to block on `keys`, re-running `rerun_as` instead of the command when one of
    /// them becomes ready.
    pub fn block_as(&mut self, keys: Vec<Blob>, timeout: Option<Duration>, rerun_as: Vec<Bytes>) {
        self.block = Some(BlockRequest {
            keys,
            timeout,
            timeout_reply: TimeoutReply::NullArray,
            rerun_as: Some(rerun_as),
        });
    }
}

/// Builds an argv from byte slices (for rewritten propagation).
pub fn argv_of(parts: &[&[u8]]) -> Argv {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}
