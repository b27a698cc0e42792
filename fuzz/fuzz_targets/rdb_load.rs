//! Feeds arbitrary bytes to the RDB loader and the DUMP payload decoder: any input must
//! yield a value or an error, never a panic, a hang or an allocation the input does not pay
//! for. Inputs go through three doors: as a file (size known), as a socket stream (size
//! unknown, checksum off, so the fuzzer reaches the value decoders), and behind a valid
//! `REDIS0010` header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replikv::keyspace::EncodingLimits;
use replikv::rdb::{self, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let as_file = LoadOptions {
        total_len: Some(data.len() as u64),
        ..LoadOptions::new(16, EncodingLimits::default())
    };
    let _ = rdb::load(data, &as_file);
    let as_stream = LoadOptions {
        total_len: None,
        verify_checksum: false,
        ..as_file.clone()
    };
    let _ = rdb::load(data, &as_stream);
    let mut file = b"REDIS0010".to_vec();
    file.extend_from_slice(data);
    let _ = rdb::load(&file[..], &as_stream);
    let _ = rdb::decode_value(data, &EncodingLimits::default());
});
