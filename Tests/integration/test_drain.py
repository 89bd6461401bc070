"""A graceful stop behind a load balancer (README "Rolling restart"): on SIGTERM a node whose
readiness was probed lately first fails its readiness probes for `server.drainDelay` while it
still serves every request (so a balancer takes it out of rotation before it stops taking
connections), then closes its listener and exits once the requests in flight are done. Nobody
probing readiness: nobody to tell, the stop begins at once. A second SIGTERM skips the delay."""
import http.client
import json
import os
import signal
import socket
import time

import pytest

from conftest import DepotServer, run_depot


def probe(server, path):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def node(tmp_path, delay):
    config = tmp_path / "depot.yaml"
    config.write_text(f"server:\n  drainDelay: {delay}\n")
    return DepotServer(config=str(config)).start()


def wait_exit(server, bound):
    started = time.time()
    server.process.wait(timeout=bound)
    return time.time() - started


def test_a_stopping_node_fails_readiness_but_serves_requests_for_the_drain_delay_then_exits(tmp_path):
    server = node(tmp_path, "4s")
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="drain")
        assert probe(server, "/health/ready")[0] == 200  # a balancer is watching
        signalled = time.time()
        server.process.send_signal(signal.SIGTERM)
        deadline = time.time() + 2
        while probe(server, "/health/ready")[0] != 503:
            assert time.time() < deadline, "readiness did not fail after SIGTERM"
            time.sleep(0.05)
        status, body = probe(server, "/health/ready")
        assert status == 503 and json.loads(body)["reason"] == "the node is shutting down"
        assert probe(server, "/minio/health/ready")[0] == 503
        assert probe(server, "/minio/health/cluster")[0] == 503
        assert probe(server, "/health/live")[0] == 200  # alive: nothing should restart it
        # Requests still arriving (the balancer has not seen the probe fail yet) are served.
        s3.put_object(Bucket="drain", Key="during-drain.mp4", Body=b"late but welcome")
        assert s3.get_object(Bucket="drain", Key="during-drain.mp4")["Body"].read() == b"late but welcome"
        assert time.time() - signalled < 3.5, "the check ran too late to prove anything"
        server.process.wait(timeout=20)
        elapsed = time.time() - signalled
        assert server.process.returncode == 0
        assert 3.8 <= elapsed < 12, elapsed
        assert "readiness now fails; serving 4 s more" in server.logs()
        # What was written during the drain is committed: it is there after a restart.
        server.start()
        assert server.client().get_object(Bucket="drain", Key="during-drain.mp4")["Body"].read() == b"late but welcome"
    finally:
        server.cleanup()


def test_without_readiness_probes_a_stop_does_not_wait(tmp_path):
    server = node(tmp_path, "20s")
    try:
        server.client().list_buckets()
        server.process.send_signal(signal.SIGTERM)
        assert wait_exit(server, 15) < 5
        assert server.process.returncode == 0
        assert "readiness now fails" not in server.logs()
    finally:
        server.cleanup()


def test_a_second_sigterm_skips_the_rest_of_the_drain_delay(tmp_path):
    server = node(tmp_path, "60s")
    try:
        assert probe(server, "/minio/health/ready")[0] == 200  # MinIO's probe counts as watching too
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert probe(server, "/health/ready")[0] == 503
        server.process.send_signal(signal.SIGTERM)
        assert wait_exit(server, 20) < 8
        assert server.process.returncode == 0
        assert "second stop signal: stopping now" in server.logs()
    finally:
        server.cleanup()


def test_drain_settings_are_checked_naming_the_field(tmp_path):
    for field, value in [("drainTimeout", "0s"), ("drainDelay", "soon")]:
        config = tmp_path / f"{field}.yaml"
        config.write_text(f"server:\n  {field}: {value}\n")
        result = run_depot("config", "check", str(config))
        assert result.returncode == 1
        assert f"server.{field}" in result.stderr + result.stdout


def test_an_upload_in_flight_outlives_the_drain_delay_and_the_listener_and_is_stored(tmp_path):
    server = node(tmp_path, "1s")
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="drain")
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "drain", "Key": "slow.mp4"}, ExpiresIn=300)
        path = url.split(str(server.port), 1)[1]
        body = os.urandom(24 * 65536)
        assert probe(server, "/health/ready")[0] == 200
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.putrequest("PUT", path)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        started = time.time()
        for index in range(24):  # about 3 s of upload
            if index == 2:
                server.process.send_signal(signal.SIGTERM)
            if index == 18:
                # The drain delay is over: the listener is closed while this upload goes on.
                with pytest.raises(OSError):
                    socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
            connection.send(body[index * 65536:(index + 1) * 65536])
            time.sleep(0.125)
        response = connection.getresponse()
        answered = time.time() - started
        assert response.status == 200, response.read()
        assert answered > 2.5
        server.process.wait(timeout=20)
        assert server.process.returncode == 0
        server.start()
        assert server.client().get_object(Bucket="drain", Key="slow.mp4")["Body"].read() == body
    finally:
        server.cleanup()
