//! Reply shapes and picks shared by several families: HELP lines, the SCAN-family reply,
//! random picks of SRANDMEMBER / HRANDFIELD / ZRANDMEMBER.

use rand::Rng;

use super::ctx::Ctx;
use super::error::CmdResult;
use crate::resp::ReplyBuf;

/// Replies with help lines as status strings, as Redis's `addReplyHelp` does.
pub fn help_reply(ctx: &mut Ctx, lines: &[&str]) -> CmdResult {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
    Ok(())
}

/// The two-element SCAN-family reply: the cursor as a bulk string, then the elements.
pub fn reply_scan(out: &mut ReplyBuf, cursor: u64, elements: &[&[u8]]) {
    out.array(2);
    out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    out.array(elements.len());
    for e in elements {
        out.bulk(e);
    }
}

/// Positions to return for a random-members command over `len` elements and a `count` as
/// Redis reads it: a negative count allows repeats (exactly |count| picks); a positive one
/// returns distinct elements, the whole collection in its own order when count >= len.
pub fn random_picks(len: usize, count: i64) -> Vec<usize> {
    random_picks_capped(len, count, usize::MAX)
}

/// [`random_picks`], with repeats stopped after `cap` picks: past the client's output limit
/// (see `Ctx::reply_element_cap`) the client is closed and would never see the rest, and a
/// count of -999999999 must not make the server build a billion picks first.
pub fn random_picks_capped(len: usize, count: i64, cap: usize) -> Vec<usize> {
    let mut rng = rand::rng();
    if count == 0 || len == 0 {
        return Vec::new();
    }
    if count < 0 {
        let n = (count.unsigned_abs() as usize).min(cap);
        return (0..n).map(|_| rng.random_range(0..len)).collect();
    }
    let count = count as usize;
    if count >= len {
        return (0..len).collect();
    }
    if count == 1 {
        return vec![rng.random_range(0..len)];
    }
    rand::seq::index::sample(&mut rng, len, count).into_vec()
}
