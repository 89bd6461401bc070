"""Events to SQS through moto_server: the queue looked up by name, messages signed with Depot's
SigV4, a backlog sent in batches; the queue unreachable (a TCP proxy stopped) while 100
recordings arrive, then back: every event arrives."""
import json
import time

import boto3
import pytest

from backends import Moto, TcpProxy
from conftest import DepotServer


@pytest.fixture
def moto():
    backend = Moto()
    yield backend
    backend.stop()


def sqs_client(endpoint):
    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="sqs-key", aws_secret_access_key="sqs-secret")


def drain(sqs, url, want, timeout=90):
    bodies = []
    deadline = time.time() + timeout
    while time.time() < deadline and len(bodies) < want:
        reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in reply.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def start(tmp_path, endpoint, extra=""):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
buckets: [rec]
events:
  sinks:
    - {{ name: queue, type: sqs, endpoint: "{endpoint}", queueName: recordings, region: us-east-1,
        accessKey: sqs-key, secretKey: sqs-secret, format: s3{extra} }}
""")
    return DepotServer(config=str(config)).start()


def test_events_reach_an_sqs_queue_found_by_name(tmp_path, moto):
    sqs = sqs_client(moto.endpoint)
    url = sqs.create_queue(QueueName="recordings")["QueueUrl"]
    server = start(tmp_path, moto.endpoint)
    try:
        s3 = server.client()
        for i in range(25):
            s3.put_object(Bucket="rec", Key=f"cam/{i:02d}.mp4", Body=b"v" * (i + 1))
        bodies = drain(sqs, url, 25)
        records = [b["Records"][0] for b in bodies]
        assert sorted(r["s3"]["object"]["key"] for r in records) == [f"cam/{i:02d}.mp4" for i in range(25)]
        assert {r["eventName"] for r in records} == {"s3:ObjectCreated:Put"}
        sizes = {r["s3"]["object"]["key"]: r["s3"]["object"]["size"] for r in records}
        assert sizes["cam/07.mp4"] == 8
    finally:
        server.cleanup()


def test_sqs_unreachable_while_recordings_arrive_then_back(tmp_path, moto):
    sqs = sqs_client(moto.endpoint)
    url = sqs.create_queue(QueueName="recordings")["QueueUrl"]
    proxy = TcpProxy(moto.port).start()
    server = start(tmp_path, f"http://127.0.0.1:{proxy.port}", ", match: { events: [created, removed] }")
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="first.mp4", Body=b"1")
        assert len(drain(sqs, url, 1)) == 1  # the queue URL is known now
        proxy.stop()
        for i in range(100):
            s3.put_object(Bucket="rec", Key=f"during/{i:02d}.mp4", Body=b"x")
        s3.delete_object(Bucket="rec", Key="during/00.mp4")
        time.sleep(3)
        proxy.start()
        bodies = drain(sqs, url, 101, timeout=120)
        names = [(b["Records"][0]["eventName"], b["Records"][0]["s3"]["object"]["key"]) for b in bodies]
        assert len(names) == 101, names
        assert ("s3:ObjectRemoved:Delete", "during/00.mp4") in names
        # Within the key, creation comes before removal.
        assert names.index(("s3:ObjectCreated:Put", "during/00.mp4")) < names.index(("s3:ObjectRemoved:Delete", "during/00.mp4"))
    finally:
        proxy.stop()
        server.cleanup()
