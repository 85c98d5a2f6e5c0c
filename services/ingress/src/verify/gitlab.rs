//! GitLab: `X-Gitlab-Token` carries the webhook's secret token itself
//! (<https://docs.gitlab.com/ee/user/project/integrations/webhooks.html#validate-payloads-by-using-a-secret-token>).
//! Nothing is signed: the token proves the sender knows the secret, not that the body is intact,
//! so TLS is what protects the body, and a captured request can be replayed with any body (dedup
//! on `Idempotency-Key` / `X-Gitlab-Event-UUID` limits exact replays). The comparison is between
//! SHA-256 digests of the two tokens, so it is constant-time and does not even leak the length.
use hookbus_core::signing::constant_time_eq;
use sha2::{Digest, Sha256};

use super::mac::{first_match, outcome, pairs};
use super::{Inbound, VerifyError, required_header};
use super::Provider;
use super::identify::{body_str, header};

const HEADER: &str = "X-Gitlab-Token";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let token = required_header(req.headers, HEADER)?;
    if token.is_empty() {
        return Err(VerifyError::malformed(HEADER, "the token is empty; set a secret token on the GitLab webhook"));
    }
    let given = Sha256::digest(token.as_bytes());
    outcome(first_match(secrets, |s| constant_time_eq(&Sha256::digest(s.as_bytes()), &given)))
}

/// GitLab sends the token as a header value: one that a header cannot carry as is (control or
/// non-ASCII characters, surrounding spaces) could never match.
fn header_safe(secret: &str) -> bool {
    secret.trim() == secret && secret.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

pub(super) fn sign(secret: &str, delivery_id: &str) -> Result<Vec<(String, String)>, VerifyError> {
    if !header_safe(secret) {
        return Err(VerifyError::Misconfigured(
            "a `gitlab` secret token must be printable ASCII without surrounding spaces: GitLab sends it as a header"
                .into(),
        ));
    }
    Ok(pairs([
        (HEADER, secret.to_owned()),
        ("X-Gitlab-Event", "Push Hook".into()),
        ("X-Gitlab-Event-UUID", delivery_id.into()),
        ("Idempotency-Key", delivery_id.into()),
        ("Content-Type", "application/json".into()),
    ]))
}

pub(super) const PROVIDER: Provider = Provider {
    about: "GitLab: X-Gitlab-Token carries the secret token itself (nothing is signed)",
    headers: &[HEADER],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| sign(s.secret, s.id),
    // `Idempotency-Key` (GitLab 17.4+) is stable across retries; `X-Gitlab-Event-UUID` before it.
    identify: |_, h, body| {
        (
            header(h, "idempotency-key").or_else(|| header(h, "x-gitlab-event-uuid")),
            body_str(body, "/object_kind").or_else(|| body_str(body, "/event_name")),
        )
    },
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // There is nothing to compute: GitLab's docs define the header as the token itself.
    const SECRET: &str = "glwht-0123456789abcdef";
    const BODY: &[u8] = br#"{"object_kind":"push","ref":"refs/heads/main"}"#;

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Gitlab), SECRET, &[(HEADER, SECRET), ("X-Gitlab-Event", "Push Hook")], BODY, 0)
    }

    #[test]
    fn token_equal_to_the_secret_passes_anything_else_does_not() {
        let case = case();
        case.passes();
        case.rotates();
        case.rejects_wrong_secret("glwht-0123456789abcdeF");
        for near in ["glwht-0123456789abcde", "glwht-0123456789abcdef0", "GLWHT-0123456789ABCDEF"] {
            assert_eq!(case.verify_header(HEADER, near.as_bytes()), Err(VerifyError::SignatureMismatch), "{near}");
        }
    }

    #[test]
    fn missing_and_malformed_tokens() {
        let case = case();
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"", b"   ", b"caf\xc3\xa9"]);
    }

    #[test]
    fn the_body_is_not_covered_by_design() {
        // GitLab signs nothing, so a changed body still carries a valid token: documented above, and
        // why HTTPS and dedup matter more for GitLab sources than for signing providers.
        assert_eq!(case().verify_body(b"{}"), Ok(()));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        let pairs = case().scheme.sign(SECRET, BODY, 0, "uuid-1").unwrap();
        assert!(pairs.contains(&("Idempotency-Key".into(), "uuid-1".into())));
        for unusable in [" padded", "line\nbreak", "caf\u{e9}"] {
            assert_eq!(case().scheme.sign(unusable, BODY, 0, "d").unwrap_err().code(), "source_misconfigured");
        }
    }
}
