//! replikv: a Redis-compatible server whose replication operators can see and steer.
//!
//! # Layout
//! Modules form rows; a module imports only from rows above it.
//!
//! | row | module | job |
//! |---|---|---|
//! | 0 | [`resp`], [`config`], [`glob`] | wire format, configuration, patterns |
//! | 1 | [`keyspace`] | databases, values, expiry, copy-on-write snapshots |

pub mod config;
pub mod glob;
pub mod keyspace;
pub mod resp;
