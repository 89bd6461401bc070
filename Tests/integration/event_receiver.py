"""A webhook receiver for the event tests: records every POST (path, headers, body) and can be
stopped and started again on the same port, or told to fail."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from backends import free_port


class Receiver:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.received = []
        self.lock = threading.Lock()
        self.status = 200
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if receiver.status == 200:
                    with receiver.lock:
                        receiver.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def bodies(self, path=None):
        with self.lock:
            return [json.loads(body) for p, _, body in self.received if path is None or p == path]

    def messages(self, path=None):
        with self.lock:
            return [(headers, body) for p, headers, body in self.received if path is None or p == path]
