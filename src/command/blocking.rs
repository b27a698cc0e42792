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

use super::error::{CmdError, TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
use super::numeric::{parse_double, strtod_prefix};
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

/// Parses a blocking command's timeout as Redis 7.0 does: a float number of seconds
/// (`0.5`, `1e2`), converted to whole milliseconds rounding up, so that a tiny positive
/// timeout still expires; 0 (or a negative value that rounds to 0) waits forever (`None`).
/// Values whose milliseconds do not fit 64 bits come out negative in C and are refused as
/// negative, as Redis refuses them.
pub fn parse_timeout(arg: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    let seconds = parse_long_double_like(arg).ok_or(CmdError::Fixed(TIMEOUT_NOT_FLOAT))?;
    let ms = (seconds * 1000.0).ceil();
    // C's (long long) conversion of an out-of-range double yields LLONG_MIN.
    let ms = if (-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&ms) {
        ms as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(CmdError::Fixed(TIMEOUT_NEGATIVE));
    }
    if ms == 0 {
        return Ok(None);
    }
    // Far deadlines are capped at a century: the same as never for any client.
    const CENTURY_MS: i64 = 100 * 365 * 24 * 3600 * 1000;
    Ok(Some(std::time::Duration::from_millis(
        ms.min(CENTURY_MS) as u64
    )))
}

/// A float as Redis's `string2ld` reads it (strtold: no spaces, no NaN). Long doubles
/// reach far below f64's smallest value, so an underflowing positive number is kept as
/// the smallest positive f64 rather than refused, which only matters for rounding up.
fn parse_long_double_like(arg: &[u8]) -> Option<f64> {
    if let Some(v) = parse_double(arg) {
        return Some(v);
    }
    // strtod refuses underflow (1e-400) where strtold does not; such a value is a tiny
    // non-zero number of seconds.
    let (v, used) = strtod_prefix(arg);
    let text_ok = used == arg.len() && !arg.is_empty() && !arg[0].is_ascii_whitespace();
    if text_ok && v == 0.0 && is_underflow(arg) {
        return Some(if arg[0] == b'-' {
            -f64::MIN_POSITIVE
        } else {
            f64::MIN_POSITIVE
        });
    }
    None
}

/// True when `arg` is a syntactically valid non-zero number with a large negative
/// exponent that a long double still represents (down to about 1e-4950).
fn is_underflow(arg: &[u8]) -> bool {
    let text = String::from_utf8_lossy(arg).to_ascii_lowercase();
    let Some((mantissa, exp)) = text.split_once('e') else {
        return false;
    };
    let nonzero = mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let exp: i64 = exp.parse().unwrap_or(0);
    nonzero && exp > -4950
}
