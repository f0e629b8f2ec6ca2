#!/usr/bin/env python3
"""check_metrics.py - parse Prometheus text exposition (format 0.0.4) from stdin with the real
parser of the official Python client (prometheus_client.parser.text_string_to_metric_families)
and check what a scraper relies on:

  - the text parses, and every family has a known type;
  - histograms: per label set, buckets sorted by le, cumulative (never decreasing), the last one
    le="+Inf", equal to _count, and a _sum present;
  - counters: no negative sample (except the parser's own _created samples, which we never write);
  - --expect NAME:TYPE (repeatable): a family NAME of TYPE is present (a counter's family name is
    given without _total, as the parser reports it).

On success prints one JSON object on stdout: {"families": [{"name", "type", "help",
"samples": [{"name", "labels", "value"}]}]} with values as strings (repr of the float, so inf and
nan survive JSON), for the C test to compare label values and help texts after unescaping.
Exit status: 0 ok, 1 a check failed (the reason on stdout), 77 prometheus_client is not
importable (pip install prometheus_client), 2 bad arguments.

Used by tests/test_serve_metrics.c; run by hand as:
    build/some_dump | python3 tests/reference/check_metrics.py --expect asr_requests:counter
"""
import json
import math
import sys


def fail(msg):
    print("check_metrics: " + msg)
    sys.exit(1)


def main():
    expects = []
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--expect" and args:
            name, _, typ = args.pop(0).partition(":")
            if not name or not typ:
                print("check_metrics: --expect takes NAME:TYPE")
                sys.exit(2)
            expects.append((name, typ))
        else:
            print("check_metrics: unknown argument " + a)
            sys.exit(2)
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        print("check_metrics: prometheus_client is not importable (pip install prometheus_client)")
        sys.exit(77)

    try:
        text = sys.stdin.buffer.read().decode("utf-8")  # the format is UTF-8
    except UnicodeDecodeError as e:
        fail("the text is not UTF-8: %s" % e)
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends on bad input
        fail("the parser refused the text: %s: %s" % (type(e).__name__, e))

    known = {"counter", "gauge", "histogram", "summary", "untyped", "unknown", "info", "stateset", "gaugehistogram"}
    out = []
    seen = {}
    for fam in families:
        if fam.type not in known:
            fail("family %s has type %s" % (fam.name, fam.type))
        if fam.name in seen:
            fail("family %s appears twice" % fam.name)
        seen[fam.name] = fam.type
        if fam.type == "counter":
            for s in fam.samples:
                if s.value < 0:
                    fail("counter sample %s%s is negative: %r" % (s.name, s.labels, s.value))
        if fam.type == "histogram":
            check_histogram(fam)
        out.append({
            "name": fam.name,
            "type": fam.type,
            "help": fam.documentation,
            "samples": [{"name": s.name, "labels": dict(s.labels), "value": repr(float(s.value))}
                        for s in fam.samples],
        })
    for name, typ in expects:
        if name not in seen:
            fail("no family %s (families: %s)" % (name, ", ".join(sorted(seen))))
        if seen[name] != typ:
            fail("family %s is a %s, expected %s" % (name, seen[name], typ))
    print(json.dumps({"families": out}, ensure_ascii=False, sort_keys=True))


def check_histogram(fam):
    groups = {}
    for s in fam.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        g = groups.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if s.name == fam.name + "_bucket":
            if "le" not in s.labels:
                fail("bucket of %s without le: %s" % (fam.name, s.labels))
            g["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name == fam.name + "_sum":
            g["sum"] = s.value
        elif s.name == fam.name + "_count":
            g["count"] = s.value
        else:
            fail("unexpected sample %s in histogram %s" % (s.name, fam.name))
    for key, g in groups.items():
        b = g["buckets"]
        where = "%s%s" % (fam.name, dict(key))
        if not b:
            fail("%s has no buckets" % where)
        les = [le for le, _ in b]
        if les != sorted(les) or len(set(les)) != len(les):
            fail("%s: le values not strictly increasing: %s" % (where, les))
        if not math.isinf(les[-1]):
            fail("%s: the last bucket is le=%r, not +Inf" % (where, les[-1]))
        counts = [c for _, c in b]
        if any(counts[i] > counts[i + 1] for i in range(len(counts) - 1)):
            fail("%s: bucket counts are not cumulative: %s" % (where, counts))
        if g["count"] is None or g["sum"] is None:
            fail("%s: _sum or _count missing" % where)
        if g["count"] != counts[-1]:
            fail("%s: _count %r differs from the +Inf bucket %r" % (where, g["count"], counts[-1]))


if __name__ == "__main__":
    main()
