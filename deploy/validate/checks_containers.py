"""checks_containers.py - the container checks of check_deploy.py: docker-compose.yml and its GPU
override, both Dockerfiles, .dockerignore, and the options passed to `uzwhisper serve|transcribe`
against its --help."""
import json
import os
import re
import shlex
import subprocess

import deploy_common as C
from deploy_common import (SERVER_JOB, TEST_ONLY_DEV, USER_ID, arg_value, load_schema, load_yaml_docs, rel,
                           schema_errors)


def check_compose():
    problems = []
    schema = load_schema("compose.schema.json")
    base_path = os.path.join(C.ROOT, "docker-compose.yml")
    gpu_path = os.path.join(C.DEPLOY, "compose", "gpu.yml")
    base = load_yaml_docs(base_path)[0]
    gpu = load_yaml_docs(gpu_path)[0]
    problems += schema_errors(base, schema, rel(base_path))
    problems += schema_errors(gpu, schema, rel(gpu_path))
    if problems:
        return problems
    services = base["services"]
    for name in ("uzwhisper", "prometheus"):
        if name not in services:
            problems.append(f"docker-compose.yml: no service {name}")
    if problems:
        return problems
    for fname, doc in (("docker-compose.yml", base), ("deploy/compose/gpu.yml", gpu)):
        for sname, s in doc["services"].items():
            if sname not in services:
                problems.append(f"{fname}: service {sname} is not in docker-compose.yml")
            b = s.get("build")
            if isinstance(b, dict):
                ctx = os.path.join(C.ROOT, b["context"])
                if not os.path.isfile(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))):
                    problems.append(f"{fname}: {sname}: no {b.get('dockerfile', 'Dockerfile')} in {b['context']}")
            for v in s.get("volumes", []):
                if isinstance(v, dict) and v["type"] == "bind" and v["source"].startswith("./deploy") and \
                        not os.path.exists(os.path.join(C.ROOT, v["source"])):
                    problems.append(f"{fname}: {sname} mounts {v['source']}, which does not exist")
                if isinstance(v, dict) and v["type"] == "volume" and v["source"] not in base.get("volumes", {}):
                    problems.append(f"{fname}: {sname} mounts volume {v['source']}, which is not declared")
            for sec in s.get("secrets", []):
                sname_ = sec if isinstance(sec, str) else sec["source"]
                if sname_ not in base.get("secrets", {}):
                    problems.append(f"{fname}: {sname} uses secret {sname_}, which is not declared")
    for sec, spec in base.get("secrets", {}).items():
        if "file" in spec and not os.path.isdir(os.path.dirname(os.path.join(C.ROOT, spec["file"]))):
            problems.append(f"docker-compose.yml: secret {sec}: folder of {spec['file']} does not exist")
    u = services["uzwhisper"]
    cmd = u["command"] if isinstance(u["command"], list) else shlex.split(u["command"])
    published = {}
    for p in u.get("ports", []):
        parts = str(p).split("/")[0].split(":")
        published[parts[-1]] = parts[-2] if len(parts) > 1 else parts[-1]
    for flag in ("--http-port", "--tcp-port"):
        if arg_value(cmd, flag) not in published:
            problems.append(f"docker-compose.yml: {flag} {arg_value(cmd, flag)} is not a published container port")
    for flag in ("--api-keys", "--jwt-secret-file"):
        path = arg_value(cmd, flag) or ""
        declared = {(s if isinstance(s, str) else s.get("target", s["source"])) for s in u.get("secrets", [])}
        if not (path.startswith("/run/secrets/") and os.path.basename(path) in declared):
            problems.append(f"docker-compose.yml: {flag} {path} is not one of the service's secrets")
    gcmd = gpu["services"]["uzwhisper"].get("command", [])
    if gcmd != cmd + ["--device", "cuda"]:
        problems.append("deploy/compose/gpu.yml: its command must be docker-compose.yml's plus --device cuda")
    devices = gpu["services"]["uzwhisper"].get("deploy", {}).get("resources", {}).get("reservations", {}) \
        .get("devices", [])
    if not any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices):
        problems.append("deploy/compose/gpu.yml: reserves no NVIDIA GPU")
    # Prometheus: its config is in the mounted folder and scrapes the service's HTTP port
    prom = services["prometheus"]
    conf_arg = next((a for a in prom.get("command", []) if a.startswith("--config.file=")), None)
    mounts = {v["target"]: v["source"] for v in prom.get("volumes", []) if isinstance(v, dict)}
    conf_host = None
    if conf_arg:
        conf = conf_arg.split("=", 1)[1]
        for target, source in mounts.items():
            if conf.startswith(target.rstrip("/") + "/"):
                conf_host = os.path.join(C.ROOT, source, conf[len(target.rstrip("/")) + 1:])
    if not conf_host or not os.path.isfile(conf_host):
        problems.append("docker-compose.yml: prometheus --config.file is not a file of a mounted folder")
    else:
        pconf = load_yaml_docs(conf_host)[0]
        jobs = {j["job_name"]: j for j in pconf.get("scrape_configs", [])}
        want = f"uzwhisper:{arg_value(cmd, '--http-port')}"
        if SERVER_JOB not in jobs:
            problems.append(f"{rel(conf_host)}: no scrape job {SERVER_JOB} (the job the alerts select)")
        else:
            targets = [t for sc in jobs[SERVER_JOB].get("static_configs", []) for t in sc.get("targets", [])]
            if targets != [want]:
                problems.append(f"{rel(conf_host)}: job {SERVER_JOB} scrapes {targets}, not [{want}]")
            if jobs[SERVER_JOB].get("metrics_path", "/metrics") != "/metrics":
                problems.append(f"{rel(conf_host)}: the server's metrics are at /metrics")
    return problems


# ------------------------------------------------------------------ Dockerfiles

def dockerfile_instructions(path):
    """[(INSTRUCTION, text)] with continuation lines joined and comments dropped."""
    out, cur = [], ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = line.rstrip("\n")
            if not cur and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if cur and s.lstrip().startswith("#"):
                continue
            if s.endswith("\\"):
                cur += s[:-1] + " "
                continue
            cur += s
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def bootstrap_dev_packages():
    with open(os.path.join(C.ROOT, "tools", "bootstrap.sh"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r'PKGS="([^"]*)"', text)
    if not m:
        return None
    return {p for p in m.group(1).replace("\\\n", " ").split() if p.startswith("lib") and p.endswith("-dev")}


def check_dockerfile(path, gpu, server_ports):
    problems = []
    name = rel(path)
    ins = dockerfile_instructions(path)
    args = {}
    for word, rest in ins:
        if word == "ARG" and "=" in rest:
            k, v = rest.split("=", 1)
            args.setdefault(k.strip(), v.strip())

    def subst(text):
        return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: args.get(m.group(1), m.group(0)), text)

    froms = [subst(rest).split() for word, rest in ins if word == "FROM"]
    if len(froms) != 2 or len(froms[0]) < 3 or froms[0][1].upper() != "AS":
        return [f"{name}: expected two stages, the first named (FROM IMAGE AS build)"]
    build_img, run_img = froms[0][0], froms[1][0]
    if gpu:
        mb = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.(\d+)-devel-(ubuntu\d+\.\d+)", build_img)
        mr = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.(\d+)-runtime-(ubuntu\d+\.\d+)", run_img)
        if not mb or not mr:
            problems.append(f"{name}: stages must be nvidia/cuda:X.Y.Z-devel-OS and -runtime-OS, "
                            f"not {build_img} and {run_img}")
        else:
            if mb.groups() != mr.groups():
                problems.append(f"{name}: build {build_img} and runtime {run_img} differ in version or OS")
            if mb.group(1) != "13":
                problems.append(f"{name}: CUDA {mb.group(1)}: the kernels are built with CUDA 13")
    else:
        for img in (build_img, run_img):
            if not img.startswith("debian:") or "cuda" in img:
                problems.append(f"{name}: the CPU image is built on Debian, not {img}")
    run_text = " ".join(subst(rest) for word, rest in ins if word == "RUN")
    want_cuda = "-DUZW_CUDA=ON" if gpu else "-DUZW_CUDA=OFF"
    if want_cuda not in run_text:
        problems.append(f"{name}: cmake must be run with {want_cuda}")
    if "-DUZW_TESTS=OFF" not in run_text:
        problems.append(f"{name}: build with -DUZW_TESTS=OFF (no Criterion in the image)")
    if "deploy/docker/runtime-packages.sh" not in run_text:
        problems.append(f"{name}: the runtime packages come from deploy/docker/runtime-packages.sh")
    if not os.path.isfile(os.path.join(C.ROOT, "deploy", "docker", "runtime-packages.sh")):
        problems.append("deploy/docker/runtime-packages.sh is missing")
    build_runs = []
    stage = 0
    for word, rest in ins:
        if word == "FROM":
            stage += 1
        elif word == "RUN" and stage == 1:
            build_runs.append(rest)
    build_words = set(" ".join(build_runs).split())
    dev = bootstrap_dev_packages()
    if dev is None:
        problems.append("tools/bootstrap.sh: no PKGS=\"...\" list to compare the build packages with")
    else:
        for pkg in sorted(dev - TEST_ONLY_DEV - build_words):
            problems.append(f"{name}: the build stage does not install {pkg} (tools/bootstrap.sh does)")
    for pkg in ("build-essential", "cmake", "pkg-config"):
        if pkg not in build_words:
            problems.append(f"{name}: the build stage does not install {pkg}")
    users = [rest for word, rest in ins if word == "USER"]
    if users != [f"{USER_ID}:{USER_ID}"]:
        problems.append(f"{name}: expected one USER {USER_ID}:{USER_ID} (numeric, non-root), got {users}")
    exposed = {p.split("/")[0] for word, rest in ins if word == "EXPOSE" for p in rest.split()}
    if exposed != set(server_ports.values()):
        problems.append(f"{name}: EXPOSE {sorted(exposed)} is not the server's ports {sorted(server_ports.values())}")
    hc = [rest for word, rest in ins if word == "HEALTHCHECK"]
    want_url = f"http://127.0.0.1:{server_ports['http']}/health"
    if len(hc) != 1 or want_url not in hc[0]:
        problems.append(f"{name}: needs one HEALTHCHECK that gets {want_url}")
    entry = [rest for word, rest in ins if word == "ENTRYPOINT"]
    cmds = [rest for word, rest in ins if word == "CMD"]
    try:
        entry_l = json.loads(entry[0]) if len(entry) == 1 else None
        cmd_l = json.loads(cmds[0]) if len(cmds) == 1 else None
    except ValueError:
        entry_l = cmd_l = None
    if entry_l != ["/usr/local/bin/uzwhisper"]:
        problems.append(f"{name}: ENTRYPOINT must be [\"/usr/local/bin/uzwhisper\"] (exec form: it gets SIGTERM)")
    if not cmd_l or cmd_l[0] != "serve":
        problems.append(f"{name}: CMD must be a JSON list starting with serve")
    else:
        if arg_value(cmd_l, "--http-port") != server_ports["http"] or \
                arg_value(cmd_l, "--tcp-port") != server_ports["stream"]:
            problems.append(f"{name}: CMD ports differ from the server's {server_ports}")
        if (arg_value(cmd_l, "--device") == "cuda") != gpu:
            problems.append(f"{name}: CMD must {'' if gpu else 'not '}pass --device cuda")
    return problems, cmd_l


def dockerignore_allowed():
    """The top-level paths .dockerignore lets in. It must be an allow-list: '*' then '!PATH' lines."""
    with open(os.path.join(C.ROOT, ".dockerignore"), encoding="utf-8") as f:
        lines = [ln.strip() for ln in f if ln.strip() and not ln.strip().startswith("#")]
    if not lines or lines[0] != "*":
        raise ValueError(".dockerignore must start with '*' (an allow-list)")
    allowed = []
    for ln in lines[1:]:
        if ln.startswith("!"):
            allowed.append(ln[1:].rstrip("/"))
        elif not ln.startswith("**/"):
            raise ValueError(f".dockerignore: {ln!r}: only '!PATH' and '**/PATTERN' lines are understood here")
    return allowed


def check_dockerignore():
    problems = []
    try:
        allowed = dockerignore_allowed()
    except ValueError as e:
        return [str(e)]
    with open(os.path.join(C.ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        cm = f.read()
    used = set(re.findall(r"\$\{CMAKE_SOURCE_DIR\}/([A-Za-z0-9_.-]+)", cm)) - {"..", "tests", "models"}
    for d in sorted(used):
        if not any(d == a or a.startswith(d + "/") for a in allowed):
            problems.append(f".dockerignore: CMakeLists.txt uses {d}/ but the build context leaves it out")
    for a in allowed:
        if not os.path.exists(os.path.join(C.ROOT, a)):
            problems.append(f".dockerignore: allows {a}, which does not exist")
    if "deploy/docker" not in allowed:
        problems.append(".dockerignore: deploy/docker (runtime-packages.sh) must be in the build context")
    return problems


# ------------------------------------------------------------------ options against --help

def check_flags(binary, serve_arg_lists, transcribe_arg_lists):
    problems = []
    for sub, lists in (("serve", serve_arg_lists), ("transcribe", transcribe_arg_lists)):
        try:
            r = subprocess.run([binary, sub, "--help"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            return [f"{binary} {sub} --help: {e}"]
        text = r.stdout + r.stderr
        if not re.search(r"usage:\s*uzwhisper " + sub, text, re.I):
            first = text.strip().splitlines()[0] if text.strip() else "(no output)"
            problems.append(f"`{binary} {sub} --help` shows no usage (exit {r.returncode}): {first}")
            continue
        for where, args in lists:
            for a in args:
                flag = a.split("=", 1)[0]
                if not re.fullmatch(r"--?[A-Za-z][A-Za-z0-9-]*", flag):
                    continue
                if not re.search(r"(^|[\s,\[])" + re.escape(flag) + r"($|[\s,=\]])", text, re.M):
                    problems.append(f"{where}: `uzwhisper {sub}` has no option {flag} (not in its --help)")
    return problems
