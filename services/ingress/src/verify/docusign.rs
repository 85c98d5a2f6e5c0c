//! DocuSign Connect with HMAC: `X-DocuSign-Signature-1`, `-2`, ... one base64 HMAC-SHA256 of the
//! body per active Connect key (DocuSign allows several, to rotate them)
//! (<https://developers.docusign.com/platform/webhooks/connect/hmac/>). Any header matching under
//! any of the source's secrets accepts. Connect sends no delivery id.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::identify::body_str;
use super::mac::{any_matches, compute, decode, encode, outcome, pairs};
use super::{Inbound, Provider, VerifyError};

const FIRST: &str = "X-DocuSign-Signature-1";
const PREFIX: &str = "x-docusign-signature-";

pub(super) const PROVIDER: Provider = Provider {
    about: "DocuSign Connect: X-DocuSign-Signature-N <base64 HMAC-SHA256 of the body>, one per key",
    headers: &[FIRST, "X-DocuSign-Signature-2"],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| {
        let sig = encode(Base64, &compute(Sha256, s.secret.as_bytes(), &[s.body]));
        Ok(pairs([(FIRST, sig), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| (None, body_str(body, "/event")),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let mut given = Vec::new();
    // Header names are stored lowercase.
    for (name, value) in req.headers.iter().filter(|(n, _)| n.as_str().starts_with(PREFIX)) {
        let text = value.to_str().map_err(|_| VerifyError::malformed(name.as_str(), "not visible ASCII"))?;
        given.push(decode(name.as_str(), text.trim(), Base64, Sha256)?);
    }
    if given.is_empty() {
        return Err(VerifyError::MissingHeader(FIRST.into()));
    }
    outcome(any_matches(secrets, &given, |key| compute(Sha256, key, &[req.body])))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // DocuSign publishes no vector; built from the docs with
    //   printf '%s' '{"event":"envelope-completed","data":{"envelopeId":"93be49ab"}}' \
    //     | openssl dgst -sha256 -hmac 'docusign-connect-key' -binary | base64
    const BODY: &[u8] = br#"{"event":"envelope-completed","data":{"envelopeId":"93be49ab"}}"#;
    const SIG: &str = "VaEOPxHTLg8JrUYWfIhB/ip/7DxOUWkKZiObDHctzg8=";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Docusign), "docusign-connect-key", &[(FIRST, SIG)], BODY, 0);
        case.body_mac("docusign-connect-keY", FIRST);
        // A second key's signature in -2 verifies as well, beside a stale -1.
        let second = Case::new(
            scheme(SchemeKind::Docusign),
            "docusign-connect-key",
            &[(FIRST, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), ("X-DocuSign-Signature-2", SIG)],
            BODY,
            0,
        );
        second.passes();
        second.rejects_tampered_body();
    }
}
