//! Process figures for INFO and /metrics: allocator and resident memory, CPU time, and the
//! run id that names this process everywhere (INFO, traces).

/// This process's run id (INFO `run_id`, the traces' `service.instance.id`): 40 random
/// hex digits drawn once, so that a restart is a new id, as Sentinel expects.
pub fn run_id() -> &'static str {
    static RUN_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN_ID.get_or_init(|| {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..40)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
            .collect()
    })
}

/// Releases of memory made off the engine's command path (see [`note_release`]).
static RELEASES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Notes that memory was just freed outside a command (a connection's buffers, the
/// lazy-free thread): `maxmemory`'s cached allocator figure must be read again before it
/// decides to evict.
pub fn note_release() {
    RELEASES.fetch_add(1, std::sync::atomic::Ordering::Release);
}

/// How many releases [`note_release`] counted so far.
pub fn releases() -> u64 {
    RELEASES.load(std::sync::atomic::Ordering::Acquire)
}

/// What the allocator really reserves for a request of `bytes` (its size class): a buffer's
/// capacity understates its cost by up to a quarter, and client memory must add up to
/// what `used_memory` counts.
pub fn allocation_size(bytes: usize) -> usize {
    if bytes == 0 {
        return 0;
    }
    // SAFETY: nallocx only computes a size class; it allocates nothing and accepts any size
    // (0 is returned when the size overflows, and then the request's own size is used).
    let class = unsafe { tikv_jemalloc_sys::nallocx(bytes, 0) };
    class.max(bytes)
}

/// Bytes currently allocated through the allocator (INFO used_memory).
pub fn allocated_bytes() -> u64 {
    // jemalloc caches its statistics; advancing the epoch refreshes them.
    let _ = tikv_jemalloc_ctl::epoch::advance();
    in_use(
        tikv_jemalloc_ctl::stats::allocated::read()
            .map(|v| v as u64)
            .unwrap_or(0),
    )
}

/// jemalloc counts as allocated the freed blocks its per-thread caches keep for reuse (up
/// to a few hundred KiB per thread, filled and emptied as threads allocate): what the
/// program holds is that figure less the caches' bytes. Without this, `used_memory` drifts
/// by tens of KiB from one command to the next, and `maxmemory` with it (Redis counts its
/// own allocations, so its figure does not move when nothing is stored).
fn in_use(allocated: u64) -> u64 {
    // MALLCTL_ARENAS_ALL (4096): the sum over every arena.
    // SAFETY: the name is a NUL-terminated mallctl name whose value is a size_t.
    let cached =
        unsafe { tikv_jemalloc_ctl::raw::read::<usize>(b"stats.arenas.4096.tcache_bytes\0") };
    allocated.saturating_sub(cached.map(|v| v as u64).unwrap_or(0))
}

/// Bytes the calling thread has allocated minus those it freed, since it started: jemalloc
/// keeps both counters per thread, and reading them through their cached addresses costs
/// two memory reads, cheap enough to bracket every command (see `engine::eviction`).
pub fn thread_net_allocated() -> i64 {
    type Counters = Option<(
        tikv_jemalloc_ctl::thread::ThreadLocal<u64>,
        tikv_jemalloc_ctl::thread::ThreadLocal<u64>,
    )>;
    thread_local! {
        static COUNTERS: Counters = tikv_jemalloc_ctl::thread::allocatedp::read()
            .ok()
            .zip(tikv_jemalloc_ctl::thread::deallocatedp::read().ok());
    }
    COUNTERS.with(|c| c.map_or(0, |(a, d)| a.get() as i64 - d.get() as i64))
}

/// jemalloc's figures: allocated by the program, in active pages, resident.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocatorStats {
    /// Bytes allocated (INFO used_memory / allocator_allocated).
    pub allocated: u64,
    /// Bytes in active pages (allocator_active).
    pub active: u64,
    /// Bytes resident (allocator_resident).
    pub resident: u64,
}

/// Reads jemalloc's statistics, refreshed.
pub fn allocator_stats() -> AllocatorStats {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    use tikv_jemalloc_ctl::stats;
    AllocatorStats {
        allocated: in_use(stats::allocated::read().map(|v| v as u64).unwrap_or(0)),
        active: stats::active::read().map(|v| v as u64).unwrap_or(0),
        resident: stats::resident::read().map(|v| v as u64).unwrap_or(0),
    }
}

/// jemalloc's own statistics report, as text (MEMORY MALLOC-STATS).
pub fn allocator_report() -> String {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let mut text = Vec::new();
    match tikv_jemalloc_ctl::stats_print::stats_print(&mut text, Default::default()) {
        Ok(()) => String::from_utf8_lossy(&text).into_owned(),
        Err(e) => format!("jemalloc statistics are not available: {e}"),
    }
}

/// Turns jemalloc's background threads on or off (`jemalloc-bg-thread`): with them, freed
/// pages go back to the system after the decay time even when no allocation happens (an
/// idle server after a big DEL or FLUSHALL); without, only when the arena is used again.
/// False when jemalloc refused.
pub fn set_allocator_background_thread(on: bool) -> bool {
    tikv_jemalloc_ctl::background_thread::write(on).is_ok()
}

/// Asks jemalloc to return the dirty pages of every arena to the system (MEMORY PURGE);
/// false when jemalloc refused.
pub fn purge_allocator() -> bool {
    // MALLCTL_ARENAS_ALL (4096) names every arena.
    const PURGE_ALL: &[u8] = b"arena.4096.purge\0";
    // SAFETY: the name is NUL-terminated; a purge reads and writes nothing (null pointers,
    // zero lengths), as jemalloc's documentation for this control requires.
    #[allow(unsafe_code)]
    let status = unsafe {
        tikv_jemalloc_sys::mallctl(
            PURGE_ALL.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    status == 0
}

/// Resident set size in bytes (INFO used_memory_rss), from /proc/self/statm.
pub fn rss_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

/// Total physical memory in bytes.
pub fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    if pages > 0 {
        pages as u64 * page_size()
    } else {
        0
    }
}

/// CPU time used: (system seconds, user seconds) of this process.
pub fn cpu_seconds() -> (f64, f64) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage into the pointer we pass, which is valid and sized.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return (0.0, 0.0);
    }
    // SAFETY: getrusage succeeded, so the struct is initialised.
    #[allow(unsafe_code)]
    let usage = unsafe { usage.assume_init() };
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (secs(usage.ru_stime), secs(usage.ru_utime))
}

/// Formats a byte count as Redis's `bytesToHuman` does (`1.08M`).
pub fn bytes_to_human(n: u64) -> String {
    let n = n as f64;
    const K: f64 = 1024.0;
    if n < K {
        format!("{}B", n as u64)
    } else if n < K * K {
        format!("{:.2}K", n / K)
    } else if n < K * K * K {
        format!("{:.2}M", n / (K * K))
    } else if n < K * K * K * K {
        format!("{:.2}G", n / (K * K * K))
    } else if n < K * K * K * K * K {
        format!("{:.2}T", n / (K * K * K * K))
    } else {
        format!("{:.2}P", n / (K * K * K * K * K))
    }
}
