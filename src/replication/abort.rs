//! Why a replication link ended: a stable code for every way a link or its sync session can
//! fail, on either side, with the words for the log. The code is what operators count
//! (`replikv_link_aborts_total{side,code}`), filter on (`error_code` in the sync history and
//! the events) and look up: docs/metrics.md says for each what happened and what to do.

use std::fmt;

/// A documented reason for a link's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbortCode {
    /// The other side closed the connection.
    PeerClosed,
    /// Reading or writing the socket failed.
    Io,
    /// `repl-timeout` passed without the traffic the phase needs.
    Timeout,
    /// The other side sent bytes that are not the protocol.
    ProtocolError,
    /// This server is shutting down.
    Shutdown,
    /// The link's purpose ended here: REPLICAOF changed, a promotion or failover, the
    /// replication id changed and the link must reconnect.
    TopologyChange,
    /// An operator asked for a full resync (over HTTP).
    OperatorResync,
    /// CLIENT KILL closed the link.
    ClientKill,
    /// A fault point fired (tests and drills only).
    FaultInjected,
    /// Master: the replica fell behind its output buffer limit or the replication buffer.
    ReplicaTooSlow,
    /// Master: the snapshot for the full sync could not be produced.
    SnapshotFailed,
    /// Replica: the master could not be reached (refused, unreachable, TLS failed).
    ConnectFailed,
    /// Replica: the master refused the handshake (authentication, REPLCONF, PING).
    HandshakeRefused,
    /// Replica: the master answered PSYNC with an error (it is loading, it has no link to
    /// its own master, it refuses replicas).
    PsyncRefused,
    /// Replica: the snapshot payload was malformed in transit (framing, length, end mark).
    TransferFailed,
    /// Replica: the snapshot could not be stored or loaded (a bad RDB, a full disk).
    LoadFailed,
    /// Replica: an empty dataset from a new history was refused
    /// (`replica-refuse-empty-full-sync`).
    RefusedEmptyDataset,
}

impl AbortCode {
    /// Every code, in the order of [`AbortCode::index`].
    pub const ALL: [AbortCode; 17] = [
        AbortCode::PeerClosed,
        AbortCode::Io,
        AbortCode::Timeout,
        AbortCode::ProtocolError,
        AbortCode::Shutdown,
        AbortCode::TopologyChange,
        AbortCode::OperatorResync,
        AbortCode::ClientKill,
        AbortCode::FaultInjected,
        AbortCode::ReplicaTooSlow,
        AbortCode::SnapshotFailed,
        AbortCode::ConnectFailed,
        AbortCode::HandshakeRefused,
        AbortCode::PsyncRefused,
        AbortCode::TransferFailed,
        AbortCode::LoadFailed,
        AbortCode::RefusedEmptyDataset,
    ];

    /// The code's name in metrics labels, the history and events.
    pub fn as_str(self) -> &'static str {
        match self {
            AbortCode::PeerClosed => "peer_closed",
            AbortCode::Io => "io_error",
            AbortCode::Timeout => "timeout",
            AbortCode::ProtocolError => "protocol_error",
            AbortCode::Shutdown => "shutdown",
            AbortCode::TopologyChange => "topology_change",
            AbortCode::OperatorResync => "operator_resync",
            AbortCode::ClientKill => "client_kill",
            AbortCode::FaultInjected => "fault_injected",
            AbortCode::ReplicaTooSlow => "replica_too_slow",
            AbortCode::SnapshotFailed => "snapshot_failed",
            AbortCode::ConnectFailed => "connect_failed",
            AbortCode::HandshakeRefused => "handshake_refused",
            AbortCode::PsyncRefused => "psync_refused",
            AbortCode::TransferFailed => "transfer_failed",
            AbortCode::LoadFailed => "load_failed",
            AbortCode::RefusedEmptyDataset => "refused_empty_dataset",
        }
    }

    /// Position in [`AbortCode::ALL`].
    pub fn index(self) -> usize {
        AbortCode::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or_default()
    }
}

/// A link's end with its code and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkError {
    /// The documented reason.
    pub code: AbortCode,
    /// What happened, for the log and the history.
    pub detail: String,
}

impl LinkError {
    /// A link error.
    pub fn new(code: AbortCode, detail: impl Into<String>) -> LinkError {
        LinkError {
            code,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// Gives a plain error its code.
pub trait Coded<T> {
    /// This error, under `code`.
    fn code(self, code: AbortCode) -> Result<T, LinkError>;
}

impl<T, E: fmt::Display> Coded<T> for Result<T, E> {
    fn code(self, code: AbortCode) -> Result<T, LinkError> {
        self.map_err(|e| LinkError::new(code, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_indexed_in_order() {
        let mut names: Vec<&str> = AbortCode::ALL.iter().map(|c| c.as_str()).collect();
        for (i, c) in AbortCode::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AbortCode::ALL.len());
    }
}
