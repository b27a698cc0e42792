//! When each byte of the replication stream was written, to the millisecond, so that what
//! Redis reports in bytes can also be told in time: how stale a replica's data is, how many
//! seconds of writes the backlog holds, how long a replica may stay away and still resume.
//!
//! The same idea as PostgreSQL's WAL lag tracker: the writer samples `(time, offset)` as it
//! appends, and a reader's position is turned into a time by looking its offset up. Samples
//! are taken at most once per [`RESOLUTION`] (a write within a millisecond of the last
//! sample belongs to it), the ones older than the backlog are dropped, and past
//! [`MAX_SAMPLES`] the older half is thinned, so memory stays bounded whatever the write
//! rate and backlog size, and precision is lost first where it matters least (old bytes,
//! whose age is large anyway).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Writes closer together than this share one sample.
pub const RESOLUTION: Duration = Duration::from_millis(1);
/// Samples kept at most.
pub const MAX_SAMPLES: usize = 4096;

/// `(when, offset)` samples of the stream, oldest first: byte `offset` was written at
/// `when`, and every byte up to the next sample's offset within [`RESOLUTION`] after it.
#[derive(Debug, Default)]
pub struct WriteClock {
    samples: VecDeque<(Instant, u64)>,
}

impl WriteClock {
    /// Notes that bytes starting at offset `first` are being written `now`.
    pub fn note(&mut self, now: Instant, first: u64) {
        if let Some(&(last, _)) = self.samples.back() {
            if now.saturating_duration_since(last) < RESOLUTION {
                return;
            }
        }
        if self.samples.len() >= MAX_SAMPLES {
            self.thin();
        }
        self.samples.push_back((now, first));
    }

    /// Bytes the samples occupy.
    pub fn memory(&self) -> usize {
        self.samples.capacity() * std::mem::size_of::<(Instant, u64)>()
    }

    /// Drops every second sample of the older half.
    fn thin(&mut self) {
        let half = self.samples.len() / 2;
        let mut i = 0;
        self.samples.retain(|_| {
            let keep = i >= half || i % 2 == 0;
            i += 1;
            keep
        });
    }

    /// Forgets samples that only describe bytes before offset `first` (the backlog's
    /// oldest byte): the sample covering `first` itself is kept.
    pub fn forget_before(&mut self, first: u64) {
        while self.samples.len() >= 2 && self.samples[1].1 <= first {
            self.samples.pop_front();
        }
    }

    /// Forgets everything (the stream restarted).
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// When byte `offset` was written (to within [`RESOLUTION`], never later than it was);
    /// `None` when it is older than every sample.
    pub fn written_at(&self, offset: u64) -> Option<Instant> {
        let n = self.samples.partition_point(|&(_, o)| o <= offset);
        (n > 0).then(|| self.samples[n - 1].0)
    }

    /// The oldest sample's time.
    pub fn oldest(&self) -> Option<Instant> {
        self.samples.front().map(|&(t, _)| t)
    }

    /// Age at `now` of byte `offset`, or of the oldest sample when the byte is older than
    /// all of them (a lower bound then); zero when nothing was sampled.
    pub fn age(&self, now: Instant, offset: u64) -> Duration {
        self.written_at(offset)
            .or_else(|| self.oldest())
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
    }

    /// Bytes per second written over the last `window` before `now`, `end` being the last
    /// offset written: counted from the first sample inside the window, over the whole
    /// window when the clock is older than it (at least one second, so one write just now
    /// does not read as a huge rate).
    pub fn rate(&self, now: Instant, end: u64, window: Duration) -> u64 {
        let i = self
            .samples
            .partition_point(|&(t, _)| now.saturating_duration_since(t) > window);
        let Some(&(t, first)) = self.samples.get(i) else {
            return 0;
        };
        let span = if i > 0 {
            window
        } else {
            now.saturating_duration_since(t)
        };
        let secs = span.as_secs_f64().max(1.0);
        ((end + 1).saturating_sub(first) as f64 / secs) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn a_byte_is_dated_by_the_sample_that_covers_it() {
        let base = Instant::now();
        let mut c = WriteClock::default();
        c.note(at(base, 0), 1); // bytes 1..=10
        c.note(at(base, 5), 11); // bytes 11..=20
        c.note(at(base, 100), 21);
        assert_eq!(c.written_at(0), None);
        assert_eq!(c.written_at(1), Some(at(base, 0)));
        assert_eq!(c.written_at(10), Some(at(base, 0)));
        assert_eq!(c.written_at(11), Some(at(base, 5)));
        assert_eq!(c.written_at(500), Some(at(base, 100)));
        assert_eq!(c.age(at(base, 1000), 15), Duration::from_millis(995));
        // Older than every sample: the oldest one bounds it from below.
        assert_eq!(c.age(at(base, 1000), 0), Duration::from_millis(1000));
    }

    #[test]
    fn writes_within_the_resolution_share_a_sample() {
        let base = Instant::now();
        let mut c = WriteClock::default();
        c.note(base, 1);
        c.note(base + Duration::from_micros(300), 50);
        c.note(base + Duration::from_micros(900), 90);
        assert_eq!(c.samples.len(), 1);
        assert_eq!(c.written_at(89), Some(base));
        c.note(at(base, 2), 120);
        assert_eq!(c.samples.len(), 2);
    }

    #[test]
    fn samples_before_the_backlog_are_forgotten_but_the_covering_one_is_kept() {
        let base = Instant::now();
        let mut c = WriteClock::default();
        for i in 0..10 {
            c.note(at(base, i * 10), i * 100 + 1);
        }
        c.forget_before(450);
        // The sample of bytes 401..=500 still dates byte 450.
        assert_eq!(c.written_at(450), Some(at(base, 40)));
        assert_eq!(c.oldest(), Some(at(base, 40)));
    }

    #[test]
    fn memory_is_bounded_and_recent_samples_stay_exact() {
        let base = Instant::now();
        let mut c = WriteClock::default();
        for i in 0..(MAX_SAMPLES as u64 * 5) {
            c.note(at(base, i * 2), i * 10 + 1);
        }
        assert!(c.samples.len() <= MAX_SAMPLES);
        let last = MAX_SAMPLES as u64 * 5 - 1;
        assert_eq!(c.written_at(last * 10 + 1), Some(at(base, last * 2)));
        assert_eq!(
            c.written_at((last - 10) * 10 + 5),
            Some(at(base, (last - 10) * 2))
        );
        // Old bytes are still dated, less precisely, never later than they were written.
        let old = c.written_at(5001).expect("dated");
        assert!(old <= at(base, 1000));
        assert_eq!(c.oldest(), Some(base));
    }

    #[test]
    fn the_rate_counts_the_bytes_written_in_the_window() {
        let base = Instant::now();
        let mut c = WriteClock::default();
        assert_eq!(c.rate(base, 0, Duration::from_secs(60)), 0);
        // 1000 bytes a second for 100 s.
        for s in 0..100u64 {
            c.note(at(base, s * 1000), s * 1000 + 1);
        }
        let end = 100_000;
        let r = c.rate(at(base, 100_000), end, Duration::from_secs(60));
        assert!((990..=1010).contains(&r), "{r}");
        // A young clock counts over its own age, at least a second.
        let mut young = WriteClock::default();
        young.note(base, 1);
        assert_eq!(young.rate(at(base, 10), 500, Duration::from_secs(60)), 500);
        // Nothing written in the window.
        assert_eq!(c.rate(at(base, 500_000), end, Duration::from_secs(60)), 0);
    }
}
