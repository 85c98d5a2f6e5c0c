//! The mapping helper library (src/functions.rs, src/helpers.jq), checked against values computed
//! independently (RFC test vectors, `md5sum`/`sha256sum`, providers' documented examples).
use super::{apply, eval};
use crate::MappingError;
use serde_json::json;

#[test]
fn digests_are_lower_case_hex() {
    // Mailchimp's subscriber hash: MD5 of the lower-cased address.
    assert_eq!(
        eval("ascii_downcase | md5", json!("Urist.McVankab@freddiesjokes.com")),
        json!("62eeb292278cc15f5817cb78f7790b08")
    );
    assert_eq!(eval("md5", json!("")), json!("d41d8cd98f00b204e9800998ecf8427e"));
    assert_eq!(eval("sha256", json!("abc")), json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

#[test]
fn hmac_sha256_matches_rfc_4231() {
    // RFC 4231 test case 2.
    assert_eq!(
        eval(r#"hmac_sha256("Jefe")"#, json!("what do ya want for nothing?")),
        json!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    // The key can come from the event.
    assert_eq!(
        eval(".key as $k | .msg | hmac_sha256($k)", json!({"key": "Jefe", "msg": "what do ya want for nothing?"})),
        json!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
}

#[test]
fn base64url_round_trips_and_accepts_padding() {
    assert_eq!(eval("@base64url", json!("\u{fb}\u{ff}?")), json!("w7vDvz8"));
    assert_eq!(eval("base64url_encode", json!("subjects?_d")), json!("c3ViamVjdHM_X2Q"));
    assert_eq!(eval("@base64urld", json!("c3ViamVjdHM_X2Q")), json!("subjects?_d"));
    assert_eq!(eval("base64url_decode", json!("YQ==")), json!("a"));
    assert_eq!(eval("base64url_decode", json!("YQ")), json!("a"));
    assert!(matches!(apply(None, Some("@base64urld"), &json!("a+b/")), Err(MappingError::Runtime { .. })));
}

#[test]
fn url_encoding_round_trips() {
    assert_eq!(eval("url_encode", json!("a b&c=d/é")), json!("a%20b%26c%3Dd%2F%C3%A9"));
    assert_eq!(eval("url_decode", json!("a%20b%26c%3Dd%2F%C3%A9")), json!("a b&c=d/é"));
}

#[test]
fn dates_parse_from_common_forms_and_format() {
    for date in
        ["2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00", "2024-05-01 12:00:00Z", "Wed, 01 May 2024 12:00:00 +0000"]
    {
        assert_eq!(eval("parse_date", json!(date)), json!(1714564800), "{date}");
    }
    assert_eq!(eval("parse_date", json!("2024-05-01")), json!(1714521600));
    assert_eq!(eval("parse_date", json!("2024-05-01T12:00:00.250Z")), json!(1714564800.25));
    assert_eq!(eval("parse_date", json!(1714564800)), json!(1714564800));
    assert_eq!(eval(r#"parse_date("%d/%m/%Y")"#, json!("01/05/2024")), json!(1714521600));
    assert_eq!(eval(r#"format_date("%Y-%m-%d")"#, json!("2024-05-01T23:30:00-02:00")), json!("2024-05-02"));
    assert_eq!(eval(r#"format_date("%d.%m.%Y %H:%M")"#, json!(1714564800.9)), json!("01.05.2024 12:00"));
    assert_eq!(eval("to_rfc3339", json!("Wed, 01 May 2024 12:00:00 +0000")), json!("2024-05-01T12:00:00Z"));
    let err = apply(None, Some("parse_date"), &json!("next tuesday")).unwrap_err();
    assert!(err.to_string().contains("parse_date(\"%d/%m/%Y\")"), "{err}");
}

#[test]
fn case_conversion_splits_words_like_people_write_them() {
    let cases = [
        ("first_name", "firstName", "first-name", "FirstName", "First Name"),
        ("firstName", "firstName", "first-name", "FirstName", "First Name"),
        ("HTTPServer error", "httpServerError", "http-server-error", "HttpServerError", "Http Server Error"),
        ("address2Line", "address2Line", "address2-line", "Address2Line", "Address2 Line"),
        ("  Zip--code ", "zipCode", "zip-code", "ZipCode", "Zip Code"),
    ];
    for (input, camel, kebab, pascal, title) in cases {
        assert_eq!(eval("camel_case", json!(input)), json!(camel), "{input}");
        assert_eq!(eval("kebab_case", json!(input)), json!(kebab), "{input}");
        assert_eq!(eval("pascal_case", json!(input)), json!(pascal), "{input}");
        assert_eq!(eval("title_case", json!(input)), json!(title), "{input}");
        assert_eq!(eval("snake_case", json!(input)), json!(kebab.replace('-', "_")), "{input}");
    }
    // Typical use: rename every key of a provider payload.
    assert_eq!(
        eval("with_entries(.key |= snake_case)", json!({"firstName": 1, "LastName": 2})),
        json!({"first_name": 1, "last_name": 2})
    );
}

#[test]
fn helpers_work_in_filters_too_and_reject_non_strings() {
    let keep = apply(
        Some(r#".data.email | md5 | startswith("62ee")"#),
        None,
        &json!({"data": {"email": "urist.mcvankab@freddiesjokes.com"}}),
    );
    assert!(keep.unwrap().is_some());
    let err = apply(None, Some("sha256"), &json!(42)).unwrap_err();
    assert!(err.to_string().contains("sha256 needs a string"), "{err}");
}
