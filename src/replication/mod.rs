//! Replication: the stream of writes a master sends its replicas, and (in later modules) the
//! master and replica sides of the protocol.

pub mod log;

pub use log::ReplLog;
