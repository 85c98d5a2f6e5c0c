use hookbus_core::config::Secret;

use super::super::Scheme;
use super::super::test_util::{Case, headers};
use super::*;

// HubSpot's documented example secret, used by all vectors below.
const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const URI: &str = "https://www.example.com/webhook_uri";

fn at(scheme: Scheme, pairs: &[(&str, &str)], body: &[u8], now: i64) -> Case {
    Case::new(scheme, SECRET, pairs, body, now).at_url("/webhook_uri")
}

mod v3 {
    use super::*;

    // From HubSpot's Python SDK tests (HubSpot/hubspot-api-python, tests/spec/utils/test_signature.py),
    // cross-checked with `printf '%s' "POST$URI$BODY$TS" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64`.
    const BODY: &[u8] = b"{'example_field':'example_value'}";
    const TS_MS: &str = "15000000";
    const NOW: i64 = 15_000;
    const SIG: &str = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=";

    fn case() -> Case {
        at(Scheme { kind: hookbus_core::config::SchemeKind::Hubspot, public_url: Some(URI.into()), hmac: None, settings: Default::default() }, &[(V3_SIG, SIG), (V3_TS, TS_MS)], BODY, NOW)
    }

    #[test]
    fn sdk_vector_and_negatives() {
        let case = case();
        case.standard("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyz");
        case.rejects_missing(V3_SIG);
        case.rejects_missing(V3_TS);
        case.rejects_malformed(
            V3_SIG,
            &[b"sha256=HPW7", b"9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900", b"%%"],
        );
        case.rejects_malformed(V3_TS, &[b"15000000.0", b"2023-11-14T22:13:20Z", b""]);
        // Signed: the timestamp, and the URI including its query.
        assert_eq!(case.verify_header(V3_TS, b"15000001"), Err(VerifyError::SignatureMismatch));
        assert_eq!(case.clone().at_url("/webhook_uri?x=1").verify(), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn timestamps_are_milliseconds_checked_against_the_tolerance() {
        // 15000000 ms is 15000 s.
        case().enforces_tolerance(NOW);
    }

    // Built from the docs' decoding table: the request carries `%3A`, `%40`, `%28`, `%29` and
    // `%20`; HubSpot signs the URI with the first four decoded (`%20` is not in the table):
    // printf '%s' 'POSThttps://hooks.example.com/hubspot?portal=62515&name=a:b@c(1)'"$BODY"'1700000000123' \
    //   | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
    #[test]
    fn listed_escapes_are_decoded_before_signing() {
        let body = br#"[{"eventId":1,"subscriptionType":"contact.creation"}]"#;
        let pairs = [(V3_SIG, "BHlEFu3bWWZj9bFTTTILJOeXMgmbGDbJKuALBiZruvw="), (V3_TS, "1700000000123")];
        let scheme = Scheme { kind: hookbus_core::config::SchemeKind::Hubspot, public_url: Some("https://hooks.example.com/hubspot".into()), hmac: None, settings: Default::default() };
        let case =
            Case::new(scheme, SECRET, &pairs, body, 1_700_000_000).at_url("/in?portal=62515&name=a%3Ab%40c%281%29");
        case.passes();
        case.rejects_tampered_body();
        assert_eq!(decode_uri("/a%3a%2F%3F%40%21%24%27%28%29%2A%2C%3B%20%zz%"), "/a:/?@!$'()*,;%20%zz%");
        assert_eq!(decode_uri("%E2%82%AC%"), "%E2%82%AC%");
    }

    // HubSpot publishes no v3 GET vector; built from the docs' recipe (method + URI + body +
    // timestamp, the body empty for GET) on the SDK's test data:
    // printf '%s' "GET${URI}15000000" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
    #[test]
    fn get_requests_sign_the_method() {
        let get = Case { body: Vec::new(), ..case() }.with_method("GET");
        let get = Case { headers: headers(&[(V3_SIG.into(), "P0iu/zdm789MCxMOpNVusey06xxchYciDvNTsEcnryA=".into()), (V3_TS.into(), TS_MS.into())]), ..get };
        get.passes();
        get.rejects_wrong_secret("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyz");
        get.rotates();
        get.enforces_tolerance(NOW);
        assert_eq!(get.clone().with_method("POST").verify(), Err(VerifyError::SignatureMismatch));
        assert_eq!(case().with_method("GET").verify(), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        let bare = Scheme { kind: hookbus_core::config::SchemeKind::Hubspot, public_url: None, hmac: None, settings: Default::default() };
        assert_eq!(bare.sign(SECRET, BODY, NOW, "d").unwrap_err().code(), "source_misconfigured");
    }
}

mod v2 {
    use super::*;

    // HubSpot's documented POST example (https://legacydocs.hubspot.com/docs/faq/v2-request-validation),
    // cross-checked with `printf '%s' "${SECRET}POST$URI$BODY" | sha256sum`.
    const BODY: &[u8] = br#"{"example_field":"example_value"}"#;
    const SIG: &str = "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900";

    fn case() -> Case {
        at(Scheme { kind: hookbus_core::config::SchemeKind::HubspotV2, public_url: Some(URI.into()), hmac: None, settings: Default::default() }, &[(SIG_HEADER, SIG), (VERSION, "v2")], BODY, 0)
    }

    use super::super::SIG as SIG_HEADER;

    #[test]
    fn documented_examples_and_negatives() {
        let case = case();
        case.standard("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyz");
        case.rejects_missing(SIG_HEADER);
        case.rejects_malformed(
            SIG_HEADER,
            &[b"sha256=9569", b"9569219f", b"HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="],
        );
        case.rejects_malformed(VERSION, &[b"v1", b"v3", b"2"]);
        // The URI is signed: here its query (scheme, host and path come from `public_url`).
        assert_eq!(case.clone().at_url("/webhook_uri?x=1").verify(), Err(VerifyError::SignatureMismatch));
        // The docs' GET example, through the same digest (the ingress itself only takes POST).
        let get = sha256(&[SECRET.as_bytes(), b"GET", URI.as_bytes(), b""]);
        assert_eq!(hex::encode(get), "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e");
        // Without the version header the configured version is assumed.
        let mut no_version = case.headers.clone();
        no_version.remove(VERSION);
        assert_eq!(case.check(&no_version, BODY, 0, &[Secret::new(SECRET)]), Ok(()));
    }

    /// The SDK's GET vector (HubSpot/hubspot-api-python, tests/spec/utils/test_signature.py,
    /// `test_is_valid__v2_get_method`), also the docs' GET example: the method is signed and the
    /// body is empty.
    #[test]
    fn sdk_get_vector_and_negatives() {
        let get = Case {
            body: Vec::new(),
            headers: headers(&[(SIG_HEADER.into(), "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e".into())]),
            ..case()
        }
        .with_method("GET");
        get.passes();
        get.rejects_wrong_secret("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyz");
        get.rotates();
        assert_eq!(get.clone().with_method("POST").verify(), Err(VerifyError::SignatureMismatch));
        assert_eq!(get.verify_body(b"x"), Err(VerifyError::SignatureMismatch));
        // The SDK's v2 POST vector on its single-quoted body.
        let sdk_post = Case {
            body: b"{'example_field':'example_value'}".to_vec(),
            headers: headers(&[(SIG_HEADER.into(), "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383".into())]),
            ..case()
        };
        sdk_post.passes();
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, 0, "d").unwrap()[0].1, SIG);
    }
}

mod v1 {
    use super::*;

    // HubSpot's documented v1 example (same page as v2, and HubSpot's SDK tests), cross-checked
    // with `printf '%s' "$SECRET$BODY" | sha256sum`.
    const BODY: &[u8] = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    const SIG: &str = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";

    fn case() -> Case {
        at(Scheme::of(hookbus_core::config::SchemeKind::HubspotV1), &[(super::super::SIG, SIG), (VERSION, "v1")], BODY, 0)
    }

    #[test]
    fn documented_example_and_negatives() {
        let case = case();
        case.standard("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyz");
        case.rejects_missing(super::super::SIG);
        case.rejects_malformed(super::super::SIG, &[b"232db261", b"zz"]);
        let err = case.verify_header(VERSION, b"v2").unwrap_err();
        assert!(err.to_string().contains("hubspot_v2"), "{err}");
        // A v3-only request does not satisfy a v1 source, and vice versa.
        let v3_only = headers(&[(V3_SIG.into(), "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=".into())]);
        let got = case.check(&v3_only, BODY, 0, &[Secret::new(SECRET)]);
        assert_eq!(got, Err(VerifyError::MissingHeader(super::super::SIG.into())));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, 0, "d").unwrap()[0].1, SIG);
    }
}
