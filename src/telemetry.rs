//! Logs to stderr (text or JSON) and OpenTelemetry spans. Spans always get real trace ids, so a
//! `traceparent` flows from the inbound request through the record to the outbound request even
//! without a collector; with an OTLP endpoint they are also exported.
use anyhow::Context as _;
use hookbus_core::config::{LogFormat, TelemetryConfig};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Flushes pending spans when dropped.
pub struct Guard(SdkTracerProvider);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.shutdown();
    }
}

/// Installs the subscriber for this process. `RUST_LOG` overrides `default_filter` (e.g. `info`).
pub fn init(config: &TelemetryConfig, default_filter: &str) -> anyhow::Result<Guard> {
    let endpoint = config.otlp_endpoint.clone().or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok());
    let mut builder = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(config.service_name.clone()).build());
    if let Some(ep) = &endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(ep)
            .build()
            .with_context(|| format!("OTLP exporter for {ep}"))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    // INFO and above only: without a filter of its own this layer enabled every callsite in the
    // process, so the HTTP client's debug and trace events were built and kept as span events of
    // each delivery's span (about 1 KiB per request in flight, and CPU on every request).
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("hookbus"))
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let fmt = match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter()).boxed(),
        LogFormat::Json => {
            tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_filter(filter()).boxed()
        }
    };
    // try_init: tests start several apps in one process; the first subscriber wins.
    let _ = tracing_subscriber::registry().with(fmt).with(otel).try_init();
    Ok(Guard(provider))
}
