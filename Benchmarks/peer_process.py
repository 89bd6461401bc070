"""What every peer server of the bench shares: starting processes in their own process groups,
stopping every one of them by PID, installing missing packages, and a boto3 round trip.

Only the bench (`make bench-peers`) uses this: `make test` and CI never install or start a peer.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

START_TIMEOUT = float(os.environ.get("PEER_START_TIMEOUT", "180"))
BUCKET = "bench"


class PeerUnavailable(Exception):
    """The peer could not be installed or started: the message says why, for the results table."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as error:  # noqa: BLE001 - the last failure is what the report shows
            last = error
        time.sleep(0.5)
    raise PeerUnavailable(f"{what} not ready after {timeout:.0f} s" + (f" ({last})" if last else ""))


def listening(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def descendants(roots):
    """Every live process whose ancestor is in `roots` (the roots included)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found = {pid for pid in roots if pid in parents}
    changed = True
    while changed:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        changed = bool(more)
        found |= more
    return sorted(found)


def ensure_installed(binaries, apt_packages=(), pip_packages=()):
    """Installs what a peer needs when one of its binaries is missing; PeerUnavailable otherwise."""
    if all(shutil.which(b) for b in binaries):
        return
    if apt_packages:
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise PeerUnavailable(f"missing {', '.join(b for b in binaries if not shutil.which(b))}; "
                                  "apt-get needs root")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        print(f"  installing {' '.join(apt_packages)} (apt-get)", file=sys.stderr, flush=True)
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        out = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *apt_packages], env=env,
                             capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise PeerUnavailable(f"apt-get install failed: {out.stderr.strip()[-300:]}")
    if pip_packages:
        print(f"  installing {' '.join(pip_packages)} (pip)", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *pip_packages], capture_output=True,
                             text=True, timeout=1800)
        if out.returncode != 0:
            raise PeerUnavailable(f"pip install failed: {out.stderr.strip()[-300:]}")
    missing = [b for b in binaries if not shutil.which(b)]
    if missing:
        raise PeerUnavailable(f"{', '.join(missing)} missing after install")


class Peer:
    """A server started from `workdir`; subclasses say what to install, start and which keys work."""
    name = "peer"
    keys = ("bench-key", "bench-secret")

    def __init__(self, workdir):
        self.workdir = os.path.join(workdir, self.name)
        os.makedirs(self.workdir, exist_ok=True)
        self.processes = []
        self.endpoint = None
        self.version = ""

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def spawn(self, name, args, env=None):
        """A long-running server process in its own process group, its output in `name`.log."""
        log = open(self.path(f"{name}.log"), "ab")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, cwd=self.workdir, start_new_session=True)
        log.close()
        process.label = name
        self.processes.append(process)
        return process

    def run(self, args, timeout=120, check=True):
        """A short set-up command; its failure names the command and the end of its output."""
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=self.workdir,
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PeerUnavailable(f"`{' '.join(args[:3])}` timed out after {timeout} s") from None
        if check and out.returncode != 0:
            raise PeerUnavailable(f"`{' '.join(args[:3])}` failed: {(out.stderr or out.stdout).strip()[-300:]}")
        return out.stdout

    def check_running(self):
        for process in self.processes:
            if process.poll() is not None:
                tail = ""
                try:
                    with open(self.path(f"{process.label}.log"), errors="replace") as f:
                        tail = f.read()[-300:].strip()
                except OSError:
                    pass
                raise PeerUnavailable(f"{process.label} exited with {process.returncode}: {tail}")

    def pids(self):
        """The server's processes (their forked workers are found by the CPU sampler)."""
        return [p.pid for p in self.processes if p.poll() is None]

    def stop(self):
        """SIGTERM to every process started (and their children), SIGKILL to any left after 10 s."""
        started = [p for p in self.processes if p.poll() is None]
        tree = descendants([p.pid for p in started])
        for process in reversed(started):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        for process in started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for pid in tree + [p.pid for p in started]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for process in started:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        self.processes = []

    def client(self):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=self.keys[0],
                            aws_secret_access_key=self.keys[1],
                            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30,
                                          s3={"addressing_style": "path"}))

    def create_bucket(self, timeout=60):
        """Creates the bench bucket, retrying while the server finishes starting; then a PUT/GET round trip."""
        client = self.client()

        def create():
            self.check_running()
            try:
                client.create_bucket(Bucket=BUCKET)
            except client.exceptions.BucketAlreadyOwnedByYou:
                pass
            return True
        wait_for(create, f"{self.name}: CreateBucket", timeout)
        body = os.urandom(1000)
        client.put_object(Bucket=BUCKET, Key="probe", Body=body)
        if client.get_object(Bucket=BUCKET, Key="probe")["Body"].read() != body:
            raise PeerUnavailable(f"{self.name}: GET returned other bytes than the PUT")




def debian_version(package):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return out.stdout.split("-")[0].split("+")[0] if out.returncode == 0 else ""


def stop_on_signals():
    """Ctrl-C and SIGTERM both end a run through its finally blocks, which stop every server. (A
    process started in the background by a script inherits SIGINT ignored: take it back.)"""
    def interrupted(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupted)
