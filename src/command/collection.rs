//! Typed access to collection values, shared by the list, hash, set and sorted-set families.
//!
//! Every collection command does the same few things around its own logic: look the key
//! up and answer `WRONGTYPE` when it holds another type, create the value on the first
//! write, and delete the key when the last element goes (Redis never keeps an empty
//! collection). Those steps live here once, typed by [`Collection`], so a handler reads as
//! the command's own rules.
//!
//! The functions take the [`Db`] rather than the whole [`Ctx`] so that a handler can hold a
//! borrowed value and write the reply at the same time ([`db_out`] splits the two).

use super::ctx::Ctx;
use super::error::{self, CmdError, CmdResult};
use crate::engine::notify;
use crate::keyspace::types::{Hash, List, Set, Stream, ZSet};
use crate::keyspace::{Db, Value, NO_EXPIRE};
use crate::resp::ReplyBuf;

/// A collection type stored in a [`Value`] variant.
pub trait Collection: Sized {
    /// The value as this type, if it is one.
    fn of(value: &Value) -> Option<&Self>;
    /// The value as this type, mutably, if it is one.
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
    /// Wraps the collection in a value.
    fn into_value(self) -> Value;
    /// True when the collection holds nothing (and its key must go).
    fn is_empty_collection(&self) -> bool;
}

macro_rules! collection {
    ($ty:ident, $variant:ident) => {
        impl Collection for $ty {
            fn of(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn of_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn into_value(self) -> Value {
                Value::$variant(Box::new(self))
            }
            fn is_empty_collection(&self) -> bool {
                self.is_empty()
            }
        }
    };
}

collection!(List, List);
collection!(Hash, Hash);
collection!(Set, Set);
collection!(ZSet, ZSet);

impl Collection for Stream {
    fn of(value: &Value) -> Option<&Self> {
        match value {
            Value::Stream(v) => Some(v),
            _ => None,
        }
    }
    fn of_mut(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::Stream(v) => Some(v),
            _ => None,
        }
    }
    fn into_value(self) -> Value {
        Value::Stream(Box::new(self))
    }
    /// A stream stays when its last entry goes (consumer groups and IDs live on).
    fn is_empty_collection(&self) -> bool {
        false
    }
}

/// Collections whose elements are removed by name: hash fields, set and sorted-set members.
pub trait RemoveByName: Collection {
    /// The keyspace event of a removal: its class and name (`hdel`, `srem`, `zrem`).
    const REMOVED: (u32, &'static str);

    /// Removes `name`; true when it was there.
    fn remove_name(&mut self, name: &[u8]) -> bool;
}

impl RemoveByName for Hash {
    const REMOVED: (u32, &'static str) = (notify::HASH, "hdel");

    fn remove_name(&mut self, name: &[u8]) -> bool {
        self.remove(name)
    }
}

impl RemoveByName for Set {
    const REMOVED: (u32, &'static str) = (notify::SET, "srem");

    fn remove_name(&mut self, name: &[u8]) -> bool {
        self.remove(name)
    }
}

impl RemoveByName for ZSet {
    const REMOVED: (u32, &'static str) = (notify::ZSET, "zrem");

    fn remove_name(&mut self, name: &[u8]) -> bool {
        self.remove(name)
    }
}

/// HDEL, SREM and ZREM: removes the elements named by `argv[2..]` from the collection at
/// `argv[1]`, deletes the key once it is empty, and replies how many were removed.
pub fn remove_named<T: RemoveByName>(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now;
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let db = ctx.db();
    let Some(collection) = modify::<T>(db, key, now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for name in &argv[2..] {
        if collection.remove_name(name) {
            removed += 1;
            if collection.is_empty_collection() {
                break;
            }
        }
    }
    let emptied = collection.is_empty_collection();
    if emptied {
        db.remove(key);
    }
    if removed > 0 {
        db.touch(key);
        ctx.dirty += removed as u64;
        let (class, event) = T::REMOVED;
        ctx.notify(class, event, key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.out.int(removed);
    Ok(())
}

fn wrongtype() -> CmdError {
    CmdError::Fixed(error::WRONGTYPE)
}

/// The selected database and the reply buffer, borrowed together.
pub fn db_out<'c>(ctx: &'c mut Ctx) -> (&'c mut Db, &'c mut ReplyBuf) {
    let db = ctx.session.db;
    (&mut ctx.engine.keyspace.dbs[db], &mut *ctx.out)
}

/// A read command's lookup (counts a keyspace hit or miss): `None` when missing,
/// `WRONGTYPE` when the key holds another type.
pub fn read<'d, T: Collection>(
    db: &'d mut Db,
    key: &[u8],
    now: i64,
    clock: u32,
) -> Result<Option<&'d T>, CmdError> {
    match db.get_counted(key, now, clock) {
        None => Ok(None),
        Some(item) => T::of(&item.value).map(Some).ok_or_else(wrongtype),
    }
}

/// A write command's look at a value before changing it (no hit/miss counted).
pub fn peek<'d, T: Collection>(
    db: &'d mut Db,
    key: &[u8],
    now: i64,
) -> Result<Option<&'d T>, CmdError> {
    match db.get(key, now) {
        None => Ok(None),
        Some(item) => T::of(&item.value).map(Some).ok_or_else(wrongtype),
    }
}

/// The value of `key` for in-place change. The caller signals the change
/// ([`Db::touch`] or `Ctx::modified`) once it knows something changed.
pub fn modify<'d, T: Collection>(
    db: &'d mut Db,
    key: &[u8],
    now: i64,
) -> Result<Option<&'d mut T>, CmdError> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(value) => T::of_mut(value).map(Some).ok_or_else(wrongtype),
    }
}

/// The value of `key` for in-place change, created with `make` (without TTL) when missing.
/// Creating the key signals blocked clients and WATCHers, as Redis's `dbAdd` does.
pub fn modify_or_create<'d, T: Collection>(
    db: &'d mut Db,
    key: &[u8],
    now: i64,
    clock: u32,
    make: impl FnOnce() -> T,
) -> Result<&'d mut T, CmdError> {
    match db.get(key, now) {
        Some(item) => {
            if T::of(&item.value).is_none() {
                return Err(wrongtype());
            }
        }
        None => {
            db.insert(key, make().into_value(), NO_EXPIRE, clock);
        }
    }
    modify(db, key, now)?.ok_or_else(wrongtype)
}

/// Fails with `WRONGTYPE` when `key` exists with another type (checks made before a
/// command changes anything, such as the destination of LMOVE or SMOVE).
pub fn check_type<T: Collection>(db: &mut Db, key: &[u8], now: i64) -> Result<(), CmdError> {
    peek::<T>(db, key, now).map(|_| ())
}

/// Deletes `key` when its collection became empty; returns true when it did.
pub fn remove_if_empty<T: Collection>(db: &mut Db, key: &[u8], now: i64) -> bool {
    let empty = db
        .get(key, now)
        .and_then(|item| T::of(&item.value))
        .is_some_and(T::is_empty_collection);
    if empty {
        db.remove(key);
    }
    empty
}

/// Stores `value` under `key` replacing whatever was there (the *STORE commands), or
/// deletes `key` when `value` is empty. Returns true when the key existed or was created
/// (a change to count and propagate).
pub fn store<T: Collection>(db: &mut Db, key: &[u8], value: T, now: i64, clock: u32) -> bool {
    if value.is_empty_collection() {
        return db.delete(key, now);
    }
    db.get(key, now);
    db.insert(key, value.into_value(), NO_EXPIRE, clock);
    true
}
