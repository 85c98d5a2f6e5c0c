//! CircleCI webhooks: `circleci-signature: v1=<hex HMAC-SHA256 of the body>`, possibly beside other
//! versions in a comma-separated list (only `v1` is checked) (<https://circleci.com/docs/webhooks/#validate-webhooks>).
//! The body's `id` identifies the event.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::identify::fields;
use super::mac::{any_matches, compute, decode, outcome, pairs};
use super::{Inbound, Provider, VerifyError, required_header};

const HEADER: &str = "circleci-signature";

pub(super) const PROVIDER: Provider = Provider {
    about: "CircleCI: circleci-signature v1=<hex HMAC-SHA256 of the body>",
    headers: &[HEADER],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| {
        let v1 = hex::encode(compute(Sha256, s.secret.as_bytes(), &[s.body]));
        Ok(pairs([(HEADER, format!("v1={v1}")), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| fields(body, "/id", "/type"),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, HEADER)?;
    let mut given = Vec::new();
    for item in value.split(',').map(str::trim) {
        if let Some(hex) = item.strip_prefix("v1=") {
            given.push(decode(HEADER, hex, Hex, Sha256)?);
        }
    }
    if given.is_empty() {
        return Err(VerifyError::malformed(HEADER, "no `v1=<hex>` signature"));
    }
    outcome(any_matches(secrets, &given, |key| compute(Sha256, key, &[req.body])))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // CircleCI publishes no vector; built from the docs with
    //   printf '%s' '{"id":"3888f21b-eaa7-38e3-8f3d-75a63bba8895","type":"workflow-completed"}' \
    //     | openssl dgst -sha256 -hmac 'circleci-secret'
    const BODY: &[u8] = br#"{"id":"3888f21b-eaa7-38e3-8f3d-75a63bba8895","type":"workflow-completed"}"#;
    const VALUE: &str = "v1=001e0e2fba6b74d560d10c660d43739da24a2bd67d4a8473645c78b59823f2f5";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Circleci), "circleci-secret", &[(HEADER, VALUE)], BODY, 0);
        case.body_mac("circleci-secreT", HEADER);
        let listed = format!("v2=zzz,{VALUE}");
        assert_eq!(case.verify_header(HEADER, listed.as_bytes()), Ok(()));
    }
}
