//! Signature verification for every scheme through `Scheme::verify`: signed, then mutated, headers, body, URL and clock.
//! The body is shared with the stable run in tests/fuzz_smoke.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hookbus::fuzzing::verify(data);
});
