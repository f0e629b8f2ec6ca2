# Dockerfile - the GPU image of `uzwhisper serve`: built in the CUDA 13 devel image, run in the slim
# CUDA 13 runtime image (cudart + cuBLAS, no compiler), as a non-root user, with a health check.
# The CPU-only image is Dockerfile.cpu. The model is not in the image: mount it at /models
# (deploy/README.md says how, for docker, docker compose and Kubernetes).
#
#   docker build -t uzwhisper:gpu .
#   docker run --gpus all -p 8080:8080 -p 9090:9090 -v "$PWD/models:/models:ro" \
#       -v "$PWD/secrets:/etc/uzwhisper:ro" uzwhisper:gpu
#
# The host needs an NVIDIA driver that supports CUDA 13 (580 or newer) and the NVIDIA container
# toolkit. The tags of the two stages must stay equal (deploy/validate.sh checks it).

ARG CUDA_VERSION=13.0.2

# ------------------------------------------------------------------ build stage
FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04 AS build
# Hopper (H100/H200) by default, as in CMakeLists.txt; "80;90" adds the A100
ARG CUDA_ARCHITECTURES=90
# the Debian/Ubuntu -dev packages of tools/bootstrap.sh that the binary links (not the test tools)
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       build-essential cmake pkg-config libfftw3-dev libsndfile1-dev libsamplerate0-dev libjansson-dev \
       libpcre2-dev libopenblas-openmp-dev zlib1g-dev libssl-dev libwebsockets-dev libjwt-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# what is sent here is listed in .dockerignore (the sources only: no build folders, models or tests)
COPY . .
RUN cmake -B build -DCMAKE_BUILD_TYPE=Release -DUZW_TESTS=OFF -DUZW_CUDA=ON \
          -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHITECTURES}" \
    && cmake --build build -j"$(nproc)" --target uzwhisper \
    && strip --strip-debug build/uzwhisper \
    && sh deploy/docker/runtime-packages.sh build/uzwhisper > build/runtime-packages.txt

# ------------------------------------------------------------------ runtime stage
FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu24.04
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=build /src/build/runtime-packages.txt /tmp/runtime-packages.txt
# the libraries the binary links (found by runtime-packages.sh) and curl for the health check
# hadolint ignore=SC2046
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       curl ca-certificates $(cat /tmp/runtime-packages.txt) \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
    && groupadd --gid 10001 uzwhisper \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin uzwhisper \
    && mkdir -p /models /etc/uzwhisper
COPY --from=build /src/build/uzwhisper /usr/local/bin/uzwhisper
# every library resolves (libcuda.so.1 comes from the driver when the container starts)
RUN ldd /usr/local/bin/uzwhisper | awk '/not found/ && !/libcuda\.so/ { print; bad = 1 } END { exit bad }'

ENV UZWHISPER_MODEL=/models/default.uzw
# 10001: numeric, so Kubernetes can verify runAsNonRoot
USER 10001:10001
EXPOSE 8080 9090
# liveness only (GET /health); whether the model is loaded and the queue has room is GET /ready,
# which Kubernetes probes separately. Another --http-port needs --health-cmd at `docker run`.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/health"]
# exec form: uzwhisper is PID 1 and receives SIGTERM itself (it stops accepting, finishes the
# streams in flight, and exits)
ENTRYPOINT ["/usr/local/bin/uzwhisper"]
CMD ["serve", "--tcp-port", "9090", "--http-port", "8080", \
     "--api-keys", "/etc/uzwhisper/api-keys", "--jwt-secret-file", "/etc/uzwhisper/jwt-secret", \
     "-m", "/models/default.uzw", "--device", "cuda"]
