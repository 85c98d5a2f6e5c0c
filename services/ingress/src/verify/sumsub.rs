//! Sumsub: `X-Payload-Digest: <hex HMAC of the body>` keyed with the webhook's secret key, the
//! algorithm named by `X-Payload-Digest-Alg` (`HMAC_SHA1_HEX`, `HMAC_SHA256_HEX` or
//! `HMAC_SHA512_HEX`) (<https://docs.sumsub.com/docs/webhook-manager#verify-webhook-sender>).
//! The algorithm header is required, so a request cannot pick a weaker one by leaving it out.
use hookbus_core::config::HmacAlgorithm::{self, Sha1, Sha256, Sha512};
use hookbus_core::config::SigEncoding::Hex;

use super::identify::body_str;
use super::mac::{any_matches, compute, decode, outcome, pairs};
use super::{Inbound, Provider, VerifyError, required_header};

const SIG: &str = "X-Payload-Digest";
const ALG: &str = "X-Payload-Digest-Alg";

pub(super) const PROVIDER: Provider = Provider {
    about: "Sumsub: X-Payload-Digest <hex HMAC of the body>, algorithm in X-Payload-Digest-Alg",
    headers: &[SIG, ALG],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| {
        let mac = hex::encode(compute(Sha256, s.secret.as_bytes(), &[s.body]));
        Ok(pairs([(SIG, mac), (ALG, "HMAC_SHA256_HEX".into()), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| (None, body_str(body, "/type")),
    ..Provider::DEFAULT
};

fn algorithm(name: &str) -> Option<HmacAlgorithm> {
    match name {
        "HMAC_SHA1_HEX" => Some(Sha1),
        "HMAC_SHA256_HEX" => Some(Sha256),
        "HMAC_SHA512_HEX" => Some(Sha512),
        _ => None,
    }
}

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let given_text = required_header(req.headers, SIG)?;
    let alg_name = required_header(req.headers, ALG)?;
    let alg = algorithm(alg_name)
        .ok_or_else(|| VerifyError::malformed(ALG, "expected HMAC_SHA1_HEX, HMAC_SHA256_HEX or HMAC_SHA512_HEX"))?;
    let given = decode(SIG, given_text, Hex, alg)?;
    outcome(any_matches(secrets, &[given], |key| compute(alg, key, &[req.body])))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Sumsub publishes no vector; built from the docs with
    //   printf '%s' "$BODY" | openssl dgst -$ALG -hmac 'sumsub-secret'
    const BODY: &[u8] = br#"{"applicantId":"5cb56e8e0a975a35f333cb83","type":"applicantReviewed"}"#;
    const VECTORS: [(&str, &str); 3] = [
        ("HMAC_SHA1_HEX", "0feab53b77b5e65ad805d607dea510fb77e8ce50"),
        ("HMAC_SHA256_HEX", "2e73189e608316e9617964e2737617d0b1bb9d537ec306d59321cdd8619af5ba"),
        (
            "HMAC_SHA512_HEX",
            "6ff7e6fb341a9781da5b51bcea50755c238da64890ec85596ce774e929d8d1f95d2ed85e8929c36832c11f55057e011424143f32fc5350421b816aa26d3841da",
        ),
    ];

    #[test]
    fn vectors_and_negatives() {
        for (alg, sig) in VECTORS {
            let case = Case::new(scheme(SchemeKind::Sumsub), "sumsub-secret", &[(SIG, sig), (ALG, alg)], BODY, 0);
            case.body_mac("sumsub-secreT", SIG);
            case.rejects_missing(ALG);
            case.rejects_malformed(ALG, &[b"HMAC_MD5_HEX", b"sha256", b""]);
        }
        // A digest of one algorithm announced as another does not pass.
        let (_, sha1) = VECTORS[0];
        let case = Case::new(scheme(SchemeKind::Sumsub), "sumsub-secret", &[(SIG, sha1), (ALG, "HMAC_SHA256_HEX")], BODY, 0);
        assert_eq!(case.verify().unwrap_err().code(), "malformed_signature_header");
    }
}
