//! `Config::from_toml` (parse and validate), then `source::load`.
//! The body is shared with the stable run in tests/fuzz_smoke.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hookbus::fuzzing::config(data);
});
