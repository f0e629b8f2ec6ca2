"""checks_k8s.py - the Kubernetes checks of check_deploy.py: every object against the Kubernetes
schemas (kubernetes-validate) or our own, then what the objects say of each other: pod security and
resources, the server's objects, the Indexed Job, the Secret's placeholders, the kustomization."""
import os
import re

import kubernetes_validate

import deploy_common as C
from deploy_common import (K8S_VERSIONS, METRICS, OWN_SCHEMAS, QUANTITY, SERVER_JOB, STANDALONE, USER_ID,
                           arg_value, by_kind, container_ports, load_schema, load_yaml_docs, one,
                           pod_specs, rel, schema_errors, selects)


def check_k8s_schemas(objs):
    problems = []
    for path, obj in objs:
        where = f"{rel(path)} {obj.get('kind')}/{obj.get('metadata', {}).get('name', '?')}"
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key == ("kustomize.config.k8s.io/v1beta1", "Kustomization"):
            problems += schema_errors(obj, load_schema("kustomization.schema.json"), where)
            continue
        if key in OWN_SCHEMAS:
            problems += schema_errors(obj, load_schema(OWN_SCHEMAS[key]), where)
            continue
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.utils.ValidationError as e:
                path_s = ".".join(str(p) for p in e.path)
                problems.append(f"{where} (Kubernetes {version}): {path_s}: {e.message}")
            except kubernetes_validate.utils.SchemaNotFoundError as e:
                problems.append(f"{where}: no schema: {e.message}")
                break
    return problems


def check_pods(objs):
    """Security, resources and internal references of every pod template."""
    problems = []
    pvcs = {o["metadata"]["name"] for _, o in by_kind(objs, "PersistentVolumeClaim")}
    secrets = {o["metadata"]["name"] for _, o in by_kind(objs, "Secret")}
    for where, kind, obj, meta, spec in pod_specs(objs):
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True or psc.get("runAsUser") != USER_ID:
            problems.append(f"{where}: securityContext must set runAsNonRoot: true and runAsUser: {USER_ID} "
                            "(the images' USER)")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken must be false (the server uses no API)")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for v in volumes.values():
            claim = v.get("persistentVolumeClaim", {}).get("claimName")
            if claim and claim not in pvcs:
                problems.append(f"{where}: volume {v['name']} claims {claim}, which no manifest defines")
            sname = v.get("secret", {}).get("secretName")
            if sname and sname not in secrets:
                problems.append(f"{where}: volume {v['name']} mounts Secret {sname}, which no manifest defines")
        for c in spec["containers"]:
            cw = f"{where} container {c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False or sc.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{cw}: needs allowPrivilegeEscalation: false and capabilities.drop: [ALL]")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{cw}: needs readOnlyRootFilesystem: true")
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in res.get(part, {}):
                        problems.append(f"{cw}: resources.{part}.{r} missing")
                for r, q in res.get(part, {}).items():
                    if not QUANTITY.match(str(q)):
                        problems.append(f"{cw}: resources.{part}.{r} = {q!r} is not a Kubernetes quantity")
            gpu_req = res.get("requests", {}).get("nvidia.com/gpu")
            gpu_lim = res.get("limits", {}).get("nvidia.com/gpu")
            if gpu_req != gpu_lim:
                problems.append(f"{cw}: nvidia.com/gpu requests ({gpu_req}) and limits ({gpu_lim}) must be equal")
            args = [str(a) for a in c.get("command", []) + c.get("args", [])]
            device = arg_value(args, "--device") or "cpu"
            uses_cuda = device == "cuda" or device.startswith("cuda:")
            if uses_cuda and not gpu_lim:
                problems.append(f"{cw}: runs with --device cuda but asks for no nvidia.com/gpu")
            if gpu_lim and not uses_cuda:
                problems.append(f"{cw}: holds a GPU but does not run with --device cuda")
            mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
            for m in mounts.values():
                if m["name"] not in volumes:
                    problems.append(f"{cw}: mounts volume {m['name']}, which the pod does not define")
            env = {e["name"] for e in c.get("env", [])}
            if kind == "Job" and obj["spec"].get("completionMode") == "Indexed":
                env.add("JOB_COMPLETION_INDEX")  # set by the Job controller in every container
            for a in args + [e.get("value", "") for e in c.get("env", [])]:
                for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", a):
                    if var not in env:
                        problems.append(f"{cw}: $({var}) is not an environment variable of the container "
                                        "(Kubernetes would pass it on literally)")
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("resourceFieldRef")
                if ref and ref.get("containerName", c["name"]) != c["name"]:
                    problems.append(f"{cw}: env {e['name']} reads the resources of container {ref['containerName']}")
            # files the arguments name lie on a mounted volume (the root file system has none of them)
            for flag in ("-m", "--model", "--api-keys", "--jwt-secret-file", "--manifest"):
                path = arg_value(args, flag)
                if path and not any(path.startswith(mp.rstrip("/") + "/") for mp in mounts):
                    problems.append(f"{cw}: {flag} {path} is not under any mounted volume")
            for flag in ("--api-keys", "--jwt-secret-file"):
                path = arg_value(args, flag)
                if not path:
                    continue
                for mp, m in mounts.items():
                    if path.startswith(mp.rstrip("/") + "/"):
                        sec = volumes.get(m["name"], {}).get("secret")
                        sobj = sec and one(objs, "Secret", sec["secretName"])
                        if sobj is None:
                            problems.append(f"{cw}: {flag} {path} is not on a Secret volume")
                        elif os.path.basename(path) not in sobj.get("stringData", {}) | sobj.get("data", {}):
                            problems.append(f"{cw}: {flag} {path}: Secret {sec['secretName']} has no key "
                                            f"{os.path.basename(path)}")
                        elif sec.get("defaultMode", 0o644) & 0o007:
                            problems.append(f"{cw}: the Secret volume must not be world-readable (defaultMode)")
        for probe_c in spec["containers"]:
            ports = container_ports({"containers": [probe_c]})
            for pname in ("startupProbe", "livenessProbe", "readinessProbe"):
                get = probe_c.get(pname, {}).get("httpGet")
                if get and isinstance(get["port"], str) and get["port"] not in ports:
                    problems.append(f"{where}: {pname} uses port {get['port']}, which the container does not name")
    return problems


def check_server(objs):
    """The Deployment, Service, HPA, PDB, NetworkPolicy and ServiceMonitor agree with each other."""
    problems = []
    dep = one(objs, "Deployment", "uzwhisper")
    if dep is None:
        return ["no single Deployment uzwhisper"]
    tpl = dep["spec"]["template"]
    labels = tpl["metadata"]["labels"]
    spec = tpl["spec"]
    ports = container_ports(spec)
    c = spec["containers"][0]
    args = [str(a) for a in c.get("args", [])]
    if args[:1] != ["serve"]:
        problems.append("Deployment: args must start with serve")
    if arg_value(args, "--http-port") != str(ports.get("http")):
        problems.append(f"Deployment: --http-port {arg_value(args, '--http-port')} is not the port named http "
                        f"({ports.get('http')})")
    if arg_value(args, "--tcp-port") != str(ports.get("stream")):
        problems.append(f"Deployment: --tcp-port {arg_value(args, '--tcp-port')} is not the port named stream "
                        f"({ports.get('stream')})")
    probes = {n: c.get(n, {}).get("httpGet", {}).get("path") for n in ("livenessProbe", "readinessProbe")}
    if probes != {"livenessProbe": "/health", "readinessProbe": "/ready"}:
        problems.append(f"Deployment: liveness must probe /health and readiness /ready, not {probes}")
    if "replicas" in dep["spec"]:
        problems.append("Deployment: replicas is owned by the HorizontalPodAutoscaler; kubectl apply would reset it")
    if not selects(dep["spec"]["selector"], labels):
        problems.append("Deployment: its selector does not match its pod labels")
    job_pods = [o["spec"]["template"]["metadata"].get("labels", {}) for _, o in by_kind(objs, "Job")]

    svc = one(objs, "Service", "uzwhisper")
    if svc is None:
        problems.append("no single Service uzwhisper")
    else:
        if not all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()):
            problems.append("Service: its selector does not match the Deployment's pods")
        if any(all(jl.get(k) == v for k, v in svc["spec"]["selector"].items()) for jl in job_pods):
            problems.append("Service: its selector also matches the batch Job's pods")
        for p in svc["spec"]["ports"]:
            if isinstance(p["targetPort"], str) and p["targetPort"] not in ports:
                problems.append(f"Service: port {p['name']} targets {p['targetPort']}, not a container port name")
        if svc["metadata"]["labels"].get("app.kubernetes.io/name") != SERVER_JOB:
            problems.append(f"Service: label app.kubernetes.io/name must be {SERVER_JOB} (the ServiceMonitor's "
                            "jobLabel, and so the job the alerts select)")

    hpa = one(objs, "HorizontalPodAutoscaler", "uzwhisper")
    if hpa is None:
        problems.append("no single HorizontalPodAutoscaler uzwhisper")
    else:
        ref = hpa["spec"]["scaleTargetRef"]
        if (ref["kind"], ref["name"]) != ("Deployment", dep["metadata"]["name"]):
            problems.append(f"HPA: scales {ref['kind']}/{ref['name']}, not the Deployment")
        if (hpa["spec"].get("minReplicas"), hpa["spec"]["maxReplicas"]) != (3, 20):
            problems.append("HPA: must scale between 3 and 20 replicas")
        for m in hpa["spec"].get("metrics", []):
            if m["type"] == "Pods":
                name = m["pods"]["metric"]["name"]
                if name not in METRICS:
                    problems.append(f"HPA: metric {name} is not one the server exports")
            if m["type"] == "Resource":
                rname = m["resource"]["name"]
                if rname not in c["resources"].get("requests", {}):
                    problems.append(f"HPA: utilisation of {rname} needs a request for it in the Deployment")

    pdb = one(objs, "PodDisruptionBudget", "uzwhisper")
    if pdb is None or not selects(pdb["spec"]["selector"], labels):
        problems.append("PodDisruptionBudget: missing, or its selector does not match the Deployment's pods")
    elif pdb["spec"].get("minAvailable") is not None and hpa and \
            int(pdb["spec"]["minAvailable"]) >= hpa["spec"].get("minReplicas", 1):
        problems.append("PodDisruptionBudget: minAvailable >= minReplicas blocks every drain")

    np_ = one(objs, "NetworkPolicy", "uzwhisper")
    if np_ is None or not selects(np_["spec"]["podSelector"], labels):
        problems.append("NetworkPolicy: missing, or its podSelector does not match the Deployment's pods")
    else:
        for rule in np_["spec"].get("ingress", []):
            for p in rule.get("ports", []):
                if isinstance(p.get("port"), str) and p["port"] not in ports:
                    problems.append(f"NetworkPolicy: port {p['port']} is not a container port name")
        allowed = {p.get("port") for rule in np_["spec"].get("ingress", []) for p in rule.get("ports", [])}
        for name in ("http", "stream"):
            if name not in allowed:
                problems.append(f"NetworkPolicy: no ingress rule lets anyone reach port {name}")

    sm = one(objs, "ServiceMonitor", "uzwhisper")
    if sm is None:
        problems.append("no single ServiceMonitor uzwhisper")
    elif svc is not None:
        if not selects(sm["spec"]["selector"], svc["metadata"]["labels"]):
            problems.append("ServiceMonitor: its selector does not match the Service's labels")
        svc_ports = {p["name"] for p in svc["spec"]["ports"]}
        for e in sm["spec"]["endpoints"]:
            if e.get("port") not in svc_ports:
                problems.append(f"ServiceMonitor: endpoint port {e.get('port')} is not a Service port name")
            if e.get("path") != "/metrics":
                problems.append("ServiceMonitor: the server's metrics are at /metrics")
            if "endpoint" in set().union(*METRICS.values()) and e.get("honorLabels") is not True:
                problems.append("ServiceMonitor: honorLabels must be true, or the operator's target label "
                                "'endpoint' renames the metrics' endpoint label to exported_endpoint")
            if "interval" in e and "scrapeTimeout" in e and \
                    duration_s(e["scrapeTimeout"]) > duration_s(e["interval"]):
                problems.append("ServiceMonitor: scrapeTimeout is longer than interval")
        if sm["spec"].get("jobLabel") and svc["metadata"]["labels"].get(sm["spec"]["jobLabel"]) != SERVER_JOB:
            problems.append(f"ServiceMonitor: jobLabel {sm['spec']['jobLabel']} does not give job={SERVER_JOB}")
    return problems


def duration_s(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text))


def check_job(objs):
    """The Indexed Job shards the manifest with --shard K/N and N equals completions."""
    problems = []
    jobs = by_kind(objs, "Job")
    if len(jobs) != 1:
        return [f"expected one batch Job, found {len(jobs)}"]
    path, job = jobs[0]
    s = job["spec"]
    if s.get("completionMode") != "Indexed":
        problems.append("Job: completionMode must be Indexed")
    tspec = s["template"]["spec"]
    if tspec.get("restartPolicy") != "Never":
        problems.append("Job: restartPolicy must be Never (podFailurePolicy and per-index retries need it)")
    c = tspec["containers"][0]
    args = [str(a) for a in c.get("args", [])]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    if args[:1] != ["transcribe"]:
        problems.append("Job: args must start with transcribe")
    shard = arg_value(args, "--shard")
    m = re.fullmatch(r"\$\(JOB_COMPLETION_INDEX\)/\$\(([A-Za-z_][A-Za-z0-9_]*)\)", shard or "")
    if not m:
        problems.append(f"Job: --shard must be $(JOB_COMPLETION_INDEX)/$(N_VAR), not {shard!r}")
    else:
        n = env.get(m.group(1))
        if n is None or not n.isdigit() or int(n) != s.get("completions"):
            problems.append(f"Job: {m.group(1)}={n!r} must equal completions ({s.get('completions')}): "
                            "otherwise some manifest lines are never transcribed, or pods find nothing to do")
    out = arg_value(args, "-o") or arg_value(args, "--output-dir") or ""
    if "$(JOB_COMPLETION_INDEX)" not in out:
        problems.append("Job: each shard needs its own output folder (-o .../shard-$(JOB_COMPLETION_INDEX)): a "
                        "batch run locks its folder and rewrites its failures.jsonl")
    if arg_value(args, "--manifest") is None:
        problems.append("Job: no --manifest to shard")
    if s.get("parallelism", 1) > s.get("completions", 1):
        problems.append("Job: parallelism above completions starts pods that have no shard")
    for rule in s.get("podFailurePolicy", {}).get("rules", []):
        oc = rule.get("onExitCodes")
        if oc and oc.get("containerName") not in (None, c["name"]):
            problems.append(f"Job: podFailurePolicy names container {oc['containerName']}, not {c['name']}")
    svc_sel = [o["spec"]["selector"] for _, o in by_kind(objs, "Service")]
    if any(all(s["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items()) for sel in svc_sel):
        problems.append("Job: its pods carry the server's labels and would receive the Service's traffic")
    return problems


def check_secret(objs):
    """secret.yaml holds only placeholders that the server refuses (never a usable credential)."""
    problems = []
    for path, sec in by_kind(objs, "Secret"):
        if sec.get("data"):
            problems.append(f"{rel(path)}: base64 data: keep placeholders in stringData")
        sd = sec.get("stringData", {})
        for key in ("api-keys", "jwt-secret"):
            if key not in sd:
                problems.append(f"{rel(path)}: key {key} missing")
        for line in sd.get("api-keys", "").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and len(line) >= 16:
                problems.append(f"{rel(path)}: api-keys holds a line of {len(line)} characters, long enough to be "
                                "a working key: commit placeholders only")
        if len(sd.get("jwt-secret", "").strip().encode()) >= 32:
            problems.append(f"{rel(path)}: jwt-secret is long enough to be a working secret: commit a placeholder")
    return problems


def check_kustomization(objs):
    problems = []
    kz_path = os.path.join(C.K8S, "kustomization.yaml")
    kz = load_yaml_docs(kz_path)[0]
    listed = set(kz["resources"])
    for r in sorted(listed):
        if not os.path.isfile(os.path.join(C.K8S, r)):
            problems.append(f"kustomization.yaml: resource {r} does not exist")
    for f in sorted(os.listdir(C.K8S)):
        if f.endswith(".yaml") and f != "kustomization.yaml" and f not in listed and f not in STANDALONE:
            problems.append(f"deploy/k8s/{f} is neither in kustomization.yaml nor a known standalone manifest")
    for f in sorted(STANDALONE & listed):
        problems.append(f"kustomization.yaml must not apply {f} (applied by hand: see its header)")
    for gen in kz.get("secretGenerator", []) + kz.get("configMapGenerator", []):
        for spec in gen.get("files", []):
            src = spec.split("=", 1)[-1]
            d = os.path.join(C.K8S, os.path.dirname(src))
            if not os.path.isdir(d):
                problems.append(f"kustomization.yaml: {gen['name']} reads {src}, and {rel(d)} does not exist")
    template = one(objs, "Secret")
    for gen in kz.get("secretGenerator", []):
        keys = {spec.split("=", 1)[0] for spec in gen.get("files", [])}
        if template is None or gen["name"] != template["metadata"]["name"] or \
                keys != set(template.get("stringData", {})):
            problems.append("kustomization.yaml: the secretGenerator must make the Secret of secret.yaml "
                            "(same name and keys)")
    for gen in kz.get("configMapGenerator", []):
        for spec in gen.get("files", []):
            if not os.path.isfile(os.path.join(C.K8S, spec.split("=", 1)[-1])):
                problems.append(f"kustomization.yaml: {gen['name']} reads {spec}, which does not exist")
    return problems
