//! What a provider supplies: the functions in its file's `PROVIDER` constant. Everything a scheme
//! does (verify, sign, identify, answer handshakes) dispatches through this table, so that no
//! other file matches on the scheme.
use http::HeaderMap;
use serde_json::Value;

use super::{Inbound, Scheme, VerifyError, asymmetric};
use crate::IngressError;
use crate::handshake::Answer;

/// The provider's delivery id (stable across its retries; the dedup key) and event type suffix.
pub type Ids = (Option<String>, Option<String>);

/// Header name/value pairs, in order, as `sign` returns them.
pub type Headers = Vec<(String, String)>;

/// A handshake's outcome: Some answer, or None for an ordinary delivery.
pub type Handshaken = Result<Option<Answer>, IngressError>;

/// What `sign` is asked to produce headers for.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    pub secret: &'a str,
    pub body: &'a [u8],
    pub now: i64,
    /// The delivery id, for providers that send one in a header.
    pub id: &'a str,
}

/// The first part of the CloudEvent type (`github.push`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// The scheme's config name.
    Name,
    /// The source's own name: generic schemes say nothing about the provider.
    Source,
    /// A fixed name shared by several schemes of one provider (`hubspot` for its three versions).
    Fixed(&'static str),
}

/// One provider's behaviour. Build it from [`Provider::DEFAULT`] and set what applies.
pub struct Provider {
    /// What is signed and how, one line (for `hookbus verify --list-schemes`).
    pub about: &'static str,
    /// The request headers verification reads (the verify fuzz target aims its mutations at them).
    pub headers: &'static [&'static str],
    /// The `sources.NAME.settings` keys it takes; others are refused at load time.
    pub settings: &'static [&'static str],
    /// Load-time checks of the scheme's settings.
    pub check: fn(&Scheme) -> Result<(), VerifyError>,
    /// Checks the request under the active `keys` (never empty, none empty) and returns the index
    /// of the key that matched; `u64` is the source's timestamp tolerance in seconds.
    pub verify: fn(&Scheme, &Inbound<'_>, &[&str], u64) -> Result<usize, VerifyError>,
    /// The headers the provider would send.
    pub sign: fn(&Scheme, &Signing<'_>) -> Result<Headers, VerifyError>,
    /// Whether `sign`'s headers verify on their own, with no URL (the signer does not know the
    /// request's) and no timestamp inside the body: the verify fuzz target's round-trip property.
    pub round_trips: bool,
    pub identify: fn(&Scheme, &HeaderMap, Option<&Value>) -> Ids,
    pub prefix: Prefix,
    /// A GET or HEAD the provider sends to check the endpoint (Dropbox's `?challenge=`, Okta's
    /// verification header, Trello's HEAD); gets the method, headers and query. Unsigned.
    pub get_handshake: fn(&str, &HeaderMap, Option<&str>) -> Option<Answer>,
    /// An unsigned handshake recognised on the body before verification.
    pub unsigned_handshake: fn(&HeaderMap, &[u8]) -> Option<Answer>,
    /// A signed handshake, answered after verification; gets the secret that matched.
    pub handshake: fn(&HeaderMap, &[u8], &str) -> Handshaken,
    /// The provider delivers some webhooks with GET (signed like a POST), so a GET that is not a
    /// query handshake is verified and published instead of refused.
    pub delivers_get: bool,
}

impl Provider {
    pub const DEFAULT: Provider = Provider {
        about: "",
        headers: &[],
        settings: &[],
        check: |_| Ok(()),
        verify: |s, _, _, _| Err(VerifyError::Misconfigured(format!("scheme `{}` cannot verify", s.name()))),
        sign: |s, _| Err(asymmetric(s.name())),
        round_trips: true,
        identify: |_, _, _| (None, None),
        prefix: Prefix::Name,
        get_handshake: |_, _, _| None,
        unsigned_handshake: |_, _| None,
        handshake: |_, _, _| Ok(None),
        delivers_get: false,
    };
}
