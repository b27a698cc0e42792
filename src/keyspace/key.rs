//! The key of a keyspace item, kept inside the item when it is short.
//!
//! Every lookup compares the probed item's key with the one asked for. A key on the heap
//! costs a second cache miss per compare (item, then key bytes); most real keys
//! (`user:1234:session`, `counter:000000012345`) are short, so they live in the item itself.
//! 24 bytes either way, the size of the [`Blob`](super::Blob) it replaces, so short keys
//! cost no memory.

use std::fmt;
use std::ops::Deref;

/// Longest key stored inline.
const INLINE: usize = 22;

/// A key's bytes: inline up to 22 bytes, else one exact-size heap allocation.
#[derive(Clone, PartialEq, Eq)]
pub enum Key {
    /// A short key, `bytes[..len]`.
    Inline {
        /// Number of bytes used.
        len: u8,
        /// The bytes (the tail past `len` is zero).
        bytes: [u8; INLINE],
    },
    /// A longer key.
    Heap(Box<[u8]>),
}

impl Key {
    /// A key holding a copy of `bytes`.
    pub fn new(bytes: &[u8]) -> Key {
        if bytes.len() <= INLINE {
            let mut inline = [0u8; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            Key::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            }
        } else {
            Key::Heap(bytes.into())
        }
    }

    /// The key's bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

impl Deref for Key {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_inline_and_the_size_matches_a_blob() {
        assert_eq!(std::mem::size_of::<Key>(), 24);
        assert_eq!(
            std::mem::size_of::<Key>(),
            std::mem::size_of::<super::super::Blob>()
        );
        let k = Key::new(b"counter:000000012345");
        assert!(matches!(k, Key::Inline { .. }));
        assert_eq!(k.as_slice(), b"counter:000000012345");
        let empty = Key::new(b"");
        assert_eq!(empty.as_slice(), b"");
        let at_limit = Key::new(&[7u8; INLINE]);
        assert!(matches!(at_limit, Key::Inline { .. }));
        assert_eq!(at_limit.len(), INLINE);
        let long = Key::new(&[9u8; INLINE + 1]);
        assert!(matches!(long, Key::Heap(_)));
        assert_eq!(&*long, &[9u8; INLINE + 1][..]);
        assert_ne!(Key::new(b"a"), Key::new(b"a\0"));
    }
}
