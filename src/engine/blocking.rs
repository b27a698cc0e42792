//! Clients blocked in BLPOP, BRPOP, BLMOVE, BLMPOP, BZPOPMIN/MAX and friends.
//!
//! A blocked client is a [`Waiter`]: the command it ran, its database and protocol, and a
//! channel for the reply. Waiters on a key are served in arrival order. When a write makes a
//! watched-for key ready, the executor re-runs each waiter's command (see
//! `exec::serve_blocked`); the first that succeeds gets its reply through the channel, and
//! what it did is propagated in its non-blocking form like any other write.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::session::ClientInfo;
use crate::keyspace::types::HMap;
use crate::keyspace::{Blob, Keyspace};
use crate::resp::{Argv, Proto};

/// A blocked client.
#[derive(Debug)]
pub struct Waiter {
    /// Shared client info.
    pub info: Arc<ClientInfo>,
    /// Database the command runs in.
    pub db: usize,
    /// Protocol of the reply.
    pub proto: Proto,
    /// The blocking command.
    pub argv: Argv,
    /// Keys it waits on.
    pub keys: Vec<Blob>,
    /// Where the reply goes once served.
    pub reply: Option<oneshot::Sender<Vec<u8>>>,
}

/// The registry of blocked clients.
#[derive(Debug, Default)]
pub struct Blocking {
    waiters: HMap<u64, Waiter>,
    by_key: HMap<(usize, Blob), VecDeque<u64>>,
}

impl Blocking {
    /// Registers a waiter on its keys (a key named twice counts once, as in Redis).
    pub fn block(&mut self, keyspace: &mut Keyspace, mut waiter: Waiter) {
        let id = waiter.info.id;
        let mut seen = Vec::with_capacity(waiter.keys.len());
        waiter.keys.retain(|k| {
            let fresh = !seen.contains(k);
            if fresh {
                seen.push(k.clone());
            }
            fresh
        });
        for key in &waiter.keys {
            keyspace.dbs[waiter.db].block_on(key);
            self.by_key
                .entry((waiter.db, key.clone()))
                .or_default()
                .push_back(id);
        }
        waiter
            .info
            .blocked
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.waiters.insert(id, waiter);
    }

    /// Removes client `id`'s wait (served, timed out, disconnected or killed).
    pub fn unblock(&mut self, keyspace: &mut Keyspace, id: u64) -> Option<Waiter> {
        let waiter = self.waiters.remove(&id)?;
        for key in &waiter.keys {
            keyspace.dbs[waiter.db].unblock_on(key);
            let slot = (waiter.db, key.clone());
            if let Some(queue) = self.by_key.get_mut(&slot) {
                queue.retain(|c| *c != id);
                if queue.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        waiter
            .info
            .blocked
            .store(false, std::sync::atomic::Ordering::Relaxed);
        Some(waiter)
    }

    /// Clients waiting on `key` in `db`, in arrival order.
    pub fn waiting_on(&self, db: usize, key: &Blob) -> Vec<u64> {
        self.by_key
            .get(&(db, key.clone()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The waiter of client `id`.
    pub fn get(&self, id: u64) -> Option<&Waiter> {
        self.waiters.get(&id)
    }

    /// Ids of every blocked client.
    pub fn ids(&self) -> Vec<u64> {
        self.waiters.keys().copied().collect()
    }

    /// Number of blocked clients.
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// True when nobody is blocked.
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }
}
