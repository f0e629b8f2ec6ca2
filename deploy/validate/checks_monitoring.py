"""checks_monitoring.py - the monitoring checks of check_deploy.py: PromQL of the alert rules, the
dashboard and its variables parses and names only what the server exports; the PrometheusRule equals
alerts.yml; the Grafana dashboard's schema, grid and variables."""
import json
import os
import re

import promql_parser

import deploy_common as C
from deploy_common import (HISTOGRAMS, METRICS, SERVER_JOB, TARGET_LABELS, load_schema, load_yaml_docs, rel,
                           schema_errors)


def promql_problems(expr, where):
    """Parse expr; every selector must name a known metric and only its labels."""
    try:
        ast = promql_parser.parse(expr)
    except Exception as e:  # the parser raises ValueError-like errors of its own
        return [f"{where}: does not parse: {e}: {expr}"]
    problems = []
    known_labels = set(TARGET_LABELS) | {"le"}
    for labels in METRICS.values():
        known_labels |= labels

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name
            matchers = node.matchers.matchers
            if not name:
                names = [m.value for m in matchers if m.name == "__name__"]
                name = names[0] if names else None
            base = name
            if name:
                for suffix in ("_bucket", "_sum", "_count"):
                    if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
                        base = name[: -len(suffix)]
            if base not in METRICS or (base in HISTOGRAMS and base == name):
                problems.append(f"{where}: metric {name} is not exported by the server")
                return True
            allowed = METRICS[base] | TARGET_LABELS | ({"le"} if name.endswith("_bucket") else set())
            for m in matchers:
                if m.name != "__name__" and m.name not in allowed:
                    problems.append(f"{where}: {name} has no label {m.name}")
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            for label in node.modifier.labels:
                if label not in known_labels:
                    problems.append(f"{where}: aggregation by unknown label {label}")
        return True

    promql_parser.walk(ast, visit)
    return problems


def check_alerts():
    problems = []
    rules = load_yaml_docs(os.path.join(C.DEPLOY, "prometheus", "alerts.yml"))[0]
    names = set()
    for g in rules["groups"]:
        for r in g["rules"]:
            name = r.get("alert") or r.get("record")
            names.add(name)
            problems += promql_problems(str(r["expr"]), f"alerts.yml {name}")
            if "alert" in r and r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                problems.append(f"alerts.yml {name}: severity label must be critical, warning or info")
            for a in ("summary", "description"):
                if "alert" in r and not r.get("annotations", {}).get(a):
                    problems.append(f"alerts.yml {name}: annotation {a} missing")
    # the three: latency, error rate over 1 %, GPU memory over 90 %
    exprs = " ".join(str(r["expr"]) for g in rules["groups"] for r in g["rules"])
    for what, pattern in (("latency", r"histogram_quantile\([\s\S]*asr_request_duration_seconds_bucket"),
                          ("error rate > 1%", r"status=~\"5\.\.\"[\s\S]*>\s*0\.01\b"),
                          ("GPU memory > 90%", r"asr_gpu_memory_bytes\{kind=\"used\"\}[\s\S]*>\s*0\.9\b")):
        if not re.search(pattern, exprs):
            problems.append(f"alerts.yml: no {what} alert")
    pr = load_yaml_docs(os.path.join(C.K8S, "prometheusrule.yaml"))[0]
    if pr["spec"]["groups"] != rules["groups"]:
        problems.append("deploy/k8s/prometheusrule.yaml spec.groups differ from deploy/prometheus/alerts.yml: "
                        "copy alerts.yml's groups into it")
    return problems


# ------------------------------------------------------------------ Grafana

def check_dashboard():
    path = os.path.join(C.K8S, "grafana", "uzwhisper-dashboard.json")
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        return [f"{rel(path)}: {e}"]
    problems = schema_errors(dash, load_schema("grafana-dashboard.schema.json"), rel(path))
    if problems:
        return problems
    variables = {v["name"] for v in dash["templating"]["list"]}
    builtin = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        problems.append(f"{rel(path)}: panel ids are not unique")
    cells = {}  # (column, row) of the grid -> the title of the panel covering it
    for p in dash["panels"]:
        g = p["gridPos"]
        if g["x"] + g["w"] > 24:
            problems.append(f"{rel(path)}: panel {p['title']!r} runs past the 24-column grid")
        covered = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        for other in sorted({cells[c] for c in covered if c in cells}):
            problems.append(f"{rel(path)}: panels {other!r} and {p['title']!r} overlap")
        cells.update((c, p["title"]) for c in covered)
        refs = [t["refId"] for t in p["targets"]]
        if len(refs) != len(set(refs)):
            problems.append(f"{rel(path)}: panel {p['title']!r} repeats a refId")
        for ds in [p["datasource"]] + [t.get("datasource", p["datasource"]) for t in p["targets"]]:
            if ds["uid"] != "${datasource}":
                problems.append(f"{rel(path)}: panel {p['title']!r} uses data source {ds['uid']}, not ${{datasource}}")
        for t in p["targets"]:
            expr = t["expr"]
            for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", expr):
                if var not in variables and var not in builtin:
                    problems.append(f"{rel(path)}: panel {p['title']!r} uses ${var}, which is not defined")
            # variables become plausible values so the expression can be parsed
            concrete = re.sub(r"\$\{?(__[a-z_]+)\}?", lambda m: builtin.get(m.group(1), "5m"), expr)
            concrete = re.sub(r"\$\{?job\}?", SERVER_JOB, concrete)
            concrete = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", ".*", concrete)
            problems += promql_problems(concrete, f"dashboard panel {p['title']!r}")
    for v in dash["templating"]["list"]:
        q = v.get("query")
        if v["type"] == "query":
            text = q["query"] if isinstance(q, dict) else q
            m = re.fullmatch(r"label_values\((.*),\s*([A-Za-z_]+)\)", text)
            if not m:
                problems.append(f"{rel(path)}: variable {v['name']}: expected label_values(SELECTOR, LABEL)")
            else:
                sel = re.sub(r"\$\{?job\}?", SERVER_JOB, m.group(1))
                problems += promql_problems(sel, f"dashboard variable {v['name']}")
    # every metric the server exports is on the dashboard
    text = json.dumps(dash)
    for name in METRICS:
        if name != "up" and name not in text:
            problems.append(f"{rel(path)}: metric {name} is on no panel")
    return problems
