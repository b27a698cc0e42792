//! The server's figures under redis_exporter's names (ECOSYSTEM §1.3): identity, clients,
//! memory, command and network counters, persistence, CPU, keyspace sizes.

use std::fmt::Error;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::encode::{Labels, Out};
use super::ScrapeSlot;
use crate::engine::snapshot::AofFigures;
use crate::engine::REDIS_COMPAT_VERSION;
use crate::replication::Role;

/// Identity, clients, memory, stats, persistence, CPU, per-command and per-error counters.
#[derive(Debug)]
pub struct ServerCollector(pub Arc<ScrapeSlot>);

impl Collector for ServerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        let Some(scrape) = self.0.current() else {
            return Ok(());
        };
        let s = &scrape.server;
        let mut out = Out(&mut encoder);
        out.gauge("redis_up", "1 when the server answered this scrape.", 1i64)?;
        let role = match scrape.repl.role {
            Role::Master => "master",
            Role::Replica => "slave",
        };
        let info: Labels = vec![
            ("role", role.into()),
            ("redis_version", REDIS_COMPAT_VERSION.into()),
            ("redis_build_id", "0".into()),
            ("redis_mode", "standalone".into()),
            (
                "os",
                format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            ),
            ("maxmemory_policy", s.memory.maxmemory_policy.clone()),
            ("tcp_port", s.ports.resp.to_string()),
            ("run_id", scrape.run_id.clone()),
            ("process_id", std::process::id().to_string()),
            ("master_replid", scrape.repl.replid.clone()),
        ];
        out.gauges(
            "redis_instance_info",
            "Information about the instance (always 1).",
            &[(info, 1i64)],
        )?;
        out.gauges(
            "replikv_build_info",
            "replikv's version and the Redis version it is compatible with (always 1).",
            &[(
                vec![
                    ("version", env!("CARGO_PKG_VERSION").into()),
                    ("redis_version", REDIS_COMPAT_VERSION.into()),
                ],
                1i64,
            )],
        )?;
        out.gauge(
            "redis_uptime_in_seconds",
            "Seconds since the server started.",
            s.uptime_secs,
        )?;
        out.gauge(
            "redis_start_time_seconds",
            "Unix time the server started.",
            s.taken_at_ms / 1000 - s.uptime_secs as i64,
        )?;
        out.gauge(
            "redis_connected_clients",
            "Connected clients (replicas excluded).",
            s.clients.connected,
        )?;
        out.gauge(
            "redis_blocked_clients",
            "Clients blocked in a blocking command.",
            s.clients.blocked,
        )?;
        out.gauge("redis_max_clients", "maxclients.", s.clients.max)?;
        out.gauge(
            "redis_memory_used_bytes",
            "Bytes allocated by the server.",
            s.memory.used,
        )?;
        out.gauge(
            "redis_memory_used_rss_bytes",
            "Resident set size in bytes.",
            s.memory.rss,
        )?;
        out.gauge(
            "redis_memory_used_peak_bytes",
            "Highest used_memory seen.",
            s.memory.peak,
        )?;
        out.gauge(
            "redis_memory_max_bytes",
            "maxmemory (0 = no limit).",
            s.memory.maxmemory,
        )?;
        out.gauge(
            "redis_total_system_memory_bytes",
            "Physical memory of the machine.",
            s.memory.total_system,
        )?;
        let fragmentation = if s.memory.used > 0 {
            s.memory.rss as f64 / s.memory.used as f64
        } else {
            0.0
        };
        out.gauge(
            "redis_mem_fragmentation_ratio",
            "Resident set size divided by allocated bytes.",
            fragmentation,
        )?;
        let st = &s.stats;
        out.counter(
            "redis_commands_processed",
            "Commands processed.",
            st.commands_processed,
        )?;
        out.counter(
            "redis_connections_received",
            "Connections accepted.",
            st.connections_received,
        )?;
        out.counter(
            "redis_rejected_connections",
            "Connections refused (maxclients).",
            st.rejected_connections,
        )?;
        out.counter(
            "redis_net_input_bytes",
            "Bytes read from clients.",
            st.net_input_bytes,
        )?;
        out.counter(
            "redis_net_output_bytes",
            "Bytes written to clients.",
            st.net_output_bytes,
        )?;
        out.counter(
            "redis_keyspace_hits",
            "Key lookups that found the key.",
            st.keyspace_hits,
        )?;
        out.counter(
            "redis_keyspace_misses",
            "Key lookups that missed.",
            st.keyspace_misses,
        )?;
        out.counter(
            "redis_expired_keys",
            "Keys removed because they expired.",
            st.expired_keys,
        )?;
        out.counter(
            "redis_evicted_keys",
            "Keys evicted by maxmemory.",
            st.evicted_keys,
        )?;
        out.gauge(
            "redis_instantaneous_ops_per_sec",
            "Commands per second over the last sample.",
            st.instantaneous_ops,
        )?;
        let p = &s.persistence;
        out.gauge(
            "redis_loading_dump_file",
            "1 while a dataset is being loaded.",
            i64::from(p.loading),
        )?;
        out.gauge(
            "redis_rdb_changes_since_last_save",
            "Changes since the last save.",
            p.changes_since_last_save,
        )?;
        out.gauge(
            "redis_rdb_last_save_timestamp_seconds",
            "Unix time of the last successful save.",
            p.last_save_time,
        )?;
        out.gauge(
            "redis_rdb_bgsave_in_progress",
            "1 while a background save runs.",
            i64::from(p.bgsave_in_progress),
        )?;
        out.gauge(
            "redis_rdb_last_bgsave_status",
            "1 when the last background save succeeded (INFO rdb_last_bgsave_status:ok).",
            i64::from(p.last_bgsave_ok),
        )?;
        out.gauge(
            "redis_rdb_last_bgsave_duration_sec",
            "Seconds the last background save took (-1 before the first).",
            p.last_bgsave_secs,
        )?;
        out.gauge(
            "redis_rdb_current_bgsave_duration_sec",
            "Seconds the running background save has taken (-1 when none runs).",
            p.current_bgsave_secs,
        )?;
        out.counter(
            "redis_rdb_saves",
            "Completed saves since start (INFO rdb_saves).",
            p.saves,
        )?;
        encode_aof(&mut out, &p.aof)?;
        out.counter_f64("redis_cpu_sys_seconds", "System CPU seconds used.", s.cpu.0)?;
        out.counter_f64("redis_cpu_user_seconds", "User CPU seconds used.", s.cpu.1)?;
        let settings = &scrape.settings;
        out.gauge("redis_config_maxmemory", "maxmemory.", settings.maxmemory)?;
        out.gauge(
            "redis_config_maxclients",
            "maxclients.",
            settings.maxclients,
        )?;
        out.gauge(
            "redis_config_repl_backlog_size",
            "repl-backlog-size.",
            settings.repl_backlog_size,
        )?;

        let per_cmd = |f: fn(&crate::engine::CommandStat) -> u64| -> Vec<(Labels, u64)> {
            s.commands
                .iter()
                .map(|(name, st)| (vec![("cmd", name.to_string())], f(st)))
                .collect()
        };
        out.counters(
            "redis_commands",
            "Calls per command.",
            &per_cmd(|c| c.calls),
        )?;
        let durations: Vec<(Labels, f64)> = s
            .commands
            .iter()
            .map(|(name, st)| (vec![("cmd", name.to_string())], st.usec as f64 / 1e6))
            .collect();
        out.counters(
            "redis_commands_duration_seconds",
            "Seconds spent executing each command.",
            &durations,
        )?;
        out.counters(
            "redis_commands_rejected_calls",
            "Calls refused before execution, per command.",
            &per_cmd(|c| c.rejected_calls),
        )?;
        out.counters(
            "redis_commands_failed_calls",
            "Calls that answered with an error, per command.",
            &per_cmd(|c| c.failed_calls),
        )?;
        let errors: Vec<(Labels, u64)> = s
            .errors
            .iter()
            .map(|(code, n)| (vec![("err", code.clone())], *n))
            .collect();
        out.counters("redis_errors", "Error replies by error code.", &errors)?;
        Ok(())
    }
}

/// INFO persistence's `aof_*` fields under redis_exporter's names and types. redis_exporter
/// makes a series of an INFO field only when INFO prints it, so the figures of the open file
/// (sizes, buffer, fsyncs, pending rewrite) are exported only while the AOF is on, as INFO
/// prints them. `aof_rewrites_consecutive_failures` has no redis_exporter name: INFO only.
fn encode_aof(out: &mut Out<'_, '_>, aof: &AofFigures) -> Result<(), Error> {
    out.gauge(
        "redis_aof_enabled",
        "1 while the append-only file is on (INFO aof_enabled).",
        i64::from(aof.enabled),
    )?;
    out.gauge(
        "redis_aof_rewrite_in_progress",
        "1 while an append-only file rewrite runs.",
        i64::from(aof.rewrite_in_progress),
    )?;
    out.gauge(
        "redis_aof_rewrite_scheduled",
        "1 when an append-only file rewrite will start at the next chance.",
        i64::from(aof.rewrite_scheduled),
    )?;
    out.gauge(
        "redis_aof_last_rewrite_duration_sec",
        "Seconds the last append-only file rewrite took (-1 before the first).",
        aof.last_rewrite_secs,
    )?;
    out.gauge(
        "redis_aof_current_rewrite_duration_sec",
        "Seconds the running append-only file rewrite has taken (-1 when none runs).",
        aof.current_rewrite_secs,
    )?;
    out.gauge(
        "redis_aof_last_bgrewrite_status",
        "1 when the last append-only file rewrite succeeded (INFO aof_last_bgrewrite_status:ok).",
        i64::from(aof.last_rewrite_ok),
    )?;
    out.gauge(
        "redis_aof_last_write_status",
        "1 when the last write to the append-only file succeeded (INFO aof_last_write_status:ok).",
        i64::from(aof.last_write_ok),
    )?;
    out.gauge(
        "redis_aof_last_cow_size_bytes",
        "Copy-on-write bytes of the last rewrite (always 0: rewrites do not fork).",
        aof.last_cow_size,
    )?;
    out.counter(
        "redis_aof_rewrites",
        "Completed append-only file rewrites since start (INFO aof_rewrites).",
        aof.rewrites,
    )?;
    if !aof.enabled {
        return Ok(());
    }
    out.gauge(
        "redis_aof_current_size_bytes",
        "Bytes of the append-only file (base and increments).",
        aof.current_size,
    )?;
    out.gauge(
        "redis_aof_base_size_bytes",
        "Bytes of the append-only file's base at the last rewrite or load.",
        aof.base_size,
    )?;
    out.gauge(
        "redis_aof_pending_rewrite",
        "1 when an append-only file rewrite waits to start (INFO aof_pending_rewrite).",
        i64::from(aof.rewrite_scheduled),
    )?;
    out.gauge(
        "redis_aof_buffer_length",
        "Bytes of appended commands not yet written to the file.",
        aof.buffer_length,
    )?;
    out.gauge(
        "redis_aof_pending_bio_fsync",
        "Background fsyncs of the append-only file in progress.",
        aof.pending_fsync,
    )?;
    out.gauge(
        "redis_aof_delayed_fsync",
        "Writes postponed behind a background fsync (always 0: writes never wait for one).",
        aof.delayed_fsync,
    )?;
    Ok(())
}

/// Keys per database (INFO `# Keyspace`).
#[derive(Debug)]
pub struct KeyspaceCollector(pub Arc<ScrapeSlot>);

impl Collector for KeyspaceCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        let Some(scrape) = self.0.current() else {
            return Ok(());
        };
        let db = |id: usize| -> Labels { vec![("db", format!("db{id}"))] };
        let keys: Vec<(Labels, u64)> = scrape
            .server
            .keyspace
            .iter()
            .map(|d| (db(d.id), d.keys))
            .collect();
        let expiring: Vec<(Labels, u64)> = scrape
            .server
            .keyspace
            .iter()
            .map(|d| (db(d.id), d.expires))
            .collect();
        let mut out = Out(&mut encoder);
        out.gauges("redis_db_keys", "Keys per database.", &keys)?;
        out.gauges(
            "redis_db_keys_expiring",
            "Keys with a TTL per database.",
            &expiring,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::registry::Registry;

    use super::*;

    /// Only the AOF series, from fixed figures.
    #[derive(Debug)]
    struct AofOnly(AofFigures);

    impl Collector for AofOnly {
        fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
            encode_aof(&mut Out(&mut encoder), &self.0)
        }
    }

    fn render(aof: AofFigures) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(AofOnly(aof)));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).expect("encode");
        text
    }

    #[test]
    fn aof_series_of_the_open_file_only_while_the_aof_is_on() {
        let off = render(AofFigures {
            last_rewrite_secs: -1,
            current_rewrite_secs: -1,
            last_rewrite_ok: true,
            last_write_ok: true,
            ..AofFigures::default()
        });
        for line in [
            "redis_aof_enabled 0\n",
            "redis_aof_last_rewrite_duration_sec -1\n",
            "redis_aof_last_bgrewrite_status 1\n",
            "redis_aof_rewrites_total 0\n",
        ] {
            assert!(off.contains(line), "{line} in {off}");
        }
        assert!(!off.contains("redis_aof_current_size_bytes"), "{off}");
        assert!(!off.contains("redis_aof_delayed_fsync"), "{off}");

        let on = render(AofFigures {
            enabled: true,
            rewrite_scheduled: true,
            last_rewrite_secs: 2,
            current_rewrite_secs: -1,
            last_rewrite_ok: false,
            rewrites: 3,
            last_write_ok: true,
            current_size: 900,
            base_size: 400,
            buffer_length: 7,
            pending_fsync: 1,
            ..AofFigures::default()
        });
        for line in [
            "redis_aof_enabled 1\n",
            "redis_aof_last_bgrewrite_status 0\n",
            "redis_aof_last_write_status 1\n",
            "# TYPE redis_aof_rewrites_total counter\n",
            "redis_aof_rewrites_total 3\n",
            "redis_aof_current_size_bytes 900\n",
            "redis_aof_base_size_bytes 400\n",
            "redis_aof_pending_rewrite 1\n",
            "redis_aof_buffer_length 7\n",
            "redis_aof_pending_bio_fsync 1\n",
            "redis_aof_delayed_fsync 0\n",
        ] {
            assert!(on.contains(line), "{line} in {on}");
        }
    }
}
