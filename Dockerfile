# Build stage for uzwhisper (the serving image comes with `uzwhisper serve`).
FROM debian:bookworm-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libfftw3-dev libsndfile1-dev libsamplerate0-dev libjansson-dev \
      libpcre2-dev libopenblas-openmp-dev zlib1g-dev libssl-dev python3 python3-pip ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -B build -DUZW_TESTS=OFF -DUZW_CUDA=OFF -DCMAKE_BUILD_TYPE=Release && cmake --build build -j"$(nproc)"

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libfftw3-single3 libsndfile1 libsamplerate0 libjansson4 libpcre2-8-0 libopenblas0-openmp libgomp1 zlib1g libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/uzwhisper /usr/local/bin/uzwhisper
# mount or copy a converted model here (or set UZWHISPER_MODEL)
ENV UZWHISPER_MODEL=/models/default.uzw
ENTRYPOINT ["uzwhisper"]
