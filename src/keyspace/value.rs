//! Values: the five Redis types and the encodings `OBJECT ENCODING` reports for them.
//!
//! Strings keep Redis's three encodings (`int`, `embstr`, `raw`) because clients observe them
//! and because an integer stored as an `i64` costs no allocation. Collections keep a compact
//! form while small (insertion-ordered vectors, a sorted integer vector) and switch to hash
//! tables or the ordered index past the configured thresholds, exactly when Redis 7.0 would
//! convert, and never back, as in Redis.

use bytes::Bytes;
use smallvec::SmallVec;

use super::types::{Hash, List, Set, Stream, ZSet};

/// A byte string stored in the keyspace: inline up to 16 bytes, on the heap above.
pub type Blob = SmallVec<[u8; 16]>;

/// Makes a [`Blob`] from bytes.
pub fn blob(bytes: &[u8]) -> Blob {
    SmallVec::from_slice(bytes)
}

/// Longest string Redis stores with the `embstr` encoding.
pub const EMBSTR_MAX: usize = 44;

/// A string value with its Redis encoding.
#[derive(Debug, Clone)]
pub enum StrValue {
    /// A canonical decimal integer (`OBJECT ENCODING` = `int`).
    Int(i64),
    /// A short string created whole (`embstr`).
    Embstr(Blob),
    /// A string that was modified in place or is long (`raw`).
    Raw(Blob),
    /// A big string kept in the buffer its command argument arrived in (`raw` too): Redis
    /// makes a big argument's query buffer the value itself, so a big SET holds the value
    /// once, not twice. Written in place only after a copy ([`StrValue::into_blob`]). Boxed
    /// so that every value stays four words; only strings of 32 KiB and more pay the box.
    Shared(Box<Bytes>),
}

/// Equal when of the same encoding with the same content (`Shared` is a `raw` string).
impl PartialEq for StrValue {
    fn eq(&self, other: &StrValue) -> bool {
        match (self, other) {
            (StrValue::Int(a), StrValue::Int(b)) => a == b,
            (StrValue::Embstr(a), StrValue::Embstr(b)) => a == b,
            (StrValue::Raw(_) | StrValue::Shared(_), StrValue::Raw(_) | StrValue::Shared(_)) => {
                self.bytes() == other.bytes()
            }
            _ => false,
        }
    }
}

impl StrValue {
    /// The encoding Redis gives a string set from `bytes` by SET and friends
    /// (`tryObjectEncoding`): `int` when it is a canonical i64 of at most 20 characters,
    /// else `embstr` up to 44 bytes, else `raw`.
    pub fn from_bytes(bytes: &[u8]) -> StrValue {
        if bytes.len() <= 20 {
            if let Some(n) = crate::resp::parser::parse_i64(bytes) {
                return StrValue::Int(n);
            }
        }
        if bytes.len() <= EMBSTR_MAX {
            StrValue::Embstr(blob(bytes))
        } else {
            StrValue::Raw(blob(bytes))
        }
    }

    /// [`StrValue::from_bytes`] for a command argument: a big one that arrived in a buffer
    /// of its own (the request parser's rule for arguments of
    /// [`BIG_ARG`](crate::resp::parser::BIG_ARG) or more) is kept in that buffer, not copied.
    /// Only a buffer nothing else holds qualifies, so the value never keeps a shared input
    /// buffer (or other requests' bytes) alive.
    pub fn from_arg(arg: &Bytes) -> StrValue {
        if arg.len() >= crate::resp::parser::BIG_ARG && arg.is_unique() {
            StrValue::Shared(Box::new(arg.clone()))
        } else {
            StrValue::from_bytes(arg)
        }
    }

    /// A string that was built up by APPEND or SETRANGE: always `raw`, as in Redis.
    pub fn raw(bytes: Blob) -> StrValue {
        StrValue::Raw(bytes)
    }

    /// The bytes of a string not stored as an integer.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            StrValue::Int(_) => None,
            StrValue::Embstr(b) | StrValue::Raw(b) => Some(b),
            StrValue::Shared(b) => Some(b),
        }
    }

    /// The value's bytes; integers are formatted into `scratch`.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> &'a [u8] {
        match self {
            StrValue::Int(n) => scratch.format(*n).as_bytes(),
            StrValue::Embstr(b) | StrValue::Raw(b) => b,
            StrValue::Shared(b) => b,
        }
    }

    /// The value's bytes as a blob to change in place (Redis's `dbUnshareStringValue`): the
    /// blob itself when the value owns one, else a copy.
    pub fn into_blob(self) -> Blob {
        match self {
            StrValue::Embstr(b) | StrValue::Raw(b) => b,
            other => other.to_blob(),
        }
    }

    /// Runs `write` on the value's bytes, which it changes in place, and leaves the value a
    /// `raw` string it owns (Redis's `dbUnshareStringValue` before such a write: a value kept
    /// in its argument's buffer, an integer or an `embstr` is copied first).
    pub fn write_raw<R>(&mut self, write: impl FnOnce(&mut Blob) -> R) -> R {
        let mut bytes = std::mem::replace(self, StrValue::Int(0)).into_blob();
        let result = write(&mut bytes);
        *self = StrValue::Raw(bytes);
        result
    }

    /// The value's bytes as an owned blob.
    pub fn to_blob(&self) -> Blob {
        let mut scratch = itoa::Buffer::new();
        blob(self.as_bytes(&mut scratch))
    }

    /// Length in bytes of the string form.
    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(n) => {
                let mut scratch = itoa::Buffer::new();
                scratch.format(*n).len()
            }
            StrValue::Embstr(b) | StrValue::Raw(b) => b.len(),
            StrValue::Shared(b) => b.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an integer, if it is one (Redis's `getLongLongFromObject`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StrValue::Int(n) => Some(*n),
            other => other.bytes().and_then(crate::resp::parser::parse_i64),
        }
    }

    /// The encoding name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Embstr(_) => "embstr",
            StrValue::Raw(_) | StrValue::Shared(_) => "raw",
        }
    }
}

/// A value of any type.
#[derive(Debug, Clone)]
pub enum Value {
    /// A string.
    Str(StrValue),
    /// A list.
    List(Box<List>),
    /// A hash.
    Hash(Box<Hash>),
    /// A set.
    Set(Box<Set>),
    /// A sorted set.
    ZSet(Box<ZSet>),
    /// A stream.
    Stream(Box<Stream>),
}

/// The type of a value, as TYPE and SCAN TYPE name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// `string`
    Str,
    /// `list`
    List,
    /// `hash`
    Hash,
    /// `set`
    Set,
    /// `zset`
    ZSet,
    /// `stream`
    Stream,
}

impl ValueType {
    /// The name TYPE replies with.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Str => "string",
            ValueType::List => "list",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
            ValueType::Stream => "stream",
        }
    }

    /// Parses a SCAN TYPE argument (case-insensitive).
    pub fn parse(name: &[u8]) -> Option<ValueType> {
        [
            ValueType::Str,
            ValueType::List,
            ValueType::Hash,
            ValueType::Set,
            ValueType::ZSet,
            ValueType::Stream,
        ]
        .into_iter()
        .find(|t| t.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

impl Value {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Str(_) => ValueType::Str,
            Value::List(_) => ValueType::List,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::ZSet(_) => ValueType::ZSet,
            Value::Stream(_) => ValueType::Stream,
        }
    }

    /// The encoding name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(_) => "quicklist",
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// A rough count of the bytes this value holds, without walking it: exact for strings,
    /// a per-element average for collections. Eviction uses it to know when it has freed
    /// about enough before it measures the allocator again.
    pub fn approx_bytes(&self) -> usize {
        const PER_ELEMENT: usize = 64;
        match self {
            Value::Str(StrValue::Int(_)) => 0,
            Value::Str(StrValue::Embstr(b) | StrValue::Raw(b)) => b.len(),
            Value::Stream(s) => s.approx_bytes(),
            other => other.element_count() * PER_ELEMENT,
        }
    }

    /// Number of elements (1 for a string), for lazy-free decisions.
    pub fn element_count(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            Value::Stream(s) => s.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_encodings_follow_redis() {
        assert_eq!(StrValue::from_bytes(b"123").encoding(), "int");
        assert_eq!(
            StrValue::from_bytes(b"-9223372036854775808").encoding(),
            "int"
        );
        assert_eq!(StrValue::from_bytes(b"0123").encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(b"hello").encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'x'; 45]).encoding(), "raw");
        assert_eq!(StrValue::from_bytes(&[b'x'; 44]).encoding(), "embstr");
        let mut s = itoa::Buffer::new();
        assert_eq!(StrValue::Int(-5).as_bytes(&mut s), b"-5");
    }

    #[test]
    fn a_big_argument_in_a_buffer_of_its_own_is_kept_not_copied() {
        let alone = Bytes::from(vec![b'v'; crate::resp::parser::BIG_ARG]);
        let kept = StrValue::from_arg(&alone);
        assert!(matches!(&kept, StrValue::Shared(b) if b.as_ptr() == alone.as_ptr()));
        assert_eq!(kept.encoding(), "raw");
        assert_eq!(kept, StrValue::Raw(blob(&alone)));
        // A slice of a request others still hold, or a short string, is copied.
        let request = Bytes::from(vec![b'v'; crate::resp::parser::BIG_ARG + 10]);
        let slice = request.slice(10..);
        assert!(matches!(StrValue::from_arg(&slice), StrValue::Raw(_)));
        let short = Bytes::from(vec![b'v'; 100]);
        assert!(matches!(StrValue::from_arg(&short), StrValue::Raw(_)));
        // Written in place only after a copy: the argument's buffer is never changed.
        let mut owned = kept.into_blob();
        owned[0] = b'w';
        assert_eq!(alone[0], b'v');
    }

    #[test]
    fn value_stays_small() {
        // Every key costs one Value inside its Item: keep it at four words.
        assert!(
            std::mem::size_of::<Value>() <= 32,
            "{}",
            std::mem::size_of::<Value>()
        );
    }
}
