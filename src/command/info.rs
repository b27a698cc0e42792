//! INFO: each section rendered from the subsystem that owns its figures, with Redis 7.0's
//! field names and order so that redis-cli, Sentinel and redis_exporter read it unchanged.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::ctx::Ctx;
use super::error::CmdResult;
use super::flags::*;
use super::Spec;
use crate::command::cmd;
use crate::engine::snapshot::ServerSnapshot;
use crate::engine::REDIS_COMPAT_VERSION;
use crate::telemetry::process::bytes_to_human;

/// Sections printed by INFO with no argument (and by `default`).
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
/// Sections added by `all` / `everything`.
const EXTRA_SECTIONS: &[&str] = &["commandstats", "latencystats"];

fn info(ctx: &mut Ctx) -> CmdResult {
    let mut wanted: Vec<String> = Vec::new();
    if ctx.argv.len() == 1 {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    for a in &ctx.argv[1..] {
        let name = String::from_utf8_lossy(a).to_ascii_lowercase();
        match name.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            "all" | "everything" => {
                wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
                wanted.extend(EXTRA_SECTIONS.iter().map(|s| s.to_string()));
            }
            other => wanted.push(other.to_string()),
        }
    }
    let mut text = String::new();
    let snap = ServerSnapshot::capture(ctx.state, ctx.engine);
    let all_sections = DEFAULT_SECTIONS.iter().chain(EXTRA_SECTIONS);
    for section in all_sections {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        let body = render_section(ctx, &snap, section);
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        text.push_str(&body);
    }
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// One section with its `# Title` line. The figures /metrics also exports come from
/// `snap`, the same snapshot type the control plane renders, so the two cannot disagree.
fn render_section(ctx: &mut Ctx, snap: &ServerSnapshot, section: &str) -> String {
    let mut s = String::new();
    let title = match section {
        "errorstats" => "Errorstats".to_string(),
        "commandstats" => "Commandstats".to_string(),
        "latencystats" => "Latencystats".to_string(),
        "cpu" => "CPU".to_string(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    };
    let _ = write!(s, "# {title}\r\n");
    match section {
        "server" => server(ctx, snap, &mut s),
        "clients" => clients(snap, &mut s),
        "memory" => memory(ctx, snap, &mut s),
        "persistence" => persistence(snap, &mut s),
        "stats" => stats(ctx, snap, &mut s),
        "replication" => replication(ctx, &mut s),
        "cpu" => cpu(snap, &mut s),
        "errorstats" => errorstats(snap, &mut s),
        "cluster" => s.push_str("cluster_enabled:0\r\n"),
        "keyspace" => keyspace(snap, &mut s),
        "commandstats" => commandstats(snap, &mut s),
        "latencystats" => latencystats(ctx, &mut s),
        _ => {}
    }
    s
}

macro_rules! field {
    ($s:expr, $name:literal, $value:expr) => {
        let _ = write!($s, concat!($name, ":{}\r\n"), $value);
    };
}

fn server(ctx: &mut Ctx, snap: &ServerSnapshot, s: &mut String) {
    let state = ctx.state;
    let settings = &ctx.engine.settings;
    let uptime = snap.uptime_secs;
    let now_us = snap.taken_at_ms * 1000;
    let ports = snap.ports;
    field!(s, "redis_version", REDIS_COMPAT_VERSION);
    field!(s, "redis_git_sha1", "00000000");
    field!(s, "redis_git_dirty", 0);
    field!(s, "redis_build_id", "0");
    field!(s, "redis_mode", "standalone");
    field!(
        s,
        "os",
        std::env::consts::OS.to_string() + " " + std::env::consts::ARCH
    );
    field!(s, "arch_bits", 64);
    field!(s, "monotonic_clock", "POSIX clock_gettime");
    field!(s, "multiplexing_api", "epoll");
    field!(s, "atomicvar_api", "c11-builtin");
    field!(s, "gcc_version", "0.0.0");
    field!(s, "process_id", std::process::id());
    field!(s, "process_supervised", "no");
    field!(s, "run_id", state.run_id);
    field!(s, "tcp_port", ports.resp);
    field!(s, "server_time_usec", now_us);
    field!(s, "uptime_in_seconds", uptime);
    field!(s, "uptime_in_days", uptime / 86400);
    field!(s, "hz", settings.hz);
    field!(s, "configured_hz", settings.hz);
    field!(s, "lru_clock", ctx.engine.keyspace.lru_clock());
    field!(
        s,
        "executable",
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    field!(
        s,
        "config_file",
        state
            .config_file
            .as_ref()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    // Redis shows 1 while its I/O threads run; replikv's extra workers always do.
    field!(s, "io_threads_active", u8::from(state.runtime_workers > 1));
    // Only while a shutdown waits for replicas, as Redis shows it.
    if let Some(ms) = crate::engine::shutdown::remaining_ms(ctx.engine) {
        field!(s, "shutdown_in_milliseconds", ms);
    }
    field!(s, "replikv_version", env!("CARGO_PKG_VERSION"));
    field!(s, "replikv_http_port", ports.http);
}

fn clients(snap: &ServerSnapshot, s: &mut String) {
    let c = &snap.clients;
    field!(s, "connected_clients", c.connected);
    field!(s, "cluster_connections", 0);
    field!(s, "maxclients", c.max);
    field!(s, "client_recent_max_input_buffer", 0);
    field!(s, "client_recent_max_output_buffer", 0);
    field!(s, "blocked_clients", c.blocked);
    field!(s, "tracking_clients", c.tracking);
    field!(s, "clients_in_timeout_table", c.blocked);
}

fn memory(ctx: &mut Ctx, snap: &ServerSnapshot, s: &mut String) {
    let m = &snap.memory;
    let (used, rss, peak, total) = (m.used, m.rss, m.peak, m.total_system);
    // One buffer holds the stream for the backlog and every replica (replicas keep cursors),
    // so the replication buffers' total is the backlog's memory.
    let backlog = if ctx.engine.repl.active {
        ctx.state.repl.backlog.memory()
    } else {
        0
    };
    // One buffer serves the backlog and every replica (Redis 7.0's shared replication
    // buffer): what it holds beyond `repl-backlog-size` is the replicas' share, not counted
    // for eviction (see `engine::eviction`).
    let (clients_normal, replica_clients, replica_count) = ctx.state.clients.memory_by_kind();
    let backlog_size = ctx.engine.settings.repl_backlog_size;
    let beyond_backlog = backlog.saturating_sub(backlog_size);
    let (replicas_share, backlog_share) = if replica_count > 0 && beyond_backlog > 0 {
        (beyond_backlog, backlog_size)
    } else {
        (0, backlog)
    };
    let overhead = backlog + clients_normal + replica_clients;
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let pct = |a: u64, b: u64| {
        format!(
            "{:.2}%",
            if b > 0 {
                a as f64 * 100.0 / b as f64
            } else {
                100.0
            }
        )
    };
    field!(s, "used_memory", used);
    field!(s, "used_memory_human", bytes_to_human(used));
    field!(s, "used_memory_rss", rss);
    field!(s, "used_memory_rss_human", bytes_to_human(rss));
    field!(s, "used_memory_peak", peak);
    field!(s, "used_memory_peak_human", bytes_to_human(peak));
    field!(s, "used_memory_peak_perc", pct(used, peak));
    field!(s, "used_memory_overhead", overhead);
    field!(s, "used_memory_startup", 0);
    field!(s, "used_memory_dataset", used.saturating_sub(overhead));
    field!(
        s,
        "used_memory_dataset_perc",
        pct(used.saturating_sub(overhead), used)
    );
    field!(s, "allocator_allocated", used);
    field!(s, "allocator_active", m.allocator_active);
    field!(s, "allocator_resident", m.allocator_resident);
    field!(s, "total_system_memory", total);
    field!(s, "total_system_memory_human", bytes_to_human(total));
    let scripts = &ctx.engine.scripts;
    let vm_eval = scripts.eval.vm_memory();
    let vm_functions = scripts.functions.vm_memory();
    let scripts_eval = scripts.eval.scripts_memory();
    let functions_memory = scripts
        .functions
        .codes()
        .iter()
        .map(|c| c.len())
        .sum::<usize>();
    field!(s, "used_memory_lua", vm_eval);
    field!(s, "used_memory_vm_eval", vm_eval);
    field!(s, "used_memory_lua_human", bytes_to_human(vm_eval as u64));
    field!(s, "used_memory_scripts_eval", scripts_eval);
    field!(s, "number_of_cached_scripts", scripts.eval.len());
    field!(s, "number_of_functions", scripts.functions.function_count());
    field!(
        s,
        "number_of_libraries",
        scripts.functions.libraries().count()
    );
    field!(s, "used_memory_vm_functions", vm_functions);
    field!(s, "used_memory_vm_total", vm_eval + vm_functions);
    field!(
        s,
        "used_memory_vm_total_human",
        bytes_to_human((vm_eval + vm_functions) as u64)
    );
    field!(s, "used_memory_functions", functions_memory);
    field!(s, "used_memory_scripts", scripts_eval + functions_memory);
    field!(
        s,
        "used_memory_scripts_human",
        bytes_to_human((scripts_eval + functions_memory) as u64)
    );
    field!(s, "maxmemory", m.maxmemory);
    field!(s, "maxmemory_human", bytes_to_human(m.maxmemory));
    field!(s, "maxmemory_policy", m.maxmemory_policy);
    field!(
        s,
        "allocator_frag_ratio",
        format!("{:.2}", ratio(m.allocator_active, used))
    );
    field!(
        s,
        "allocator_frag_bytes",
        m.allocator_active.saturating_sub(used)
    );
    field!(
        s,
        "allocator_rss_ratio",
        format!("{:.2}", ratio(m.allocator_resident, m.allocator_active))
    );
    field!(
        s,
        "allocator_rss_bytes",
        m.allocator_resident.saturating_sub(m.allocator_active)
    );
    field!(
        s,
        "rss_overhead_ratio",
        format!("{:.2}", ratio(rss, m.allocator_resident))
    );
    field!(
        s,
        "rss_overhead_bytes",
        rss.saturating_sub(m.allocator_resident)
    );
    field!(
        s,
        "mem_fragmentation_ratio",
        format!("{:.2}", ratio(rss, used))
    );
    field!(s, "mem_fragmentation_bytes", rss.saturating_sub(used));
    field!(s, "mem_not_counted_for_evict", beyond_backlog);
    field!(s, "mem_replication_backlog", backlog_share);
    field!(s, "mem_total_replication_buffers", backlog);
    field!(s, "mem_clients_slaves", replicas_share + replica_clients);
    field!(s, "mem_clients_normal", clients_normal);
    field!(s, "mem_cluster_links", 0);
    field!(s, "mem_aof_buffer", 0);
    field!(s, "mem_allocator", "jemalloc-5.3.0");
    field!(s, "active_defrag_running", 0);
    field!(
        s,
        "lazyfree_pending_objects",
        crate::keyspace::lazyfree::pending()
    );
    field!(s, "lazyfreed_objects", crate::keyspace::lazyfree::freed());
}

fn persistence(snap: &ServerSnapshot, s: &mut String) {
    let p = &snap.persistence;
    field!(s, "loading", p.loading as u8);
    field!(s, "async_loading", p.async_loading as u8);
    field!(s, "current_cow_peak", 0);
    field!(s, "current_cow_size", 0);
    field!(s, "current_cow_size_age", 0);
    field!(s, "current_fork_perc", "0.00");
    field!(s, "current_save_keys_processed", 0);
    field!(s, "current_save_keys_total", p.current_save_keys_total);
    field!(s, "rdb_changes_since_last_save", p.changes_since_last_save);
    field!(s, "rdb_bgsave_in_progress", p.bgsave_in_progress as u8);
    field!(s, "rdb_last_save_time", p.last_save_time);
    let status = if p.last_bgsave_ok { "ok" } else { "err" };
    field!(s, "rdb_last_bgsave_status", status);
    field!(s, "rdb_last_bgsave_time_sec", p.last_bgsave_secs);
    field!(s, "rdb_current_bgsave_time_sec", p.current_bgsave_secs);
    field!(s, "rdb_saves", p.saves);
    // Forkless saves copy segments, not pages: there is no copy-on-write size to report
    // (docs/benchmarks.md has the measured memory growth during a save).
    field!(s, "rdb_last_cow_size", 0);
    field!(s, "rdb_last_load_keys_expired", p.last_load_keys_expired);
    field!(s, "rdb_last_load_keys_loaded", p.last_load_keys_loaded);
    let aof = &p.aof;
    field!(s, "aof_enabled", aof.enabled as u8);
    field!(s, "aof_rewrite_in_progress", aof.rewrite_in_progress as u8);
    field!(s, "aof_rewrite_scheduled", aof.rewrite_scheduled as u8);
    field!(s, "aof_last_rewrite_time_sec", aof.last_rewrite_secs);
    field!(s, "aof_current_rewrite_time_sec", aof.current_rewrite_secs);
    let status = if aof.last_rewrite_ok { "ok" } else { "err" };
    field!(s, "aof_last_bgrewrite_status", status);
    field!(s, "aof_rewrites", aof.rewrites);
    field!(
        s,
        "aof_rewrites_consecutive_failures",
        aof.consecutive_failures
    );
    let status = if aof.last_write_ok { "ok" } else { "err" };
    field!(s, "aof_last_write_status", status);
    field!(s, "aof_last_cow_size", aof.last_cow_size);
    field!(s, "module_fork_in_progress", 0);
    field!(s, "module_fork_last_cow_size", 0);
    // Printed only while the AOF is on (or waiting for its first rewrite), as Redis does;
    // /metrics exports these series under the same condition.
    if aof.enabled {
        field!(s, "aof_current_size", aof.current_size);
        field!(s, "aof_base_size", aof.base_size);
        field!(s, "aof_pending_rewrite", aof.rewrite_scheduled as u8);
        field!(s, "aof_buffer_length", aof.buffer_length);
        field!(s, "aof_pending_bio_fsync", aof.pending_fsync);
        field!(s, "aof_delayed_fsync", aof.delayed_fsync);
    }
    // While a load runs (blocking or beside the old dataset), as Redis.
    if let Some(load) = &p.load {
        field!(s, "loading_start_time", load.started_ms / 1000);
        field!(s, "loading_total_bytes", load.total_bytes);
        field!(s, "loading_rdb_used_mem", load.rdb_used_mem);
        field!(s, "loading_loaded_bytes", load.loaded_bytes);
        field!(s, "loading_loaded_perc", format!("{:.2}", load.percent()));
        field!(s, "loading_eta_seconds", load.eta_seconds(snap.taken_at_ms));
        field!(s, "replikv_loading_keys_loaded", load.keys);
    }
}

fn stats(ctx: &mut Ctx, snap: &ServerSnapshot, s: &mut String) {
    let st = &snap.stats;
    let e = &ctx.engine;
    field!(s, "total_connections_received", st.connections_received);
    field!(s, "total_commands_processed", st.commands_processed);
    field!(s, "instantaneous_ops_per_sec", st.instantaneous_ops);
    field!(s, "total_net_input_bytes", st.net_input_bytes);
    field!(s, "total_net_output_bytes", st.net_output_bytes);
    field!(
        s,
        "total_net_repl_input_bytes",
        ctx.state.repl.net_input_bytes.load(Ordering::Relaxed)
    );
    field!(
        s,
        "total_net_repl_output_bytes",
        ctx.state.repl.net_output_bytes.load(Ordering::Relaxed)
    );
    field!(s, "instantaneous_input_kbps", "0.00");
    field!(s, "instantaneous_output_kbps", "0.00");
    field!(s, "instantaneous_input_repl_kbps", "0.00");
    field!(s, "instantaneous_output_repl_kbps", "0.00");
    field!(s, "rejected_connections", st.rejected_connections);
    let counters = ctx.state.repl.counters();
    field!(s, "sync_full", counters.sync_full);
    field!(s, "sync_partial_ok", counters.sync_partial_ok);
    field!(s, "sync_partial_err", counters.sync_partial_err);
    field!(s, "expired_keys", st.expired_keys);
    field!(s, "expired_stale_perc", "0.00");
    field!(s, "expired_time_cap_reached_count", 0);
    field!(s, "expire_cycle_cpu_milliseconds", 0);
    field!(s, "evicted_keys", st.evicted_keys);
    field!(
        s,
        "evicted_clients",
        ctx.state.stats.evicted_clients.load(Ordering::Relaxed)
    );
    field!(s, "total_eviction_exceeded_time", st.eviction_exceeded_ms);
    field!(s, "current_eviction_exceeded_time", 0);
    field!(s, "keyspace_hits", st.keyspace_hits);
    field!(s, "keyspace_misses", st.keyspace_misses);
    field!(s, "pubsub_channels", e.subscriptions.channels(None).len());
    field!(s, "pubsub_patterns", e.subscriptions.numpat());
    field!(s, "pubsubshard_channels", 0);
    field!(s, "latest_fork_usec", 0);
    field!(s, "total_forks", 0);
    field!(s, "migrate_cached_sockets", e.migrate_sockets.len());
    field!(s, "slave_expires_tracked_keys", 0);
    field!(s, "active_defrag_hits", 0);
    field!(s, "active_defrag_misses", 0);
    field!(s, "active_defrag_key_hits", 0);
    field!(s, "active_defrag_key_misses", 0);
    field!(s, "total_active_defrag_time", 0);
    field!(s, "current_active_defrag_time", 0);
    field!(s, "tracking_total_keys", e.tracking.keys());
    field!(s, "tracking_total_items", e.tracking.items());
    field!(s, "tracking_total_prefixes", e.tracking.prefix_count());
    field!(s, "unexpected_error_replies", st.unexpected_error_replies);
    field!(s, "total_error_replies", st.total_error_replies);
    field!(s, "dump_payload_sanitizations", 0);
    field!(s, "total_reads_processed", st.reads_processed);
    field!(s, "total_writes_processed", st.writes_processed);
    field!(s, "io_threaded_reads_processed", 0);
    field!(s, "io_threaded_writes_processed", 0);
    field!(s, "reply_buffer_shrinks", 0);
    field!(s, "reply_buffer_expands", 0);
    field!(
        s,
        "replikv_full_sync_snapshots",
        ctx.state.repl.full_syncs.snapshots()
    );
}

fn replication(ctx: &mut Ctx, s: &mut String) {
    let status = crate::engine::replication::status(ctx.state, ctx.engine);
    let settings = &ctx.engine.settings;
    match &status.master_link {
        None => {
            field!(s, "role", "master");
        }
        Some(link) => {
            field!(s, "role", "slave");
            field!(s, "master_host", link.host);
            field!(s, "master_port", link.port);
            field!(
                s,
                "master_link_status",
                if link.link_up { "up" } else { "down" }
            );
            field!(s, "master_last_io_seconds_ago", link.last_io_seconds_ago);
            field!(s, "master_sync_in_progress", link.sync_in_progress as u8);
            field!(s, "slave_read_repl_offset", link.read_repl_offset);
            field!(s, "slave_repl_offset", link.repl_offset);
            if link.sync_in_progress {
                let total = link.sync_total_bytes.max(0);
                let read = link.sync_read_bytes as i64;
                let perc = if total > 0 {
                    read as f64 * 100.0 / total as f64
                } else {
                    0.0
                };
                let last_io = ctx.state.repl.role.lock().link().map_or(0, |l| {
                    (crate::replication::history::unix_ms() - l.sync_last_io_ms).max(0) / 1000
                });
                field!(s, "master_sync_total_bytes", total);
                field!(s, "master_sync_read_bytes", read);
                field!(s, "master_sync_left_bytes", total - read);
                field!(s, "master_sync_perc", format!("{perc:.2}"));
                field!(s, "master_sync_last_io_seconds_ago", last_io);
                field!(
                    s,
                    "replikv_master_sync_buffered_bytes",
                    link.sync_buffered_bytes
                );
            }
            if !link.link_up {
                field!(
                    s,
                    "master_link_down_since_seconds",
                    link.link_down_since_seconds
                );
            }
            field!(s, "slave_priority", settings.replica_priority);
            field!(s, "slave_read_only", settings.replica_read_only as u8);
            field!(s, "replica_announced", settings.replica_announced as u8);
        }
    }
    field!(s, "connected_slaves", status.replicas.len());
    if settings.min_replicas_to_write > 0 && settings.min_replicas_max_lag > 0 {
        field!(
            s,
            "min_slaves_good_slaves",
            ctx.state
                .repl
                .replicas
                .good_count(settings.min_replicas_max_lag)
        );
    }
    for (i, r) in status.replicas.iter().enumerate() {
        let _ = write!(
            s,
            "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
            r.ip,
            r.port,
            r.state.as_str(),
            r.ack_offset,
            r.lag_seconds
        );
    }
    field!(s, "master_failover_state", status.failover.as_str());
    field!(s, "master_replid", status.replid);
    field!(s, "master_replid2", status.replid2);
    field!(s, "master_repl_offset", status.master_repl_offset);
    field!(s, "second_repl_offset", status.second_repl_offset);
    field!(s, "repl_backlog_active", status.backlog.active as u8);
    field!(s, "repl_backlog_size", status.backlog.size);
    field!(
        s,
        "repl_backlog_first_byte_offset",
        status.backlog.first_byte_offset
    );
    field!(s, "repl_backlog_histlen", status.backlog.histlen);
    // replikv's own, after all of Redis's: promotions of this node so far (a higher epoch is
    // a newer master; see docs/failover.md).
    field!(s, "replikv_fencing_epoch", status.epoch);
}

fn cpu(snap: &ServerSnapshot, s: &mut String) {
    let (sys, user) = snap.cpu;
    field!(s, "used_cpu_sys", format!("{sys:.6}"));
    field!(s, "used_cpu_user", format!("{user:.6}"));
    field!(s, "used_cpu_sys_children", "0.000000");
    field!(s, "used_cpu_user_children", "0.000000");
    field!(s, "used_cpu_sys_main_thread", format!("{sys:.6}"));
    field!(s, "used_cpu_user_main_thread", format!("{user:.6}"));
}

fn errorstats(snap: &ServerSnapshot, s: &mut String) {
    for (code, count) in &snap.errors {
        let _ = write!(s, "errorstat_{code}:count={count}\r\n");
    }
}

fn keyspace(snap: &ServerSnapshot, s: &mut String) {
    for db in &snap.keyspace {
        let _ = write!(
            s,
            "db{}:keys={},expires={},avg_ttl=0\r\n",
            db.id, db.keys, db.expires
        );
    }
}

fn commandstats(snap: &ServerSnapshot, s: &mut String) {
    for (name, st) in &snap.commands {
        let per_call = if st.calls > 0 {
            st.usec as f64 / st.calls as f64
        } else {
            0.0
        };
        let _ = write!(
            s,
            "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
            st.calls, st.usec, st.rejected_calls, st.failed_calls
        );
    }
}

/// `latency_percentiles_usec_<command>:p50=…,p99=…` for every command with a histogram.
fn latencystats(ctx: &mut Ctx, s: &mut String) {
    let percentiles = ctx
        .engine
        .settings
        .latency_tracking_info_percentiles
        .clone();
    let labels: Vec<String> = percentiles
        .iter()
        .map(|p| crate::config::directives::format_percentile(*p))
        .collect();
    for (name, values) in ctx.engine.stats.latency.percentiles(&percentiles) {
        let _ = write!(s, "latency_percentiles_usec_{name}:");
        for (i, (label, value)) in labels.iter().zip(&values).enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "p{label}={value:.3}");
        }
        s.push_str("\r\n");
    }
}

/// INFO.
pub static COMMANDS: &[Spec] = &[cmd!("info", -1, LOADING | STALE, (0, 0, 0), "server", info)];
