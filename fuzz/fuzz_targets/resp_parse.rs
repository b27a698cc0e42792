//! Feeds arbitrary bytes to the RESP request parser, as a client's socket and as a master's
//! replication stream (no bulk limit), cut into reads at a position the input chooses: any
//! input yields commands or a protocol error, never a panic, and the answers do not depend
//! on where the reads were cut. The same properties run in CI as proptests
//! (src/resp/parser.rs, `any_bytes_parse_the_same_however_they_are_cut`).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use replikv::resp::{ParseLimits, RequestParser};

fn parse(input: &[u8], cut: usize, limits: ParseLimits) -> Vec<Result<Vec<u8>, String>> {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in [&input[..cut], &input[cut..]] {
        buf.extend_from_slice(piece);
        loop {
            match parser.next_raw(&mut buf, limits) {
                Ok(Some((_, raw))) => out.push(Ok(raw.to_vec())),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let limits = ParseLimits {
        max_bulk_len: 1 << 20,
        unauthenticated: selector & 1 == 1,
        from_master: selector & 2 == 2,
    };
    let cut = (selector as usize * 7) % (input.len() + 1);
    assert_eq!(parse(input, 0, limits), parse(input, cut, limits));
});
