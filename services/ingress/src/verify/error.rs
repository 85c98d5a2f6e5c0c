//! Why verification failed, with stable codes.

/// Why a request was rejected. `Display` tells the operator what to check and never includes a
/// secret or the expected signature (it ends up in logs and, via `code`, in responses).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error(
        "missing signature header `{0}`: check that the provider signs deliveries and that the \
         source's scheme matches the provider"
    )]
    MissingHeader(String),
    #[error(
        "malformed signature header `{header}`: {reason}; check the source's scheme and \
         signature settings"
    )]
    MalformedHeader { header: String, reason: String },
    /// For schemes that carry their signature or timestamp inside the body (Mailgun, Linear).
    #[error("the body lacks a usable `{field}`: {reason}; check that the source's scheme matches the provider")]
    MalformedPayload { field: String, reason: String },
    #[error(
        "webhook timestamp is {skew_secs}s away from this server's clock (tolerance \
         {tolerance_secs}s): check clock sync on both sides, or this is a replayed delivery"
    )]
    TimestampOutOfTolerance { skew_secs: i64, tolerance_secs: u64 },
    #[error(
        "signature does not match under any active secret: check the source's secret and that \
         nothing in front of ingress rewrites the body"
    )]
    SignatureMismatch,
    #[error("no active secret for this source: every configured secret has expired; add a current one")]
    NoActiveSecret,
    #[error("source is misconfigured: {0}")]
    Misconfigured(String),
}

impl VerifyError {
    /// Stable machine-readable code for responses, metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader(_) => "missing_signature_header",
            VerifyError::MalformedHeader { .. } => "malformed_signature_header",
            VerifyError::MalformedPayload { .. } => "malformed_signature_payload",
            VerifyError::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
            VerifyError::SignatureMismatch => "signature_mismatch",
            VerifyError::NoActiveSecret => "no_active_secret",
            VerifyError::Misconfigured(_) => "source_misconfigured",
        }
    }

    pub(crate) fn malformed(header: &str, reason: impl Into<String>) -> Self {
        VerifyError::MalformedHeader { header: header.to_owned(), reason: reason.into() }
    }

    pub(crate) fn payload(field: &str, reason: impl Into<String>) -> Self {
        VerifyError::MalformedPayload { field: field.to_owned(), reason: reason.into() }
    }
}
