//! hookbus ingress: `POST /webhooks/{source}` verifies a provider's signature on the raw bytes,
//! normalizes the webhook into a CloudEvent, drops duplicates by delivery id, and answers 202 only
//! once the broker holds the event durably. Handshakes are answered without publishing; rate
//! limits, media types and body size are enforced before verification.
pub mod dedup;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod handshake;
pub mod limits;
pub mod listener;
mod metrics;
pub mod normalize;
mod router;
pub mod source;
pub mod verify;

pub use error::IngressError;
pub use metrics::IngressMetrics;
pub use router::{IngressState, router};
