//! The cluster connection commands a client library may send to any server (ASKING,
//! READONLY, READWRITE). replikv has no cluster mode, so they answer as a Redis 7.0 started
//! without `cluster-enabled`; that they exist lets ACL rules name them (`+readonly`).

use super::ctx::Ctx;
use super::error::{CmdError, CmdResult};
use super::flags::*;
use super::Spec;
use crate::command::cmd;

const NO_CLUSTER: &str = "ERR This instance has cluster support disabled";

fn cluster_disabled(_ctx: &mut Ctx) -> CmdResult {
    Err(CmdError::Fixed(NO_CLUSTER))
}

/// Cluster connection commands.
pub static COMMANDS: &[Spec] = &[
    cmd!("asking", 1, FAST, (0, 0, 0), "cluster", cluster_disabled),
    cmd!(
        "readonly",
        1,
        FAST | LOADING | STALE,
        (0, 0, 0),
        "cluster",
        cluster_disabled
    ),
    cmd!(
        "readwrite",
        1,
        FAST | LOADING | STALE,
        (0, 0, 0),
        "cluster",
        cluster_disabled
    ),
];
