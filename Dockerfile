# syntax=docker/dockerfile:1

# ---- build ------------------------------------------------------------------------------------------
# rust:1-bookworm has gcc, make and zlib headers, which is all rdkafka's bundled librdkafka needs with
# the default features (no cmake, no OpenSSL/SASL).
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and incremental artifacts between builds; the binary is copied
# out because the target/ mount does not survive into the image layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin hookbus \
 && install -m 0755 target/release/hookbus /usr/local/bin/hookbus

# ---- runtime ----------------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid so Kubernetes' runAsNonRoot can verify it; /var/lib/hookbus is where the embedded
# log and other state go when a deployment does not use Kafka.
RUN groupadd --system --gid 10001 hookbus \
 && useradd --system --uid 10001 --gid hookbus --home-dir /var/lib/hookbus --shell /usr/sbin/nologin hookbus \
 && mkdir -p /etc/hookbus /var/lib/hookbus \
 && chown hookbus:hookbus /var/lib/hookbus
COPY --from=builder /usr/local/bin/hookbus /usr/local/bin/hookbus
USER 10001:10001
WORKDIR /var/lib/hookbus
EXPOSE 8080
ENTRYPOINT ["hookbus"]
CMD ["serve", "--config", "/etc/hookbus/config.toml"]
