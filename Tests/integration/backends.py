"""Real backends the tiering tests start on 127.0.0.1, and a TCP proxy to cut them off."""
import socket
import subprocess
import threading
import time

import boto3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Moto:
    """`moto_server` (S3) on a free port, with a bucket `archive` and a boto3 client for it."""

    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                                   aws_access_key_id="tier-key", aws_secret_access_key="tier-secret")
        self.client.create_bucket(Bucket="archive")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class TcpProxy:
    """Forwards 127.0.0.1:port to a target port. `stop()` closes the listener and cuts every
    open connection, as a network outage would; `start()` listens on the same port again. The
    backend behind it keeps running, and keeps its data."""

    def __init__(self, target_port, port=None):
        self.target_port = target_port
        self.port = port or free_port()
        self.listener = None
        self.connections = set()
        self.lock = threading.Lock()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self):
        listener, self.listener = self.listener, None
        if listener:
            # close() alone leaves the accept() blocked in another thread holding the socket, which
            # goes on accepting new connections; shutdown() stops it listening and wakes accept().
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self.lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self.connections.clear()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections.update((client, upstream))
            for source, target, upstream_bound in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(source, target, upstream_bound), daemon=True).start()

    def _pump(self, source, target, upstream_bound):
        """Carries one direction of one connection (`upstream_bound`: the client's side, towards the
        target). The hook for proxies that watch or slow traffic: they override this and hand
        `_pipe` what to do with each read."""
        self._pipe(source, target)

    # Bytes asked of recv() at a time; a proxy that slows traffic reads less, so it moves in small steps.
    READ_SIZE = 262144

    def _pipe(self, source, sink, on_read=None):
        """Copies source to sink until either end closes, then closes both; `on_read(data)` sees each
        read before it goes on (and may sleep to slow the copy)."""
        try:
            while True:
                data = source.recv(self.READ_SIZE)
                if not data:
                    break
                if on_read:
                    on_read(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
