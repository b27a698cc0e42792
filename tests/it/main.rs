//! replikv's scenario tests: one binary, a module per topic. Every test starts real
//! processes on loopback ephemeral ports through `harness` and stops them when done.

mod harness;

/// redis-cli against replikv: one-shot commands, -a, INFO, an interactive session.
mod cli;
/// Same commands to Debian redis-server 7.0 and replikv, replies compared byte for byte.
mod differential;
/// Lists, hashes, sets, sorted sets vs redis-server 7.0, byte for byte.
mod differential_types;
/// Expiry: lazy, active, propagation-free basics.
mod expiry;
/// Malformed input, limits, vanishing clients.
mod protocol;
/// RDB files and DUMP/RESTORE against real Redis; SAVE, BGSAVE, save rules, shutdown saves.
mod rdb;
/// Replication in every direction between replikv and redis-server 7.0.
mod replication;
/// Start-up: command line, config files, errors, version and help.
mod startup;
