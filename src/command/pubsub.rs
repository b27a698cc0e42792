//! Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB, and
//! the shard channel commands SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH, which a server outside
//! cluster mode serves as Redis 7.0 does: one more namespace of channels, without patterns.
//!
//! The registry (who listens to what) is [`super::subscriptions`]; a session keeps its own
//! channel and pattern lists in subscription order, and the counters CLIENT LIST shows
//! (`sub=`, `psub=`) follow them. Confirmations are replies of the command itself: arrays
//! in RESP2, push frames in RESP3, one per channel or pattern, each carrying the client's
//! subscription count after it. Messages arrive on the client's push queue, except a
//! client's own PUBLISH, whose copy precedes the PUBLISH reply as in Redis.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::ctx::Ctx;
use super::error::{CmdError, CmdResult};
use super::flags::*;
use super::{container, Spec};
use crate::command::{cmd, subcmd};
use crate::engine::subscriptions::Subscriber;

/// The calling client as a subscriber (`None` for sessions without a push queue, such as
/// the master link, which never subscribe).
fn subscriber(ctx: &Ctx) -> Option<Subscriber> {
    let tx = ctx.session.push_tx.clone()?;
    Some(Subscriber {
        id: ctx.session.id(),
        proto: ctx.session.proto,
        tx,
        info: ctx.session.info.clone(),
    })
}

/// Number of subscriptions the count in confirmations reports.
fn subscription_count(ctx: &Ctx) -> i64 {
    (ctx.session.channels.len() + ctx.session.patterns.len()) as i64
}

/// Publishes the session's counters for CLIENT LIST / CLIENT KILL TYPE pubsub.
fn sync_counters(ctx: &Ctx) {
    let info = &ctx.session.info;
    info.sub
        .store(ctx.session.channels.len(), Ordering::Relaxed);
    info.psub
        .store(ctx.session.patterns.len(), Ordering::Relaxed);
    info.ssub
        .store(ctx.session.shard_channels.len(), Ordering::Relaxed);
}

/// What a subscription names: a channel, a pattern or a shard channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    /// The confirmation's first element for subscribing / unsubscribing.
    fn words(self) -> (&'static [u8], &'static [u8]) {
        match self {
            Kind::Channel => (b"subscribe", b"unsubscribe"),
            Kind::Pattern => (b"psubscribe", b"punsubscribe"),
            Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
        }
    }

    /// The session's list of this kind.
    fn list<'c>(self, ctx: &'c mut Ctx) -> &'c mut Vec<Bytes> {
        match self {
            Kind::Channel => &mut ctx.session.channels,
            Kind::Pattern => &mut ctx.session.patterns,
            Kind::Shard => &mut ctx.session.shard_channels,
        }
    }

    /// The count a confirmation carries: channels and patterns together, shard channels
    /// apart, as Redis counts them.
    fn count(self, ctx: &Ctx) -> i64 {
        match self {
            Kind::Shard => ctx.session.shard_channels.len() as i64,
            _ => subscription_count(ctx),
        }
    }

    fn register(self, ctx: &mut Ctx, name: &Bytes, sub: &Subscriber) {
        let registry = &mut ctx.engine.subscriptions;
        match self {
            Kind::Channel => registry.subscribe(name, sub),
            Kind::Pattern => registry.psubscribe(name, sub),
            Kind::Shard => registry.ssubscribe(name, sub),
        };
    }

    fn unregister(self, ctx: &mut Ctx, name: &[u8]) {
        let id = ctx.session.id();
        let registry = &mut ctx.engine.subscriptions;
        match self {
            Kind::Channel => registry.unsubscribe(name, id),
            Kind::Pattern => registry.punsubscribe(name, id),
            Kind::Shard => registry.sunsubscribe(name, id),
        };
    }
}

/// One confirmation: `[word, name, count]` (name null for an empty UNSUBSCRIBE).
fn confirm(ctx: &mut Ctx, word: &[u8], name: Option<&[u8]>, count: i64) {
    let out = &mut *ctx.out;
    out.push(3);
    out.bulk(word);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count);
}

/// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE: one confirmation per name, in order.
fn subscribe_generic(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let sub = subscriber(ctx);
    for name in &ctx.argv[1..] {
        if !kind.list(ctx).contains(name) {
            kind.list(ctx).push(name.clone());
            if let Some(sub) = &sub {
                kind.register(ctx, name, sub);
            }
        }
        sync_counters(ctx);
        let count = kind.count(ctx);
        confirm(ctx, kind.words().0, Some(name), count);
    }
    Ok(())
}

/// UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE: the named ones, or all when none is named.
fn unsubscribe_generic(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let word = kind.words().1;
    let targets: Vec<Bytes> = if ctx.argv.len() > 1 {
        ctx.argv[1..].to_vec()
    } else {
        kind.list(ctx).clone()
    };
    if targets.is_empty() {
        let count = kind.count(ctx);
        confirm(ctx, word, None, count);
        return Ok(());
    }
    for name in &targets {
        if let Some(pos) = kind.list(ctx).iter().position(|c| c == name) {
            kind.list(ctx).remove(pos);
            kind.unregister(ctx, name);
        }
        sync_counters(ctx);
        let count = kind.count(ctx);
        confirm(ctx, word, Some(name), count);
    }
    Ok(())
}

fn subscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_generic(ctx, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_generic(ctx, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_generic(ctx, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Shard)
}

/// PUBLISH and SPUBLISH (`shard`): answers how many clients received the message.
fn publish_generic(ctx: &mut Ctx, shard: bool) -> CmdResult {
    let (channel, message) = (ctx.arg(1), ctx.arg(2));
    let publisher = Some((ctx.session.id(), &mut *ctx.out));
    let registry = &mut ctx.engine.subscriptions;
    let receivers = if shard {
        registry.spublish_from(channel, message, publisher)
    } else {
        registry.publish_from(channel, message, publisher)
    };
    ctx.out.int(receivers as i64);
    // Replicas deliver the message to their own subscribers.
    ctx.force_propagate = true;
    Ok(())
}

fn publish(ctx: &mut Ctx) -> CmdResult {
    publish_generic(ctx, false)
}

fn spublish(ctx: &mut Ctx) -> CmdResult {
    publish_generic(ctx, true)
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try PUBSUB HELP.`
fn bad_pubsub_arguments(sub: &[u8]) -> CmdError {
    let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    msg.extend_from_slice(sub);
    msg.extend_from_slice(b"'. Try PUBSUB HELP.");
    CmdError::Raw(msg)
}

fn pubsub_channels(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(bad_pubsub_arguments(ctx.arg(1)));
    }
    let pattern = ctx.argv.get(2).map(|p| &p[..]);
    let channels = ctx.engine.subscriptions.channels(pattern);
    ctx.out.array(channels.len());
    for c in &channels {
        ctx.out.bulk(c);
    }
    Ok(())
}

fn pubsub_numsub(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argv.len() - 2;
    ctx.out.array(n * 2);
    for i in 2..ctx.argv.len() {
        let ch = ctx.arg(i);
        let count = ctx.engine.subscriptions.numsub(ch);
        ctx.out.bulk(ch);
        ctx.out.int(count as i64);
    }
    Ok(())
}

fn pubsub_numpat(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.engine.subscriptions.numpat();
    ctx.out.int(n as i64);
    Ok(())
}

fn pubsub_shardchannels(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(bad_pubsub_arguments(ctx.arg(1)));
    }
    let pattern = ctx.argv.get(2).map(|p| &p[..]);
    let channels = ctx.engine.subscriptions.shard_channels(pattern);
    ctx.out.array(channels.len());
    for c in &channels {
        ctx.out.bulk(c);
    }
    Ok(())
}

fn pubsub_shardnumsub(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argv.len() - 2;
    ctx.out.array(n * 2);
    for i in 2..ctx.argv.len() {
        let ch = ctx.arg(i);
        let count = ctx.engine.subscriptions.shard_numsub(ch);
        ctx.out.bulk(ch);
        ctx.out.int(count as i64);
    }
    Ok(())
}

fn pubsub_help(ctx: &mut Ctx) -> CmdResult {
    let lines: &[&str] = &[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    super::reply::help_reply(ctx, lines)
}

static PUBSUB_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "pubsub",
        "channels",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        pubsub_channels
    ),
    subcmd!(
        "pubsub",
        "numsub",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        pubsub_numsub
    ),
    subcmd!(
        "pubsub",
        "numpat",
        2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        pubsub_numpat
    ),
    subcmd!(
        "pubsub",
        "shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        pubsub_shardchannels
    ),
    subcmd!(
        "pubsub",
        "shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        pubsub_shardnumsub
    ),
    subcmd!(
        "pubsub",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        pubsub_help
    ),
];

/// Pub/Sub commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "subscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBE_CONTEXT,
        (0, 0, 0),
        "pubsub",
        subscribe
    ),
    cmd!(
        "unsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBE_CONTEXT,
        (0, 0, 0),
        "pubsub",
        unsubscribe
    ),
    cmd!(
        "psubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBE_CONTEXT,
        (0, 0, 0),
        "pubsub",
        psubscribe
    ),
    cmd!(
        "punsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBE_CONTEXT,
        (0, 0, 0),
        "pubsub",
        punsubscribe
    ),
    cmd!(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        (0, 0, 0),
        "pubsub",
        publish
    ),
    cmd!(
        "ssubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBE_CONTEXT,
        (1, -1, 1),
        "pubsub",
        ssubscribe
    ),
    cmd!(
        "sunsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBE_CONTEXT,
        (1, -1, 1),
        "pubsub",
        sunsubscribe
    ),
    cmd!(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        (1, 1, 1),
        "pubsub",
        spublish
    ),
    Spec {
        subcommands: PUBSUB_SUBCOMMANDS,
        ..cmd!("pubsub", -2, 0, (0, 0, 0), "pubsub", container)
    },
];
