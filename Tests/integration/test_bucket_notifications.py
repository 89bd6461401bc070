"""Bucket notifications (issue 18 #3): PutBucketNotificationConfiguration and
GetBucketNotificationConfiguration through awscli and the minio client, naming Depot's sinks by the
ARN `depot events status` prints; deliveries to a webhook receiver and to an SQS queue in
moto_server that respect the event types (with wildcards) and the prefix/suffix filters; the one
rule that joins them with a sink's own match (one delivery per sink and event); S3's refusals
(unknown ARN named, unknown event, malformed XML) changing nothing; the configuration kept across a
restart and `fsck --rebuild-index`, and dropped with its bucket."""
import json
import subprocess
import time
import urllib.parse
import uuid

import boto3
import botocore
import pytest
import requests
from minio import Minio
from minio.notificationconfig import (NotificationConfig, PrefixFilterRule, QueueConfig, SuffixFilterRule,
                                      TopicConfig)

from admin_client import Admin
from backends import Moto
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, aws_env, run_depot
from event_receiver import Receiver
from waiting import wait_for

HOOK_ARN = "arn:minio:sqs::hook:webhook"
QUEUE_ARN = "arn:minio:sqs::queue:sqs"


@pytest.fixture(scope="module")
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def moto():
    backend = Moto()
    yield backend
    backend.stop()


def sqs_client(endpoint):
    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="sqs-key", aws_secret_access_key="sqs-secret")


def start(tmp_path, receiver, moto, queue, extra_sinks=""):
    """A server whose two sinks take only what bucket notifications send them (as MinIO targets)."""
    path = tmp_path / "depot.yaml"
    path.write_text(f"""
buckets: [rec, other]
events:
  sinks:
    - {{ name: hook, type: webhook, url: "{receiver.url}/{queue}", bucketNotificationsOnly: true }}
    - {{ name: queue, type: sqs, endpoint: "{moto.endpoint}", queueName: {queue}, region: us-east-1,
        accessKey: sqs-key, secretKey: sqs-secret, bucketNotificationsOnly: true }}
{extra_sinks}""")
    return DepotServer(config=str(path)).start()


def records(receiver, path):
    return [b["Records"][0] for b in receiver.bodies(path)]


def keys_and_names(found):
    return [(urllib.parse.unquote_plus(r["s3"]["object"]["key"]), r["eventName"]) for r in found]


def drain(sqs, url, until_key, timeout=30):
    """Messages of the queue up to and including the one for `until_key` (deliveries are in order)."""
    found = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in reply.get("Messages", []):
            found.append(json.loads(message["Body"])["Records"][0])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if any(urllib.parse.unquote_plus(r["s3"]["object"]["key"]) == until_key for r in found):
            return found
    raise AssertionError(f"no event for {until_key} in {timeout}s: {found}")


def aws(server, tmp_path, *args):
    result = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3api", *args], env=aws_env(server, tmp_path),
                            capture_output=True, text=True, timeout=60)
    return result


def minio_client(server):
    return Minio(server.endpoint.split("://")[1], access_key=ROOT_USER, secret_key=ROOT_PASSWORD, secure=False,
                 region="us-east-1")


def test_awscli_configuration_routes_matching_events_to_the_webhook(tmp_path, receiver, moto):
    queue = "q" + uuid.uuid4().hex[:8]
    server = start(tmp_path, receiver, moto, queue)
    try:
        configuration = {"QueueConfigurations": [{
            "Id": "mp4-created", "QueueArn": HOOK_ARN, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "cam/"}, {"Name": "suffix", "Value": ".mp4"}]}},
        }]}
        put = aws(server, tmp_path, "put-bucket-notification-configuration", "--bucket", "rec",
                  "--notification-configuration", json.dumps(configuration))
        assert put.returncode == 0, put.stderr
        got = aws(server, tmp_path, "get-bucket-notification-configuration", "--bucket", "rec")
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout) == configuration

        s3 = server.client()
        s3.put_object(Bucket="rec", Key="cam/a.mp4", Body=b"a")          # delivered
        s3.put_object(Bucket="rec", Key="cam/a.jpg", Body=b"b")          # suffix does not match
        s3.put_object(Bucket="rec", Key="door/a.mp4", Body=b"c")         # prefix does not match
        s3.put_object(Bucket="other", Key="cam/a.mp4", Body=b"d")        # another bucket
        s3.delete_object(Bucket="rec", Key="cam/a.mp4")                  # ObjectRemoved is not asked for
        s3.copy_object(Bucket="rec", Key="cam/b.mp4", CopySource={"Bucket": "rec", "Key": "cam/a.jpg"})
        # Deliveries are in commit order: once the last one is in, nothing before it is still to come.
        wait_for(lambda: len(receiver.bodies(f"/{queue}")) >= 2, what="2 events")
        time.sleep(0.5)
        found = records(receiver, f"/{queue}")
        assert keys_and_names(found) == [("cam/a.mp4", "s3:ObjectCreated:Put"), ("cam/b.mp4", "s3:ObjectCreated:Copy")]
        assert {r["s3"]["configurationId"] for r in found} == {"mp4-created"}
        assert found[0]["s3"]["bucket"]["name"] == "rec"
    finally:
        server.cleanup()


def test_minio_client_sets_reads_and_routes_removals_to_sqs(tmp_path, receiver, moto):
    queue = "q" + uuid.uuid4().hex[:8]
    sqs = sqs_client(moto.endpoint)
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    server = start(tmp_path, receiver, moto, queue)
    try:
        client = minio_client(server)
        config = NotificationConfig(
            queue_config_list=[QueueConfig(queue=QUEUE_ARN, events=["s3:ObjectRemoved:*"], config_id="removed",
                                           prefix_filter_rule=PrefixFilterRule("cam/"))],
            topic_config_list=[TopicConfig(topic=HOOK_ARN, events=["s3:ObjectCreated:Put"], config_id="put-jpg",
                                           suffix_filter_rule=SuffixFilterRule(".jpg"))],
        )
        client.set_bucket_notification("rec", config)
        read = client.get_bucket_notification("rec")
        assert [(q.queue, q.events, q.config_id, q.prefix_filter_rule.value) for q in read.queue_config_list] == \
            [(QUEUE_ARN, ["s3:ObjectRemoved:*"], "removed", "cam/")]
        assert [(t.topic, t.events, t.config_id, t.suffix_filter_rule.value) for t in read.topic_config_list] == \
            [(HOOK_ARN, ["s3:ObjectCreated:Put"], "put-jpg", ".jpg")]

        s3 = server.client()
        s3.put_object(Bucket="rec", Key="cam/1.mp4", Body=b"1")
        s3.put_object(Bucket="rec", Key="cam/2.jpg", Body=b"2")
        s3.delete_object(Bucket="rec", Key="cam/1.mp4")
        s3.delete_object(Bucket="rec", Key="door/x.mp4")  # outside the prefix
        s3.delete_object(Bucket="rec", Key="cam/2.jpg")
        found = drain(sqs, url, "cam/2.jpg")
        assert keys_and_names(found) == [("cam/1.mp4", "s3:ObjectRemoved:Delete"), ("cam/2.jpg", "s3:ObjectRemoved:Delete")]
        assert {r["s3"]["configurationId"] for r in found} == {"removed"}
        wait_for(lambda: len(receiver.bodies(f"/{queue}")) >= 1, what="the jpg upload's event")
        time.sleep(0.5)
        assert keys_and_names(records(receiver, f"/{queue}")) == [("cam/2.jpg", "s3:ObjectCreated:Put")]

        # An empty configuration removes it, as in S3; nothing more is delivered.
        client.set_bucket_notification("rec", NotificationConfig())
        assert minio_client(server).get_bucket_notification("rec").queue_config_list == []
        s3.put_object(Bucket="rec", Key="cam/3.jpg", Body=b"3")
        time.sleep(1.5)
        assert len(receiver.bodies(f"/{queue}")) == 1
    finally:
        server.cleanup()


def put_raw(server, body, bucket="rec"):
    """A signed PUT ?notification with this exact body."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import hashlib
    url = f"{server.endpoint}/{bucket}?notification"
    request = AWSRequest(method="PUT", url=url, data=body,
                         headers={"x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    return requests.put(url, data=body, headers=dict(request.headers), timeout=15)


def queue_xml(arn, events, extra=""):
    return ("<NotificationConfiguration><QueueConfiguration><Id>x</Id><Queue>" + arn + "</Queue>"
            + "".join(f"<Event>{e}</Event>" for e in events) + extra
            + "</QueueConfiguration></NotificationConfiguration>").encode()


def test_refusals_name_the_problem_and_change_nothing(tmp_path, receiver, moto):
    server = start(tmp_path, receiver, moto, "q" + uuid.uuid4().hex[:8])
    try:
        s3 = server.client()
        kept = {"QueueConfigurations": [{"Id": "kept", "QueueArn": HOOK_ARN, "Events": ["s3:ObjectCreated:*"]}]}
        s3.put_bucket_notification_configuration(Bucket="rec", NotificationConfiguration=kept)

        unknown = "arn:minio:sqs::nowhere:webhook"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_bucket_notification_configuration(Bucket="rec", NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": HOOK_ARN, "Events": ["s3:ObjectCreated:*"]},
                                        {"QueueArn": unknown, "Events": ["s3:ObjectCreated:*"]}]})
        assert e.value.response["Error"]["Code"] == "InvalidArgument"
        assert unknown in e.value.response["Error"]["Message"]
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        # The type must match the sink's too, and AWS's own ARNs name nothing here.
        for arn in ("arn:minio:sqs::hook:kafka", "arn:aws:sqs:us-east-1:123456789012:hook", "hook"):
            response = put_raw(server, queue_xml(arn, ["s3:ObjectCreated:*"]))
            assert response.status_code == 400 and "<Code>InvalidArgument</Code>" in response.text, response.text
            assert arn in response.text
        # The server's region may be written in, as MinIO prints it when a region is set.
        assert put_raw(server, queue_xml("arn:minio:sqs:us-east-1:hook:webhook", ["s3:ObjectCreated:*"]),
                       bucket="other").status_code == 200

        for event in ("s3:ObjectCreated:Get", "s3:*", "s3:ObjectCreated", "ObjectCreated:Put", "s3:TestEvent"):
            response = put_raw(server, queue_xml(HOOK_ARN, [event]))
            assert response.status_code == 400 and "<Code>InvalidArgument</Code>" in response.text, (event, response.text)
            assert event in response.text

        malformed = [
            b"<NotificationConfiguration><QueueConfiguration>",
            b"<Other/>",
            queue_xml(HOOK_ARN, []),  # no Event
            b"<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
            b"</NotificationConfiguration>",  # no Queue
            queue_xml(HOOK_ARN, ["s3:ObjectCreated:*"], "<Unknown/>"),
            b"<NotificationConfiguration><QueueConfiguration><Queue>" + HOOK_ARN.encode() +
            b"</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration><Bogus/></NotificationConfiguration>",
        ]
        for body in malformed:
            response = put_raw(server, body)
            assert response.status_code == 400 and "<Code>MalformedXML</Code>" in response.text, (body, response.text)

        two_prefixes = ("<Filter><S3Key><FilterRule><Name>prefix</Name><Value>a</Value></FilterRule>"
                        "<FilterRule><Name>Prefix</Name><Value>b</Value></FilterRule></S3Key></Filter>")
        bad_name = "<Filter><S3Key><FilterRule><Name>middle</Name><Value>a</Value></FilterRule></S3Key></Filter>"
        for extra in (two_prefixes, bad_name):
            response = put_raw(server, queue_xml(HOOK_ARN, ["s3:ObjectCreated:*"], extra))
            assert response.status_code == 400 and "<Code>InvalidArgument</Code>" in response.text, response.text
        duplicate_ids = (b"<NotificationConfiguration>" + 2 * (
            b"<QueueConfiguration><Id>same</Id><Queue>" + HOOK_ARN.encode() +
            b"</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>") + b"</NotificationConfiguration>")
        assert "<Code>InvalidArgument</Code>" in put_raw(server, duplicate_ids).text
        bridge = b"<NotificationConfiguration><EventBridgeConfiguration/></NotificationConfiguration>"
        assert put_raw(server, bridge).status_code == 501

        assert s3.get_bucket_notification_configuration(Bucket="rec")["QueueConfigurations"] == \
            kept["QueueConfigurations"]
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.get_bucket_notification_configuration(Bucket="missing")
        assert e.value.response["Error"]["Code"] == "NoSuchBucket"
    finally:
        server.cleanup()


def test_a_generated_id_and_the_empty_answer(tmp_path, receiver, moto):
    server = start(tmp_path, receiver, moto, "q" + uuid.uuid4().hex[:8])
    try:
        s3 = server.client()
        empty = s3.get_bucket_notification_configuration(Bucket="rec")
        assert not any(k.endswith("Configurations") for k in empty)
        s3.put_bucket_notification_configuration(Bucket="rec", NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": HOOK_ARN, "Events": ["s3:ObjectRemoved:Delete"]}]})
        read = s3.get_bucket_notification_configuration(Bucket="rec")["LambdaFunctionConfigurations"]
        assert len(read) == 1 and len(read[0]["Id"]) > 0
        assert read[0]["LambdaFunctionArn"] == HOOK_ARN and read[0]["Events"] == ["s3:ObjectRemoved:Delete"]
        # The same Id on every read: it is stored, not made up per answer.
        assert s3.get_bucket_notification_configuration(Bucket="rec")["LambdaFunctionConfigurations"] == read
    finally:
        server.cleanup()


def test_a_sink_with_its_own_match_gets_each_event_once(tmp_path, receiver, moto):
    """THE RULE: own match OR a bucket notification; one delivery per sink and event."""
    queue = "q" + uuid.uuid4().hex[:8]
    both = f"""    - {{ name: both, type: webhook, url: "{receiver.url}/{queue}-both",
        match: {{ bucket: rec, prefix: "cam/", events: [created] }} }}"""
    server = start(tmp_path, receiver, moto, queue, extra_sinks=both)
    try:
        s3 = server.client()
        s3.put_bucket_notification_configuration(Bucket="rec", NotificationConfiguration={"TopicConfigurations": [
            {"Id": "all-rec", "TopicArn": "arn:minio:sqs::both:webhook", "Events": ["s3:ObjectCreated:*",
                                                                                  "s3:ObjectRemoved:*"]}]})
        s3.put_object(Bucket="rec", Key="cam/1.mp4", Body=b"1")     # both ways: once, under the bucket's Id
        s3.put_object(Bucket="rec", Key="door/1.mp4", Body=b"1")    # only the bucket notification
        s3.put_object(Bucket="other", Key="door/2.mp4", Body=b"2")  # neither
        s3.delete_object(Bucket="rec", Key="door/1.mp4")            # only the bucket notification
        wait_for(lambda: len(receiver.bodies(f"/{queue}-both")) >= 3, what="3 events")
        time.sleep(0.5)
        found = records(receiver, f"/{queue}-both")
        assert keys_and_names(found) == [("cam/1.mp4", "s3:ObjectCreated:Put"), ("door/1.mp4", "s3:ObjectCreated:Put"),
                                         ("door/1.mp4", "s3:ObjectRemoved:Delete")]
        assert {r["s3"]["configurationId"] for r in found} == {"all-rec"}
        # Without the bucket's configuration, the sink's own match still holds.
        s3.put_bucket_notification_configuration(Bucket="rec", NotificationConfiguration={})
        s3.put_object(Bucket="rec", Key="door/3.mp4", Body=b"3")
        s3.put_object(Bucket="rec", Key="cam/4.mp4", Body=b"4")
        wait_for(lambda: len(receiver.bodies(f"/{queue}-both")) >= 4, what="the own match's event")
        time.sleep(0.5)
        last = records(receiver, f"/{queue}-both")[3:]
        assert keys_and_names(last) == [("cam/4.mp4", "s3:ObjectCreated:Put")]
        assert last[0]["s3"]["configurationId"] == "both"
    finally:
        server.cleanup()


def test_events_status_prints_each_sinks_arn(tmp_path, receiver, moto):
    server = start(tmp_path, receiver, moto, "q" + uuid.uuid4().hex[:8])
    try:
        server.client().put_bucket_notification_configuration(Bucket="rec", NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": HOOK_ARN, "Events": ["s3:ObjectCreated:*"]}]})
        env = {"DEPOT_ENDPOINT": server.endpoint}
        text = run_depot("events", "status", env=env)
        assert text.returncode == 0, text.stderr
        assert HOOK_ARN in text.stdout and QUEUE_ARN in text.stdout
        status, body = Admin(server.endpoint).get("/admin/v1/events")
        assert status == 200
        sinks = {s["name"]: s for s in body["sinks"]}
        assert sinks["hook"]["arn"] == HOOK_ARN and sinks["queue"]["arn"] == QUEUE_ARN
        assert sinks["hook"]["bucketNotifications"] == 1 and sinks["queue"]["bucketNotifications"] == 0
    finally:
        server.cleanup()


def test_configuration_survives_a_restart_and_an_index_rebuild_and_goes_with_its_bucket(tmp_path, receiver, moto):
    queue = "q" + uuid.uuid4().hex[:8]
    server = start(tmp_path, receiver, moto, queue)
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="gone")
        configuration = {"QueueConfigurations": [{"Id": "jpg", "QueueArn": HOOK_ARN, "Events": ["s3:ObjectCreated:Put"],
                                                  "Filter": {"Key": {"FilterRules": [{"Name": "suffix",
                                                                                      "Value": ".jpg"}]}}}]}
        for bucket in ("rec", "gone"):
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
        s3.delete_bucket(Bucket="gone")
        server.restart()
        assert server.client().get_bucket_notification_configuration(Bucket="rec")["QueueConfigurations"] == \
            configuration["QueueConfigurations"]
        server.stop()
        rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        server.start()
        s3 = server.client()
        assert s3.get_bucket_notification_configuration(Bucket="rec")["QueueConfigurations"] == \
            configuration["QueueConfigurations"]
        # A new bucket of the deleted one's name does not inherit its configuration.
        s3.create_bucket(Bucket="gone")
        assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket="gone")
        s3.put_object(Bucket="gone", Key="a.jpg", Body=b"g")
        s3.put_object(Bucket="rec", Key="b.mp4", Body=b"m")
        s3.put_object(Bucket="rec", Key="c.jpg", Body=b"j")
        wait_for(lambda: len(receiver.bodies(f"/{queue}")) >= 1, what="the rebuilt rule's event")
        time.sleep(0.5)
        found = records(receiver, f"/{queue}")
        assert keys_and_names(found) == [("c.jpg", "s3:ObjectCreated:Put")]
        assert found[0]["s3"]["bucket"]["name"] == "rec" and found[0]["s3"]["configurationId"] == "jpg"
    finally:
        server.cleanup()
