#!/usr/bin/env python3
"""check_deploy.py - the offline checks of deploy/validate.sh that need Python.

  Kubernetes  every object under deploy/k8s against the Kubernetes JSON schemas bundled in the PyPI
              package kubernetes-validate (strict: unknown fields fail), at the oldest and newest
              Kubernetes versions we support; the Prometheus Operator's ServiceMonitor and
              PrometheusRule and kustomize's Kustomization against our own schemas
              (deploy/validate/schemas/); any other kind without a schema fails.
  References  what the objects say of each other: selectors match the pod labels, ports and probes
              name existing container ports, the server's arguments match its ports, mounts and
              Secret keys, the Indexed Job's --shard K/N matches its completions, the alert rules
              of the PrometheusRule equal deploy/prometheus/alerts.yml, the Secret holds only
              placeholders the server refuses.
  PromQL      every expression (alerts, dashboard, autoscaler) parses (PyPI promql-parser) and names
              only metrics and labels the server exports (METRICS below).
  Grafana     the dashboard JSON against its schema, unique ids, panels inside the 24-column grid
              and not overlapping, every $variable defined.
  Compose     docker-compose.yml and deploy/compose/gpu.yml against a schema of the Compose
              Specification's fields we use, then their paths, ports and secrets.
  Dockerfiles base images (CUDA 13 devel and the same runtime tag; Debian for the CPU image), the
              non-root user, EXPOSE, HEALTHCHECK and CMD against the server's ports, the build
              packages against tools/bootstrap.sh, .dockerignore against CMakeLists.txt.
  Flags       with --uzwhisper BIN: every option the manifests, compose and the Dockerfiles pass to
              `uzwhisper serve` / `uzwhisper transcribe` appears in that command's --help.

The checks are in checks_k8s.py, checks_monitoring.py and checks_containers.py; what they share
(paths, the server's metrics, ports and user) in deploy_common.py.

Usage: check_deploy.py [--uzwhisper BIN]     (run from anywhere; prints one line per check)
       check_deploy.py --context-list         (the paths .dockerignore lets into the build context)
Exit status: 0 when every check passed, 1 otherwise.
"""
import argparse
import os
import sys

import kubernetes_validate
import yaml

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as C  # noqa: E402  (the folder is on the path now)
from checks_containers import (check_compose, check_dockerfile, check_dockerignore,  # noqa: E402
                               check_flags, dockerignore_allowed)
from checks_k8s import (check_job, check_k8s_schemas, check_kustomization, check_pods,  # noqa: E402
                        check_secret, check_server)
from checks_monitoring import check_alerts, check_dashboard  # noqa: E402
from deploy_common import (K8S_VERSIONS, Report, container_ports, k8s_objects, load_yaml_docs,  # noqa: E402
                           one, pod_specs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uzwhisper", metavar="BIN", help="check the options used against BIN serve/transcribe --help")
    ap.add_argument("--context-list", action="store_true", help="print the build context's top-level paths")
    opt = ap.parse_args()
    if opt.context_list:
        for a in dockerignore_allowed():
            print(a)
        return 0

    rep = Report()
    try:
        objs = k8s_objects()
    except yaml.YAMLError as e:
        rep.check("Kubernetes manifests parse", [str(e)])
        return 1
    rep.check(f"Kubernetes schemas (kubernetes-validate {kubernetes_validate.__version__}, strict, "
              f"Kubernetes {' and '.join(K8S_VERSIONS)}; own schemas for ServiceMonitor, PrometheusRule, "
              "Kustomization)", check_k8s_schemas(objs))
    rep.check("pod templates: non-root, read-only root, resources, volumes, env references, Secret mounts",
              check_pods(objs))
    rep.check("server objects agree: Deployment, Service, HPA 3-20, PDB, NetworkPolicy, ServiceMonitor",
              check_server(objs))
    rep.check("Indexed Job: --shard $(JOB_COMPLETION_INDEX)/N with N = completions, one output folder a shard",
              check_job(objs))
    rep.check("Secret holds only placeholders the server refuses", check_secret(objs))
    rep.check("kustomization.yaml: resources, generators, standalone manifests", check_kustomization(objs))
    rep.check("alert rules: PromQL parses, known metrics and labels, PrometheusRule = alerts.yml",
              check_alerts())
    rep.check("Grafana dashboard: schema, grid, variables, PromQL, known metrics", check_dashboard())
    rep.check("docker compose: schema, paths, ports, secrets, Prometheus target, GPU override", check_compose())

    dep = one(objs, "Deployment", "uzwhisper")
    server_ports = {k: str(v) for k, v in container_ports(dep["spec"]["template"]["spec"]).items()} if dep else \
        {"http": "8080", "stream": "9090"}
    cmds = {}
    for fname, gpu in (("Dockerfile", True), ("Dockerfile.cpu", False)):
        path = os.path.join(C.ROOT, fname)
        if not os.path.isfile(path):
            rep.check(f"{fname}", [f"{fname} is missing"])
            continue
        problems, cmds[fname] = check_dockerfile(path, gpu, server_ports)
        rep.check(f"{fname}: stages, packages, non-root user, EXPOSE, HEALTHCHECK, CMD", problems)
    rep.check(".dockerignore: allow-list covers what CMakeLists.txt builds", check_dockerignore())

    if opt.uzwhisper:
        serve_lists, transcribe_lists = [], []
        for where, kind, obj, meta, spec in pod_specs(objs):
            for c in spec["containers"]:
                args = [str(a) for a in c.get("args", [])]
                if args[:1] == ["serve"]:
                    serve_lists.append((where, args[1:]))
                elif args[:1] == ["transcribe"]:
                    transcribe_lists.append((where, args[1:]))
        for fname, cmd in cmds.items():
            if cmd:
                serve_lists.append((fname, cmd[1:]))
        for fname in ("docker-compose.yml", "deploy/compose/gpu.yml"):
            for sname, s in load_yaml_docs(os.path.join(C.ROOT, fname))[0]["services"].items():
                c = s.get("command")
                if sname == "uzwhisper" and isinstance(c, list) and c[:1] == ["serve"]:
                    serve_lists.append((fname, c[1:]))
        rep.check(f"options passed to uzwhisper serve/transcribe exist ({opt.uzwhisper} --help)",
                  check_flags(opt.uzwhisper, serve_lists, transcribe_lists))

    print(f"check_deploy: {rep.passed} passed, {rep.failed} failed")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
