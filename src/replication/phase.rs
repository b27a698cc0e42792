//! Sync phases: one name used everywhere (span name, history entry, metric label, log field,
//! control plane, docs), so an operator reading any of them talks about the same thing.

use std::fmt;

/// Which side of a replication link a sync session is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// We are the master, serving a replica.
    Master,
    /// We are the replica, syncing from our master.
    Replica,
}

impl Side {
    /// `master` or `replica`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Master => "master",
            Side::Replica => "replica",
        }
    }
}

/// A phase of a sync session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Replica: opening the TCP connection to the master.
    Connect,
    /// Replica: PING, AUTH, REPLCONF.
    Handshake,
    /// Either side: the PSYNC request and the master's decision.
    Psync,
    /// Master: preparing the snapshot (replica state `wait_bgsave`).
    Snapshot,
    /// Master: sending the RDB payload (replica state `send_bulk`).
    Transfer,
    /// Replica: receiving the RDB payload.
    Receive,
    /// Replica: loading the payload into a new dataset.
    Load,
    /// Either side: the writes buffered during the full sync, until the replica has them.
    Catchup,
    /// Either side: the link streams commands (the steady state).
    Stream,
}

impl Phase {
    /// The phase's name, as used in span names (`repl.<side>.<phase>`), metric labels and
    /// the sync history.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Connect => "connect",
            Phase::Handshake => "handshake",
            Phase::Psync => "psync",
            Phase::Snapshot => "snapshot",
            Phase::Transfer => "transfer",
            Phase::Receive => "receive",
            Phase::Load => "load",
            Phase::Catchup => "catchup",
            Phase::Stream => "stream",
        }
    }

    /// Every phase, for metric label sets.
    pub const ALL: [Phase; 9] = [
        Phase::Connect,
        Phase::Handshake,
        Phase::Psync,
        Phase::Snapshot,
        Phase::Transfer,
        Phase::Receive,
        Phase::Load,
        Phase::Catchup,
        Phase::Stream,
    ];
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
