//! The whole ingress router on requests written as HTTP/1 text: limits, handshakes, verification, normalize, dedup.
//! The body is shared with the stable run in tests/fuzz_smoke.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hookbus::fuzzing::request(data);
});
