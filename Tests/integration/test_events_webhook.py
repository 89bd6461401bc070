"""Events to a webhook receiver started by the test: count, order per key, payload fields in the
s3 and kerberos formats, the HMAC signature; a receiver that is down while 100 recordings arrive;
kill -9 between commit and delivery; the outbox bound (refuse and dropOldest)."""
import hashlib
import hmac
import json
import os
import time
import urllib.parse

import botocore
import pytest
import requests

from conftest import DepotServer, run_depot
from event_receiver import Receiver
import waiting

SECRET = "hook-s3cret"


def config(tmp_path, receiver, outbox="", sinks=None):
    path = tmp_path / "depot.yaml"
    path.write_text(f"""
buckets: [rec]
accounts:
  - name: cam
    accessKey: CAMKEY
    secretKey: cam-secret-1
    allow: [{{ bucket: rec, actions: [read, write, list, delete] }}]
    vault: {{ directory: "*", bucket: rec }}
events:
  {outbox}
  sinks:
{sinks or f'''    - {{ name: hook, type: webhook, url: "{receiver.url}/s3", secret: {SECRET}, format: s3,
        headers: {{ X-Site: edge-1 }}, match: {{ events: [created, removed] }} }}
    - {{ name: kerberos, type: webhook, url: "{receiver.url}/kerberos", format: kerberos, provider: edge-vault,
        match: {{ events: [created] }} }}'''}
""")
    return str(path)


def wait_for(predicate, timeout=60, what="condition"):
    return waiting.wait_for(predicate, timeout, what, every=0.1)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def test_events_arrive_signed_in_order_in_both_formats(tmp_path, receiver):
    server = DepotServer(config=config(tmp_path, receiver)).start()
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="front door/a.mp4", Body=b"a" * 100, Metadata={"event-instancename": "front"})
        s3.put_object(Bucket="rec", Key="front door/a.mp4", Body=b"b" * 200)
        s3.copy_object(Bucket="rec", Key="copy.mp4", CopySource={"Bucket": "rec", "Key": "front door/a.mp4"})
        upload = s3.create_multipart_upload(Bucket="rec", Key="multi.mp4")["UploadId"]
        etag = s3.upload_part(Bucket="rec", Key="multi.mp4", UploadId=upload, PartNumber=1, Body=b"m" * 1000)["ETag"]
        s3.complete_multipart_upload(Bucket="rec", Key="multi.mp4", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        s3.delete_object(Bucket="rec", Key="front door/a.mp4")
        wait_for(lambda: len(receiver.bodies("/s3")) == 5, what="5 s3 events")
        records = [b["Records"][0] for b in receiver.bodies("/s3")]
        assert [r["eventName"] for r in records] == [
            "s3:ObjectCreated:Put", "s3:ObjectCreated:Put", "s3:ObjectCreated:Copy",
            "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:Delete"]
        first = records[0]
        assert first["eventVersion"] == "2.1" and first["eventSource"] == "aws:s3" and first["awsRegion"] == "us-east-1"
        assert first["s3"]["bucket"]["name"] == "rec" and first["s3"]["configurationId"] == "hook"
        assert first["s3"]["object"]["key"] == "front+door/a.mp4"
        assert urllib.parse.unquote_plus(first["s3"]["object"]["key"]) == "front door/a.mp4"
        assert first["s3"]["object"]["size"] == 100
        assert first["s3"]["object"]["eTag"] == hashlib.md5(b"a" * 100).hexdigest()
        assert first["s3"]["object"]["userMetadata"] == {"X-Amz-Meta-event-instancename": "front"}
        assert first["eventTime"].endswith("Z")
        sequencers = [r["s3"]["object"]["sequencer"] for r in records]
        assert sequencers == sorted(sequencers) and len(set(sequencers)) == 5
        # Every body is signed with the sink's secret; custom headers are sent.
        for headers, body in receiver.messages("/s3"):
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert headers["x-depot-signature"] == expected
            assert headers["x-site"] == "edge-1"
        # The kerberos sink: created events only, in the Vault pipeline format.
        wait_for(lambda: len(receiver.bodies("/kerberos")) == 4, what="4 kerberos events")
        event = receiver.bodies("/kerberos")[0]
        assert event["provider"] == "kstorage" and event["source"] == "edge-vault" and event["request"] == "persist"
        assert event["payload"]["key"] == "front door/a.mp4" and event["payload"]["fileSize"] == 100
        assert event["payload"]["metadata"] == {"event-instancename": "front"}
        assert event["events"][0] == "monitor" and isinstance(event["date"], int)
        assert "x-depot-signature" not in receiver.messages("/kerberos")[0][0]
    finally:
        server.cleanup()


def test_vault_uploads_raise_kerberos_events_with_the_camera(tmp_path, receiver):
    server = DepotServer(config=config(tmp_path, receiver)).start()
    try:
        filename = "1700000000_6-967003_front-door_200-200-400-400_24_769.mp4"
        r = requests.post(server.endpoint + "/api/storage", data=b"clip" * 1000, timeout=10, headers={
            "X-Kerberos-Storage-AccessKey": "CAMKEY", "X-Kerberos-Storage-SecretAccessKey": "cam-secret-1",
            "X-Kerberos-Storage-Directory": "cam7", "X-Kerberos-Storage-FileName": filename,
            "X-Kerberos-Storage-Capture": "IPCamera", "X-Kerberos-Storage-Device": "cam7-device"})
        assert r.status_code == 200, r.text
        wait_for(lambda: len(receiver.bodies("/kerberos")) == 1, what="the vault event")
        # The two sinks deliver independently: the s3-format one may come a moment later.
        wait_for(lambda: len(receiver.bodies("/s3")) == 1, what="the s3-format event")
        event = receiver.bodies("/kerberos")[0]
        assert event["payload"]["key"] == f"cam7/{filename}" and event["payload"]["fileSize"] == 4000
        assert event["payload"]["metadata"]["event-instancename"] == "front-door"
        record = receiver.bodies("/s3")[0]["Records"][0]
        assert record["userIdentity"]["principalId"] == "CAMKEY" and record["depot"]["source"] == "vault"
    finally:
        server.cleanup()


def test_a_receiver_down_while_100_recordings_arrive_gets_all_100(tmp_path, receiver):
    server = DepotServer(config=config(tmp_path, receiver)).start()
    try:
        s3 = server.client()
        receiver.stop()
        started = time.time()
        for i in range(100):
            s3.put_object(Bucket="rec", Key=f"cam{i % 4}/clip-{i:03d}.mp4", Body=os.urandom(2000))
        # Uploads are not slowed by a sink that is down.
        assert time.time() - started < 60
        env = {"DEPOT_ENDPOINT": server.endpoint}

        def hook_status():
            status = json.loads(run_depot("events", "status", "--json", env=env).stdout)
            return next(s for s in status["sinks"] if s["name"] == "hook")
        wait_for(lambda: hook_status()["failing"], what="the sink to report its failure")
        hook = hook_status()
        assert hook["backlog"] == 100 and hook["lastError"] and hook["oldestPendingAgeSeconds"] >= 0
        receiver.start()
        wait_for(lambda: len(receiver.bodies("/s3")) >= 100, timeout=120, what="all 100 events")
        keys = [urllib.parse.unquote_plus(b["Records"][0]["s3"]["object"]["key"]) for b in receiver.bodies("/s3")]
        assert sorted(set(keys)) == sorted(f"cam{i % 4}/clip-{i:03d}.mp4" for i in range(100))
        # Order per key (and here overall) is the commit order.
        assert keys[:100] == [f"cam{i % 4}/clip-{i:03d}.mp4" for i in range(100)]
        wait_for(lambda: hook_status()["backlog"] == 0, what="the backlog to drain")
    finally:
        server.cleanup()


def test_kill_9_between_commit_and_delivery_loses_nothing(tmp_path, receiver):
    server = DepotServer(config=config(tmp_path, receiver)).start()
    try:
        s3 = server.client()
        receiver.stop()
        keys = [f"k/{i}.mp4" for i in range(20)]
        for key in keys:
            s3.put_object(Bucket="rec", Key=key, Body=b"x")
        server.kill9()
        receiver.start()
        server.start()
        wait_for(lambda: {urllib.parse.unquote_plus(b["Records"][0]["s3"]["object"]["key"])
                          for b in receiver.bodies("/s3")} >= set(keys), what="the events after restart")
    finally:
        server.cleanup()


def test_full_outbox_refuses_uploads_with_slow_down_until_the_sink_catches_up(tmp_path, receiver):
    sinks = f'    - {{ name: hook, type: webhook, url: "{receiver.url}/s3" }}'
    server = DepotServer(config=config(tmp_path, receiver, "outbox: { maxEvents: 100, whenFull: refuse }",
                                       sinks)).start()
    try:
        s3 = server.client()
        receiver.stop()
        for i in range(100):
            s3.put_object(Bucket="rec", Key=f"ok-{i}", Body=b"x")
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            s3.put_object(Bucket="rec", Key="refused", Body=b"x")
        assert refused.value.response["Error"]["Code"] == "SlowDown"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert "Contents" not in s3.list_objects_v2(Bucket="rec", Prefix="refused")
        receiver.start()
        wait_for(lambda: len(receiver.bodies()) >= 100, timeout=120, what="the backlog")

        def accepted():
            try:
                s3.put_object(Bucket="rec", Key="after", Body=b"x")
                return True
            except botocore.exceptions.ClientError:
                return False
        wait_for(accepted, what="uploads to be accepted again")
    finally:
        server.cleanup()


def test_full_outbox_drops_the_oldest_when_told_to(tmp_path, receiver):
    sinks = f'    - {{ name: hook, type: webhook, url: "{receiver.url}/s3" }}'
    server = DepotServer(config=config(tmp_path, receiver, "outbox: { maxEvents: 100, whenFull: dropOldest }",
                                       sinks)).start()
    try:
        s3 = server.client()
        receiver.stop()
        for i in range(150):
            s3.put_object(Bucket="rec", Key=f"k-{i:03d}", Body=b"x")  # never refused
        env = {"DEPOT_ENDPOINT": server.endpoint}
        # Trimming runs in passes beside the uploads: wait until the 150 have been cut to the bound.
        wait_for(lambda: json.loads(run_depot("events", "status", "--json", env=env).stdout)["sinks"][0]["dropped"] >= 40,
                 what="the drops down to the bound")
        assert "dropped its" in server.logs()
        receiver.start()
        status = json.loads(run_depot("events", "status", "--json", env=env).stdout)["sinks"][0]
        wait_for(lambda: len(receiver.bodies()) >= 150 - status["dropped"], timeout=120, what="the rest")
        wait_for(lambda: "k-149" in [b["Records"][0]["s3"]["object"]["key"] for b in receiver.bodies()],
                 what="the newest event")
        keys = {b["Records"][0]["s3"]["object"]["key"] for b in receiver.bodies()}
        # The oldest went (one may have been on the wire already when the drop happened).
        assert status["dropped"] >= 40 and len(keys) <= 150 - status["dropped"] + 1
        assert {f"k-{i:03d}" for i in range(120, 150)} <= keys
    finally:
        server.cleanup()


@pytest.mark.parametrize("sink, field", [
    ('{ name: h, type: webhook, url: "ftp://x" }', "events.sinks[0].url"),
    ('{ name: h, type: pager }', "events.sinks[0].type"),
    ('{ name: h, type: webhook, url: "http://x", format: xml }', "events.sinks[0].format"),
    ('{ name: h, type: webhook, url: "http://x", match: { events: [exploded] } }', "events.sinks[0].match.events[0]"),
    ('{ name: q, type: sqs, accessKey: a, secretKey: b }', "events.sinks[0].queueUrl"),
    ('{ name: k, type: kafka, brokers: ["nohost"], topic: t }', "events.sinks[0].brokers[0]"),
    ('{ name: r, type: rabbitmq, url: "http://x" }', "events.sinks[0].url"),
])
def test_bad_sink_configuration_is_refused_naming_the_field(tmp_path, sink, field):
    path = tmp_path / "bad.yaml"
    path.write_text(f"events:\n  sinks:\n    - {sink}\n")
    result = run_depot("config", "check", str(path))
    assert result.returncode != 0
    assert field in result.stdout + result.stderr


def test_replication_transition_failure_and_expiry_events(tmp_path, receiver):
    nas = tmp_path / "nas"
    nas.mkdir()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the tier wants a directory")
    path = tmp_path / "depot.yaml"
    path.write_text(f"""
storage: {{ lifecycleInterval: 1s }}
buckets: [rec]
tiers:
  - {{ name: nas, type: filesystem, path: "{nas}" }}
  - {{ name: broken, type: filesystem, path: "{blocked}/sub", maxAttempts: 1 }}
policies:
  - {{ name: keep, match: {{ bucket: rec, prefix: "keep/" }}, replicate: {{ to: [nas] }}, transition: {{ after: 7d }} }}
  - {{ name: lost, match: {{ bucket: rec, prefix: "lost/" }}, replicate: {{ to: [broken] }} }}
  - {{ name: old, match: {{ bucket: rec, prefix: "old/" }}, expire: {{ after: 7d }} }}
events:
  sinks:
    - {{ name: ops, type: webhook, url: "{receiver.url}/ops", format: s3,
        match: {{ events: [replicated, replicationFailed, transitioned, removed] }} }}
""")
    server = DepotServer(config=str(path), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="keep/a.mp4", Body=b"k" * 500)
        s3.put_object(Bucket="rec", Key="lost/b.mp4", Body=b"l" * 10)
        s3.put_object(Bucket="rec", Key="old/c.mp4", Body=b"o")

        def names():
            return {(r["eventName"], urllib.parse.unquote_plus(r["s3"]["object"]["key"]), r["depot"].get("tier"))
                    for r in (b["Records"][0] for b in receiver.bodies("/ops"))}
        wanted = {
            ("s3:Replication:OperationCompletedReplication", "keep/a.mp4", "nas"),
            ("s3:LifecycleTransition", "keep/a.mp4", "nas"),
            ("s3:Replication:OperationFailedReplication", "lost/b.mp4", "broken"),
            ("s3:LifecycleExpiration:Delete", "old/c.mp4", None),
        }
        wait_for(lambda: wanted <= names(), timeout=60, what=f"{wanted - names()}")
        failed = next(r for r in (b["Records"][0] for b in receiver.bodies("/ops"))
                      if r["eventName"].endswith("FailedReplication"))
        assert failed["depot"]["error"]
        # Created events were not asked for by this sink.
        assert not any(n.startswith("s3:ObjectCreated") for n, _, _ in names())
    finally:
        server.cleanup()
