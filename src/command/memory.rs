//! MEMORY and its subcommands: USAGE (what one key costs), STATS (where the memory goes),
//! DOCTOR (a short reading of those figures), MALLOC-STATS (jemalloc's report), PURGE
//! (dirty pages back to the system) and HELP.

use super::ctx::Ctx;
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::numeric::parse_int;
use super::reply::help_reply;
use super::{container, Spec};
use crate::command::{cmd, subcmd};
use crate::keyspace::memory::item_usage;
use crate::telemetry::process;

/// Elements of a collection MEMORY USAGE measures when SAMPLES is not given (Redis's).
const DEFAULT_SAMPLES: usize = 5;

/// MEMORY USAGE key [SAMPLES count]: the key's estimated bytes, or null when missing.
fn usage(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let mut samples = DEFAULT_SAMPLES;
    let mut j = 3;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"SAMPLES") && j + 1 < argv.len() {
            samples = match parse_int(&argv[j + 1])? {
                n if n < 0 => return Err(CmdError::Fixed(error::SYNTAX)),
                0 => usize::MAX,
                n => usize::try_from(n).unwrap_or(usize::MAX),
            };
            j += 2;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    let now = ctx.now;
    let key = ctx.arg(2);
    match ctx.db().get(key, now) {
        Some(item) => {
            let bytes = item_usage(item, samples);
            ctx.out.int(bytes as i64);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// The figures STATS and DOCTOR read.
struct Figures {
    peak: u64,
    allocated: u64,
    backlog: u64,
    replica_clients: u64,
    normal_clients: u64,
    lua: u64,
    functions: u64,
    keys: u64,
    dbs: Vec<(usize, u64, u64)>,
    rss: u64,
    active: u64,
    resident: u64,
}

fn figures(ctx: &mut Ctx) -> Figures {
    let snap = crate::engine::snapshot::ServerSnapshot::capture(ctx.state, ctx.engine);
    let alloc = process::allocator_stats();
    let backlog = if ctx.engine.repl.active {
        ctx.state.repl.backlog.memory()
    } else {
        0
    };
    let (mut replica_clients, mut normal_clients) = (0u64, 0u64);
    for c in ctx.state.clients.all() {
        let bytes = (c.output_pending() + c.qbuf.load(std::sync::atomic::Ordering::Relaxed)) as u64;
        if c.kind() == crate::engine::ClientKind::Replica {
            replica_clients += bytes;
        } else {
            normal_clients += bytes;
        }
    }
    let scripts = &ctx.engine.scripts;
    let dbs = ctx
        .engine
        .keyspace
        .dbs
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| {
            // The table's pointers, and the expiry bookkeeping of keys with a TTL.
            let main = (d.len() * 2 * std::mem::size_of::<usize>()) as u64;
            let expires = (d.expires_count() * std::mem::size_of::<i64>()) as u64;
            (d.id, main, expires)
        })
        .collect();
    Figures {
        peak: snap.memory.peak,
        allocated: alloc.allocated,
        backlog,
        replica_clients,
        normal_clients,
        lua: scripts.eval.vm_memory() as u64,
        functions: scripts.functions.vm_memory() as u64,
        keys: ctx.engine.keyspace.dbs.iter().map(|d| d.len() as u64).sum(),
        dbs,
        rss: snap.memory.rss,
        active: alloc.active,
        resident: alloc.resident,
    }
}

/// MEMORY STATS: Redis's fields, in Redis's order, from this server's figures.
fn stats(ctx: &mut Ctx) -> CmdResult {
    let f = figures(ctx);
    let db_overhead: u64 = f.dbs.iter().map(|(_, m, e)| m + e).sum();
    let overhead =
        f.backlog + f.replica_clients + f.normal_clients + f.lua + f.functions + db_overhead;
    let dataset = f.allocated.saturating_sub(overhead);
    let pct = |a: u64, b: u64| {
        if b == 0 {
            0.0
        } else {
            a as f64 * 100.0 / b as f64
        }
    };
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let out = &mut *ctx.out;
    out.map(27 + f.dbs.len());
    let int = |out: &mut crate::resp::ReplyBuf, name: &str, v: u64| {
        out.bulk(name.as_bytes());
        out.int(v as i64);
    };
    let double = |out: &mut crate::resp::ReplyBuf, name: &str, v: f64| {
        out.bulk(name.as_bytes());
        out.double(v);
    };
    int(out, "peak.allocated", f.peak);
    int(out, "total.allocated", f.allocated);
    int(out, "startup.allocated", 0);
    int(out, "replication.backlog", f.backlog);
    int(out, "clients.slaves", f.replica_clients);
    int(out, "clients.normal", f.normal_clients);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", 0);
    int(out, "lua.caches", f.lua);
    int(out, "functions.caches", f.functions);
    for (id, main, expires) in &f.dbs {
        out.bulk(format!("db.{id}").as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", *main);
        int(out, "overhead.hashtable.expires", *expires);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", overhead);
    int(out, "keys.count", f.keys);
    int(
        out,
        "keys.bytes-per-key",
        dataset.checked_div(f.keys).unwrap_or(0),
    );
    int(out, "dataset.bytes", dataset);
    double(out, "dataset.percentage", pct(dataset, f.allocated));
    double(out, "peak.percentage", pct(f.allocated, f.peak));
    int(out, "allocator.allocated", f.allocated);
    int(out, "allocator.active", f.active);
    int(out, "allocator.resident", f.resident);
    double(
        out,
        "allocator-fragmentation.ratio",
        ratio(f.active, f.allocated),
    );
    int(
        out,
        "allocator-fragmentation.bytes",
        f.active.saturating_sub(f.allocated),
    );
    double(out, "allocator-rss.ratio", ratio(f.resident, f.active));
    int(
        out,
        "allocator-rss.bytes",
        f.resident.saturating_sub(f.active),
    );
    double(out, "rss-overhead.ratio", ratio(f.rss, f.resident));
    int(out, "rss-overhead.bytes", f.rss.saturating_sub(f.resident));
    double(out, "fragmentation", ratio(f.rss, f.allocated));
    int(
        out,
        "fragmentation.bytes",
        f.rss.saturating_sub(f.allocated),
    );
    Ok(())
}

/// MEMORY DOCTOR: a short reading of the figures, in our words: what stands out, or that
/// nothing does.
fn doctor(ctx: &mut Ctx) -> CmdResult {
    let f = figures(ctx);
    let mut findings: Vec<String> = Vec::new();
    const SMALL: u64 = 5 << 20;
    if f.allocated < SMALL {
        findings.push(
            "Less than 5 MB is allocated: too little for the figures to say anything useful."
                .into(),
        );
    } else {
        if f.peak > f.allocated.saturating_mul(3) / 2 {
            findings.push(format!(
                "The peak ({} bytes) is more than 150% of what is allocated now ({} bytes): \
                 memory was freed since, the resident size may not have followed.",
                f.peak, f.allocated
            ));
        }
        if f.rss > f.allocated.saturating_mul(14) / 10 {
            findings.push(format!(
                "The resident size is {:.2} times what is allocated: fragmentation or pages \
                 not yet returned (MEMORY PURGE returns them).",
                f.rss as f64 / f.allocated as f64
            ));
        }
        if f.normal_clients > SMALL * 40 {
            findings.push(format!(
                "Client buffers hold {} bytes: a client is slow to read its replies or sends \
                 large pipelines (see CLIENT LIST, omem and qbuf).",
                f.normal_clients
            ));
        }
        if f.replica_clients > SMALL * 2 {
            findings.push(format!(
                "Replica buffers hold {} bytes: a replica is behind.",
                f.replica_clients
            ));
        }
    }
    let text = if findings.is_empty() {
        "No memory problem found: allocation, peak, resident size and buffers look sane."
            .to_string()
    } else {
        findings.join("\n")
    };
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// MEMORY MALLOC-STATS: jemalloc's statistics report.
fn malloc_stats(ctx: &mut Ctx) -> CmdResult {
    let report = process::allocator_report();
    ctx.out.verbatim(report.as_bytes());
    Ok(())
}

/// MEMORY PURGE: returns jemalloc's dirty pages to the system.
fn purge(ctx: &mut Ctx) -> CmdResult {
    if process::purge_allocator() {
        ctx.out.ok();
        Ok(())
    } else {
        Err(CmdError::Fixed(error::MEMORY_PURGE_FAILED))
    }
}

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            "HELP",
            "    Prints this help.",
        ],
    )
}

static MEMORY_SUBCOMMANDS: &[Spec] = &[
    subcmd!("memory", "doctor", 2, 0, (0, 0, 0), "server", doctor),
    subcmd!(
        "memory",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        help
    ),
    subcmd!(
        "memory",
        "malloc-stats",
        2,
        0,
        (0, 0, 0),
        "server",
        malloc_stats
    ),
    subcmd!("memory", "purge", 2, 0, (0, 0, 0), "server", purge),
    subcmd!("memory", "stats", 2, 0, (0, 0, 0), "server", stats),
    subcmd!("memory", "usage", -3, READONLY, (2, 2, 1), "server", usage),
];

/// MEMORY.
pub static COMMANDS: &[Spec] = &[Spec {
    subcommands: MEMORY_SUBCOMMANDS,
    ..cmd!("memory", -2, 0, (0, 0, 0), "server", container)
}];
