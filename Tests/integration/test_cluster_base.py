"""Cluster mode's base (issue 21): `depot cluster init|status|nodes` against a real, private
PostgreSQL, the schema's migrations, the node registry and its heartbeat, and a database
outage that the server rides out."""
import json
import re
import subprocess
import time

import requests

from cluster_support import PostgresCluster, cluster_config, fresh_database, postgres  # noqa: F401 (fixtures)
from conftest import DEPOT_BIN, DepotServer, run_depot


def init(dsn):
    return run_depot("cluster", "init", "--index", dsn, timeout=90)


def status(dsn):
    result = run_depot("cluster", "status", "--index", dsn, "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_for_node(dsn, name, fresh_within=5.0, timeout=30):
    """The node's row once its heartbeat is younger than `fresh_within` seconds."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = status(dsn)
        for node in last["nodes"]:
            if node["name"] == name and node["heartbeatAgeSeconds"] is not None and node["heartbeatAgeSeconds"] < fresh_within:
                return node
        time.sleep(0.5)
    raise AssertionError(f"node {name} has no fresh heartbeat after {timeout}s: {last}")


def test_init_creates_the_schema_once_and_a_second_run_has_nothing_to_do(postgres, fresh_database):
    first = init(fresh_database)
    assert first.returncode == 0, first.stderr
    assert "applied migration 1" in first.stdout
    # Every migration this depot knows, each applied once (later migrations append to the list).
    latest = int(re.search(r"schema version (\d+)", first.stdout).group(1))
    assert latest >= 1 and f"applied migration {latest}" in first.stdout, first.stdout
    database = fresh_database.rsplit("/", 1)[1]
    tables = postgres.psql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", database)
    names = set(tables.split())
    assert {"depot_schema_migrations", "depot_nodes", "depot_objects", "depot_buckets", "depot_completed_uploads"} <= names
    # The index tables are ordered key-value tables with bytea keys (bytewise order, as LMDB).
    columns = postgres.psql(
        "SELECT column_name || ':' || data_type FROM information_schema.columns WHERE table_name = 'depot_objects' "
        "ORDER BY ordinal_position", database)
    assert columns.split() == ["k:bytea", "v:bytea"]

    second = init(fresh_database)
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout and f"schema version {latest}" in second.stdout
    assert "applied" not in second.stdout
    assert postgres.psql("SELECT count(*) FROM depot_schema_migrations", database) == str(latest)


def test_two_inits_at_once_both_succeed_and_apply_each_migration_once(postgres, fresh_database):
    runs = [
        subprocess.Popen([DEPOT_BIN, "cluster", "init", "--index", fresh_database], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=90) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    applied = [out for out, _ in outputs if "applied migration 1" in out]
    assert len(applied) == 1, outputs
    latest = int(re.search(r"schema version (\d+)", applied[0]).group(1))
    database = fresh_database.rsplit("/", 1)[1]
    assert postgres.psql("SELECT count(*) FROM depot_schema_migrations", database) == str(latest)


def test_a_serving_node_registers_and_keeps_a_fresh_heartbeat(fresh_database, tmp_path):
    config = cluster_config(tmp_path / "depot.yaml", fresh_database, "node-a")
    server = DepotServer(config=config).start()
    try:
        # No `depot cluster init` first: a node brings the schema up itself.
        node = wait_for_node(fresh_database, "node-a")
        assert node["alive"] is True
        assert node["address"] == server.endpoint
        first_age = node["heartbeatAgeSeconds"]
        time.sleep(4)
        # Beats keep coming (every 3 s): the age stays small instead of growing with time.
        node = wait_for_node(fresh_database, "node-a")
        assert node["heartbeatAgeSeconds"] < 4, (first_age, node)
        text = run_depot("cluster", "status", "--index", fresh_database, timeout=60)
        assert text.returncode == 0, text.stderr
        assert re.search(r"schema version \d+", text.stdout) and "node-a" in text.stdout and "alive" in text.stdout
        listed = run_depot("cluster", "nodes", "--config", config, timeout=60)
        assert listed.returncode == 0, listed.stderr
        assert "node-a" in listed.stdout and server.endpoint in listed.stdout
    finally:
        server.cleanup()


def test_a_bad_cluster_index_is_refused_at_start_naming_the_field(tmp_path):
    config = cluster_config(tmp_path / "depot.yaml", "mysql://u:topsecret@127.0.0.1:3306/depot", "node-a")
    result = subprocess.run(
        [DEPOT_BIN, "serve", "--config", config, "--address", "127.0.0.1:0", "--data", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "cluster.index" in result.stderr and "postgres://" in result.stderr, result.stderr
    assert "topsecret" not in result.stderr
    refused = run_depot("cluster", "init", "--config", config, timeout=30)
    assert refused.returncode != 0 and "cluster.index" in refused.stderr, refused.stderr


def test_the_server_rides_out_a_database_outage_and_its_heartbeat_resumes(tmp_path):
    database = PostgresCluster().create()
    server = None
    try:
        config = cluster_config(tmp_path / "depot.yaml", database.dsn, "node-outage")
        server = DepotServer(config=config).start()
        wait_for_node(database.dsn, "node-outage")
        database.stop()
        # Unreachable: the command fails, quickly and saying so, instead of hanging.
        started = time.time()
        down = run_depot("cluster", "status", "--index", database.dsn, timeout=60)
        assert down.returncode != 0 and "cluster index" in down.stderr, down.stderr
        assert time.time() - started < 8
        # Until the node notices (its next heartbeat fails within its bounded wait), it answers.
        deadline = time.time() + 20
        while "unreachable" not in server.logs() and time.time() < deadline:
            assert requests.get(server.endpoint + "/health/live", timeout=5).status_code == 200
            time.sleep(0.5)
        assert "unreachable" in server.logs()
        assert requests.get(server.endpoint + "/health/live", timeout=5).status_code == 200
        assert server.process.poll() is None
        database.start()
        # Back: the heartbeat resumes without a restart (backoff is at most 8 s).
        node = wait_for_node(database.dsn, "node-outage", fresh_within=3, timeout=30)
        assert node["alive"] is True
        deadline = time.time() + 10
        while "reachable again" not in server.logs() and time.time() < deadline:
            time.sleep(0.2)
        assert "reachable again" in server.logs(), server.logs()[-3000:]
    finally:
        if server:
            server.cleanup()
        database.destroy()


def test_a_node_starts_and_serves_while_the_database_is_down(tmp_path):
    # A port nothing listens on: the node still starts, answers, and says what it waits for.
    dead_port = __import__("cluster_support").free_port()
    config = cluster_config(tmp_path / "depot.yaml", f"postgres://depot:pw@127.0.0.1:{dead_port}/depot", "node-early")
    server = DepotServer(config=config).start(timeout=30)
    try:
        assert requests.get(server.endpoint + "/health/live", timeout=5).status_code == 200
        deadline = time.time() + 10
        while "unreachable" not in server.logs() and time.time() < deadline:
            time.sleep(0.2)
        assert "unreachable" in server.logs() and "node-early keeps serving" in server.logs()
        assert "pw@" not in server.logs()
        assert requests.get(server.endpoint + "/health/live", timeout=5).status_code == 200
    finally:
        server.cleanup()


def test_two_nodes_given_one_name_are_reported(fresh_database, tmp_path):
    config = cluster_config(tmp_path / "depot.yaml", fresh_database, "twin")
    first = DepotServer(config=config).start()
    second = None
    try:
        wait_for_node(fresh_database, "twin")
        second = DepotServer(config=config).start()
        deadline = time.time() + 15
        while "was in use by a live node" not in second.logs() and time.time() < deadline:
            time.sleep(0.2)
        assert f"was in use by a live node at {first.endpoint}" in second.logs()
    finally:
        first.cleanup()
        if second:
            second.cleanup()
