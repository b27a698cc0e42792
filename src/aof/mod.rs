//! Redis 7.0's append-only file, as files: the multi-part layout (a manifest naming one
//! base file and the increment files that follow it), the dataset written as commands (the
//! base when `aof-use-rdb-preamble no`), and increment files read back as commands. The
//! engine's side (feeding writes, fsync policies, rewrites, loading) is
//! `engine::aof`; this module knows formats only.

pub mod commands;
pub mod manifest;
pub mod reader;
