"""DEPOT_TEST_CLUSTER=1 runs the ordinary integration tests against a cluster node (issue 21 item 5:
everything works unchanged in cluster mode). Every `DepotServer` then starts `depot serve` with a
`cluster:` section appended to its configuration: its own fresh database on one private
PostgreSQL for the session (cluster_support.PostgresCluster), its own prefix in one moto_server
bucket as the chunk store, and its own read cache. The test's configuration is otherwise kept as
it is, so the same test modules run in both modes (the Makefile's `test` target runs a list of
them this way after the normal run). A configuration that has a cluster section already (the
test_cluster_* modules) is left alone."""
import atexit
import os
import re
import shutil
import tempfile
import threading

ENABLED = os.environ.get("DEPOT_TEST_CLUSTER") == "1"

_lock = threading.Lock()
_shared = {}


def _backends():
    """The session's PostgreSQL and moto_server, started on first use, stopped at exit."""
    with _lock:
        if not _shared:
            from backends import Moto
            from cluster_support import PostgresCluster

            postgres = PostgresCluster(directory=_memory_directory()).create()
            atexit.register(postgres.destroy)
            moto = Moto()
            atexit.register(moto.stop)
            moto.client.create_bucket(Bucket="depot-chunks")
            _shared.update(postgres=postgres, moto=moto)
        return _shared["postgres"], _shared["moto"]


def _memory_directory():
    """/dev/shm when it has room to spare, else None (the temp dir). Every server gets its own
    database, about 300 files and 8 MB each; on a disk, removing a run's hundred of them at the
    end took longer than a minute and a half, on tmpfs it takes a moment."""
    try:
        stats = os.statvfs("/dev/shm")
    except OSError:
        return None
    return "/dev/shm" if stats.f_bavail * stats.f_frsize >= 4 << 30 else None


def has_cluster_section(text):
    return re.search(r"^cluster\s*:", text, re.MULTILINE) is not None


def node_config(server):
    """The configuration file `server` starts with in cluster mode (written next to its data
    directory on every start, so a test that rewrote its configuration before a restart is
    followed). The database and the pack prefix are the server's for its whole life: a restart
    finds what it wrote before."""
    from cluster_support import chunks_section, cluster_config

    original = ""
    if server.config:
        with open(server.config) as f:
            original = f.read()
        if has_cluster_section(original):
            return server.config
    postgres, moto = _backends()
    state = getattr(server, "cluster_state", None)
    if state is None:
        database = "t" + os.urandom(6).hex()
        postgres.psql(f"CREATE DATABASE {database}")
        state = {
            "database": database,
            "dsn": postgres.dsn.rsplit("/", 1)[0] + "/" + database,
            "directory": tempfile.mkdtemp(prefix="depot-cluster-node-"),
        }
        atexit.register(shutil.rmtree, state["directory"], True)
        server.cluster_state = state
    chunks = chunks_section(moto, os.path.join(state["directory"], "cache")).replace(
        "prefix: site-a/", f"prefix: {state['database']}/")
    path = os.path.join(state["directory"], "depot.yaml")
    cluster_config(path, state["dsn"], "node-" + state["database"], chunks)
    with open(path) as f:
        section = f.read()
    with open(path, "w") as f:
        f.write(original.rstrip("\n") + "\n" + section if original.strip() else section)
    return path


def sql(server, query):
    """Runs SQL in the server's cluster database (tests that look at the shared index)."""
    postgres, _ = _backends()
    return postgres.psql(query, database=server.cluster_state["database"])
