//! `hookbus_mapping::Mapping::compile` on arbitrary jq filter and transform text.
//! The body is shared with the stable run in tests/fuzz_smoke.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hookbus::fuzzing::mapping(data);
});
