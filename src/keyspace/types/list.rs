//! Lists: a double-ended queue of byte strings. Redis 7.0 reports every list as `quicklist`.

use std::collections::VecDeque;

use crate::keyspace::value::Blob;

/// One end of a list (Redis's `LIST_HEAD` / `LIST_TAIL`, spelled LEFT / RIGHT by clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The first element (LEFT).
    Head,
    /// The last element (RIGHT).
    Tail,
}

/// A list value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {
    /// The elements, head first.
    pub items: VecDeque<Blob>,
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty (an empty list is deleted from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds `value` at `end`.
    pub fn push(&mut self, end: End, value: Blob) {
        match end {
            End::Head => self.items.push_front(value),
            End::Tail => self.items.push_back(value),
        }
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Blob> {
        match end {
            End::Head => self.items.pop_front(),
            End::Tail => self.items.pop_back(),
        }
    }

    /// Converts a Redis index (negative counts from the tail) to a position, if in range.
    pub fn index(&self, index: i64) -> Option<usize> {
        let len = self.items.len() as i64;
        let i = if index < 0 { len + index } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// Clamps a Redis `start..=stop` range (as LRANGE and LTRIM read it) to positions;
    /// `None` when the range is empty.
    pub fn range(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        clamp_range(self.items.len(), start, stop)
    }
}

/// Clamps a Redis inclusive `start..=stop` range with negative indexes over `len` elements,
/// returning `(first, last)` positions, or `None` when empty. Shared by LRANGE, ZRANGE,
/// GETRANGE-like commands.
pub fn clamp_range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(clamp_range(5, 0, -1), Some((0, 4)));
        assert_eq!(clamp_range(5, -100, 100), Some((0, 4)));
        assert_eq!(clamp_range(5, 3, 1), None);
        assert_eq!(clamp_range(5, 5, 10), None);
        assert_eq!(clamp_range(0, 0, -1), None);
        assert_eq!(clamp_range(5, -2, -1), Some((3, 4)));
    }
}
