"""Issue 14 #4: keys a filesystem tier cannot hold as they are must not stall the tier for
everybody. `..` and `.` segments are escaped (`%2E%2E`, `%2E`, and `%` as `%25`) so their copies
succeed; keys no file can stand for (an empty segment, e.g. a folder marker ending in `/`) are
FAILED at once with their reason, visible through the admin API; the circuit breaker never opens
and ordinary objects replicate at once."""
import os
import time

from admin_client import Admin
from conftest import DepotServer


def config(tmp_path, nas):
    path = tmp_path / "depot.yaml"
    path.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}", concurrency: 4 }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [nas] }} }}
""")
    return str(path)


def status(s3, key):
    return s3.head_object(Bucket="rec", Key=key).get("ReplicationStatus")


def wait_settled(s3, keys, timeout):
    deadline = time.time() + timeout
    current = {}
    while time.time() < deadline:
        current = {key: status(s3, key) for key in keys}
        if all(v in ("COMPLETED", "FAILED") for v in current.values()):
            return current
        time.sleep(0.2)
    raise AssertionError(f"not settled after {timeout}s: { {k: v for k, v in current.items() if v not in ('COMPLETED', 'FAILED')} }")


def test_dot_dot_keys_are_escaped_and_do_not_trip_the_breaker(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    server = DepotServer(config=config(tmp_path, nas)).start()
    try:
        s3 = server.client()
        odd = [f"cam/../escape-{i}.mp4" for i in range(18)] + ["cam/./here.mp4", "100%/../x.mp4"]
        for key in odd:
            s3.put_object(Bucket="rec", Key=key, Body=key.encode())
        markers = ["folder/", "a//b.mp4"]
        for key in markers:
            s3.put_object(Bucket="rec", Key=key, Body=b"m")
        ordinary = [f"cam/ok-{i}.mp4" for i in range(5)]
        started = time.time()
        for key in ordinary:
            s3.put_object(Bucket="rec", Key=key, Body=key.encode())
        states = wait_settled(s3, ordinary, timeout=10)
        assert set(states.values()) == {"COMPLETED"}, states
        assert time.time() - started < 10

        states = wait_settled(s3, odd + markers, timeout=20)
        assert all(states[key] == "COMPLETED" for key in odd), states
        assert all(states[key] == "FAILED" for key in markers), states
        # The escaped copies stay under the tier's directory, one file per key.
        assert (nas / "cam" / "%2E%2E" / "escape-0.mp4").read_bytes() == b"cam/../escape-0.mp4"
        assert (nas / "cam" / "%2E" / "here.mp4").read_bytes() == b"cam/./here.mp4"
        assert (nas / "100%25" / "%2E%2E" / "x.mp4").read_bytes() == b"100%/../x.mp4"
        assert not any(name.startswith("escape-") for name in os.listdir(nas))

        admin = Admin(server.endpoint)
        code, failed = admin.get("/admin/v1/replication/failed")
        assert code == 200
        reasons = {f["key"]: f["lastError"] for f in failed["failed"]}
        assert set(reasons) == set(markers)
        assert all("empty path segment" in reason for reason in reasons.values())
        # The breaker never opened: a new object still replicates at once.
        s3.put_object(Bucket="rec", Key="cam/after.mp4", Body=b"after")
        assert wait_settled(s3, ["cam/after.mp4"], timeout=5) == {"cam/after.mp4": "COMPLETED"}
    finally:
        server.cleanup()


def test_an_evicted_object_with_dot_dot_is_read_back_through_its_escaped_path(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    path = tmp_path / "depot.yaml"
    path.write_text(f"""
storage: {{ lifecycleInterval: 1s }}
buckets: [rec]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
policies:
  - {{ name: archive, match: {{ bucket: rec, prefix: "old/" }}, replicate: {{ to: [nas] }}, transition: {{ after: 7d }} }}
""")
    server = DepotServer(config=str(path), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    try:
        s3 = server.client()
        body = os.urandom(100_000)
        s3.put_object(Bucket="rec", Key="old/../a/./clip.mp4", Body=body)
        deadline = time.time() + 30
        local = None
        while time.time() < deadline:
            headers = s3.head_object(Bucket="rec", Key="old/../a/./clip.mp4")["ResponseMetadata"]["HTTPHeaders"]
            local = headers.get("x-depot-local-copy")
            if local == "evicted":
                break
            time.sleep(0.2)
        assert local == "evicted"
        assert (nas / "old" / "%2E%2E" / "a" / "%2E" / "clip.mp4").read_bytes() == body
        assert s3.get_object(Bucket="rec", Key="old/../a/./clip.mp4")["Body"].read() == body
    finally:
        server.cleanup()


class RefusingStore:
    """A minimal S3 endpoint: stores PUTs (answering the MD5 ETag S3 gives), except keys with
    `refused` in them, which get a 400 InvalidArgument as a cloud answers a request it will
    never take."""

    def __init__(self):
        import hashlib
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        stored = self.stored = {}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if "refused" in self.path:
                    reply = b"<Error><Code>InvalidArgument</Code><Message>not this key</Message></Error>"
                    self.send_response(400)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                stored[self.path] = body
                self.send_response(200)
                self.send_header("ETag", '"' + hashlib.md5(body).hexdigest() + '"')
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_cloud_4xx_for_one_object_fails_that_copy_and_not_the_tier(tmp_path):
    store = RefusingStore()
    path = tmp_path / "depot.yaml"
    path.write_text(f"""
buckets: [rec]
tiers:
  - {{ name: cloud, type: s3, endpoint: "http://127.0.0.1:{store.port}", bucket: archive, accessKey: k, secretKey: s,
       concurrency: 4 }}
policies:
  - {{ name: all, match: {{ bucket: rec }}, replicate: {{ to: [cloud] }} }}
""")
    server = DepotServer(config=str(path)).start()
    try:
        s3 = server.client()
        refused = [f"cam/refused-{i}.mp4" for i in range(20)]
        for key in refused:
            s3.put_object(Bucket="rec", Key=key, Body=b"r")
        ordinary = [f"cam/ok-{i}.mp4" for i in range(5)]
        for key in ordinary:
            s3.put_object(Bucket="rec", Key=key, Body=key.encode())
        states = wait_settled(s3, refused + ordinary, timeout=10)
        assert all(states[key] == "FAILED" for key in refused), states
        assert all(states[key] == "COMPLETED" for key in ordinary), states
        code, failed = Admin(server.endpoint).get("/admin/v1/replication/failed")
        assert code == 200
        assert sorted(f["key"] for f in failed["failed"]) == sorted(refused)
        assert all("HTTP 400" in f["lastError"] and f["attempts"] == 1 for f in failed["failed"])
        s3.put_object(Bucket="rec", Key="cam/after.mp4", Body=b"after")
        assert wait_settled(s3, ["cam/after.mp4"], timeout=5) == {"cam/after.mp4": "COMPLETED"}
    finally:
        server.cleanup()
        store.stop()
