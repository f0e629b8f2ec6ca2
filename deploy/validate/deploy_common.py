"""deploy_common.py - what the checks of check_deploy.py share: the paths (module attributes, so
selftest.py can point them at a scratch copy), what the server exports and runs as, the report, and
the helpers that read YAML, JSON schemas and Kubernetes objects."""
import functools
import glob
import json
import os
import re

import jsonschema
import kubernetes_validate
import yaml

# the schemas are read once, not once per object and version (the definitions file is large)
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(
    kubernetes_validate.utils.schema_contents)

# the repository (deploy/validate/../..); selftest.py sets these four to a copy
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
SCHEMAS = os.path.join(DEPLOY, "validate", "schemas")

# the oldest Kubernetes we support (Job backoffLimitPerIndex is GA in 1.33) and the newest schemas
K8S_VERSIONS = ("1.33", "1.37")
# kinds without a Kubernetes schema, checked against ours
OWN_SCHEMAS = {("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.schema.json",
               ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.schema.json"}
# the manifests applied on their own, not through kustomization.yaml
STANDALONE = {"secret.yaml", "model-upload-pod.yaml"}

# the metrics `uzwhisper serve` exports (tools/serve) and their own labels; a histogram also has
# _bucket (with le), _sum and _count. Every scrape adds job and instance; the Prometheus Operator
# adds namespace, service, pod and container. `up` is Prometheus's own.
METRICS = {
    "asr_requests_total": {"endpoint", "status"},
    "asr_request_duration_seconds": {"endpoint"},
    "asr_active_connections": set(),
    "asr_audio_seconds_total": set(),
    "asr_queue_depth": set(),
    "asr_gpu_memory_bytes": {"kind"},
    "up": set(),
}
HISTOGRAMS = {"asr_request_duration_seconds"}
TARGET_LABELS = {"job", "instance", "namespace", "service", "pod", "container"}

USER_ID = 10001          # USER of both Dockerfiles = runAsUser of every pod
SERVER_JOB = "uzwhisper"  # the job label alerts.yml and the dashboard select
# -dev packages of tools/bootstrap.sh that only the tests use (the images build without tests)
TEST_ONLY_DEV = {"libcriterion-dev"}
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")


class Report:
    """Collects the result of each named check; prints one line per check."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, problems):
        problems = [p for p in problems if p]
        if problems:
            self.failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(f"     - {p}")
        else:
            self.passed += 1
            print(f"ok   {name}")


def rel(path):
    return os.path.relpath(path, ROOT)


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def load_schema(name):
    with open(os.path.join(SCHEMAS, name), encoding="utf-8") as f:
        return json.load(f)


def schema_errors(instance, schema, where):
    v = jsonschema.Draft202012Validator(schema)
    return [f"{where}: {'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
            for e in sorted(v.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]


# ------------------------------------------------------------------ Kubernetes helpers

def k8s_objects():
    """Every object under deploy/k8s: (file, object), kustomization.yaml included."""
    out = []
    for path in sorted(glob.glob(os.path.join(K8S, "**", "*.yaml"), recursive=True)):
        for obj in load_yaml_docs(path):
            out.append((path, obj))
    return out


def pod_specs(objs):
    """(where, kind, object, pod template metadata, pod spec) of every object that makes pods."""
    out = []
    for path, obj in objs:
        kind = obj.get("kind")
        if kind not in ("Deployment", "Job", "Pod"):
            continue
        where = f"{rel(path)} {kind}/{obj['metadata']['name']}"
        if kind in ("Deployment", "Job"):
            tpl = obj["spec"]["template"]
            out.append((where, kind, obj, tpl.get("metadata", {}), tpl["spec"]))
        elif kind == "Pod":
            out.append((where, kind, obj, obj["metadata"], obj["spec"]))
    return out


def selects(selector, labels):
    """A matchLabels-only selector (all ours are) matches labels."""
    ml = (selector or {}).get("matchLabels", {})
    return bool(ml) and all(labels.get(k) == v for k, v in ml.items())


def by_kind(objs, kind):
    return [(p, o) for p, o in objs if o.get("kind") == kind]


def one(objs, kind, name=None):
    found = [o for _, o in by_kind(objs, kind) if name is None or o["metadata"]["name"] == name]
    return found[0] if len(found) == 1 else None


def container_ports(spec):
    return {p["name"]: p["containerPort"] for c in spec["containers"] for p in c.get("ports", []) if "name" in p}


def arg_value(args, flag):
    """The value after flag in an argument list, or None."""
    for i, a in enumerate(args[:-1]):
        if a == flag:
            return args[i + 1]
    return None
