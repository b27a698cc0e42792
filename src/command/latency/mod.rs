//! LATENCY HISTOGRAM | LATEST | HISTORY | GRAPH | DOCTOR | RESET | HELP: the per-command
//! latency histograms and the latency monitor's events (see [`crate::engine::latency`]);
//! the texts of GRAPH and DOCTOR are [`report`]'s.

mod report;
use super::ctx::Ctx;
use super::error::{CmdError, CmdResult};
use super::flags::*;
use super::reply::help_reply;
use super::{container, Spec};
use crate::command::{cmd, subcmd};

/// LATENCY HISTOGRAM [command ...]: a map of command → {calls, histogram_usec}; every
/// command with data when none is named, a container's subcommands when it is named.
fn histogram(ctx: &mut Ctx) -> CmdResult {
    let all = ctx.engine.stats.latency.commands();
    let mut names: Vec<&'static str> = Vec::new();
    if ctx.argv.len() == 2 {
        names = all;
    } else {
        for arg in &ctx.argv[2..] {
            let wanted = String::from_utf8_lossy(arg).to_ascii_lowercase();
            for name in &all {
                let matches = *name == wanted
                    || name
                        .strip_prefix(wanted.as_str())
                        .is_some_and(|rest| rest.starts_with('|'));
                if matches && !names.contains(name) {
                    names.push(name);
                }
            }
        }
    }
    ctx.out.map(names.len());
    for name in names {
        let Some(d) = ctx.engine.stats.latency.distribution(name) else {
            continue;
        };
        ctx.out.bulk(name.as_bytes());
        ctx.out.map(2);
        ctx.out.bulk(b"calls");
        ctx.out.int(d.calls as i64);
        ctx.out.bulk(b"histogram_usec");
        ctx.out.map(d.buckets.len());
        for (micros, cumulative) in d.buckets {
            ctx.out.int(micros as i64);
            ctx.out.int(cumulative as i64);
        }
    }
    Ok(())
}

/// LATENCY LATEST: [event, time of the latest sample, its latency, the worst] per event.
fn latest(ctx: &mut Ctx) -> CmdResult {
    let rows: Vec<(&'static str, i64, u64, u64)> = ctx
        .engine
        .latency_monitor
        .events()
        .filter_map(|(name, series)| {
            let (at, ms) = *series.samples.back()?;
            Some((name, at, ms, series.max))
        })
        .collect();
    ctx.out.array(rows.len());
    for (name, at, ms, max) in rows {
        ctx.out.array(4);
        ctx.out.bulk(name.as_bytes());
        ctx.out.int(at);
        ctx.out.int(ms as i64);
        ctx.out.int(max as i64);
    }
    Ok(())
}

/// LATENCY HISTORY event: [time, latency] for each sample, oldest first.
fn history(ctx: &mut Ctx) -> CmdResult {
    let event = String::from_utf8_lossy(&ctx.argv[2]).into_owned();
    let samples: Vec<(i64, u64)> = ctx
        .engine
        .latency_monitor
        .history(&event)
        .map(|s| s.samples.iter().copied().collect())
        .unwrap_or_default();
    ctx.out.array(samples.len());
    for (at, ms) in samples {
        ctx.out.array(2);
        ctx.out.int(at);
        ctx.out.int(ms as i64);
    }
    Ok(())
}

/// LATENCY GRAPH event: the event's samples as an ASCII graph (a verbatim string).
fn graph(ctx: &mut Ctx) -> CmdResult {
    let event = String::from_utf8_lossy(&ctx.argv[2]).into_owned();
    let Some(series) = ctx.engine.latency_monitor.history(&event) else {
        return Err(CmdError::Other(format!(
            "ERR No samples available for event '{event}'"
        )));
    };
    let text = report::graph(&event, series, ctx.now.div_euclid(1000));
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// LATENCY DOCTOR: a report on the sampled events, with advice (a verbatim string).
fn doctor(ctx: &mut Ctx) -> CmdResult {
    let settings = report::DoctorSettings {
        threshold_ms: ctx.engine.settings.latency_monitor_threshold,
        slowlog_slower_than_us: ctx.engine.settings.slowlog_log_slower_than,
    };
    let text = report::doctor(
        &ctx.engine.latency_monitor,
        settings,
        ctx.now.div_euclid(1000),
        anon_huge_pages(),
    );
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// This process's anonymous memory in transparent huge pages, in bytes (0 when the kernel
/// does not say).
fn anon_huge_pages() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// LATENCY RESET [event ...]: forgets the events; answers how many had samples.
fn reset(ctx: &mut Ctx) -> CmdResult {
    let names: Vec<String> = ctx.argv[2..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let n = ctx.engine.latency_monitor.reset(&refs);
    ctx.out.int(n as i64);
    Ok(())
}

fn help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
            "HELP",
            "    Prints this help.",
        ],
    )
}

static LATENCY_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "latency",
        "histogram",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        histogram
    ),
    subcmd!(
        "latency",
        "latest",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        latest
    ),
    subcmd!(
        "latency",
        "history",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        history
    ),
    subcmd!(
        "latency",
        "graph",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        graph
    ),
    subcmd!(
        "latency",
        "doctor",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        doctor
    ),
    subcmd!(
        "latency",
        "reset",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        reset
    ),
    subcmd!(
        "latency",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        help
    ),
];

/// LATENCY.
pub static COMMANDS: &[Spec] = &[Spec {
    subcommands: LATENCY_SUBCOMMANDS,
    ..cmd!("latency", -2, 0, (0, 0, 0), "server", container)
}];
