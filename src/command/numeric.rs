//! Number parsing exactly as Redis 7.0 does it: `string2ll` for integers, `strtod` for
//! doubles (hex floats, `inf`, exponent forms accepted; spaces, NaN and overflow refused),
//! and `long double` arithmetic for INCRBYFLOAT (in C, see csrc/numeric.c).

use super::error::{CmdError, NAN_OR_INFINITY, NOT_FLOAT, NOT_INTEGER};

// Declared in csrc/numeric.c, compiled by build.rs. Each takes a pointer and a length and
// copies into its own NUL-terminated buffer, so Rust slices are passed as they are.
#[allow(unsafe_code)]
extern "C" {
    fn replikv_ld_add(
        value: *const u8,
        value_len: usize,
        incr: *const u8,
        incr_len: usize,
        out: *mut u8,
        cap: usize,
        out_len: *mut usize,
    ) -> i32;
    fn replikv_parse_double(s: *const u8, len: usize, out: *mut f64) -> i32;
    fn replikv_strtod_prefix(s: *const u8, len: usize, out: *mut f64) -> usize;
    fn replikv_sort_score(s: *const u8, len: usize, out: *mut f64) -> i32;
}

/// An integer argument (`string2ll`), or `ERR value is not an integer or out of range`.
pub fn parse_int(arg: &[u8]) -> Result<i64, CmdError> {
    crate::resp::parser::parse_i64(arg).ok_or(CmdError::Fixed(NOT_INTEGER))
}

/// A double as Redis's `getDoubleFromObject` parses it, or `None`.
pub fn parse_double(arg: &[u8]) -> Option<f64> {
    let mut out = 0.0f64;
    // SAFETY: the C function reads exactly `len` bytes from `s` and writes one f64.
    #[allow(unsafe_code)]
    let ok = unsafe { replikv_parse_double(arg.as_ptr(), arg.len(), &mut out) };
    (ok == 1).then_some(out)
}

/// A double argument, or `ERR value is not a valid float`.
pub fn parse_float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_double(arg).ok_or(CmdError::Fixed(NOT_FLOAT))
}

/// `strtod` over the start of `s`: the value and how many bytes it used.
pub fn strtod_prefix(s: &[u8]) -> (f64, usize) {
    let mut out = 0.0f64;
    // SAFETY: reads `len` bytes from `s`, writes one f64.
    #[allow(unsafe_code)]
    let used = unsafe { replikv_strtod_prefix(s.as_ptr(), s.len(), &mut out) };
    (out, used)
}

/// A SORT weight as Redis reads it (`strtod` over the C string, nothing left over, no
/// overflow or NaN; the empty string is 0), or `None`.
pub fn sort_score(s: &[u8]) -> Option<f64> {
    let mut out = 0.0f64;
    // SAFETY: reads `len` bytes from `s`, writes one f64.
    #[allow(unsafe_code)]
    let ok = unsafe { replikv_sort_score(s.as_ptr(), s.len(), &mut out) };
    (ok == 1).then_some(out)
}

/// Why a long-double addition failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdAddError {
    /// The stored value is not a float.
    BadValue,
    /// The increment is not a float.
    BadIncrement,
    /// The result is NaN or infinite.
    NanOrInfinity,
}

impl From<LdAddError> for CmdError {
    fn from(e: LdAddError) -> CmdError {
        match e {
            LdAddError::BadValue | LdAddError::BadIncrement => CmdError::Fixed(NOT_FLOAT),
            LdAddError::NanOrInfinity => CmdError::Fixed(NAN_OR_INFINITY),
        }
    }
}

/// `value + incr` in long double, formatted as Redis's human-friendly `%.17Lf`.
pub fn long_double_add(value: &[u8], incr: &[u8]) -> Result<Vec<u8>, LdAddError> {
    let mut out = vec![0u8; 5200];
    let mut len = 0usize;
    // SAFETY: both inputs are read within their lengths; `out` has `cap` writable bytes and
    // the function writes at most `cap` bytes (snprintf) plus sets `len`.
    #[allow(unsafe_code)]
    let status = unsafe {
        replikv_ld_add(
            value.as_ptr(),
            value.len(),
            incr.as_ptr(),
            incr.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut len,
        )
    };
    match status {
        0 => {
            out.truncate(len);
            Ok(out)
        }
        1 => Err(LdAddError::BadValue),
        2 => Err(LdAddError::BadIncrement),
        _ => Err(LdAddError::NanOrInfinity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_double_matches_redis() {
        assert_eq!(long_double_add(b"0.1", b"0.2").unwrap(), b"0.3");
        assert_eq!(long_double_add(b"10.5", b"0.1").unwrap(), b"10.6");
        assert_eq!(long_double_add(b"5", b"-5").unwrap(), b"0");
        assert_eq!(long_double_add(b"3", b"1e3").unwrap(), b"1003");
        assert_eq!(long_double_add(b"x", b"1"), Err(LdAddError::BadValue));
        assert_eq!(long_double_add(b"1", b" 1"), Err(LdAddError::BadIncrement));
        assert_eq!(
            long_double_add(b"1", b"inf"),
            Err(LdAddError::NanOrInfinity)
        );
    }

    #[test]
    fn doubles_follow_strtod() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"0x10"), Some(16.0));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1 "), None);
        assert_eq!(parse_double(b""), None);
        assert_eq!(parse_double(b"1e999"), None);
        assert_eq!(strtod_prefix(b"1.5x"), (1.5, 3));
    }
}
