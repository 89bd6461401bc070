"""A private PostgreSQL for cluster-mode tests: `initdb` in a temporary directory, `postgres` on a
free loopback port, stopped and removed at the end. Debian's `postgresql` package provides the
binaries (the Makefile's deps install it). initdb refuses to run as root, so as root the server
runs as the package's `postgres` user (or a `depot-pg` user made here when that is missing)."""
import contextlib
import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import pytest

PG_USER = "depot"
PG_PASSWORD = "cluster-test-Pa55"
PG_DATABASE = "depot"


def postgres_bin_dir():
    """The directory holding initdb, pg_ctl and postgres (the newest Debian version, else PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return os.path.dirname(candidates[-1])
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    raise RuntimeError("PostgreSQL's initdb not found: install Debian's postgresql package (make deps)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_account():
    """The unprivileged account the server runs as when the tests run as root; None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "depot-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "depot-pg"], check=True, capture_output=True)
    return "depot-pg"


class PostgresCluster:
    """One private PostgreSQL server; `dsn` is the postgres:// URL depot's cluster.index takes."""

    def __init__(self, directory=None):
        """`directory`: where its temporary directory goes (default: the system's temp dir)."""
        self.bin = postgres_bin_dir()
        self.account = server_account()
        self.base = tempfile.mkdtemp(prefix="depot-pg-", dir=directory)
        self.data = os.path.join(self.base, "data")
        self.sockets = os.path.join(self.base, "sockets")
        self.log_path = os.path.join(self.base, "postgres.log")
        self.port = free_port()
        os.makedirs(self.sockets)
        if self.account:
            # The temporary directory is root's, mode 0700: the server's account needs its own.
            info = pwd.getpwnam(self.account)
            for path in (self.base, self.sockets):
                os.chown(path, info.pw_uid, info.pw_gid)
        self.dsn = f"postgres://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.port}/{PG_DATABASE}"

    def _run(self, *args, timeout=60):
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if self.account:
            command = ["runuser", "-u", self.account, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr}{self.logs()}")
        return result

    def create(self):
        password_file = os.path.join(self.base, "password")
        with open(password_file, "w") as f:
            f.write(PG_PASSWORD + "\n")
        if self.account:
            info = pwd.getpwnam(self.account)
            os.chown(password_file, info.pw_uid, info.pw_gid)
        # Password (SCRAM) over TCP, the way depot connects; trust on the private socket, for setup.
        self._run(
            "initdb", "-D", self.data, "-U", PG_USER, f"--pwfile={password_file}", "--auth-host=scram-sha-256",
            "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        os.remove(password_file)
        self.start()
        self._run("createdb", "-h", self.sockets, "-p", str(self.port), "-U", PG_USER, PG_DATABASE)
        return self

    def start(self):
        # fsync off and small buffers: a throwaway test server, started and stopped in seconds.
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=60")
        self._run("pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "30", "-o", options, "start")

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop")

    def psql(self, sql, database=PG_DATABASE):
        """Runs SQL over the private socket; returns the unaligned, tuples-only output."""
        return self._run(
            "psql", "-h", self.sockets, "-p", str(self.port), "-U", PG_USER, "-d", database, "-X", "-A", "-t",
            "-v", "ON_ERROR_STOP=1", "-c", sql).stdout.strip()

    def logs(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def destroy(self):
        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL server for the module's tests (one initdb per module, ~2 s)."""
    cluster = PostgresCluster().create()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def fresh_database(postgres):
    """A new, empty database on the module's server; yields its DSN."""
    name = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {name}")
    yield postgres.dsn.rsplit("/", 1)[0] + "/" + name


# Where chunks_section puts the packs: moto's bucket, and the key prefix of the packs in it.
PACK_BUCKET = "depot-chunks"
PACKS = "site-a/packs/"


def chunks_section(moto, cache):
    """The `chunks:` and `cache:` lines of a cluster section: packs in moto's PACK_BUCKET under
    site-a/, a 64 MiB read cache at `cache` (append to cluster_config's section)."""
    return (
        "  chunks:\n"
        f"    endpoint: {moto.endpoint}\n"
        f"    bucket: {PACK_BUCKET}\n"
        "    accessKey: tier-key\n"
        "    secretKey: tier-secret\n"
        "    prefix: site-a/\n"
        "  cache:\n"
        f"    path: {cache}\n"
        "    size: 64MiB\n")


def cluster_key_file(path, dsn):
    """Writes the test cluster's key for `dsn` at `path` (`cluster.keyFile`): derived from the
    database's name, so every node of one test cluster gets the same key (nodes with another key
    refuse to start, ClusterKeyCheck) and each cluster another one."""
    database = dsn.rsplit("/", 1)[-1]
    with open(path, "w") as f:
        f.write(hashlib.sha256(f"depot-test-cluster-key:{database}".encode()).hexdigest() + "\n")
    os.chmod(path, 0o600)
    return str(path)


def cluster_config(path, dsn, node, extra="", key_file=None):
    """Writes a configuration file whose cluster section points at `dsn`; returns its path. The
    cluster key is `key_file`, else the test cluster's key for `dsn` (cluster_key_file), written
    beside the file."""
    key_file = key_file or cluster_key_file(str(path) + ".key", dsn)
    with open(path, "w") as f:
        f.write(f"cluster:\n  index: \"{dsn}\"\n  node: {node}\n  keyFile: {key_file}\n{extra}")
    return str(path)


def new_database(postgres):
    """Creates an empty database on `postgres`; returns its name and DSN."""
    name = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {name}")
    return name, postgres.dsn.rsplit("/", 1)[0] + "/" + name


class StartedCluster:
    """What `cluster_nodes` started: the index database on `postgres` (name and DSN), moto holding
    the packs, the nodes and their configuration files, and the TcpProxy the nodes reach the index
    through, when they were asked to (None otherwise)."""

    def __init__(self, postgres, database, dsn, moto, nodes, configs, proxy=None):
        self.postgres, self.database, self.dsn = postgres, database, dsn
        self.moto, self.nodes, self.configs = moto, nodes, configs
        self.proxy = proxy

    def sql(self, query):
        """Runs SQL on the cluster's index database; returns psql's unaligned, tuples-only output."""
        return self.postgres.psql(query, database=self.database)

    def registered(self):
        """The names of the nodes in the registry (`depot_nodes`); empty before the first node made it."""
        try:
            return set(self.sql("SELECT name FROM depot_nodes").split())
        except RuntimeError:  # the first node has not migrated the schema yet
            return set()

    def wait_until_registered(self, names, timeout=30):
        """Waits until every node of `names` is in the registry. A node answers HTTP before its first
        heartbeat registers it (registration waits for the listener, then migrates and inserts), so a
        test reading the registry right after the start could miss a node (CI saw that once)."""
        from waiting import wait_for

        wait_for(lambda: set(names) <= self.registered() or None, timeout, f"nodes {names} registered")

    def packs(self):
        """{key: size} of every pack in the store."""
        found = {}
        for page in self.moto.client.get_paginator("list_objects_v2").paginate(Bucket=PACK_BUCKET, Prefix=PACKS):
            for item in page.get("Contents", []):
                found[item["Key"]] = item["Size"]
        return found


@contextlib.contextmanager
def cluster_nodes(postgres, tmp_path_factory, names, extra="", extra_env=None, index_through_proxy=False):
    """The nodes `names` of one new cluster, started: a fresh database on `postgres` as the index,
    moto_server as the chunk store (bucket depot-chunks), each node in a directory of its own with
    `chunks_section` plus `extra` (text, or a function of the node's name, its directory and moto)
    after its cluster section. With `index_through_proxy`, the nodes reach PostgreSQL through a TcpProxy
    (`proxy.stop()` is an index outage). Yields a StartedCluster; every node, the proxy and moto
    are stopped at the end."""
    from backends import Moto, TcpProxy
    from conftest import DepotServer

    database, dsn = new_database(postgres)
    proxy = None
    if index_through_proxy:
        proxy = TcpProxy(postgres.port).start()
        dsn = f"{dsn.rsplit('@', 1)[0]}@127.0.0.1:{proxy.port}/{database}"
    moto = Moto()
    nodes, configs = [], []
    try:
        moto.client.create_bucket(Bucket=PACK_BUCKET)
        for name in names:
            directory = tmp_path_factory.mktemp(name)
            more = extra(name, directory, moto) if callable(extra) else extra
            configs.append(cluster_config(directory / "depot.yaml", dsn, name,
                                          chunks_section(moto, directory / "cache") + more))
            nodes.append(DepotServer(config=configs[-1], extra_env=extra_env).start())
        started = StartedCluster(postgres, database, dsn, moto, nodes, configs, proxy)
        started.wait_until_registered(names)
        yield started
    finally:
        for node in nodes:
            node.cleanup()
        if proxy:
            proxy.stop()
        moto.stop()


def run_swift_suites(suites, timeout, **env):
    """Runs the Swift Testing suites matching `suites` (a --filter pattern) from the test bundle the
    same build made beside DEPOT_BIN (`swift build --build-tests`; `make test` does), with `env` added
    to the environment (the database a PostgreSQL suite may use); asserts that the run succeeded with
    no failed test and returns its output for the caller's own checks."""
    from conftest import DEPOT_BIN, REPO

    bundle = os.path.join(os.path.dirname(DEPOT_BIN), "depotPackageTests.xctest")
    assert os.path.exists(bundle), f"{bundle} not built: run swift build --build-tests"
    result = subprocess.run(
        [bundle, "--testing-library", "swift-testing", "--filter", suites],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, env=dict(os.environ, NO_COLOR="1", **env))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "✘" not in output, output[-6000:]
    return output


def roll_back_migrations(sql, first):
    """Puts a migrated index back as a depot before migration `first` left it: undoes the schema of
    `first` and every later migration, newest first, and forgets them (`sql` runs one statement on
    the index's database). The one place that knows what each migration added."""
    assert first in (4, 5), f"no roll-back written for migration {first}"
    sql("ALTER TABLE depot_tasks DROP COLUMN key_group")  # 5
    sql("DROP FUNCTION depot_task_key_group(bytea)")  # 5
    if first <= 4:
        sql("DROP SEQUENCE depot_sequence")
    sql(f"DELETE FROM depot_schema_migrations WHERE version >= {first}")
