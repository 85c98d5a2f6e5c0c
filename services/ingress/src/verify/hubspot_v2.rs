//! HubSpot legacy v2 request validation: `X-HubSpot-Signature: <hex SHA-256 of secret + method +
//! URI + body>`, `X-HubSpot-Signature-Version: v2`. The code and vectors live with v3 in `hubspot`.
use super::hubspot::{SIG, VERSION, identify, sign_v2, verify_v2};
use super::{Prefix, Provider};

pub(super) const PROVIDER: Provider = Provider {
    about: "HubSpot v2: X-HubSpot-Signature <hex SHA-256 of secret + method + URI + body>",
    headers: &[SIG, VERSION],
    verify: |s, req, keys, _| verify_v2(s.public_url.as_deref(), req, keys),
    sign: |s, g| sign_v2(s.public_url.as_deref(), g.secret, g.body),
    round_trips: false,
    identify: |_, _, body| identify(body),
    prefix: Prefix::Fixed("hubspot"),
    delivers_get: true,
    ..Provider::DEFAULT
};
