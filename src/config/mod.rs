//! The configuration: redis.conf directives as typed [`Settings`], validated with Redis's
//! error texts, readable and writable at run time through `CONFIG GET/SET`.
//!
//! [`directives`] holds the table (one row per directive: name, alias, default, whether it may
//! change at run time, how to read and write it). Everything that reads or writes a directive
//! (file, command line, CONFIG GET/SET/REWRITE, the control plane) goes through that table, so
//! names, defaults and error texts live in one place.

pub mod directives;
pub mod fdlimit;
pub mod parse;
pub mod proctitle;
pub mod rewrite;
pub mod stored;
pub mod tls;

use std::path::PathBuf;

pub use directives::{find, Directive, DIRECTIVES};
pub use parse::{parse_command_line, read_file, CommandLine, ConfigError, Line, Origin};
pub use tls::{TlsAuthClients, TlsSettings};

/// Log verbosity, as Redis names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Much, but not everything.
    Verbose,
    /// What an operator wants to see (the default).
    Notice,
    /// Only warnings.
    Warning,
}

/// `oom-score-adj`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OomScoreAdj {
    /// Leave the score alone (restore it if replikv changed it).
    No,
    /// The value is added to the starting score (`yes` or `relative`).
    Relative,
    /// The value is the score.
    Absolute,
}

/// `shutdown-on-sigterm` / `shutdown-on-sigint`: the SHUTDOWN options a signal implies
/// (none is `default`: save when save rules exist).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownFlags {
    /// Save even without save rules.
    pub save: bool,
    /// Do not save.
    pub nosave: bool,
    /// Do not wait for lagging replicas.
    pub now: bool,
    /// Exit even if the final save fails.
    pub force: bool,
}

/// `appendfsync`: when the append-only file is flushed to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendFsync {
    /// After every write, before the reply.
    Always,
    /// Once a second, in the background.
    EverySec,
    /// When the kernel decides.
    No,
}

/// `repl-diskless-load`: how a replica loads a full sync's RDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisklessLoad {
    /// Save the payload to disk, then load the file.
    Disabled,
    /// Parse straight from the socket when the dataset is empty.
    OnEmptyDb,
    /// Parse straight from the socket into a new dataset, keeping the old one until success.
    Swapdb,
}

/// `propagation-error-behavior`: what a replica does when a command from its master's
/// stream fails (the data may have diverged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropagationErrorBehavior {
    /// Log it (`== CRITICAL ==`) and go on.
    Ignore,
    /// Log it and stop the process, on a read-only replica.
    Panic,
    /// The same as `Panic` for a replica (Redis also panics an AOF load with `Panic`).
    PanicOnReplicas,
}

/// `http-enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpEnabled {
    /// Serve the control plane; failing to bind its port stops the start.
    Yes,
    /// No control plane.
    No,
    /// Serve it when its port can be bound; otherwise start without it and say so.
    Optional,
}

/// `http-port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpPort {
    /// The RESP port + 3000 (6379 → 9379), so several nodes on one host need no flags.
    Auto,
    /// This port (0 = an ephemeral one).
    Fixed(u16),
}

impl HttpPort {
    /// The port to bind for a server whose configured RESP port is `resp_port`: with `auto`,
    /// RESP + 3000, or an ephemeral port when RESP is ephemeral or + 3000 passes 65535.
    pub fn resolve(self, resp_port: u16) -> u16 {
        match self {
            HttpPort::Fixed(p) => p,
            HttpPort::Auto if resp_port == 0 => 0,
            HttpPort::Auto => resp_port.checked_add(3000).unwrap_or(0),
        }
    }
}

/// `enable-debug-command` (and the other protected-command switches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    /// Refused.
    No,
    /// Allowed.
    Yes,
    /// Allowed from loopback connections only.
    Local,
}

/// One class of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputLimit {
    /// Disconnect as soon as the buffer exceeds this many bytes (0 = no limit).
    pub hard: u64,
    /// Disconnect when the buffer stays above this many bytes ...
    pub soft: u64,
    /// ... for this many seconds.
    pub soft_seconds: u64,
}

/// Which part of an [`OutputLimit`] a buffer broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitBreach {
    /// Over the hard limit.
    Hard,
    /// Over the soft limit for longer than its seconds.
    Soft,
}

impl OutputLimit {
    /// Checks `pending` bytes against the limit at `now_ms`. `over_soft_since_ms` is the
    /// caller's memory of when the buffer first went over the soft limit (0 = it is not):
    /// set when it crosses, cleared when it falls back, as Redis's `obuf_soft_limit_reached_time`.
    pub fn check(
        &self,
        pending: u64,
        over_soft_since_ms: &mut i64,
        now_ms: i64,
    ) -> Option<LimitBreach> {
        if self.hard > 0 && pending > self.hard {
            return Some(LimitBreach::Hard);
        }
        if self.soft > 0 && pending > self.soft {
            if *over_soft_since_ms == 0 {
                *over_soft_since_ms = now_ms;
            } else if now_ms - *over_soft_since_ms > self.soft_seconds as i64 * 1000 {
                return Some(LimitBreach::Soft);
            }
        } else {
            *over_soft_since_ms = 0;
        }
        None
    }
}

/// `maxmemory-clients`: an amount of memory, or a share of `maxmemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMemoryLimit {
    /// Bytes (0: no limit).
    Bytes(u64),
    /// A percentage of `maxmemory` (no limit while `maxmemory` is 0).
    Percent(u32),
}

impl ClientMemoryLimit {
    /// The limit in bytes against `maxmemory`, `None` when there is none; never under
    /// 128 KiB, as Redis (a smaller one would cut every client off).
    pub fn bytes(self, maxmemory: u64) -> Option<u64> {
        let limit = match self {
            ClientMemoryLimit::Bytes(0) => return None,
            ClientMemoryLimit::Bytes(b) => b,
            ClientMemoryLimit::Percent(_) if maxmemory == 0 => return None,
            ClientMemoryLimit::Percent(p) => (maxmemory as f64 * p as f64 / 100.0) as u64,
        };
        Some(limit.max(128 * 1024))
    }
}

/// Typed, validated configuration. Built from the directive table's defaults, then the
/// config file, then the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `bind`: addresses to listen on.
    pub bind: Vec<String>,
    /// `port`: RESP port; 0 binds an ephemeral port.
    pub port: u16,
    /// `tcp-backlog`.
    pub tcp_backlog: u32,
    /// `protected-mode`: without a password, only local peers may connect.
    pub protected_mode: bool,
    /// `enable-protected-configs`: who may change `dir` and `dbfilename` at run time.
    pub enable_protected_configs: Protected,
    /// `enable-module-command` (accepted; no modules exist).
    pub enable_module_command: Protected,
    /// `timeout`: close idle clients after this many seconds (0 = never).
    pub timeout: u64,
    /// `tcp-keepalive` seconds (0 = off).
    pub tcp_keepalive: u64,
    /// `requirepass`: empty means no password.
    pub requirepass: String,
    /// `maxclients`.
    pub maxclients: u64,
    /// `databases`.
    pub databases: usize,
    /// `io-threads`: runtime worker threads that run connections.
    pub io_threads: usize,
    /// `dir`: working directory for RDB files.
    pub dir: PathBuf,
    /// `dbfilename`.
    pub dbfilename: String,
    /// `loglevel`.
    pub loglevel: LogLevel,
    /// `logfile`: empty means standard output.
    pub logfile: String,
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: u64,
    /// `client-query-buffer-limit`.
    pub client_query_buffer_limit: u64,
    /// `save` rules: (seconds, changes).
    pub save: Vec<(u64, u64)>,
    /// `hz`: server cron frequency.
    pub hz: u32,
    /// `enable-debug-command`.
    pub enable_debug_command: Protected,
    /// `daemonize` (only `no` is supported: replikv runs in the foreground).
    pub daemonize: bool,
    /// `pidfile`.
    pub pidfile: String,
    /// `maxmemory`: the dataset's memory limit (0 = none).
    pub maxmemory: u64,
    /// `maxmemory-policy`.
    pub maxmemory_policy: String,
    /// `latency-monitor-threshold` (ms; 0 = off).
    pub latency_monitor_threshold: u64,
    /// `slowlog-log-slower-than` (microseconds; negative = off, 0 = every command).
    pub slowlog_log_slower_than: i64,
    /// `slowlog-max-len`.
    pub slowlog_max_len: u64,
    /// `acllog-max-len`: entries the ACL log keeps.
    pub acllog_max_len: u64,
    /// `acl-pubsub-default allchannels` (true) or `resetchannels` (false, Redis 7.0's
    /// default): the channels a new user or selector starts with.
    pub acl_pubsub_allchannels: bool,
    /// `aclfile`: where ACL LOAD and ACL SAVE read and write users (empty: none).
    pub aclfile: String,
    /// `user <name> <rules...>` lines of the configuration file, in order.
    pub users: Vec<Vec<String>>,
    /// `rename-command <name> <new-name>` lines, in order (an empty new name disables the
    /// command); start-up only, as in Redis.
    pub rename_commands: Vec<(String, String)>,
    /// `latency-tracking`: a latency histogram per command.
    pub latency_tracking: bool,
    /// `latency-tracking-info-percentiles`.
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// `maxmemory-samples`: keys sampled per database for each eviction.
    pub maxmemory_samples: u32,
    /// `maxmemory-clients`: what clients may use together before the biggest are evicted.
    pub maxmemory_clients: ClientMemoryLimit,
    /// `tracking-table-max-keys`: keys client-side caching remembers reads of (0: no
    /// limit).
    pub tracking_table_max_keys: u64,
    /// `maxmemory-eviction-tenacity`: how long one command may evict.
    pub maxmemory_eviction_tenacity: u32,
    /// `replica-ignore-maxmemory`.
    pub replica_ignore_maxmemory: bool,
    /// `lazyfree-lazy-eviction`: evictions propagate as UNLINK.
    pub lazyfree_lazy_eviction: bool,
    /// `lazyfree-lazy-user-flush`: FLUSHDB and FLUSHALL without SYNC or ASYNC free lazily.
    pub lazyfree_lazy_user_flush: bool,
    /// `lfu-log-factor`.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time` (minutes).
    pub lfu_decay_time: u32,
    /// `appendonly`: writes are appended to the append-only file.
    pub appendonly: bool,
    /// `appendfilename`: the stem of the AOF's file names.
    pub appendfilename: String,
    /// `appenddirname`: the AOF's directory, inside `dir`.
    pub appenddirname: String,
    /// `appendfsync`: when the AOF is flushed to the disk.
    pub appendfsync: AppendFsync,
    /// `no-appendfsync-on-rewrite`: no fsync while a rewrite writes its base.
    pub no_appendfsync_on_rewrite: bool,
    /// `auto-aof-rewrite-percentage`: growth over the base that triggers a rewrite (0: never).
    pub auto_aof_rewrite_percentage: u32,
    /// `auto-aof-rewrite-min-size`: no automatic rewrite below this size.
    pub auto_aof_rewrite_min_size: u64,
    /// `aof-load-truncated`: a last file cut mid-command is loaded up to the cut.
    pub aof_load_truncated: bool,
    /// `aof-use-rdb-preamble`: a rewrite writes its base as an RDB (else as commands).
    pub aof_use_rdb_preamble: bool,
    /// `aof-timestamp-enabled`: `#TS:<unix>` annotations between commands.
    pub aof_timestamp_enabled: bool,
    /// `rdbcompression`.
    pub rdbcompression: bool,
    /// `rdbchecksum`.
    pub rdbchecksum: bool,
    /// `rdb-key-save-delay` (tests): see [`crate::rdb::KeyDelay`]'s units.
    pub rdb_key_save_delay: i64,
    /// `key-load-delay` (tests): the same units.
    pub key_load_delay: i64,
    /// `stop-writes-on-bgsave-error`.
    pub stop_writes_on_bgsave_error: bool,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: u64,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: u64,
    /// `list-max-listpack-size`.
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`.
    pub list_compress_depth: u64,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: u64,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: u64,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: u64,
    /// `stream-node-max-bytes`.
    pub stream_node_max_bytes: u64,
    /// `stream-node-max-entries`.
    pub stream_node_max_entries: u64,
    /// `replicaof`: the master to follow, if any.
    pub replicaof: Option<(String, u16)>,
    /// `bind-source-addr`: the local address replication connects from ("" = any).
    pub bind_source_addr: String,
    /// `masterauth`.
    pub masterauth: String,
    /// `masteruser`.
    pub masteruser: String,
    /// `replica-serve-stale-data`.
    pub replica_serve_stale_data: bool,
    /// `replica-serve-while-loading` (replikv's own): every full sync's load keeps the old
    /// dataset serving reads (async loading), not only Redis's swapdb of the same history.
    pub replica_serve_while_loading: bool,
    /// `replica-load-memory-limit` (replikv's own): the memory a replica may use while a
    /// load keeps its old dataset serving; past it the old dataset is freed (0: `maxmemory`,
    /// and no limit when that is 0 too).
    pub replica_load_memory_limit: u64,
    /// `dual-channel-replication-enabled` (replikv's own): full syncs between replikv
    /// nodes use a snapshot channel beside the streaming link (`replication::dual_channel`).
    pub dual_channel_replication: bool,
    /// `replica-full-sync-buffer-limit` (replikv's own): the stream a replica buffers
    /// during a dual-channel full sync (0: the replica output-buffer hard limit).
    pub replica_full_sync_buffer_limit: u64,
    /// `replica-read-only`.
    pub replica_read_only: bool,
    /// `repl-diskless-sync`.
    pub repl_diskless_sync: bool,
    /// `repl-diskless-sync-delay` seconds.
    pub repl_diskless_sync_delay: u64,
    /// `repl-diskless-sync-max-replicas`.
    pub repl_diskless_sync_max_replicas: u64,
    /// `repl-diskless-load`.
    pub repl_diskless_load: DisklessLoad,
    /// `hll-sparse-max-bytes`.
    pub hll_sparse_max_bytes: u64,
    /// `propagation-error-behavior`.
    pub propagation_error_behavior: PropagationErrorBehavior,
    /// `repl-ping-replica-period` seconds.
    pub repl_ping_replica_period: u64,
    /// `repl-timeout` seconds.
    pub repl_timeout: u64,
    /// `busy-reply-threshold` (`lua-time-limit`) milliseconds.
    pub busy_reply_threshold: u64,
    /// `shutdown-timeout` seconds.
    pub shutdown_timeout: u64,
    /// `oom-score-adj`: whether and how the OOM score is set by role.
    pub oom_score_adj: OomScoreAdj,
    /// `oom-score-adj-values`: scores for a master, a replica, a background child.
    pub oom_score_adj_values: [i32; 3],
    /// `shutdown-on-sigterm`: how SIGTERM shuts down.
    pub shutdown_on_sigterm: ShutdownFlags,
    /// `shutdown-on-sigint`: how SIGINT shuts down.
    pub shutdown_on_sigint: ShutdownFlags,
    /// `repl-backlog-size` bytes.
    pub repl_backlog_size: u64,
    /// `repl-backlog-ttl` seconds.
    pub repl_backlog_ttl: u64,
    /// `repl-max-concurrent-full-syncs` (replikv's own; 0 = unlimited).
    pub repl_max_concurrent_full_syncs: u64,
    /// `replica-priority`.
    pub replica_priority: u64,
    /// `replica-announced`.
    pub replica_announced: bool,
    /// `replica-refuse-empty-full-sync`: keep our data rather than install an empty
    /// dataset from a new history.
    pub replica_refuse_empty_full_sync: bool,
    /// `jemalloc-bg-thread`: the allocator purges freed pages on its own threads.
    pub jemalloc_bg_thread: bool,
    /// `replica-announce-ip`.
    pub replica_announce_ip: String,
    /// `replica-announce-port`.
    pub replica_announce_port: u16,
    /// `min-replicas-to-write`.
    pub min_replicas_to_write: u64,
    /// `min-replicas-max-lag` seconds.
    pub min_replicas_max_lag: u64,
    /// `client-output-buffer-limit normal ...`.
    pub obuf_normal: OutputLimit,
    /// `client-output-buffer-limit replica ...`.
    pub obuf_replica: OutputLimit,
    /// `client-output-buffer-limit pubsub ...`.
    pub obuf_pubsub: OutputLimit,
    /// `http-enabled`: run the control plane, not at all, or if its port can be bound.
    pub http_enabled: HttpEnabled,
    /// `http-bind`.
    pub http_bind: String,
    /// `http-port`: `auto` (the RESP port + 3000), or a port (0 = ephemeral).
    pub http_port: HttpPort,
    /// `http-auth-token`: bearer token for mutating calls (empty = none).
    pub http_auth_token: String,
    /// `http-auth-reads`: also require the token for reads.
    pub http_auth_reads: bool,
    /// `http-allowed-hosts`: extra `Host` names the control plane accepts.
    pub http_allowed_hosts: Vec<String>,
    /// `http-auth-max-failures`: failed credentials per address and minute (0 = no limit).
    pub http_auth_max_failures: u32,
    /// `notify-keyspace-events`, as Redis's flag bits (see [`directives::NOTIFY`]).
    pub notify_keyspace_events: u32,
    /// `always-show-logo`: print the start-up banner (with the `PID:` line test harnesses
    /// wait for).
    pub always_show_logo: bool,
    /// `unixsocket`: also listen on this Unix-domain socket (empty = none).
    pub unixsocket: String,
    /// `proc-title-template`: the process title (see [`proctitle`]).
    pub proc_title_template: String,
    /// `unixsocketperm`: its permission bits (0 = the umask's).
    pub unixsocketperm: u32,
    /// Directives accepted and shown, whose value changes nothing here (see [`stored`]).
    pub stored: std::collections::BTreeMap<&'static str, String>,
    /// `otel-endpoint`: OTLP/HTTP endpoint for traces (empty = no export).
    pub otel_endpoint: String,
    /// `otel-service-name`.
    pub otel_service_name: String,
    /// `sync-history-size`: sync sessions kept for the control plane.
    pub sync_history_size: u64,
    /// The `tls-*` directives.
    pub tls: TlsSettings,
}

impl Settings {
    /// True when plain TCP is off: `port 0` beside a `tls-port`, as Redis reads it (without
    /// a TLS port, replikv reads `port 0` as "an ephemeral port").
    pub fn plain_tcp_off(&self) -> bool {
        self.port == 0 && self.tls.port != 0
    }

    /// The defaults, taken from the directive table.
    pub fn defaults() -> Settings {
        let mut s = Settings::blank();
        for d in DIRECTIVES {
            // A single-value default is one argument, spaces and all (as CONFIG SET passes
            // it); a multi-argument one is split like a config line's values.
            let args = if d.multi_arg {
                directives::split_value(d.default)
            } else {
                vec![d.default.to_string()]
            };
            // The table's defaults are checked by a unit test; a failure here is a bug.
            if let Err(e) = (d.set)(&mut s, &args) {
                panic!("default of {} is invalid: {e}", d.name);
            }
        }
        s
    }

    fn blank() -> Settings {
        Settings {
            bind: Vec::new(),
            port: 0,
            tcp_backlog: 0,
            protected_mode: true,
            enable_protected_configs: Protected::No,
            enable_module_command: Protected::No,
            timeout: 0,
            tcp_keepalive: 0,
            requirepass: String::new(),
            maxclients: 0,
            databases: 0,
            io_threads: 0,
            dir: PathBuf::new(),
            dbfilename: String::new(),
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            proto_max_bulk_len: 0,
            client_query_buffer_limit: 0,
            save: Vec::new(),
            hz: 0,
            enable_debug_command: Protected::No,
            daemonize: false,
            pidfile: String::new(),
            maxmemory: 0,
            maxmemory_policy: String::new(),
            latency_monitor_threshold: 0,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            acllog_max_len: 128,
            acl_pubsub_allchannels: false,
            aclfile: String::new(),
            users: Vec::new(),
            rename_commands: Vec::new(),
            latency_tracking: true,
            latency_tracking_info_percentiles: Vec::new(),
            maxmemory_samples: 0,
            maxmemory_clients: ClientMemoryLimit::Bytes(0),
            tracking_table_max_keys: 0,
            maxmemory_eviction_tenacity: 0,
            replica_ignore_maxmemory: true,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_user_flush: false,
            lfu_log_factor: 0,
            lfu_decay_time: 0,
            appendonly: false,
            appendfilename: String::new(),
            appenddirname: String::new(),
            appendfsync: AppendFsync::EverySec,
            no_appendfsync_on_rewrite: false,
            auto_aof_rewrite_percentage: 0,
            auto_aof_rewrite_min_size: 0,
            aof_load_truncated: false,
            aof_use_rdb_preamble: false,
            aof_timestamp_enabled: false,
            rdbcompression: false,
            rdbchecksum: false,
            rdb_key_save_delay: 0,
            key_load_delay: 0,
            stop_writes_on_bgsave_error: false,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value: 0,
            list_max_listpack_size: 0,
            list_compress_depth: 0,
            set_max_intset_entries: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value: 0,
            stream_node_max_bytes: 0,
            stream_node_max_entries: 0,
            replicaof: None,
            bind_source_addr: String::new(),
            masterauth: String::new(),
            masteruser: String::new(),
            replica_serve_stale_data: false,
            replica_serve_while_loading: false,
            dual_channel_replication: false,
            replica_load_memory_limit: 0,
            replica_full_sync_buffer_limit: 0,
            replica_read_only: false,
            repl_diskless_sync: false,
            repl_diskless_sync_delay: 0,
            repl_diskless_sync_max_replicas: 0,
            repl_diskless_load: DisklessLoad::Disabled,
            propagation_error_behavior: PropagationErrorBehavior::Ignore,
            hll_sparse_max_bytes: 0,
            repl_ping_replica_period: 0,
            repl_timeout: 0,
            busy_reply_threshold: 0,
            shutdown_timeout: 0,
            oom_score_adj: OomScoreAdj::No,
            oom_score_adj_values: [0, 200, 800],
            shutdown_on_sigterm: ShutdownFlags::default(),
            shutdown_on_sigint: ShutdownFlags::default(),
            repl_backlog_size: 0,
            repl_backlog_ttl: 0,
            repl_max_concurrent_full_syncs: 0,
            replica_priority: 0,
            replica_announced: false,
            replica_refuse_empty_full_sync: false,
            jemalloc_bg_thread: false,
            replica_announce_ip: String::new(),
            replica_announce_port: 0,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 0,
            obuf_normal: OutputLimit::default(),
            obuf_replica: OutputLimit::default(),
            obuf_pubsub: OutputLimit::default(),
            http_enabled: HttpEnabled::No,
            http_bind: String::new(),
            http_port: HttpPort::Fixed(0),
            http_auth_token: String::new(),
            http_auth_reads: false,
            http_allowed_hosts: Vec::new(),
            http_auth_max_failures: 0,
            notify_keyspace_events: 0,
            always_show_logo: false,
            unixsocket: String::new(),
            proc_title_template: String::new(),
            unixsocketperm: 0,
            stored: std::collections::BTreeMap::new(),
            otel_endpoint: String::new(),
            otel_service_name: String::new(),
            sync_history_size: 0,
            tls: TlsSettings::blank(),
        }
    }

    /// Applies directive lines (from a file, then the command line) in order. A `save` line
    /// appends rules (the first one replaces the defaults; `save ""` clears them all), as
    /// Redis reads redis.conf.
    pub fn apply_lines(&mut self, lines: &[Line]) -> Result<(), ConfigError> {
        let mut save_seen = false;
        for line in lines {
            // `user` lines declare ACL users; they are checked when the server builds them.
            if line.name == "user" {
                if line.args.is_empty() {
                    return Err(ConfigError::at(
                        &line.origin,
                        "Bad directive or wrong number of arguments",
                    ));
                }
                self.users.push(line.args.clone());
                continue;
            }
            // `rename-command` lines are checked against the command table at start-up.
            if line.name == "rename-command" {
                let [from, to] = line.args.as_slice() else {
                    return Err(ConfigError::at(&line.origin, "wrong number of arguments"));
                };
                self.rename_commands.push((from.clone(), to.clone()));
                continue;
            }
            let Some(d) = find(&line.name) else {
                return Err(ConfigError::at(
                    &line.origin,
                    "Bad directive or wrong number of arguments",
                ));
            };
            // A multi-argument directive given as one quoted value (`--save "900 1"`,
            // `save "900 1"`) is split on spaces, as Redis 7.0 does.
            let split;
            let line = if d.multi_arg && line.args.len() == 1 && line.args[0].contains(' ') {
                split = Line {
                    args: directives::split_value(&line.args[0]),
                    ..line.clone()
                };
                &split
            } else {
                line
            };
            if d.name == "save" && !(line.args.len() == 1 && line.args[0].is_empty()) {
                let previous = if save_seen {
                    std::mem::take(&mut self.save)
                } else {
                    Vec::new()
                };
                (d.set)(self, &line.args).map_err(|e| ConfigError::at(&line.origin, e))?;
                let mut rules = previous;
                rules.append(&mut self.save);
                self.save = rules;
                save_seen = true;
                continue;
            }
            (d.set)(self, &line.args).map_err(|e| ConfigError::at(&line.origin, e))?;
            if d.name == "save" {
                save_seen = true;
            }
        }
        Ok(())
    }

    /// The log level as redis.conf names it.
    pub fn loglevel_name(&self) -> String {
        find("loglevel")
            .map(|d| (d.get)(self))
            .unwrap_or_else(|| "notice".into())
    }

    /// Builds the settings a process starts with: defaults, then the file, then argv.
    pub fn load(cl: &CommandLine) -> Result<Settings, ConfigError> {
        let mut s = Settings::defaults();
        // The file and the command line are one sequence, as Redis reads them: a `--save`
        // after the file's `save` lines adds a rule to them.
        let mut lines = match &cl.config_file {
            Some(path) => read_file(path)?,
            None => Vec::new(),
        };
        lines.extend(cl.directives.iter().cloned());
        s.apply_lines(&lines)?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_limit_hard_at_once_soft_after_its_seconds() {
        let limit = OutputLimit {
            hard: 100,
            soft: 10,
            soft_seconds: 2,
        };
        let mut since = 0;
        assert_eq!(limit.check(101, &mut since, 1_000), Some(LimitBreach::Hard));
        assert_eq!(limit.check(50, &mut since, 1_000), None);
        assert_eq!(since, 1_000);
        assert_eq!(
            limit.check(50, &mut since, 3_000),
            None,
            "exactly the seconds: not yet"
        );
        assert_eq!(limit.check(50, &mut since, 3_001), Some(LimitBreach::Soft));
        // Falling back under the soft limit forgets the time.
        assert_eq!(limit.check(5, &mut since, 3_002), None);
        assert_eq!(since, 0);
        assert_eq!(limit.check(50, &mut since, 9_000), None);
        let none = OutputLimit::default();
        let mut since = 0;
        assert_eq!(none.check(u64::MAX, &mut since, 1), None);
    }

    #[test]
    fn defaults_are_valid_and_match_redis() {
        let s = Settings::defaults();
        assert_eq!(s.port, 6379);
        assert_eq!(s.databases, 16);
        assert_eq!(s.save, vec![(3600, 1), (300, 100), (60, 10000)]);
        assert_eq!(s.repl_backlog_size, 1024 * 1024);
        assert_eq!(
            s.obuf_replica,
            OutputLimit {
                hard: 256 << 20,
                soft: 64 << 20,
                soft_seconds: 60
            }
        );
        assert_eq!(s.http_port, HttpPort::Auto);
        assert_eq!(s.http_port.resolve(6379), 9379);
        assert_eq!(s.http_port.resolve(6380), 9380);
        assert_eq!(
            s.http_port.resolve(0),
            0,
            "an ephemeral RESP port: an ephemeral HTTP port"
        );
        assert_eq!(
            s.http_port.resolve(63000),
            0,
            "past 65535: an ephemeral port"
        );
        assert_eq!(HttpPort::Fixed(8080).resolve(6379), 8080);
    }

    #[test]
    fn save_lines_accumulate_and_empty_clears() {
        let mut s = Settings::defaults();
        let line = |args: &[&str]| Line {
            name: "save".into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            origin: Origin::CommandLine {
                text: String::new(),
            },
        };
        s.apply_lines(&[line(&["900", "1"]), line(&["60", "5"])])
            .unwrap();
        assert_eq!(s.save, vec![(900, 1), (60, 5)]);
        s.apply_lines(&[line(&[""])]).unwrap();
        assert!(s.save.is_empty());
        // `--save "3600 1 300 100"`: one quoted value, split as Redis splits it.
        s.apply_lines(&[line(&[""]), line(&["3600 1 300 100"])])
            .unwrap();
        assert_eq!(s.save, vec![(3600, 1), (300, 100)]);
    }

    #[test]
    fn command_line_save_adds_to_the_files_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.conf");
        std::fs::write(&path, "save 900 1\n").unwrap();
        let load = |extra: &[&str]| {
            let mut argv = vec![path.display().to_string()];
            argv.extend(extra.iter().map(|a| a.to_string()));
            Settings::load(&parse::parse_command_line(&argv).unwrap()).unwrap()
        };
        assert_eq!(load(&[]).save, vec![(900, 1)]);
        assert_eq!(
            load(&["--save", "100", "100"]).save,
            vec![(900, 1), (100, 100)]
        );
        assert!(load(&["--save", ""]).save.is_empty());
    }

    #[test]
    fn bad_values_are_refused_with_reasons() {
        let mut s = Settings::defaults();
        let line = |name: &str, args: &[&str]| Line {
            name: name.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            origin: Origin::CommandLine { text: name.into() },
        };
        let err = s.apply_lines(&[line("port", &["abc"])]).unwrap_err();
        assert_eq!(err.reason, "argument couldn't be parsed into an integer");
        let err = s.apply_lines(&[line("port", &["70000"])]).unwrap_err();
        assert_eq!(err.reason, "argument must be between 0 and 65535 inclusive");
        let err = s.apply_lines(&[line("no-such-thing", &["1"])]).unwrap_err();
        assert_eq!(err.reason, "Bad directive or wrong number of arguments");
        let err = s
            .apply_lines(&[line("replica-read-only", &["maybe"])])
            .unwrap_err();
        assert_eq!(err.reason, "argument must be 'yes' or 'no'");
    }
}
