"""The `depot` admin commands as an admin uses them: the server found without --endpoint (the
configuration file's server.address, DEPOT_ENDPOINT), errors that name the endpoint and carry the
server's message (exit 1, no usage text), versions, readable `show` text with true/false, natural
flags, paged and filtered lists, and replication per object and per job."""
import json
import os
import subprocess
import time

from backends import free_port
from conftest import DEPOT_BIN, ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot


def clean_env(**extra):
    """The environment of a fresh shell: root keys, no DEPOT_ENDPOINT or DEPOT_REGION inherited."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEPOT_ENDPOINT", "DEPOT_REGION", "DEPOT_CONFIG")}
    env.update(DEPOT_ROOT_USER=ROOT_USER, DEPOT_ROOT_PASSWORD=ROOT_PASSWORD, **extra)
    return env


def depot(*args, env=None, timeout=120):
    return subprocess.run([DEPOT_BIN, *args], capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else clean_env())


def start_with_config(tmp_path, body):
    """A server whose configuration file names its own address (a fixed free port)."""
    port = free_port()
    config = tmp_path / "depot.yaml"
    config.write_text(body.replace("ADDRESS", f"127.0.0.1:{port}"))
    server = DepotServer(config=str(config), address=f"127.0.0.1:{port}").start()
    return server, str(config)


def test_the_server_is_found_from_the_config_file_or_depot_endpoint_in_another_region(tmp_path):
    server, config = start_with_config(tmp_path, "server:\n  address: ADDRESS\n  region: eu-central-1\nbuckets: [rec]\n")
    try:
        # server.address and server.region of --config: no --endpoint, no region asked for.
        status = depot("status", "--json", "--config", config)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["buckets"] == 1
        listed = depot("account", "list", "--config", config)
        assert listed.returncode == 0 and listed.stdout.startswith("NAME"), listed.stderr
        # DEPOT_ENDPOINT alone: the region is asked of the server.
        status = depot("tier", "list", env=clean_env(DEPOT_ENDPOINT=server.endpoint))
        assert status.returncode == 0 and status.stdout.startswith("NAME"), status.stderr
        # --endpoint wins over both.
        wrong = free_port()
        refused = depot("status", "--config", config, "--endpoint", f"http://127.0.0.1:{wrong}",
                        env=clean_env(DEPOT_ENDPOINT=server.endpoint))
        assert refused.returncode == 1
        assert f"cannot reach the admin API at http://127.0.0.1:{wrong}: connection refused" in refused.stderr, refused.stderr
        # DEPOT_ENDPOINT wins over the file.
        via_env = depot("status", "--config", config, env=clean_env(DEPOT_ENDPOINT=f"http://127.0.0.1:{wrong}"))
        assert via_env.returncode == 1 and "DEPOT_ENDPOINT" in via_env.stderr, via_env.stderr
    finally:
        server.cleanup()


def test_unreachable_server_names_the_endpoint_and_where_it_came_from(tmp_path):
    port = free_port()
    config = tmp_path / "depot.yaml"
    config.write_text(f"server:\n  address: 0.0.0.0:{port}\n")
    result = depot("status", "--config", str(config))
    assert result.returncode == 1, result.stderr
    assert f"cannot reach the admin API at http://127.0.0.1:{port}: connection refused" in result.stderr
    assert "server.address of " + str(config) in result.stderr
    assert "USAGE" not in result.stderr.upper()
    # Without any: the embedded default's address, said so.
    result = depot("tier", "list", env=clean_env(HOME=str(tmp_path)))
    if result.returncode != 0:
        assert "http://127.0.0.1:9000" in result.stderr and "default configuration" in result.stderr, result.stderr


def test_server_side_errors_print_the_servers_message_and_exit_1(depot):
    env = clean_env(DEPOT_ENDPOINT=depot.endpoint)
    missing = subprocess.run([DEPOT_BIN, "tier", "show", "nope"], capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode == 1, missing.stderr
    assert "no tier" in missing.stderr and "404" in missing.stderr, missing.stderr
    assert "USAGE" not in missing.stderr.upper()
    bad = subprocess.run([DEPOT_BIN, "tier", "put", "x", "type=s3"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 1 and "endpoint" in bad.stderr and "USAGE" not in bad.stderr.upper(), bad.stderr
    denied = subprocess.run([DEPOT_BIN, "status", "--secret-key", "wrong-secret", "--access-key", ROOT_USER],
                            capture_output=True, text=True, env=env, timeout=60)
    assert denied.returncode == 1 and "signature" in denied.stderr.lower(), denied.stderr
    # A command line mistake is still a usage error (64).
    usage = subprocess.run([DEPOT_BIN, "tier", "show"], capture_output=True, text=True, env=env, timeout=60)
    assert usage.returncode == 64


def test_versions_of_client_and_server(depot):
    plain = run_depot("--version")
    assert plain.returncode == 0 and plain.stdout.strip().startswith("depot "), plain.stdout
    version = plain.stdout.split()[1]
    both = depot_cmd = subprocess.run([DEPOT_BIN, "version"], capture_output=True, text=True, timeout=60,
                                      env=clean_env(DEPOT_ENDPOINT=depot.endpoint))
    assert both.returncode == 0, both.stderr
    assert f"client: depot {version}" in both.stdout
    assert f"server: depot {version} at {depot.endpoint}" in both.stdout, both.stdout
    shown = json.loads(subprocess.run([DEPOT_BIN, "version", "--json"], capture_output=True, text=True, timeout=60,
                                      env=clean_env(DEPOT_ENDPOINT=depot.endpoint)).stdout)
    assert shown["client"] == version and shown["server"] == version
    # No server: the client's version still, and why the server's is unknown.
    alone = subprocess.run([DEPOT_BIN, "version", "--endpoint", f"http://127.0.0.1:{free_port()}"],
                           capture_output=True, text=True, timeout=60, env=clean_env())
    assert alone.returncode == 0 and f"client: depot {version}" in alone.stdout
    assert "connection refused" in alone.stdout
    del depot_cmd


def test_show_is_readable_booleans_read_true_false_and_flags_read_naturally(depot, tmp_path):
    env = clean_env(DEPOT_ENDPOINT=depot.endpoint)
    run = lambda *a: subprocess.run([DEPOT_BIN, *a], capture_output=True, text=True, env=env, timeout=60)  # noqa: E731
    put = run("tier", "put", "nas", "type=filesystem", f"path={tmp_path}")
    assert put.returncode == 0, put.stderr
    shown = run("tier", "show", "nas")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "name: nas", shown.stdout
    assert "type: filesystem" in lines and f"path: {tmp_path}" in lines
    assert "includeBucket: true" in lines or "includeBucket: false" in lines, shown.stdout
    assert not shown.stdout.lstrip().startswith("{")
    as_json = json.loads(run("tier", "show", "nas", "--json").stdout)
    assert as_json["name"] == "nas" and isinstance(as_json["includeBucket"], bool)

    added = run("account", "add", "--name", "cam-7", "--access-key", "CAM7KEY", "--secret-key", "cam7-secret-key")
    assert added.returncode == 0, added.stderr
    listed = run("account", "list")
    row = next(line.split() for line in listed.stdout.splitlines() if line.startswith("cam-7"))
    assert row[3] == "true", listed.stdout
    disabled = run("account", "update", "CAM7KEY", "--disable")
    assert disabled.returncode == 0 and "enabled: false" in disabled.stdout, disabled.stdout + disabled.stderr
    row = next(line.split() for line in run("account", "list").stdout.splitlines() if line.startswith("cam-7"))
    assert row[3] == "false"
    enabled = run("account", "update", "CAM7KEY", "--enable")
    assert enabled.returncode == 0 and "enabled: true" in enabled.stdout
    # The old spelling is gone, and both at once is a usage error.
    assert run("account", "update", "CAM7KEY", "--disable-enabled").returncode == 64
    assert run("account", "update", "CAM7KEY", "--enable", "--disable").returncode == 64
    policy = run("policy", "put", "keep", "match.bucket=rec", "replicate.to[]=nas")
    assert policy.returncode == 0, policy.stderr
    shown = run("policy", "show", "keep")
    assert shown.stdout.splitlines()[0] == "name: keep" and "match:" in shown.stdout, shown.stdout


def test_every_list_pages_and_filters(depot, tmp_path):
    env = clean_env(DEPOT_ENDPOINT=depot.endpoint)
    run = lambda *a: subprocess.run([DEPOT_BIN, *a], capture_output=True, text=True, env=env, timeout=60)  # noqa: E731
    for name in ["cam-a", "cam-b", "cam-c", "cam-d", "nas"]:
        assert run("tier", "put", name, "type=filesystem", f"path={tmp_path}").returncode == 0

    def rows(result):
        assert result.returncode == 0, result.stderr
        return [line.split()[0] for line in result.stdout.splitlines()[1:] if line and not line.startswith("(more")]

    def after(result):
        more = [line for line in result.stdout.splitlines() if line.startswith("(more: add --after ")]
        return more[0].split()[-1].rstrip(")") if more else None

    first = run("tier", "list", "--limit", "2")
    assert rows(first) == ["cam-a", "cam-b"] and after(first)
    second = run("tier", "list", "--limit", "2", "--after", after(first))
    assert rows(second) == ["cam-c", "cam-d"] and after(second)
    third = run("tier", "list", "--limit", "2", "--after", after(second))
    assert rows(third) == ["nas"] and after(third) is None
    assert rows(run("tier", "list", "--prefix", "cam-", "--limit", "3")) == ["cam-a", "cam-b", "cam-c"]
    assert rows(run("tier", "list", "--type", "s3")) == []
    paged = json.loads(run("tier", "list", "--limit", "4", "--json").stdout)
    assert paged["truncated"] is True and len(paged["tiers"]) == 4 and paged["next"]
    bad = run("tier", "list", "--after", "!!")
    assert bad.returncode == 1 and "after" in bad.stderr, bad.stderr
    assert run("tier", "list", "--limit", "0").returncode == 64

    for name in ["p1", "p2", "q1"]:
        assert run("policy", "put", name, "match.bucket=rec", "replicate.to[]=nas").returncode == 0
    assert rows(run("policy", "list", "--prefix", "p")) == ["p1", "p2"]
    assert rows(run("policy", "list", "--limit", "1")) == ["p1"]
    assert rows(run("policy", "list", "--source", "config")) == []

    for n in range(3):
        assert run("account", "add", "--name", f"user-{n}", "--access-key", f"USER{n}KEY",
                   "--secret-key", "a-long-secret").returncode == 0
    assert run("account", "update", "USER1KEY", "--disable").returncode == 0
    assert rows(run("account", "list", "--prefix", "user-")) == ["user-0", "user-1", "user-2"]
    assert rows(run("account", "list", "--enabled", "false")) == ["user-1"]
    assert len(rows(run("account", "list", "--prefix", "user-", "--limit", "2"))) == 2

    # The admin API's bucket usage list pages and filters by name too (usage counted per page).
    from admin_client import Admin
    s3 = depot.client()
    for name in ["b-1", "b-2", "b-3", "other"]:
        s3.create_bucket(Bucket=name)
    status, body = Admin(depot.endpoint).get("/admin/v1/buckets?limit=2&prefix=b-")
    assert status == 200 and [b["name"] for b in body["buckets"]] == ["b-1", "b-2"] and body["truncated"], body
    assert "objects" in body["buckets"][0]
    status, body = Admin(depot.endpoint).get(f"/admin/v1/buckets?limit=2&prefix=b-&after={body['next']}")
    assert [b["name"] for b in body["buckets"]] == ["b-3"] and body["truncated"] is False and "next" not in body

    failed = run("replication", "list", "--failed", "--bucket", "rec", "--tier", "nas", "--prefix", "x/", "--limit", "5")
    assert failed.returncode == 0 and failed.stdout.startswith("BUCKET"), failed.stderr
    assert run("replication", "list", "--status", "pending").returncode == 64


def test_replication_show_job_and_wait(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the tier wants a directory: every copy to it fails")
    server, config = start_with_config(tmp_path, f"""
server: {{ address: ADDRESS }}
buckets: [rec]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
  - {{ name: gone, type: s3, endpoint: "http://127.0.0.1:{free_port()}", bucket: b, accessKey: k, secretKey: s, maxAttempts: 10 }}
  - {{ name: broken, type: filesystem, path: "{blocked}/sub", maxAttempts: 1 }}
policies:
  - {{ name: on-ask, match: {{ bucket: rec }}, replicate: {{ to: [nas, gone], mode: on-demand }} }}
""")
    try:
        s3 = server.client()
        for i in range(4):
            s3.put_object(Bucket="rec", Key=f"cam/{i}.mp4", Body=os.urandom(50_000 + i))
        first = depot("replicate", "rec", "cam/0.mp4", "--tier", "nas", "--wait", "--timeout", "60", "--config", config)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "queued 1 objects for nas" in first.stdout
        assert "1 completed, 0 pending, 0 failed" in first.stdout and "(done)" in first.stdout, first.stdout
        # Work already done is not "queued" again: it is counted as replicated.
        again = depot("replicate", "rec", "--prefix", "cam/", "--tier", "nas", "--wait", "--config", config)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "queued 3 objects for nas (1 already replicated)" in again.stdout, again.stdout
        assert "4 completed, 0 pending" in again.stdout, again.stdout
        merged = depot("replicate", "rec", "cam/3.mp4", "--tier", "nas", "--wait", "--json", "--config", config)
        merged = json.loads(merged.stdout)
        assert merged["alreadyReplicated"] == 1 and merged["final"]["completed"] == 1 and merged["final"]["done"] is True
        once_more = depot("replicate", "rec", "--prefix", "cam/", "--tier", "nas", "--config", config)
        assert "queued 0 objects for nas (4 already replicated)" in once_more.stdout, once_more.stdout
        job = once_more.stdout.split("job ")[1].split(":")[0]
        state = depot("replication", "job", job, "--config", config)
        assert state.returncode == 0 and "4 objects to nas" in state.stdout and "4 completed" in state.stdout, state.stdout
        counts = json.loads(depot("replication", "job", job, "--json", "--config", config).stdout)
        assert counts["completed"] == 4 and counts["done"] is True and counts["completedBytes"] == counts["bytes"] > 200_000
        assert depot("replication", "job", "0000000000000000", "--config", config).returncode == 1
        # The dry run lists a page of what it matches and counts the rest.
        dry = depot("policy", "dry-run", "on-ask", "--limit", "2", "--config", config)
        assert dry.returncode == 0 and dry.stdout.startswith("4 objects"), dry.stdout + dry.stderr
        assert dry.stdout.count("rec/cam/") == 2 and "and 2 more" in dry.stdout, dry.stdout
        # One object's copies per tier.
        shown = depot("replication", "show", "rec", "cam/1.mp4", "--config", config)
        assert shown.returncode == 0, shown.stderr
        nas_row = next(line.split() for line in shown.stdout.splitlines() if line.startswith("nas"))
        assert nas_row[1] == "COMPLETED", shown.stdout
        assert depot("replication", "show", "rec", "nope.mp4", "--config", config).returncode == 1
        # A tier that keeps failing: --wait gives up at its timeout, exit 1, and says the job goes on.
        started = time.time()
        stuck = depot("replicate", "rec", "cam/2.mp4", "--tier", "gone", "--wait", "--timeout", "2", "--config", config)
        assert stuck.returncode == 1 and "pending" in stuck.stderr and "goes on" in stuck.stderr, stuck.stderr
        assert time.time() - started < 30
        pending = depot("replication", "show", "rec", "cam/2.mp4", "--config", config)
        assert "gone" in pending.stdout and "PENDING" in pending.stdout, pending.stdout
        # Failed copies, filtered by tier, bucket and key prefix.
        failing = depot("replicate", "rec", "cam/0.mp4", "cam/1.mp4", "--tier", "broken", "--wait", "--timeout", "60",
                        "--config", config)
        assert failing.returncode == 1 and "2 failed" in failing.stdout, failing.stdout + failing.stderr

        def failed_keys(*filters):
            listed = depot("replication", "list", *filters, "--json", "--config", config)
            assert listed.returncode == 0, listed.stderr
            return [(f["key"], f["tier"]) for f in json.loads(listed.stdout)["failed"]]

        assert failed_keys("--tier", "broken") == [("cam/0.mp4", "broken"), ("cam/1.mp4", "broken")]
        assert failed_keys("--prefix", "cam/1") == [("cam/1.mp4", "broken")]
        assert failed_keys("--bucket", "other") == [] and failed_keys("--tier", "nas") == []
        assert failed_keys("--limit", "1") == [("cam/0.mp4", "broken")]
        text = depot("replication", "list", "--limit", "1", "--config", config).stdout
        token = text.splitlines()[-1].split()[-1].rstrip(")")
        assert [line.split()[1] for line in text.splitlines()[1:-1]] == ["cam/0.mp4"], text
        rest = depot("replication", "list", "--limit", "1", "--after", token, "--config", config).stdout
        assert [line.split()[1] for line in rest.splitlines()[1:]] == ["cam/1.mp4"], rest
    finally:
        server.cleanup()
