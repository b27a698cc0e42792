//! How key accesses are recorded: Redis's LRU clock, or its LFU counter.
//!
//! Under an LFU `maxmemory-policy` an item's access field holds what Redis keeps in its
//! 24-bit `lru` field: the minute (mod 2^16) of the counter's last decay in the top 16 bits
//! and an 8-bit logarithmic access counter below. The counter starts at 5 so a new key is
//! not the first to go; each access increments it with probability 1 / ((c - 5) ×
//! `lfu-log-factor` + 1), and every `lfu-decay-time` minutes of idleness take one off.
//! Switching policies reinterprets the field, as in Redis (the data "takes some time to
//! adjust").

use super::now_ms;

/// The counter a new key starts with (Redis's `LFU_INIT_VAL`).
pub const LFU_INIT: u32 = 5;

/// How accesses are recorded, from `maxmemory-policy`, `lfu-log-factor` and
/// `lfu-decay-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessMode {
    /// The access field is the LRU clock in seconds (OBJECT IDLETIME).
    #[default]
    Lru,
    /// The access field is the LFU counter and its decay minute (OBJECT FREQ).
    Lfu {
        /// `lfu-log-factor`.
        log_factor: u32,
        /// `lfu-decay-time`, minutes per decrement (0 = never).
        decay_minutes: u32,
    },
}

/// The current minute, modulo 2^16 (Redis's `LFUGetTimeInMinutes`).
pub fn minutes_now() -> u32 {
    ((now_ms() / 60_000) & 0xFFFF) as u32
}

/// The stamp of a key created at minute `now`.
pub fn initial(now: u32) -> u32 {
    (now << 8) | LFU_INIT
}

/// The counter of `stamp` after the decay its idle minutes call for (OBJECT FREQ).
pub fn decayed(stamp: u32, decay_minutes: u32, now: u32) -> u32 {
    let last = (stamp >> 8) & 0xFFFF;
    let counter = stamp & 0xFF;
    if decay_minutes == 0 {
        return counter;
    }
    let elapsed = if now >= last {
        now - last
    } else {
        65535 - last + now
    };
    counter.saturating_sub(elapsed / decay_minutes)
}

/// The stamp after one access at minute `now`; `chance` is a uniform draw in [0, 1).
pub fn accessed(stamp: u32, mode: AccessMode, now: u32, chance: f64) -> u32 {
    let AccessMode::Lfu {
        log_factor,
        decay_minutes,
    } = mode
    else {
        return stamp;
    };
    let mut counter = decayed(stamp, decay_minutes, now);
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT) as f64;
        if chance < 1.0 / (base * log_factor as f64 + 1.0) {
            counter += 1;
        }
    }
    (now << 8) | counter
}

/// The stamp of a key given frequency `freq` at minute `now` (RESTORE FREQ, RDB FREQ).
pub fn with_frequency(freq: u8, now: u32) -> u32 {
    (now << 8) | freq as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODE: AccessMode = AccessMode::Lfu {
        log_factor: 10,
        decay_minutes: 1,
    };

    #[test]
    fn new_keys_start_at_five_and_the_first_accesses_always_count() {
        let s = initial(100);
        assert_eq!(decayed(s, 1, 100), 5);
        // At the initial value the probability is 1.
        let s = accessed(s, MODE, 100, 0.999);
        assert_eq!(decayed(s, 1, 100), 6);
        // Above it, an unlucky draw does not count.
        assert_eq!(decayed(accessed(s, MODE, 100, 0.999), 1, 100), 6);
        assert_eq!(decayed(accessed(s, MODE, 100, 0.0), 1, 100), 7);
    }

    #[test]
    fn the_counter_saturates_and_decays_one_per_period() {
        let s = with_frequency(255, 10);
        assert_eq!(decayed(accessed(s, MODE, 10, 0.0), 1, 10), 255);
        assert_eq!(decayed(s, 1, 13), 252);
        assert_eq!(decayed(s, 2, 14), 253);
        assert_eq!(decayed(s, 0, 5000), 255, "decay time 0 never decays");
        assert_eq!(decayed(with_frequency(3, 10), 1, 200), 0);
        // The minute wraps at 2^16.
        assert_eq!(decayed(with_frequency(50, 65530), 1, 4), 41);
    }

    #[test]
    fn with_a_log_factor_of_ten_a_hundred_thousand_hits_give_about_142() {
        // Redis's table (redis.conf): factor 10 gives 142 after 100K hits, 255 after 1M.
        let mut s = initial(0);
        let mut x: u64 = 0x2545F4914F6CDD1D;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let chance = (x >> 11) as f64 / (1u64 << 53) as f64;
            s = accessed(s, MODE, 0, chance);
        }
        let c = decayed(s, 1, 0);
        assert!((120..170).contains(&c), "counter {c} after 100k hits");
    }
}
