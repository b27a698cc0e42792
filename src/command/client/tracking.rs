//! CLIENT TRACKING | CACHING | GETREDIR | TRACKINGINFO: server-assisted client-side caching
//! (the state and the invalidations live in [`crate::engine::tracking`]).

use std::sync::Arc;

use crate::command::ctx::Ctx;
use crate::command::error::{self, CmdError, CmdResult};
use crate::command::numeric::parse_int;
use crate::engine::session::ClientInfo;
use crate::engine::tracking::Options;
use crate::keyspace::{blob, Blob};

const ONE_REDIRECT: &str = "ERR A client can only redirect to a single other client";
const NO_SUCH_REDIRECT: &str = "ERR The client ID you want redirect to does not exist";
const PREFIX_NEEDS_BCAST: &str = "ERR PREFIX option requires BCAST mode to be enabled";
const BCAST_SWITCH: &str = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
const OPT_WITH_BCAST: &str = "ERR OPTIN and OPTOUT are not compatible with BCAST";
const OPTIN_AND_OPTOUT: &str = "ERR You can't specify both OPTIN mode and OPTOUT mode";
const OPT_SWITCH: &str = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
const CACHING_NEEDS_TRACKING: &str = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled";
const CACHING_YES_NEEDS_OPTIN: &str =
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
const CACHING_NO_NEEDS_OPTOUT: &str =
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";

/// What CLIENT TRACKING's arguments after ON|OFF ask for.
struct Request {
    options: Options,
    redirect: Option<Arc<ClientInfo>>,
    prefixes: Vec<Blob>,
}

/// Parses the options as Redis does: all of them first, whatever ON|OFF says.
fn parse_request(ctx: &Ctx) -> Result<Request, CmdError> {
    let mut req = Request {
        options: Options::default(),
        redirect: None,
        prefixes: Vec::new(),
    };
    let mut i = 3;
    while i < ctx.argv.len() {
        let opt = ctx.arg(i);
        let has_value = i + 1 < ctx.argv.len();
        if opt.eq_ignore_ascii_case(b"REDIRECT") && has_value {
            i += 1;
            if req.redirect.is_some() {
                return Err(CmdError::Fixed(ONE_REDIRECT));
            }
            let id = parse_int(ctx.arg(i)).map_err(|_| CmdError::Fixed(error::NOT_INTEGER))?;
            let target = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.state.clients.get(id))
                .ok_or(CmdError::Fixed(NO_SUCH_REDIRECT))?;
            req.redirect = Some(target);
        } else if opt.eq_ignore_ascii_case(b"BCAST") {
            req.options.bcast = true;
        } else if opt.eq_ignore_ascii_case(b"OPTIN") {
            req.options.optin = true;
        } else if opt.eq_ignore_ascii_case(b"OPTOUT") {
            req.options.optout = true;
        } else if opt.eq_ignore_ascii_case(b"NOLOOP") {
            req.options.noloop = true;
        } else if opt.eq_ignore_ascii_case(b"PREFIX") && has_value {
            i += 1;
            req.prefixes.push(blob(ctx.arg(i)));
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        i += 1;
    }
    Ok(req)
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP].
pub fn tracking(ctx: &mut Ctx) -> CmdResult {
    let req = parse_request(ctx)?;
    let id = ctx.session.id();
    let on = ctx.arg(2);
    if on.eq_ignore_ascii_case(b"OFF") {
        ctx.engine.tracking.disable(&mut ctx.engine.keyspace, id);
        ctx.out.ok();
        return Ok(());
    }
    if !on.eq_ignore_ascii_case(b"ON") {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    let o = req.options;
    if !o.bcast && !req.prefixes.is_empty() {
        return Err(CmdError::Fixed(PREFIX_NEEDS_BCAST));
    }
    let current = ctx.engine.tracking.tracker(id);
    if current.is_some_and(|t| t.options.bcast != o.bcast) {
        return Err(CmdError::Fixed(BCAST_SWITCH));
    }
    if o.bcast && (o.optin || o.optout) {
        return Err(CmdError::Fixed(OPT_WITH_BCAST));
    }
    if o.optin && o.optout {
        return Err(CmdError::Fixed(OPTIN_AND_OPTOUT));
    }
    if current.is_some_and(|t| (o.optin && t.options.optout) || (o.optout && t.options.optin)) {
        return Err(CmdError::Fixed(OPT_SWITCH));
    }
    if o.bcast {
        let existing = current.map_or(&[][..], |t| &t.prefixes[..]);
        check_prefix_overlaps(existing, &req.prefixes)?;
    }
    let info = ctx.session.info.clone();
    ctx.engine.tracking.enable(
        &mut ctx.engine.keyspace,
        info,
        o,
        req.redirect,
        req.prefixes,
    );
    ctx.out.ok();
    Ok(())
}

/// Redis refuses prefixes of one client that overlap (one a prefix of the other): a key
/// under both would be announced twice.
fn check_prefix_overlaps(existing: &[Blob], new: &[Blob]) -> CmdResult {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    for (i, p) in new.iter().enumerate() {
        if let Some(old) = existing.iter().find(|old| overlap(old, p)) {
            return Err(overlap_error(p, old, "an existing"));
        }
        if let Some(other) = new[i + 1..].iter().find(|other| overlap(p, other)) {
            return Err(overlap_error(p, other, "another provided"));
        }
    }
    Ok(())
}

fn overlap_error(p: &[u8], other: &[u8], which: &str) -> CmdError {
    let mut msg = b"ERR Prefix '".to_vec();
    msg.extend_from_slice(p);
    msg.extend_from_slice(format!("' overlaps with {which} prefix '").as_bytes());
    msg.extend_from_slice(other);
    msg.extend_from_slice(b"'. Prefixes for a single client must not overlap.");
    CmdError::Raw(msg)
}

/// CLIENT CACHING YES|NO: for OPTIN (YES) or OPTOUT (NO) clients, whether the next command's
/// reads are remembered.
pub fn caching(ctx: &mut Ctx) -> CmdResult {
    let answer = ctx.arg(2);
    let Some(t) = ctx.engine.tracking.tracker_mut(ctx.session.id()) else {
        return Err(CmdError::Fixed(CACHING_NEEDS_TRACKING));
    };
    if answer.eq_ignore_ascii_case(b"YES") {
        if !t.options.optin {
            return Err(CmdError::Fixed(CACHING_YES_NEEDS_OPTIN));
        }
    } else if answer.eq_ignore_ascii_case(b"NO") {
        if !t.options.optout {
            return Err(CmdError::Fixed(CACHING_NO_NEEDS_OPTOUT));
        }
    } else {
        return Err(CmdError::Fixed(error::SYNTAX));
    }
    t.caching = true;
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETREDIR: the redirection target's id, 0 without one, -1 when not tracking.
pub fn getredir(ctx: &mut Ctx) -> CmdResult {
    let redir = ctx
        .engine
        .tracking
        .tracker(ctx.session.id())
        .map_or(-1, |t| t.redirect_id() as i64);
    ctx.out.int(redir);
    Ok(())
}

/// CLIENT TRACKINGINFO: flags, redirect and prefixes, as Redis's map.
pub fn trackinginfo(ctx: &mut Ctx) -> CmdResult {
    let tracker = ctx.engine.tracking.tracker(ctx.session.id());
    let mut flags: Vec<&str> = Vec::new();
    match tracker {
        None => flags.push("off"),
        Some(t) => {
            flags.push("on");
            if t.options.bcast {
                flags.push("bcast");
            }
            if t.options.optin {
                flags.push("optin");
                if t.caching {
                    flags.push("caching-yes");
                }
            }
            if t.options.optout {
                flags.push("optout");
                if t.caching {
                    flags.push("caching-no");
                }
            }
            if t.options.noloop {
                flags.push("noloop");
            }
            if t.broken_redirect {
                flags.push("broken_redirect");
            }
        }
    }
    let redirect = tracker.map_or(-1, |t| t.redirect_id() as i64);
    let prefixes: Vec<Blob> = tracker.map_or_else(Vec::new, |t| t.prefixes.clone());
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(redirect);
    out.bulk(b"prefixes");
    out.array(prefixes.len());
    for p in &prefixes {
        out.bulk(p);
    }
    Ok(())
}
