//! The RESP wire format, and nothing else: no sockets, no keyspace.
//!
//! [`parser`] turns the bytes a client sent into command argument vectors (multibulk and inline
//! forms, with Redis's limits and its exact protocol-error texts); [`writer`] encodes replies in
//! RESP2 or RESP3 into one output buffer so that a whole pipeline is answered with one write.

pub mod parser;
pub mod writer;

pub use parser::{Argv, ParseError, ParseLimits, RequestParser};
pub use writer::{format_double, Proto, ReplyBuf};
