//! The fuzz targets of every crate, by name: the ingress's (`verify`, `request`) and the parsers
//! that meet only in the process (config with source loading, CloudEvents records, jq mapping).
//! Shared by `fuzz/fuzz_targets/*.rs` (cargo-fuzz, nightly) and `tests/fuzz_smoke.rs` (a bounded
//! mutational run on stable, part of `cargo test`). Each takes arbitrary bytes and must never
//! panic; where a property holds for every input it is asserted.
//!
//! Only built with the `fuzzing` feature; not an API.
use hookbus_core::CloudEvent;
use hookbus_core::config::Config;
pub use hookbus_ingress::fuzzing::{request, verify};

/// A fuzz target: its name (the file in `fuzz/fuzz_targets/` and the folder in `fuzz/seeds/`) and body.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

pub const TARGETS: &[Target] = &[
    Target { name: "verify", run: verify },
    Target { name: "request", run: request },
    Target { name: "config", run: config },
    Target { name: "cloudevent", run: cloudevent },
    Target { name: "mapping", run: mapping },
];

/// `Config::from_toml` (parse and validate), then `source::load` when every secret is a literal
/// (env and file references would make the target read the machine).
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(config) = Config::from_toml(&text, "fuzz.toml") else { return };
    let literal_only = config.sources.values().all(|s| s.secrets.iter().all(|r| r.value.is_some()));
    if literal_only {
        let _ = hookbus_ingress::source::load(&config);
    }
}

/// `CloudEvent::from_binary` on a record written as `name: value` header lines, a blank line and
/// the value. Whatever decodes must round-trip through `to_binary` unchanged.
pub fn cloudevent(data: &[u8]) {
    let (head, value) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let headers: Vec<(String, Vec<u8>)> = head
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            let name = String::from_utf8_lossy(&line[..colon]).trim().to_owned();
            Some((name, line[colon + 1..].trim_ascii_start().to_vec()))
        })
        .collect();
    let Ok(event) = CloudEvent::from_binary(&headers, value) else { return };
    let bin = event.to_binary(value);
    let again = CloudEvent::from_binary(&bin.headers, &bin.value);
    assert_eq!(again.as_ref().ok(), Some(&event), "a decoded record does not survive to_binary/from_binary");
}

/// `Mapping::compile` on `filter NUL transform` (either may be empty = absent). Compiling only:
/// running an arbitrary jq program need not terminate.
pub fn mapping(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (filter, transform) = text.split_once('\0').unwrap_or((&text, ""));
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let _ = hookbus_mapping::Mapping::compile(some(filter).as_deref(), some(transform).as_deref());
}
