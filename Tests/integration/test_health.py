"""Issue 19 #5: MinIO's health probes answer as MinIO's do, so load balancer and Kubernetes
probes written for MinIO work unchanged: `/minio/health/live`, `/ready`, `/cluster` and
`/cluster/read`, GET and HEAD, unauthenticated, empty bodies; ready and cluster answer 503 with
`X-Minio-Server-Status: offline` while the store cannot take writes (here: the free space is
below the reserve), live stays 200. Driven with curl, as the probes are."""
import subprocess

import pytest
import requests

from conftest import DepotServer

PROBES = ["/minio/health/live", "/minio/health/ready", "/minio/health/cluster", "/minio/health/cluster/read"]


def curl(url, head=False):
    """(status, headers lowercased, body) as curl got them: no credentials of any kind."""
    args = ["curl", "-s", "-S", "--max-time", "10", "-D", "-", "-o", "/tmp/health-body"]
    if head:
        args.append("-I")
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b"" if head else open("/tmp/health-body", "rb").read()
    return status, headers, body


@pytest.mark.parametrize("head", [False, True])
def test_minio_probes_on_a_healthy_server(depot, head):
    for probe in PROBES:
        status, headers, body = curl(depot.endpoint + probe, head=head)
        assert status == 200, (probe, status)
        assert body == b"" and headers.get("content-length") == "0", (probe, headers)
        assert "x-minio-server-status" not in headers
    assert curl(depot.endpoint + "/minio/health/cluster", head=head)[1]["x-minio-write-quorum"] == "1"
    assert curl(depot.endpoint + "/minio/health/cluster/read", head=head)[1]["x-minio-read-quorum"] == "1"
    # A single node taken down for maintenance loses the quorum: MinIO's 412.
    assert curl(depot.endpoint + "/minio/health/cluster?maintenance=true", head=head)[0] == 412
    # Depot's own probes are still there, with their JSON bodies.
    assert curl(depot.endpoint + "/health/live", head=head)[0] == 200
    assert curl(depot.endpoint + "/health/ready", head=head)[0] == 200


def test_other_methods_and_paths(depot):
    r = requests.post(depot.endpoint + "/minio/health/live", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    # Only the probes are the server's: anything else under /minio is S3 (a bucket that cannot exist).
    assert requests.get(depot.endpoint + "/minio/health/other", timeout=10).status_code == 403
    assert requests.get(depot.endpoint + "/health/ready", timeout=10).json() == {"status": "ok"}


def test_probes_while_uploads_would_be_refused(tmp_path):
    # A reserve larger than any device: uploads are refused with 507, so the node is not ready.
    config = tmp_path / "depot.yaml"
    config.write_text("storage: { reserve: 1000000TiB }\n")
    server = DepotServer(config=str(config)).start()
    try:
        status, _, _ = curl(server.endpoint + "/minio/health/live")
        assert status == 200
        for probe in ["/minio/health/ready", "/minio/health/cluster"]:
            for head in (False, True):
                status, headers, _ = curl(server.endpoint + probe, head=head)
                assert status == 503, (probe, status)
                assert headers["x-minio-server-status"] == "offline"
        # Reads still work: the read quorum is there.
        assert curl(server.endpoint + "/minio/health/cluster/read")[0] == 200
        ready = requests.get(server.endpoint + "/health/ready", timeout=10)
        assert ready.status_code == 503 and "reserve" in ready.json()["reason"]
    finally:
        server.cleanup()
