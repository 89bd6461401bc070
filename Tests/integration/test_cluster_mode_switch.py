"""The switch that runs the ordinary integration tests against a cluster node
(DEPOT_TEST_CLUSTER=1, cluster_mode.py; the Makefile's `test` target runs the real-client modules
with it): a DepotServer then starts as a cluster node, with its index in its own database on the
session's PostgreSQL and its chunks in packs under its own prefix on moto_server, while the rest
of the test's configuration (buckets, accounts) still applies; a restart finds what it wrote.
Run in the normal suite too, so a switch that quietly started embedded servers would fail here."""
import os

import pytest
import requests

import cluster_mode
from conftest import DepotServer


@pytest.fixture
def cluster_switch(monkeypatch):
    monkeypatch.setattr(cluster_mode, "ENABLED", True)


def test_a_server_started_with_the_switch_is_a_cluster_node_that_keeps_the_tests_configuration(cluster_switch, tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("""buckets: [kept]
accounts:
  - name: agent
    accessKey: SWITCHKEY
    secretKey: "switch-secret-1"
    allow: [{ bucket: kept, actions: [read, write, list] }]
    vault: { directory: cam, bucket: kept }
""")
    server = DepotServer(config=str(config)).start()
    try:
        logs = server.logs()
        database = server.cluster_state["database"]
        assert "index in PostgreSQL at" in logs and f"/{database}, shared by every node" in logs, logs
        assert f"keys {database}/packs/" in logs, logs
        s3 = server.client()
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept"]
        body = os.urandom(300_000)
        s3.put_object(Bucket="kept", Key="clip.mp4", Body=body)
        # The configured Vault account works on the node.
        r = requests.post(server.endpoint + "/api/storage", data=b"clip", timeout=10, headers={
            "X-Kerberos-Storage-Accesskey": "SWITCHKEY", "X-Kerberos-Storage-Secretaccesskey": "switch-secret-1",
            "X-Kerberos-Storage-Filename": "v.mp4"})
        assert r.status_code == 200, r.text
        # The object is in the server's database and its bytes in packs under its prefix.
        assert int(cluster_mode.sql(server, "SELECT count(*) FROM depot_objects")) == 2
        _, moto = cluster_mode._backends()
        packs = moto.client.list_objects_v2(Bucket="depot-chunks", Prefix=f"{database}/packs/").get("Contents", [])
        assert packs, "no pack under the server's prefix"
        server.stop()
        server.start()
        assert server.cluster_state["database"] == database
        assert server.client().get_object(Bucket="kept", Key="clip.mp4")["Body"].read() == body
    finally:
        server.cleanup()


def test_a_configuration_with_its_own_cluster_section_is_left_alone(cluster_switch, tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("cluster:\n  index: postgres://x@127.0.0.1:1/x\n")
    server = DepotServer(config=str(config))
    assert cluster_mode.node_config(server) == str(config)
    assert not hasattr(server, "cluster_state")
