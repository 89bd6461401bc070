"""Integration harness: starts the real `depot serve` on 127.0.0.1 with a free port and a
temporary data directory, and gives tests real clients (boto3, awscli, raw sockets)."""
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import boto3
import pytest
from botocore.config import Config

import cluster_mode

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPOT_BIN = os.environ.get("DEPOT_BIN", os.path.join(REPO, ".build", "release", "depot"))
ROOT_USER = "depot-test-root"
ROOT_PASSWORD = "test-secret-Pa55word"


def run_depot(*args, timeout=600, check=False, env=None):
    """Runs a depot subcommand; returns the CompletedProcess (text output). With `env`, those
    variables are added, and the root credentials are there for the admin commands."""
    if not os.path.exists(DEPOT_BIN):
        raise RuntimeError(f"depot binary not found at {DEPOT_BIN}: build it with `swift build -c release --product depot`")
    full_env = None
    if env is not None:
        full_env = dict(os.environ, DEPOT_ROOT_USER=ROOT_USER, DEPOT_ROOT_PASSWORD=ROOT_PASSWORD, **env)
    return subprocess.run([DEPOT_BIN, *args], capture_output=True, text=True, timeout=timeout, check=check, env=full_env)


class DepotServer:
    """One `depot serve` process on its own data directory."""

    def __init__(self, data_dir=None, config=None, extra_env=None, address="127.0.0.1:0"):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="depot-data-")
        # A fixed port (instead of 0) lets a test restart the server where a peer still points.
        self.address = address
        self.config = config
        self.extra_env = extra_env or {}
        self.process = None
        self.endpoint = None
        self.port = None
        self.log_path = os.path.join(tempfile.gettempdir(), f"depot-{uuid.uuid4().hex[:8]}.log")

    def start(self, timeout=30):
        if not os.path.exists(DEPOT_BIN):
            raise RuntimeError(f"depot binary not found at {DEPOT_BIN}")
        env = dict(os.environ, DEPOT_ROOT_USER=ROOT_USER, DEPOT_ROOT_PASSWORD=ROOT_PASSWORD, **self.extra_env)
        args = [DEPOT_BIN, "serve", "--address", self.address, "--data", self.data_dir]
        # DEPOT_TEST_CLUSTER=1: the same server as a cluster node (cluster_mode.py says how).
        config = cluster_mode.node_config(self) if cluster_mode.ENABLED else self.config
        # What offline commands on this server's store are given (`--config`), in either mode.
        self.config_in_use = config
        if config:
            args += ["--config", config]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.process.stdout.readline().decode()
            if not line:
                if self.process.poll() is not None:
                    raise RuntimeError(f"depot exited with {self.process.returncode}: {self.logs()}")
                continue
            if line.startswith("depot listening on "):
                self.endpoint = line.split()[-1].strip()
                self.port = int(self.endpoint.rsplit(":", 1)[1])
                return self
        raise RuntimeError(f"depot did not start in {timeout}s: {self.logs()}")

    def logs(self):
        """The server's whole log (tests search it for lines; with one access line per request a
        tail would lose them)."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    @property
    def pid(self):
        return self.process.pid

    def rss_bytes(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self, timeout=30):
        """Graceful stop (SIGTERM); returns the exit code."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def kill9(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self):
        self.stop()
        return self.start()

    def client(self, **config):
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=ROOT_USER, aws_secret_access_key=ROOT_PASSWORD,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1},
                          connect_timeout=10, read_timeout=120, **config))

    def cleanup(self):
        self.kill9()
        if self.log and not self.log.closed:
            self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture
def depot(request):
    server = DepotServer().start()
    yield server
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        print(server.logs())
    server.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def s3(depot):
    return depot.client()


@pytest.fixture
def bucket(s3):
    name = "test-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name


def aws_env(depot, tmp_path, multipart_threshold="8MB"):
    """Environment for the awscli subprocess: credentials and a config file of its own."""
    config = tmp_path / "aws-config"
    config.write_text(f"[default]\nregion = us-east-1\ns3 =\n  multipart_threshold = {multipart_threshold}\n")
    return dict(os.environ, AWS_ACCESS_KEY_ID=ROOT_USER, AWS_SECRET_ACCESS_KEY=ROOT_PASSWORD,
                AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(config),
                AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"))


@contextlib.contextmanager
def tmpfs(path, options):
    """A tmpfs of its own mounted on `path` (created), for tests that fill a device; mounting
    needs root, so the test is skipped where it cannot."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a small tmpfs needs root: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MiB device: a few segments fill it."""
    with tmpfs(tmp_path / "disk", "size=24m") as disk:
        yield disk
