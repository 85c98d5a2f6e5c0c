//! Tests of the dispatch in `mod.rs`; each scheme's own tests are in its file.
use hookbus_core::config::{SchemeKind, Secret};
use http::HeaderMap;

use super::test_util::{inbound, source};
use super::*;

#[test]
fn names_round_trip_through_config() {
    assert_eq!(all_names(), SchemeKind::ALL);
    for name in all_names() {
        let config = source(name, Some("https://hooks.example.com/webhooks/x"));
        assert!(SchemeKind::KINDS.contains(&config.scheme));
        let scheme = Scheme::from_config(&config).unwrap();
        assert_eq!(scheme.name(), *name);
        assert!(!scheme.provider().about.is_empty(), "{name} says what it signs");
        assert_eq!(serde_json::to_value(config.scheme).unwrap(), *name);
    }
    let mut sorted = all_names().to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), all_names().len(), "no name twice");
    // `svix` is another name for Standard Webhooks, accepted but not listed.
    assert_eq!(Scheme::from_config(&source("svix", None)).unwrap(), Scheme::of(SchemeKind::StandardWebhooks));
    assert!(!all_names().contains(&"svix"));
}

#[test]
fn bad_public_url_is_refused_at_load() {
    let err = Scheme::from_config(&source("twilio", Some("/webhooks/twilio"))).unwrap_err();
    assert_eq!(err.code(), "source_misconfigured");
    let ok = Scheme::from_config(&source("square", Some("https://a.example/sq"))).unwrap();
    assert_eq!(ok, Scheme::at(SchemeKind::Square, "https://a.example/sq"));
}

#[test]
fn codes_are_stable() {
    let errors = [
        VerifyError::MissingHeader("h".into()),
        VerifyError::malformed("h", "r"),
        VerifyError::payload("f", "r"),
        check_tolerance(10, 0, 1).unwrap_err(),
        VerifyError::SignatureMismatch,
        VerifyError::NoActiveSecret,
        VerifyError::Misconfigured("m".into()),
    ];
    let codes: Vec<&str> = errors.iter().map(VerifyError::code).collect();
    let expected = "missing_signature_header malformed_signature_header malformed_signature_payload \
                    timestamp_out_of_tolerance signature_mismatch no_active_secret source_misconfigured";
    assert_eq!(codes.join(" "), expected);
}

#[test]
fn tolerance_is_inclusive_and_saturates_on_extremes() {
    assert_eq!(check_tolerance(100, 400, 300), Ok(()));
    assert_eq!(check_tolerance(i64::MAX, i64::MIN, u64::MAX), Ok(()));
    let err = check_tolerance(100, 401, 300).unwrap_err();
    assert_eq!(err.code(), "timestamp_out_of_tolerance");
    let err = check_tolerance(0, i64::MIN, 300);
    let saturated = VerifyError::TimestampOutOfTolerance { skew_secs: i64::MAX, tolerance_secs: 300 };
    assert_eq!(err, Err(saturated));
}

#[test]
fn empty_secret_is_refused_not_accepted() {
    let map = HeaderMap::new();
    let req = inbound(&map, b"{}", 0);
    for name in all_names() {
        let scheme = Scheme::from_config(&source(name, Some("https://a.example/x"))).unwrap();
        let err = scheme.verify(&req, &[Secret::new("")], 300).map(|_| ());
        assert_eq!(err.map_err(|e| e.code()), Err("source_misconfigured"), "{name}");
        let err = scheme.sign("", b"{}", 0, "d");
        assert_eq!(err.map_err(|e| e.code()), Err("source_misconfigured"), "{name}");
    }
}

#[test]
fn no_scheme_panics_on_hostile_input() {
    // Every scheme against a grab bag of headers and bodies: only typed errors come back.
    let values: [&[u8]; 9] = [
        b"",
        b"=",
        b"v0=",
        b"t=,v1=,ts=;h1=",
        b"sha256=\xff",
        b"t=-9223372036854775808,v1=00",
        b"99999999999999999999999999",
        b"2024-13-99T99:99:99Z",
        b"v1=zz,v1=00,,,",
    ];
    let bodies: [&[u8]; 5] =
        [b"", b"{", b"[]", br#"{"signature":{"timestamp":[],"token":1},"webhookTimestamp":"x"}"#, b"\xff\x00=&&=%zz"];
    // Every header some provider reads, so each parser meets the garbage.
    let names: Vec<&str> = SchemeKind::KINDS.iter().flat_map(|k| provider(*k).headers.iter().copied()).collect();
    for value in values {
        let mut map = HeaderMap::new();
        for n in &names {
            map.insert(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                http::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        for body in bodies {
            for name in all_names() {
                let scheme = Scheme::from_config(&source(name, Some("https://a.example/x"))).unwrap();
                for secret in ["s", "not-a-key", "00"] {
                    let req = Inbound { method: "POST", headers: &map, body, url: "/x?bodySHA256=zz", now: 0 };
                    let _ = scheme.verify(&req, &[Secret::new(secret)], 300);
                    let _ = scheme.verify(&Inbound { now: i64::MIN, ..req }, &[Secret::new(secret)], u64::MAX);
                }
            }
        }
    }
}
