"""Cluster mode's event outbox is shared by the nodes, so its bound is the cluster's
(EventDispatcher.sharedOutboxHousekeeping): with `whenFull: dropOldest` and a sink that is away,
two nodes taking 150 uploads keep the outbox near `maxEvents` by dropping its oldest events (every
sink counts them as dropped), and once the sink is back it gets the newest events and the outbox
drains. (Events a node already held in a claimed batch, at most 100 per node, may still be sent
after they were dropped: the retry skips only those it finds gone before its next attempt.)"""
import json
import os

from backends import Moto
from cluster_support import chunks_section, cluster_config, postgres  # noqa: F401 (fixture)
from conftest import DepotServer, run_depot
from event_receiver import Receiver
from waiting import wait_for


def test_the_shared_outbox_keeps_its_bound_by_dropping_the_clusters_oldest(postgres, tmp_path):  # noqa: F811
    database = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {database}")
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/" + database
    moto, receiver, nodes = Moto(), Receiver().start(), []
    try:
        moto.client.create_bucket(Bucket="depot-chunks")
        for name in ["node-a", "node-b"]:
            directory = tmp_path / name
            directory.mkdir()
            extra = chunks_section(moto, directory / "cache") + f"""events:
  outbox: {{ maxEvents: 100, whenFull: dropOldest }}
  sinks:
    - {{ name: hook, type: webhook, url: "{receiver.url}/s3", format: s3, match: {{ events: [created] }} }}
"""
            nodes.append(DepotServer(config=cluster_config(directory / "depot.yaml", dsn, name, extra)).start())
        clients = [node.client() for node in nodes]
        clients[0].create_bucket(Bucket="rec")
        receiver.stop()
        for i in range(150):
            clients[i % 2].put_object(Bucket="rec", Key=f"k-{i:03d}", Body=b"x")  # never refused

        def dropped():
            env = {"DEPOT_ENDPOINT": nodes[0].endpoint}
            sinks = json.loads(run_depot("events", "status", "--json", env=env).stdout)["sinks"]
            return sinks[0]["dropped"]

        def outbox_rows():
            return int(postgres.psql("SELECT count(*) FROM depot_outbox", database=database))

        wait_for(lambda: outbox_rows() <= 100, 30, "the shared outbox cut to its bound")
        assert outbox_rows() >= 80, "a tenth of the bound below it, not emptied"
        assert "the shared event outbox is full: dropped its" in nodes[0].logs() + nodes[1].logs()
        receiver.start()
        wait_for(lambda: "k-149" in received(receiver), 60, "the newest event")
        wait_for(lambda: outbox_rows() == 0, 60, "the rest delivered")
        keys = received(receiver)
        assert {f"k-{i:03d}" for i in range(130, 150)} <= keys
        assert dropped() >= 40
    finally:
        for node in nodes:
            node.cleanup()
        receiver.stop()
        moto.stop()


def received(receiver):
    return {b["Records"][0]["s3"]["object"]["key"] for b in receiver.bodies() if "Records" in b}
