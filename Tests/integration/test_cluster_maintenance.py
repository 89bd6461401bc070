"""Cluster mode (issue 21): background maintenance over the shared index runs on one node at a time.
Three `depot serve` nodes share a private PostgreSQL index and a moto chunk store, with a 1-day expiry
policy and the server clock moved two days ahead (DEPOT_CLOCK_OFFSET_SECONDS), so every object is due
at the next lifecycle pass (every second). Each pass is run by the node holding its PostgreSQL
advisory lock (AdvisoryLockLeadership): one node expires every object, the others skip the pass;
killed with SIGKILL, the holder's session ends, its lock frees and another node takes the pass over."""
import os
import re

import pytest

from backends import Moto
from cluster_support import chunks_section, cluster_config, postgres  # noqa: F401 (fixture)
from conftest import DepotServer
from waiting import wait_for

LIFECYCLE_LOCK = (0x64_6570_6f74 << 8) | 1
TWO_DAYS = str(2 * 86400)


@pytest.fixture
def nodes(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    database = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {database}")
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/" + database
    moto = Moto()
    started = []
    try:
        moto.client.create_bucket(Bucket="depot-chunks")
        for name in ["node-a", "node-b", "node-c"]:
            directory = tmp_path_factory.mktemp(name)
            extra = chunks_section(moto, directory / "cache") + (
                "storage: { lifecycleInterval: 1s, gcIntervalSeconds: 1 }\n"
                "policies:\n"
                "  - { name: short, match: { bucket: rec }, expire: { after: 1d } }\n")
            config = cluster_config(directory / "depot.yaml", dsn, name, extra)
            started.append(DepotServer(config=config, extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": TWO_DAYS}).start())
        yield postgres, database, started
    finally:
        for node in started:
            node.cleanup()
        moto.stop()


def expired_by(node):
    """How many objects this node's retention passes expired (its log's per-pass counts)."""
    return sum(int(n) for n in re.findall(r"retention expired (\d+) objects", node.logs()))


def runs(node, pass_name):
    return f"runs the {pass_name} pass (advisory lock" in node.logs()


def lock_holder(postgres, database):
    """The application name of the session holding the lifecycle pass's advisory lock."""
    high, low = LIFECYCLE_LOCK >> 32, LIFECYCLE_LOCK & 0xFFFFFFFF
    return postgres.psql(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        f"WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {high} AND l.objid = {low} "
        "AND l.objsubid = 1 AND a.datname = current_database()", database=database)


def listed(client, bucket):
    return [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_one_node_expires_each_object_and_another_takes_the_pass_over_when_it_is_killed(nodes):
    postgres, database, servers = nodes
    # Every node asks for the lock at its first round; one gets it, the others skip.
    wait_for(lambda: sum(runs(node, "lifecycle") for node in servers) == 1
             and all(runs(node, "lifecycle") or "skips it" in node.logs() for node in servers),
             what="one node running the lifecycle pass and the others skipping it")
    leader = next(node for node in servers if runs(node, "lifecycle"))
    others = [node for node in servers if node is not leader]
    assert lock_holder(postgres, database) == f"depot maintenance node-{'abc'[servers.index(leader)]}"
    # The abandoned uploads' pass has its own lock, held by one node too.
    wait_for(lambda: sum(runs(node, "abandonedUploads") for node in servers) == 1, what="one abandonedUploads runner")

    writer = others[0].client()
    writer.create_bucket(Bucket="rec")
    for i in range(10):
        servers[i % 3].client().put_object(Bucket="rec", Key=f"cam-{i}/clip.mp4", Body=os.urandom(2000 + i))
    wait_for(lambda: listed(writer, "rec") == [], what="every object expired")
    # Exactly once: every expiry was the leader's; the other nodes never ran the pass.
    wait_for(lambda: expired_by(leader) == 10, timeout=5, what="the leader's count of 10 expiries")
    assert [expired_by(node) for node in others] == [0, 0]
    assert not any(runs(node, "lifecycle") for node in others)

    # SIGKILL: the session ends with the process, PostgreSQL frees the lock, a survivor takes over.
    leader.kill9()
    wait_for(lambda: sum(runs(node, "lifecycle") for node in others) == 1, timeout=20,
             what="a surviving node taking the lifecycle pass over")
    successor = next(node for node in others if runs(node, "lifecycle"))
    bystander = next(node for node in others if node is not successor)
    assert lock_holder(postgres, database) == f"depot maintenance node-{'abc'[servers.index(successor)]}"
    client = bystander.client()
    for i in range(10):
        client.put_object(Bucket="rec", Key=f"later-{i}.mp4", Body=b"x" * (100 + i))
    wait_for(lambda: listed(client, "rec") == [], what="the later objects expired by the successor")
    wait_for(lambda: expired_by(successor) == 10, timeout=5, what="the successor's count of 10 expiries")
    assert expired_by(bystander) == 0 and not runs(bystander, "lifecycle")
