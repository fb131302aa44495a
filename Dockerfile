# syntax=docker/dockerfile:1
# Build: docker build -t fal-studio .
# Run:   docker run -p 8080:8080 -v fal-studio-data:/data fal-studio
# The binary carries the web app: build.rs embeds static/ (the committed build of web/), so no
# Node is needed here and nothing but the binary goes into the final image.
# scripts/check-deploy lints this file (hadolint) and checks what it copies.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY static ./static
COPY templates ./templates
# fake-fal/ is a workspace member (the fake fal the tests run against): cargo reads its manifest
# to resolve the workspace, but `--bin fal-studio` never compiles it, so an empty lib.rs stands
# in for its sources, which embed the test fixtures.
COPY fake-fal/Cargo.toml ./fake-fal/Cargo.toml
RUN mkdir -p fake-fal/src && touch fake-fal/src/lib.rs \
 && cargo build --release --locked --bin fal-studio

FROM debian:bookworm-slim
# ca-certificates: TLS to fal and to S3. ffmpeg: the poster frame of every video output (without
# it videos show ▶ and their duration instead). Unpinned on purpose: the slim base's security
# updates should come with each rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin studio \
 && mkdir -p /data && chown studio:studio /data
COPY --from=build /src/target/release/fal-studio /usr/local/bin/fal-studio
WORKDIR /data
ENV BIND_ADDR=0.0.0.0:8080 \
    DATA_DIR=/data
# Numeric, so a runtime that checks for a non-root user (Kubernetes' runAsNonRoot) can tell.
USER 10001
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["fal-studio", "healthcheck"]
CMD ["fal-studio"]
