# syntax=docker/dockerfile:1
# Build: docker build -t fal-studio .
# Run:   docker run -p 8080:8080 -v fal-studio-data:/data fal-studio
# static/ is the committed build of web/, so no Node is needed here.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
# fake-fal/ is a workspace member (the fake fal the tests run against): cargo reads its manifest
# to resolve the workspace, but `--bin fal-studio` never compiles it, and its test fixtures
# (fixtures/, outside the context: .dockerignore) are not needed.
COPY fake-fal/Cargo.toml ./fake-fal/Cargo.toml
COPY fake-fal/src ./fake-fal/src
RUN cargo build --release --locked --bin fal-studio

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin studio \
 && mkdir -p /data && chown studio:studio /data
COPY --from=build /src/target/release/fal-studio /usr/local/bin/fal-studio
COPY static /app/static
WORKDIR /app
ENV BIND_ADDR=0.0.0.0:8080 \
    DATA_DIR=/data \
    STATIC_DIR=/app/static
USER studio
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["fal-studio", "healthcheck"]
CMD ["fal-studio"]
