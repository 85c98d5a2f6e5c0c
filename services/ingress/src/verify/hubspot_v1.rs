//! HubSpot legacy v1 request validation: `X-HubSpot-Signature: <hex SHA-256 of secret + body>`,
//! `X-HubSpot-Signature-Version: v1`. The code and vectors live with v3 in `hubspot`.
use super::hubspot::{SIG, VERSION, identify, sign_v1, verify_v1};
use super::{Prefix, Provider};

pub(super) const PROVIDER: Provider = Provider {
    about: "HubSpot v1: X-HubSpot-Signature <hex SHA-256 of secret + body>",
    headers: &[SIG, VERSION],
    verify: |_, req, keys, _| verify_v1(req, keys),
    sign: |_, g| Ok(sign_v1(g.secret, g.body)),
    identify: |_, _, body| identify(body),
    prefix: Prefix::Fixed("hubspot"),
    ..Provider::DEFAULT
};
