"""Connections and file descriptors: depot raises its open-file soft limit to the hard limit at
start, and connections over `server.maxConnections` are accepted and closed at once (counted and
logged) instead of waiting in the backlog until idle ones are cut; the server does not burn CPU
while it is at the cap, and serves normally again once connections close."""
import functools
import os
import resource
import socket
import subprocess
import time
import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

import conftest
from conftest import DepotServer, run_depot

CAP = 50


def low_file_limit():
    # The child starts with the common soft limit of 1024 and a higher hard limit.
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 4096))


def open_file_limits(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError("no open-file line in /proc/PID/limits")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the command.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def closed_within(sock, seconds):
    """Whether the server closed `sock` (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def metric(endpoint, name):
    text = requests.get(endpoint + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and not sample.labels:
                return sample.value
    return None


def test_file_limit_is_raised_and_connections_over_the_cap_are_closed_at_once(tmp_path, monkeypatch):
    config = tmp_path / "depot.yaml"
    config.write_text(f"server:\n  maxConnections: {CAP}\nbuckets: [rec]\n")
    monkeypatch.setattr(conftest.subprocess, "Popen", functools.partial(subprocess.Popen, preexec_fn=low_file_limit))
    server = DepotServer(config=str(config)).start()
    monkeypatch.undo()
    idle = []
    try:
        assert open_file_limits(server.pid) == (4096, 4096)
        logs = server.logs()
        assert "open-file limit" in logs and "4096" in logs, logs

        # 60 idle connections against a cap of 50: ten of them are closed within a second (which
        # ten depends on the order the event loops set them up in).
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(CAP + 10)]
        cpu_before = cpu_seconds(server.pid)
        started = time.monotonic()
        time.sleep(1.0)
        refused = [s for s in idle if closed_within(s, 0.01)]
        assert len(refused) == 10

        # A new connection while at the cap is refused quickly too, not left waiting.
        extra = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        assert closed_within(extra, 1.0)
        extra.close()

        # Holding the cap for ~3 s costs the server (almost) no CPU: nothing spins.
        time.sleep(max(0, 3 - (time.monotonic() - started)))
        assert cpu_seconds(server.pid) - cpu_before < 1.0

        for s in idle:
            s.close()
        idle = []
        deadline = time.time() + 5
        while True:
            try:
                s3 = server.client()
                key = "after-" + uuid.uuid4().hex
                s3.put_object(Bucket="rec", Key=key, Body=b"x" * 1000)
                assert s3.get_object(Bucket="rec", Key=key)["Body"].read() == b"x" * 1000
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

        assert metric(server.endpoint, "depot_connections_refused_total") >= 11
        assert 1 <= metric(server.endpoint, "depot_connections_open") <= 5
        assert "refused connections: server.maxConnections reached" in server.logs()
    finally:
        for s in idle:
            s.close()
        server.cleanup()


def test_max_connections_must_be_a_positive_number(tmp_path):
    for value, reason in [("0", "must be at least 1"), ("many", "must be a whole number")]:
        config = tmp_path / "depot.yaml"
        config.write_text(f"server:\n  maxConnections: {value}\n")
        check = run_depot("config", "check", str(config))
        assert check.returncode != 0
        assert "server.maxConnections" in check.stderr and reason in check.stderr, check.stderr


def test_cap_is_lowered_to_what_the_file_limit_allows(tmp_path, monkeypatch):
    config = tmp_path / "depot.yaml"
    config.write_text("server:\n  maxConnections: 100000\n")

    def hard_limit_1024():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    monkeypatch.setattr(conftest.subprocess, "Popen", functools.partial(subprocess.Popen, preexec_fn=hard_limit_1024))
    server = DepotServer(config=str(config)).start()
    monkeypatch.undo()
    try:
        logs = server.logs()
        assert "server.maxConnections lowered to what the open-file limit allows" in logs, logs
        assert "maxConnections=768" in logs, logs
    finally:
        server.cleanup()


def test_accept_pauses_instead_of_spinning_when_descriptors_run_out(tmp_path, monkeypatch):
    # With only 64 descriptors (hard limit, so nothing to raise), the reserve left beside the cap
    # is used up by the server's own files first: accepts fail with EMFILE while connections are
    # under the cap. That must be logged and must not spin the event loop on accept4.
    def tiny_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    monkeypatch.setattr(conftest.subprocess, "Popen", functools.partial(subprocess.Popen, preexec_fn=tiny_limit))
    server = DepotServer().start()
    monkeypatch.undo()
    held = []
    try:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(64)]
        time.sleep(0.5)
        cpu_before = cpu_seconds(server.pid)
        time.sleep(2)
        assert cpu_seconds(server.pid) - cpu_before < 0.5
        assert "accepting connections failed: out of file descriptors" in server.logs()
        for s in held:
            s.close()
        held = []
        # Accepting resumes once descriptors are free again.
        r = requests.get(server.endpoint + "/metrics", timeout=10)
        assert r.status_code == 200 and "depot_accept_failures_total" in r.text
    finally:
        for s in held:
            s.close()
        server.cleanup()
