//! Streams against redis-server 7.0 (placeholder while the module is written).

#[test]
fn placeholder() {}
