//! Argument parsing shared by several families, with Redis's checks and error texts:
//! cursors and SCAN options, counts, MPOP's `numkeys key... which [COUNT n]`, blocking
//! timeouts, client names.

use super::error::{self, CmdError, CmdResult, TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
use super::numeric::{parse_double, parse_int, strtod_prefix};
use crate::keyspace::ValueType;

/// Refuses client names Redis refuses: anything outside `!`..=`~`.
pub fn validate_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::Fixed(error::CLIENT_NAME_SPACES));
    }
    Ok(())
}

/// Parses a SCAN cursor as Redis does with `strtoul`: optional sign (a negative cursor
/// wraps, as in C), decimal digits, nothing after them; an empty string is cursor 0.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::Fixed("ERR invalid cursor");
    if arg.is_empty() {
        return Ok(0);
    }
    if arg[0].is_ascii_whitespace() {
        return Err(invalid());
    }
    let (negative, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if negative { v.wrapping_neg() } else { v })
}

/// The MATCH / COUNT / TYPE options shared by the SCAN family.
pub struct ScanOptions<'a> {
    /// MATCH pattern.
    pub pattern: Option<&'a [u8]>,
    /// COUNT hint.
    pub count: usize,
    /// TYPE filter (SCAN only).
    pub value_type: Option<Option<ValueType>>,
}

/// Parses SCAN options starting at argument `from`; `allow_type` for SCAN itself.
pub fn parse_scan_options<'a>(
    argv: &'a [bytes::Bytes],
    from: usize,
    allow_type: bool,
) -> Result<ScanOptions<'a>, CmdError> {
    let mut opts = ScanOptions {
        pattern: None,
        count: 10,
        value_type: None,
    };
    let mut i = from;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let opt = &argv[i];
        if opt.eq_ignore_ascii_case(b"COUNT") && more >= 1 {
            let n = parse_int(&argv[i + 1])?;
            if n < 1 {
                return Err(CmdError::Fixed(error::SYNTAX));
            }
            opts.count = n as usize;
        } else if opt.eq_ignore_ascii_case(b"MATCH") && more >= 1 {
            let p: &[u8] = &argv[i + 1];
            opts.pattern = if p == b"*" { None } else { Some(p) };
        } else if allow_type && opt.eq_ignore_ascii_case(b"TYPE") && more >= 1 {
            opts.value_type = Some(ValueType::parse(&argv[i + 1]));
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
        i += 2;
    }
    Ok(opts)
}

/// Parses the count of SRANDMEMBER / HRANDFIELD / ZRANDMEMBER (any i64 but i64::MIN).
pub fn parse_random_count(arg: &[u8]) -> Result<i64, CmdError> {
    let n = parse_int(arg)?;
    if n == i64::MIN {
        return Err(CmdError::Fixed(error::COUNT_OUT_OF_LONG_RANGE));
    }
    Ok(n)
}

/// A count argument that must be positive (LPOP count, SPOP count...): anything else is
/// `ERR value is out of range, must be positive`.
pub fn parse_positive_count(arg: &[u8]) -> Result<i64, CmdError> {
    match parse_int(arg) {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(CmdError::Fixed(error::POSITIVE_COUNT)),
    }
}

/// The parsed arguments of LMPOP / BLMPOP (and ZMPOP / BZMPOP, which share the layout):
/// `numkeys key [key ...] <where> [COUNT count]` starting at `numkeys_at`.
pub struct MpopArgs<'a> {
    /// The keys.
    pub keys: &'a [bytes::Bytes],
    /// The word after the keys (LEFT/RIGHT or MIN/MAX), not yet interpreted.
    pub which: &'a [u8],
    /// Elements to pop at most.
    pub count: usize,
}

/// Parses `numkeys key... which [COUNT n]` with Redis's checks and messages.
pub fn parse_mpop<'a>(
    argv: &'a [bytes::Bytes],
    numkeys_at: usize,
) -> Result<MpopArgs<'a>, CmdError> {
    let numkeys = match parse_int(&argv[numkeys_at]) {
        Ok(n) if n >= 1 => n as usize,
        _ => return Err(CmdError::Fixed(error::NUMKEYS_POSITIVE)),
    };
    let which_at = numkeys_at
        .checked_add(numkeys)
        .and_then(|i| i.checked_add(1))
        .filter(|i| *i < argv.len())
        .ok_or(CmdError::Fixed(error::SYNTAX))?;
    let mut count: Option<usize> = None;
    let mut j = which_at + 1;
    while j < argv.len() {
        if count.is_none() && argv[j].eq_ignore_ascii_case(b"COUNT") && j + 1 < argv.len() {
            count = Some(match parse_int(&argv[j + 1]) {
                Ok(n) if n >= 1 => n as usize,
                _ => return Err(CmdError::Fixed(error::COUNT_POSITIVE)),
            });
            j += 2;
        } else {
            return Err(CmdError::Fixed(error::SYNTAX));
        }
    }
    Ok(MpopArgs {
        keys: &argv[numkeys_at + 1..which_at],
        which: &argv[which_at],
        count: count.unwrap_or(1),
    })
}

/// Parses a blocking command's timeout as Redis 7.0 does: a float number of seconds
/// (`0.5`, `1e2`), converted to whole milliseconds rounding up, so that a tiny positive
/// timeout still expires; 0 (or a negative value that rounds to 0) waits forever (`None`).
/// Values whose milliseconds do not fit 64 bits come out negative in C and are refused as
/// negative, as Redis refuses them.
pub fn parse_timeout(arg: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    let seconds = parse_long_double_like(arg).ok_or(CmdError::Fixed(TIMEOUT_NOT_FLOAT))?;
    let ms = (seconds * 1000.0).ceil();
    // C's (long long) conversion of an out-of-range double yields LLONG_MIN.
    let ms = if (-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&ms) {
        ms as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(CmdError::Fixed(TIMEOUT_NEGATIVE));
    }
    if ms == 0 {
        return Ok(None);
    }
    // Far deadlines are capped at a century: the same as never for any client.
    const CENTURY_MS: i64 = 100 * 365 * 24 * 3600 * 1000;
    Ok(Some(std::time::Duration::from_millis(
        ms.min(CENTURY_MS) as u64
    )))
}

/// A float as Redis's `string2ld` reads it (strtold: no spaces, no NaN). Long doubles
/// reach far below f64's smallest value, so an underflowing positive number is kept as
/// the smallest positive f64 rather than refused, which only matters for rounding up.
fn parse_long_double_like(arg: &[u8]) -> Option<f64> {
    if let Some(v) = parse_double(arg) {
        return Some(v);
    }
    // strtod refuses underflow (1e-400) where strtold does not; such a value is a tiny
    // non-zero number of seconds.
    let (v, used) = strtod_prefix(arg);
    let text_ok = used == arg.len() && !arg.is_empty() && !arg[0].is_ascii_whitespace();
    if text_ok && v == 0.0 && is_underflow(arg) {
        return Some(if arg[0] == b'-' {
            -f64::MIN_POSITIVE
        } else {
            f64::MIN_POSITIVE
        });
    }
    None
}

/// True when `arg` is a syntactically valid non-zero number with a large negative
/// exponent that a long double still represents (down to about 1e-4950).
fn is_underflow(arg: &[u8]) -> bool {
    let text = String::from_utf8_lossy(arg).to_ascii_lowercase();
    let Some((mantissa, exp)) = text.split_once('e') else {
        return false;
    };
    let nonzero = mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let exp: i64 = exp.parse().unwrap_or(0);
    nonzero && exp > -4950
}
