"""The depot command: configuration check, port 0, graceful shutdown."""
import io
import os
import signal
import threading
import time

from conftest import REPO, DepotServer, run_depot


def test_config_check_accepts_default_and_names_bad_field(tmp_path):
    default = os.path.join(REPO, "Config", "depot.yaml")
    ok = run_depot("config", "check", default)
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(open(default).read().replace("min: 256KiB", "min: -1"))
    bad = run_depot("config", "check", str(broken))
    assert bad.returncode == 1
    assert "storage.chunking.min" in bad.stderr + bad.stdout
    typo = tmp_path / "typo.yaml"
    typo.write_text("server:\n  adress: 127.0.0.1:9000\n")
    bad = run_depot("config", "check", str(typo))
    assert bad.returncode == 1 and "server.adress" in bad.stderr + bad.stdout
    for example in os.listdir(os.path.join(REPO, "Config", "examples")):
        env = dict(os.environ, CAM1_SECRET="camera-secret", ML_SECRET="worker-secret")
        import subprocess
        from conftest import DEPOT_BIN
        r = subprocess.run([DEPOT_BIN, "config", "check", os.path.join(REPO, "Config", "examples", example)],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0, example + r.stderr


def test_embedded_default_matches_config_file():
    printed = run_depot("config", "default", check=True).stdout
    assert printed == open(os.path.join(REPO, "Config", "depot.yaml")).read()


def test_port_zero_prints_the_real_port(depot):
    assert depot.port > 0
    import socket
    with socket.create_connection(("127.0.0.1", depot.port), timeout=5):
        pass


def test_sigterm_lets_an_upload_in_flight_finish_or_fail_cleanly(tmp_path):
    server = DepotServer(data_dir=str(tmp_path / "data")).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="graceful")
        data = os.urandom(64 * 1024 * 1024)
        outcome = {}

        class Body(io.BytesIO):
            """Sends SIGTERM to the server once the upload (botocore's second pass over the
            body, after computing its CRC32) is under way."""

            def __init__(self):
                super().__init__(data)
                self.passes = 0
                self.signalled = False

            def read(self, n=-1):
                if self.tell() == 0:
                    self.passes += 1
                if n is None or n < 0 or n > 1024 * 1024:
                    n = 1024 * 1024
                if self.passes >= 2 and self.tell() >= 4 * 1024 * 1024 and not self.signalled:
                    self.signalled = True
                    server.process.send_signal(signal.SIGTERM)
                    time.sleep(0.2)
                return super().read(n)

        def upload():
            try:
                s3.put_object(Bucket="graceful", Key="in-flight", Body=Body())
                outcome["ok"] = True
            except Exception as e:
                outcome["error"] = e

        t = threading.Thread(target=upload)
        t.start()
        t.join(timeout=120)
        assert server.process.wait(timeout=60) == 0
        server.start()
        s3 = server.client()
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket="graceful").get("Contents", [])]
        if outcome.get("ok"):
            assert s3.get_object(Bucket="graceful", Key="in-flight")["Body"].read() == data
        else:
            assert listed == [] or s3.get_object(Bucket="graceful", Key="in-flight")["Body"].read() == data
    finally:
        server.cleanup()


def test_health_endpoints(depot):
    import requests
    assert requests.get(depot.endpoint + "/health/live", timeout=5).status_code == 200
    ready = requests.get(depot.endpoint + "/health/ready", timeout=5)
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
