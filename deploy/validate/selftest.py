#!/usr/bin/env python3
"""selftest.py - proves that check_deploy.py can fail: on a copy of the deployment files it first
passes, then each mutation below (one mistake an operator or a later change could make) must make
it fail with the expected message, and nothing else may fail silently.

Usage: selftest.py          (deploy/validate.sh runs it after check_deploy.py)
Exit status: 0 when the unchanged copy passes and every mutation is caught, 1 otherwise.
"""
import contextlib
import io
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, HERE)
import check_deploy  # noqa: E402  (after the path is set)
import deploy_common  # noqa: E402

REAL_ROOT = deploy_common.ROOT
# what check_deploy reads: copied into a scratch tree
FILES = ["CMakeLists.txt", ".dockerignore", "Dockerfile", "Dockerfile.cpu", "docker-compose.yml",
         "tools/bootstrap.sh"]
DIRS = ["deploy"]
EMPTY_DIRS = ["engine", "weights", "kernels", "bench"]

# (file, text in it, replacement, what the failure must say)
MUTATIONS = [
    ("deploy/k8s/deployment.yaml", "periodSeconds: 10\n", 'periodSeconds: "10"\n', "livenessProbe.periodSeconds"),
    ("deploy/k8s/deployment.yaml", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  replica: 3\n",
     "'replica' was unexpected"),
    ("deploy/k8s/deployment.yaml", "memory: 8Gi", "memory: 8GB", "is not a Kubernetes quantity"),
    ("deploy/k8s/deployment.yaml", "runAsUser: 10001", "runAsUser: 0", "runAsNonRoot"),
    ("deploy/k8s/deployment.yaml", "- --device\n            - cuda", "- --device\n            - cpu",
     "holds a GPU but does not run with --device cuda"),
    ("deploy/k8s/deployment.yaml", '- --http-port\n            - "8080"', '- --http-port\n            - "8081"',
     "is not the port named http"),
    ("deploy/k8s/deployment.yaml", "path: /ready", "path: /health", "readiness /ready"),
    ("deploy/k8s/service.yaml", "targetPort: http", "targetPort: htp", "targets htp"),
    ("deploy/k8s/service.yaml", "    app.kubernetes.io/component: server\n  ports:",
     "    app.kubernetes.io/component: web\n  ports:", "does not match the Deployment's pods"),
    ("deploy/k8s/hpa.yaml", "maxReplicas: 20", "maxReplicas: 10", "between 3 and 20"),
    ("deploy/k8s/hpa.yaml", "name: asr_queue_depth", "name: asr_queue_length", "asr_queue_length is not one"),
    ("deploy/k8s/networkpolicy.yaml", "- port: stream", "- port: strem", "strem is not a container port name"),
    ("deploy/k8s/servicemonitor.yaml", "scrapeTimeout: 10s", "scrapeTimout: 10s", "scrapeTimout"),
    ("deploy/k8s/servicemonitor.yaml", "honorLabels: true", "honorLabels: false", "honorLabels must be true"),
    ("deploy/k8s/servicemonitor.yaml", "apiVersion: monitoring.coreos.com/v1", "apiVersion: monitoring.coreos.com/v2",
     "no schema"),
    ("deploy/k8s/prometheusrule.yaml", "> 0.01", "> 0.02", "differ from deploy/prometheus/alerts.yml"),
    ("deploy/k8s/secret.yaml", "jwt-secret: REPLACE-ME", "jwt-secret: 0123456789abcdef0123456789abcdef01",
     "long enough to be a working secret"),
    ("deploy/k8s/batch/transcribe-job.yaml", 'value: "8"', 'value: "6"', "must equal completions"),
    ("deploy/k8s/batch/transcribe-job.yaml", "- /data/out/shard-$(JOB_COMPLETION_INDEX)", "- /data/out",
     "its own output folder"),
    ("deploy/k8s/batch/transcribe-job.yaml", "$(JOB_COMPLETION_INDEX)/$(UZW_SHARDS)",
     "$(JOB_COMPLETION_INDEX)/$(UZW_SHARD)", "$(UZW_SHARD) is not an environment variable"),
    ("deploy/k8s/batch/transcribe-job.yaml", "containerName: transcribe\n          operator",
     "containerName: worker\n          operator", "names container worker"),
    ("deploy/k8s/kustomization.yaml", "  - hpa.yaml\n", "", "hpa.yaml is neither in kustomization.yaml"),
    ("deploy/prometheus/alerts.yml", "rate(asr_requests_total{status=", "rate(asr_request_total{status=",
     "asr_request_total is not exported"),
    ("deploy/prometheus/alerts.yml", 'asr_gpu_memory_bytes{kind="total"} > 0.9',
     'asr_gpu_memory_bytes{kind="total"} > 0.95', "no GPU memory > 90% alert"),
    ("deploy/k8s/grafana/uzwhisper-dashboard.json", "sum by (instance) (asr_queue_depth{",
     "sum by (instance) (asr_queue_len{", "asr_queue_len is not exported"),
    ("deploy/k8s/grafana/uzwhisper-dashboard.json", '"w": 12', '"w": 13', "overlap"),
    ("deploy/k8s/grafana/uzwhisper-dashboard.json", 'instance=~\\"$instance\\"', 'instance=~\\"$inst\\"',
     "$inst, which is not defined"),
    ("deploy/k8s/grafana/uzwhisper-dashboard.json", 'kind=\\"used\\"', 'gpu=\\"used\\"',
     "asr_gpu_memory_bytes has no label gpu"),
    ("docker-compose.yml", '"8080:8080"', '"8080:8081"', "not a published container port"),
    ("docker-compose.yml", "    read_only: true\n    tmpfs:", "    readonly: true\n    tmpfs:", "readonly"),
    ("deploy/compose/gpu.yml", "      - --device\n      - cuda\n", "", "plus --device cuda"),
    ("deploy/prometheus/prometheus.yml", "- uzwhisper:8080", "- uzwhisper:9090", "scrapes ['uzwhisper:9090']"),
    ("Dockerfile", "FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu24.04",
     "FROM nvidia/cuda:12.8.0-runtime-ubuntu24.04", "differ in version or OS"),
    ("Dockerfile", "libjwt-dev", "", "does not install libjwt-dev"),
    ("Dockerfile", "http://127.0.0.1:8080/health", "http://127.0.0.1:8081/health", "HEALTHCHECK"),
    ("Dockerfile", ', "--device", "cuda"]', ']', "must pass --device cuda"),
    ("Dockerfile.cpu", "USER 10001:10001", "USER root", "expected one USER"),
    ("Dockerfile.cpu", "-DUZW_CUDA=OFF", "-DUZW_CUDA=ON", "-DUZW_CUDA=OFF"),
    (".dockerignore", "!kernels/\n", "", "CMakeLists.txt uses kernels/"),
]


def run_check(root):
    """check_deploy.main() on the tree at root: (exit status, what it printed)."""
    deploy_common.ROOT = root
    deploy_common.DEPLOY = os.path.join(root, "deploy")
    deploy_common.K8S = os.path.join(root, "deploy", "k8s")
    deploy_common.SCHEMAS = os.path.join(root, "deploy", "validate", "schemas")
    out = io.StringIO()
    saved = sys.argv
    sys.argv = ["check_deploy.py"]
    try:
        with contextlib.redirect_stdout(out):
            rc = check_deploy.main()
    except Exception as e:  # a crash is a failure to report, not a pass
        rc = 2
        out.write(f"\ncheck_deploy crashed: {type(e).__name__}: {e}\n")
    finally:
        sys.argv = saved
    return rc, out.getvalue()


def run_paths_reset():
    deploy_common.ROOT = REAL_ROOT
    deploy_common.DEPLOY = os.path.join(REAL_ROOT, "deploy")
    deploy_common.K8S = os.path.join(REAL_ROOT, "deploy", "k8s")
    deploy_common.SCHEMAS = os.path.join(REAL_ROOT, "deploy", "validate", "schemas")


def main():
    failures = 0
    with tempfile.TemporaryDirectory(prefix="uzw-deploy-selftest-") as tmp:
        for f in FILES:
            os.makedirs(os.path.dirname(os.path.join(tmp, f)), exist_ok=True)
            shutil.copy2(os.path.join(REAL_ROOT, f), os.path.join(tmp, f))
        for d in DIRS:
            shutil.copytree(os.path.join(REAL_ROOT, d), os.path.join(tmp, d))
        for d in EMPTY_DIRS:
            os.makedirs(os.path.join(tmp, d), exist_ok=True)
        rc, out = run_check(tmp)
        if rc != 0:
            print("FAIL selftest: the unchanged copy does not pass:\n" + out)
            return 1
        for path, old, new, expect in MUTATIONS:
            full = os.path.join(tmp, path)
            with open(full, encoding="utf-8") as f:
                text = f.read()
            if old not in text:
                print(f"FAIL selftest: {path} no longer contains {old!r}: update the mutation")
                failures += 1
                continue
            with open(full, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new, 1))
            rc, out = run_check(tmp)
            with open(full, "w", encoding="utf-8") as f:
                f.write(text)
            caught = rc == 1 and expect in out and "crashed" not in out
            if not caught:
                failures += 1
                print(f"FAIL selftest: {path}: {old!r} -> {new!r} was not caught with {expect!r} "
                      f"(exit {rc}):\n{out}")
        print(f"selftest: {len(MUTATIONS) - failures} of {len(MUTATIONS)} mutations caught")
    run_paths_reset()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
