# Builds the server; docker-compose.yml runs it beside MongoDB.
FROM rust:1.88-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin videotube

FROM debian:bookworm-slim
# ffmpeg: published videos are probed (and, without it, stored unchecked).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates ffmpeg \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/videotube /usr/local/bin/videotube
ENV APP_APPLICATION__HOST=0.0.0.0 \
    MEDIA_DIR=/data/media \
    UPLOAD_TMP_DIR=/data/uploads
RUN mkdir -p /data && chown nobody /data
VOLUME /data
EXPOSE 8000
USER nobody
CMD ["videotube"]
