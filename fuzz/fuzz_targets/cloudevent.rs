//! `CloudEvent::from_binary` on arbitrary record headers and value, with the to_binary round trip.
//! The body is shared with the stable run in tests/fuzz_smoke.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hookbus::fuzzing::cloudevent(data);
});
