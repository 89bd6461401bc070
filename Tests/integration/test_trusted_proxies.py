"""The client's address behind a load balancer (`server.trustedProxies`, README "Three nodes
behind a load balancer"): X-Forwarded-For counts only on a connection from a trusted proxy, read
from the right and only as far as trusted proxies wrote it, so a client cannot choose its
aws:SourceIp by sending the header itself. Shown with an anonymous read that a bucket policy
allows only from 203.0.113.0/24, and with the access log's `client`."""
import http.client
import json

import pytest
import requests

from conftest import DepotServer, run_depot

INSIDE = "203.0.113.7"
OUTSIDE = "198.51.100.9"


def start(tmp_path, trusted):
    config = tmp_path / "depot.yaml"
    config.write_text("server:\n" + (f"  trustedProxies: {json.dumps(trusted)}\n" if trusted else "  region: us-east-1\n"))
    server = DepotServer(config=str(config)).start()
    s3 = server.client()
    s3.create_bucket(Bucket="fwd")
    s3.put_object(Bucket="fwd", Key="clip.mp4", Body=b"only from the site network")
    s3.put_bucket_policy(Bucket="fwd", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::fwd/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}))
    return server


def status(server, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return requests.get(f"{server.endpoint}/fwd/clip.mp4", headers=headers, timeout=10).status_code


@pytest.fixture
def behind_proxy(tmp_path):
    server = start(tmp_path, ["127.0.0.1", "10.0.0.0/8"])
    yield server
    server.cleanup()


def test_a_trusted_proxy_s_x_forwarded_for_names_the_client(behind_proxy):
    assert status(behind_proxy) == 403  # the proxy itself is not on the site network
    assert status(behind_proxy, INSIDE) == 200
    assert status(behind_proxy, OUTSIDE) == 403
    # Trusted hops (127.0.0.1, 10.0.0.0/8) are skipped from the right: the client is the first other one.
    assert status(behind_proxy, f"{OUTSIDE}, {INSIDE}, 10.1.2.3") == 200
    assert status(behind_proxy, f"{INSIDE}, 127.0.0.1") == 200
    logs = behind_proxy.logs()
    assert f"client={INSIDE}" in logs or f'"client":"{INSIDE}"' in logs, logs[-2000:]


def test_what_a_client_writes_left_of_the_trusted_entries_is_never_read(behind_proxy):
    # The client sent "X-Forwarded-For: 203.0.113.7" itself; the balancer appended its address.
    assert status(behind_proxy, f"{INSIDE}, {OUTSIDE}") == 403
    # Two header lines are one list; the last line's entries are the nearest.
    connection = http.client.HTTPConnection("127.0.0.1", behind_proxy.port, timeout=10)
    connection.putrequest("GET", "/fwd/clip.mp4")
    connection.putheader("X-Forwarded-For", INSIDE)
    connection.putheader("X-Forwarded-For", OUTSIDE)
    connection.endheaders()
    assert connection.getresponse().status == 403
    connection.close()
    # An entry that is no address ends the walk at the nearest trusted hop (the proxy).
    assert status(behind_proxy, f"{INSIDE}, not-an-address") == 403
    assert status(behind_proxy, f"not-an-address, {INSIDE}") == 200


def test_without_trusted_proxies_x_forwarded_for_is_ignored(tmp_path):
    server = start(tmp_path, [])
    try:
        assert status(server, INSIDE) == 403
        assert f"client={INSIDE}" not in server.logs() and f'"client":"{INSIDE}"' not in server.logs()
    finally:
        server.cleanup()


def test_a_bad_trusted_proxy_entry_is_refused_naming_it(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text('server:\n  trustedProxies: ["10.0.0.1", "10.0.0.0/33"]\n')
    result = run_depot("config", "check", str(config))
    assert result.returncode == 1
    assert "server.trustedProxies[1]" in result.stderr + result.stdout
