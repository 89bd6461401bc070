"""The access log and request metrics of the Vault and admin front doors: a failed request's
line names the operation (from that front door's route table), an error code and the access
key that was presented, so an admin can tell a wrong secret from a missing permission; what no
route table names is `unknown` in every API; no label is ever taken from the request path."""
import re
import time

import requests

from admin_client import Admin
from conftest import DepotServer

CONFIG = """buckets: [rec]
accounts:
  - name: agents
    accessKey: AGENTKEY
    secretKey: agent-secret-1234
    allow: [{ bucket: rec, actions: [read, write] }]
    vault: { directory: "*", bucket: rec }
  - name: camera
    accessKey: CAMKEY
    secretKey: camera-secret-1234
    allow: [{ bucket: rec, prefix: "cam/", actions: [read, write] }]
"""


def start(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text(CONFIG)
    return DepotServer(config=str(config)).start()


def request_lines(server, expected, timeout=5):
    """The access log's lines (message `request`), once at least `expected` are there."""
    deadline = time.time() + timeout
    while True:
        lines = [line for line in open(server.log_path).read().splitlines() if line.endswith("request")]
        if len(lines) >= expected or time.time() > deadline:
            return lines


def field(line, name):
    """A metadata value of a log line (`key=value` pairs sorted by key; a value may hold spaces:
    `operation=GET /admin/v1/tiers`)."""
    match = re.search(rf" {name}=(.*?)(?= [a-z_]+=| \[)", line)
    return match.group(1) if match else None


def only(lines, **fields):
    found = [line for line in lines if all(field(line, k) == v for k, v in fields.items())]
    assert len(found) == 1, (fields, lines)
    return found[0]


def vault_headers(access, secret):
    return {"X-Kerberos-Storage-AccessKey": access, "X-Kerberos-Storage-SecretAccessKey": secret}


def test_vault_failures_name_operation_error_code_and_access_key(tmp_path):
    server = start(tmp_path)
    try:
        base = server.endpoint
        assert requests.post(f"{base}/api/ping", headers=vault_headers("AGENTKEY", "wrong"), timeout=10).status_code == 401
        assert requests.post(f"{base}/api/ping", headers=vault_headers("NOSUCHKEY", "x"), timeout=10).status_code == 401
        assert requests.get(f"{base}/api/devices", timeout=10).status_code == 401
        assert requests.get(f"{base}/api/no-such-thing", headers=vault_headers("AGENTKEY", "x"), timeout=10).status_code == 404
        assert requests.put(f"{base}/api/storage", timeout=10).status_code == 405
        assert requests.post(f"{base}/api/ping", headers=vault_headers("AGENTKEY", "agent-secret-1234"),
                             timeout=10).status_code == 200
        lines = request_lines(server, 5)
        wrong = only(lines, api="vault", error_code="WrongSecretKey")
        assert field(wrong, "operation") == "Ping" and field(wrong, "access_key") == "AGENTKEY", wrong
        assert field(wrong, "status") == "401"
        unknown_key = only(lines, api="vault", error_code="UnknownAccessKey")
        assert field(unknown_key, "operation") == "Ping" and field(unknown_key, "access_key") == "NOSUCHKEY"
        missing = only(lines, api="vault", error_code="MissingCredentials")
        assert field(missing, "operation") == "Devices" and field(missing, "access_key") is None
        no_route = only(lines, api="vault", error_code="NotFound")
        assert field(no_route, "operation") == "unknown" and field(no_route, "path") == "/api/no-such-thing"
        no_method = only(lines, api="vault", error_code="MethodNotAllowed")
        assert field(no_method, "operation") == "unknown"
        metrics = requests.get(f"{base}/metrics", timeout=10).text
        assert 'depot_requests_total{api="vault",operation="Ping",status="4xx"} 2' in metrics, metrics
        assert 'depot_requests_total{api="vault",operation="unknown",status="4xx"} 2' in metrics
        assert 'depot_requests_total{api="vault",operation="Ping",status="2xx"} 1' in metrics
    finally:
        server.cleanup()


def test_admin_failures_name_operation_error_code_and_access_key(tmp_path):
    server = start(tmp_path)
    try:
        assert Admin(server.endpoint, "CAMKEY", "camera-secret-1234").get("/admin/v1/tiers")[0] == 403
        assert Admin(server.endpoint, "CAMKEY", "not-the-secret-1234").get("/admin/v1/tiers")[0] == 403
        assert Admin(server.endpoint, "NOSUCHKEY", "whatever-secret").get("/admin/v1/policies")[0] == 403
        assert requests.get(f"{server.endpoint}/admin/v1/tiers", timeout=10).status_code == 401
        assert Admin(server.endpoint).get("/admin/v1/no-such-thing")[0] == 404
        assert Admin(server.endpoint).get("/admin/v1/tiers")[0] == 200
        lines = request_lines(server, 6)
        denied = only(lines, api="admin", error_code="AccessDenied")
        assert field(denied, "operation") == "GET /admin/v1/tiers" and field(denied, "access_key") == "CAMKEY", denied
        wrong = only(lines, api="admin", error_code="SignatureDoesNotMatch")
        assert field(wrong, "operation") == "GET /admin/v1/tiers" and field(wrong, "access_key") == "CAMKEY"
        unknown_key = only(lines, api="admin", error_code="InvalidAccessKeyId")
        assert field(unknown_key, "operation") == "GET /admin/v1/policies" and field(unknown_key, "access_key") == "NOSUCHKEY"
        unsigned = only(lines, api="admin", error_code="MissingSignature")
        assert field(unsigned, "status") == "401" and field(unsigned, "access_key") is None
        no_route = only(lines, api="admin", error_code="NotFound")
        assert field(no_route, "operation") == "unknown" and field(no_route, "access_key") == "depot-test-root"
        metrics = requests.get(f"{server.endpoint}/metrics", timeout=10).text
        assert 'depot_requests_total{api="admin",operation="GET /admin/v1/tiers",status="4xx"} 3' in metrics, metrics
        assert 'depot_requests_total{api="admin",operation="unknown",status="4xx"} 1' in metrics
    finally:
        server.cleanup()


def test_metric_labels_never_carry_a_request_path(tmp_path):
    """The server's own endpoints are `system` under fixed names; a path that merely starts like
    one (`/swagger…`, `/health/…`) is an S3 request and is named by the S3 table. Labels were the
    raw path, so every distinct URL made a new time series."""
    server = start(tmp_path)
    try:
        base = server.endpoint
        for path in ["/swagger-a1b2c3", "/swaggerZZ/x", "/health/xyz-123", "/health/live", "/health/ready",
                     "/openapi.json", "/api/openapi.json", "/swagger/index.html"]:
            requests.get(base + path, timeout=10)
        metrics = requests.get(f"{base}/metrics", timeout=10).text
        labels = set(re.findall(r'operation="([^"]*)"', metrics))
        assert not any("/" in label and not label.startswith(("GET ", "health/")) for label in labels), labels
        assert not any("a1b2c3" in label or "xyz-123" in label or "ZZ" in label for label in labels), labels
        assert 'depot_requests_total{api="system",operation="documentation",status="2xx"} 3' in metrics, metrics
        assert 'depot_requests_total{api="system",operation="health/live",status="2xx"} 1' in metrics
        # The look-alikes went to the S3 front door (an unauthenticated GET of a bucket or object).
        assert re.search(r'depot_requests_total\{api="s3",operation="ListObjects",status="4xx"\} 1', metrics), metrics
        assert re.search(r'depot_requests_total\{api="s3",operation="GetObject",status="4xx"\} 2', metrics), metrics
    finally:
        server.cleanup()
