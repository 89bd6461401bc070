"""Issue 19 #5: every Prometheus series Depot exports has its `# HELP` and `# TYPE` lines, and the
Grafana dashboard in Config/grafana-dashboard.json queries only series Depot exports. The server
has had traffic (errors included), a working tier, a failing tier and an event sink, so the
series the dashboard needs exist when it is scraped."""
import json
import os
import re
import time

import requests

from conftest import REPO, DepotServer
from event_receiver import Receiver

DASHBOARD = os.path.join(REPO, "Config", "grafana-dashboard.json")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# What the dashboard is for (issue 19): ingest, egress, errors by code, latency, replication
# backlog and failures per tier, event sink backlog, disk free (and days left from it), and the
# alert-ready flag of a tier that keeps failing.
REQUIRED = {"depot_bytes_received_total", "depot_bytes_sent_total", "depot_request_errors_total",
            "depot_request_duration_seconds_bucket", "depot_replication_backlog", "depot_replication_failures_total",
            "depot_event_backlog", "depot_device_free_bytes", "depot_space_reserve_bytes", "depot_tier_failing"}


def exposition(server):
    r = requests.get(server.endpoint + "/metrics", timeout=10)
    assert r.status_code == 200
    return r.text


def families(text):
    """({family: type}, {family: help}, {sample name: family})."""
    types, helps, samples = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line[len("# TYPE "):].split(" ", 1)
            types[name] = kind
        elif line.startswith("# HELP "):
            name, _, text_ = line[len("# HELP "):].partition(" ")
            helps[name] = text_
        elif line and not line.startswith("#"):
            samples[re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0)] = None
    for name in samples:
        family = name
        if name not in types:
            family = next((name[: -len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s) and name[: -len(s)] in types), name)
        samples[name] = family
    return types, helps, samples


PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless",
                "inf", "nan"}


def metric_names(expr):
    """The series names a PromQL expression reads: what is left once strings, label matchers,
    ranges, grouping clauses and function calls are taken out."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![0-9.A-Za-z_:$])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[match.end():].lstrip()
        if rest.startswith("(") or match.group(0).lower() in PROMQL_WORDS:
            continue  # a function or an operator word
        names.add(match.group(0))
    return names


def dashboard_queries():
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            queries.append((panel["title"], target["expr"]))
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):  # label_values(METRIC, label): the series is its first argument
            queries.append((variable["name"], re.sub(r"label_values\(([^,]+),.*", r"\1", query["query"])))
    return queries


def test_the_promql_reader_finds_names_and_only_names():
    assert metric_names('sum by (api, code) (rate(depot_x_total{instance=~"$instance",api="s3"}[$__rate_interval]))') \
        == {"depot_x_total"}
    assert metric_names("(a - b) / clamp_min(-deriv(c[6h]), 1e-9) / 86400") == {"a", "b", "c"}
    assert metric_names("histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))") == {"h_bucket"}
    assert metric_names("topk(5, m) or on (tier) n offset 5m") == {"m", "n"}


def make_server(tmp_path, receiver):
    nas = tmp_path / "nas"
    nas.mkdir()
    # A tier that fails at once: its directory would have to be made under a regular file.
    blocked = tmp_path / "not-a-directory"
    blocked.write_bytes(b"")
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
  - {{ name: down, type: filesystem, path: "{blocked}/tier" }}
policies:
  - {{ name: copies, match: {{ bucket: rec }}, replicate: {{ to: [nas, down] }} }}
events:
  sinks:
    - {{ name: hook, type: webhook, url: "{receiver.url}/s3", format: s3, match: {{ events: [created] }} }}
""")
    return DepotServer(config=str(config)).start()


def test_every_series_has_help_and_type_and_the_dashboard_names_only_exported_series(tmp_path):
    receiver = Receiver().start()
    server = make_server(tmp_path, receiver)
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="cam-1/a.mp4", Body=b"v" * 50_000)
        s3.get_object(Bucket="rec", Key="cam-1/a.mp4")["Body"].read()
        assert requests.get(server.endpoint + "/rec/missing", timeout=10).status_code == 403  # anonymous: AccessDenied
        try:
            s3.get_object(Bucket="rec", Key="missing")
        except s3.exceptions.NoSuchKey:
            pass
        requests.get(server.endpoint + "/minio/health/ready", timeout=10)
        # The blocked tier fails its copy; the counter shows it at the next scrape.
        deadline = time.time() + 30
        while True:
            text = exposition(server)
            if re.search(r'depot_replication_failures_total\{tier="down"\} [1-9]', text):
                break
            assert time.time() < deadline, "no replication failure counted for the unreachable tier"
            time.sleep(0.3)

        types, helps, samples = families(text)
        assert samples, text
        for name, family in samples.items():
            assert family in types, f"{name}: no # TYPE line"
            assert helps.get(family), f"{name}: no # HELP line (add it to Sources/DepotServer/Metrics/MetricHelp.swift)"
        assert re.search(r'depot_request_errors_total\{api="s3",code="NoSuchKey"\} 1', text), text
        assert re.search(r'depot_request_errors_total\{api="s3",code="AccessDenied"\} 1', text), text
        assert 'depot_event_backlog{sink="hook"}' in text
        assert types["depot_replication_failures_total"] == "counter"
        assert re.search(r'depot_replication_failures_total\{tier="nas"\} 0\b', text)

        queried = set()
        for title, expr in dashboard_queries():
            names = metric_names(expr)
            assert names, f"{title}: no series in {expr!r}"
            unknown = names - set(samples)
            assert not unknown, f"panel {title!r} queries {sorted(unknown)}, which Depot does not export"
            queried |= names
        assert REQUIRED <= queried, f"the dashboard lacks {sorted(REQUIRED - queried)}"
    finally:
        server.cleanup()
        receiver.stop()
