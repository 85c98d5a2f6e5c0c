//! hookbus's additions to the jq language: definitions that make jaq's builtins behave as jq's do
//! (`prelude.jq`), and the mapping helpers (`helpers.jq` and the native filters here): digests,
//! HMAC, base64url, dates and case conversion. Documented in docs/mapping.md.
use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use jaq_core::load::parse::Def;
use jaq_core::native::{Filter, Fun, bome, run, unary, v};
use jaq_core::{DataT, RunPtr};
use jaq_json::{Error, Val, ValR};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

/// jq source of the fidelity fixes, then of the helpers written in jq.
const PRELUDE: &str = include_str!("prelude.jq");
const HELPERS: &str = include_str!("helpers.jq");

/// The definitions, in the order they must be loaded (after jaq's own, which they override).
pub(crate) fn defs() -> impl Iterator<Item = Def<&'static str>> {
    // The sources are part of the crate and covered by tests: failing to parse is a build defect.
    [PRELUDE, HELPERS].into_iter().flat_map(|src| jaq_core::load::parse(src, |p| p.defs()).expect("jq helpers parse"))
}

/// The native helpers.
pub(crate) fn funs<D: for<'a> DataT<V<'a> = Val>>() -> impl Iterator<Item = Fun<D>> {
    natives().into_vec().into_iter().map(run)
}

fn natives<D: for<'a> DataT<V<'a> = Val>>() -> Box<[Filter<RunPtr<D>>]> {
    Box::new([
        ("md5", v(0), |cv| bome(text(&cv.1, "md5").map(|t| hex_str(<md5::Md5 as md5::Digest>::digest(t))))),
        ("sha256", v(0), |cv| bome(text(&cv.1, "sha256").map(|t| hex_str(Sha256::digest(t))))),
        ("hmac_sha256", v(1), |cv| unary(cv, |msg, key| hmac_sha256(&msg, &key))),
        ("@base64url", v(0), |cv| bome(text(&cv.1, "@base64url").map(|t| Val::utf8_str(URL_SAFE_NO_PAD.encode(t))))),
        ("@base64urld", v(0), |cv| bome(base64url_decode(&cv.1))),
        ("parse_date", v(0), |cv| bome(parse_date(&cv.1))),
        ("snake_case", v(0), |cv| bome(case(&cv.1, Case::Snake))),
        ("kebab_case", v(0), |cv| bome(case(&cv.1, Case::Kebab))),
        ("camel_case", v(0), |cv| bome(case(&cv.1, Case::Camel))),
        ("pascal_case", v(0), |cv| bome(case(&cv.1, Case::Pascal))),
        ("title_case", v(0), |cv| bome(case(&cv.1, Case::Title))),
    ])
}

fn text<'v>(v: &'v Val, what: &str) -> Result<&'v [u8], Error> {
    match v {
        Val::TStr(b) | Val::BStr(b) => Ok(b),
        other => Err(Error::str(format_args!("{what} needs a string, got {other}"))),
    }
}

fn hex_str(bytes: impl AsRef<[u8]>) -> Val {
    Val::utf8_str(hex::encode(bytes))
}

fn hmac_sha256(msg: &Val, key: &Val) -> ValR {
    let mut mac = Hmac::<Sha256>::new_from_slice(text(key, "hmac_sha256's key")?)
        .map_err(|e| Error::str(format_args!("hmac_sha256: {e}")))?;
    mac.update(text(msg, "hmac_sha256")?);
    Ok(hex_str(mac.finalize().into_bytes()))
}

/// Padded or not: providers differ, and both are unambiguous.
fn base64url_decode(v: &Val) -> ValR {
    let t = text(v, "@base64urld")?;
    let decoded = if t.ends_with(b"=") { URL_SAFE.decode(t) } else { URL_SAFE_NO_PAD.decode(t) };
    let bytes = decoded.map_err(|e| Error::str(format_args!("@base64urld: not base64url: {e}")))?;
    Ok(Val::utf8_str(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Unix seconds of a date string (integer unless the date has a fraction); numbers pass through.
fn parse_date(v: &Val) -> ValR {
    if let Val::Num(_) = v {
        return Ok(v.clone());
    }
    let s = std::str::from_utf8(text(v, "parse_date")?).unwrap_or_default().trim();
    let day = time::macros::format_description!("[year]-[month]-[day]");
    let at = OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&s.replacen(' ', "T", 1), &Rfc3339))
        .or_else(|_| OffsetDateTime::parse(s, &Rfc2822))
        .or_else(|_| time::Date::parse(s, &day).map(|d| d.midnight().assume_utc()))
        .map_err(|_| {
            Error::str(format_args!(
                "parse_date: {s:?} is not an RFC 3339, RFC 2822 or YYYY-MM-DD date (give a format: parse_date(\"%d/%m/%Y\"))"
            ))
        })?;
    Ok(match at.nanosecond() {
        0 => Val::from(at.unix_timestamp() as isize),
        ns => Val::from(at.unix_timestamp() as f64 + f64::from(ns) / 1e9),
    })
}

#[derive(Clone, Copy)]
enum Case {
    Snake,
    Kebab,
    Camel,
    Pascal,
    Title,
}

fn case(v: &Val, to: Case) -> ValR {
    let s = String::from_utf8_lossy(text(v, "case conversion")?).into_owned();
    let words = words(&s);
    let capital = |w: &str| {
        let mut cs = w.chars();
        cs.next()
            .map(|c| c.to_uppercase().chain(cs.flat_map(char::to_lowercase)).collect::<String>())
            .unwrap_or_default()
    };
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let out = match to {
        Case::Snake => lower.join("_"),
        Case::Kebab => lower.join("-"),
        Case::Title => words.iter().map(|w| capital(w)).collect::<Vec<_>>().join(" "),
        Case::Pascal => words.iter().map(|w| capital(w)).collect(),
        Case::Camel => lower.iter().enumerate().map(|(i, w)| if i == 0 { w.clone() } else { capital(w) }).collect(),
    };
    Ok(Val::utf8_str(out))
}

/// Words of an identifier or phrase: split at anything not alphanumeric, at a lower-case letter or
/// digit followed by an upper-case one (`firstName`), and before the last capital of an acronym
/// (`HTTPServer` is `HTTP`, `Server`).
fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower) {
                words.push(std::mem::take(&mut word));
            }
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
