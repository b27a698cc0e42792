//! replikv's scenario tests: one binary, a module per topic. Every test starts real
//! processes on loopback ephemeral ports through `harness` and stops them when done.

mod harness;

/// ACL users vs redis-server 7.0: rules, refusals, the log, configured users, replication users.
mod acl;
/// The append-only file vs redis-server 7.0: both ways, kill -9, truncation, rewrites, replicas.
mod aof;
/// Clients whose input arrives together run in arrival order, as Redis's event loop runs them.
mod arrival_order;
/// Bitmaps (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP) vs redis-server 7.0; replicated both ways.
mod bitmaps;
/// Blocking pops: arrival order, timeouts, MULTI, served by the ready key.
mod blocking;
/// redis-cli against replikv: one-shot commands, -a, INFO, an interactive session.
mod cli;
/// The HTTP control plane: endpoints, auth, metrics vs INFO, OpenAPI, generated client, fuzzing.
mod control;
/// The Grafana dashboards against a real Prometheus scraping a live master and replica.
mod dashboards;
/// DEBUG DIGEST, DIGEST-VALUE and POPULATE vs redis-server 7.0; the replication helpers.
mod debug;
/// Same commands to Debian redis-server 7.0 and replikv, replies compared byte for byte.
mod differential;
/// Random sequences over every type, alone and in MULTI/EXEC, vs redis-server 7.0.
mod differential_random;
/// Lists, hashes, sets, sorted sets vs redis-server 7.0, byte for byte.
mod differential_types;
/// COMMAND DOCS against redis-server 7.0: the same shape and facts for every command.
mod docs;
/// Dual-channel full sync: a slow sync under writes that would overflow the classic path,
/// Redis peers getting the classic sync.
mod dual_channel;
/// Expiry: lazy, active, propagation-free basics.
mod expiry;
/// Coordinated failover: FAILOVER and its HTTP twin, under writes, with Redis both ways.
mod failover;
/// Faults made by a proxy on the replication link: damaged transfers, a slow link, the
/// master killed under load.
mod faults;
/// GEO commands vs redis-server 7.0 byte for byte (random searches too); replicated both ways.
mod geo;
/// HyperLogLog vs redis-server 7.0: the same bytes, counts and errors; replicated both ways.
mod hyperloglog;
/// LATENCY and INFO latencystats against redis-server 7.0.
mod latency;
/// Output limits for clients, subscribers and replicas that stop reading; input before AUTH.
mod limits;
/// A documented code for every way a replication link ends, counted and named.
mod link_aborts;
/// Link loss and stalls in every sync phase on both sides, through the fault points.
mod link_faults;
/// Reads on a replica while it loads a full sync: served throughout, or -LOADING as Redis.
mod load_reads;
/// maxmemory: the limit, each eviction policy, -OOM, evictions on replicas, LFU.
mod maxmemory;
/// MIGRATE between replikv and redis-server 7.0 both ways: replies, keys moved, replicas.
mod migrate;
/// Listeners moved at run time: CONFIG SET port, bind, http-port, http-enabled vs Redis.
mod networking;
/// Keyspace notifications vs redis-server 7.0: every event, in order; expiry, eviction, replicas.
mod notifications;
/// Malformed input, limits, vanishing clients.
mod protocol;
/// Pub/Sub: redis-cli subscribe, RESP2 and RESP3 messages, introspection, context errors.
mod pubsub;
/// RDB files and DUMP/RESTORE against real Redis; SAVE, BGSAVE, save rules, shutdown saves.
mod rdb;
/// Replicas reaching a master again: backoff with jitter, an immediate reconnect after a cut.
mod reconnect;
/// Replication in every direction between replikv and redis-server 7.0.
mod replication;
/// Regressions for replication defects found with Redis's own replication tests.
mod replication_defects;
/// Every cause of a full resync, counted in /metrics and explained in the sync history.
mod resync_causes;
/// Lua scripts and functions: replies, errors and the sandbox as Redis, effects replicated
/// both ways, functions kept in the RDB, busy scripts.
mod scripting;
/// Real redis-sentinel managing replikv, Redis and mixed groups.
mod sentinel;
/// Shutdown with lagging replicas, SHUTDOWN ABORT.
mod shutdown;
/// SLOWLOG and MONITOR vs redis-server 7.0: entries, lines, redaction, limits.
mod slowlog;
/// A bounded soak: 50 clients, two replicas, links cut every few seconds.
mod soak;
/// SORT and SORT_RO vs redis-server 7.0: orders, BY/GET patterns, LIMIT, STORE; replicated.
mod sort;
/// Start-up: command line, config files, errors, version and help.
mod startup;
/// The replication stream as a replica applies it, fuzzed in process (proptest).
mod stream_props;
/// Streams and consumer groups vs redis-server 7.0: replies byte for byte, blocking reads,
/// replication both ways, RDB files and DUMP payloads.
mod streams;
/// Full syncs admitted under repl-max-concurrent-full-syncs, each wait told with its reason.
mod sync_admission;
/// TLS clients, certificates, suites and replication over TLS, side by side with Redis.
mod tls;
/// One trace per sync across both nodes (REPLCONF traceparent), exported over OTLP.
mod traces;
/// Client-side caching (CLIENT TRACKING) vs redis-server 7.0: every frame three clients
/// receive, byte for byte; invalidations on a replica, the table's limit, CLIENT LIST flags.
mod tracking;
/// MULTI/EXEC/DISCARD/WATCH against redis-server 7.0, with two clients per server.
mod transactions;
