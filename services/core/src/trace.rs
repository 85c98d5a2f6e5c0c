//! W3C trace context across hops: inbound request -> record header -> outbound request.
//! The same `traceparent` string links the spans of ingress and worker in the trace backend.
use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Makes `span` a child of the remote context in `traceparent` (ignored when absent or invalid).
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(tp) = traceparent else { return };
    let carrier = HashMap::from([("traceparent".to_owned(), tp.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The `traceparent` of `span`, when an OpenTelemetry layer gives it a valid context.
pub fn traceparent(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// `traceparent` when it is a valid W3C trace context, normalized; `None` for anything else.
pub fn valid(traceparent: &str) -> Option<String> {
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.trim().to_owned())]);
    let propagator = TraceContextPropagator::new();
    let cx = propagator.extract(&carrier);
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut out = HashMap::new();
    propagator.inject_context(&cx, &mut out);
    out.remove("traceparent")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_valid_contexts_pass() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(super::valid(tp).as_deref(), Some(tp));
        for bad in ["garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""] {
            assert_eq!(super::valid(bad), None, "{bad}");
        }
    }
}
