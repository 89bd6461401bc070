"""The authorization matrix for the bucket notification operations (issue 18 #3): every account
shape of test_authorization_matrix × PutBucketNotificationConfiguration and
GetBucketNotificationConfiguration, signed in the header and (Get) presigned. They are bucket
settings, decided as CORS and lifecycle are: reading needs `list` on the bucket, changing needs
`write` on all of it (a grant without a prefix). The answer must be what the grants say, and a
refused call must change nothing."""
import pytest

from backends import free_port
from conftest import DepotServer
from test_authorization_matrix import BUCKET, SHAPES, presigned_setting_read, s3_as, s3_call, setting_answers_as_the_grants_say

ARN = "arn:minio:sqs::hook:webhook"
SEEDED = [{"Id": "seeded", "QueueArn": ARN, "Events": ["s3:ObjectCreated:*"]}]
WANTED = [{"Id": "wanted", "QueueArn": ARN, "Events": ["s3:ObjectRemoved:*"]}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Every account shape, and a sink for the ARN. The sink is never reached: the matrix reads and
    # writes configurations, it uploads nothing.
    config = tmp_path_factory.mktemp("authz-notification") / "depot.yaml"
    config.write_text(f"buckets: [{BUCKET}]\naccounts:\n" + "".join(s.yaml() for s in SHAPES) + f"""events:
  sinks:
    - {{ name: hook, type: webhook, url: "http://127.0.0.1:{free_port()}/", bucketNotificationsOnly: true }}
""")
    depot = DepotServer(config=str(config)).start()
    yield depot
    depot.cleanup()


def configurations(server):
    return server.client().get_bucket_notification_configuration(Bucket=BUCKET).get("QueueConfigurations")


def put_notification(server, shape):
    return s3_call(lambda: s3_as(server, shape).put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": WANTED}))


def get_notification(server, shape):
    return s3_call(lambda: s3_as(server, shape).get_bucket_notification_configuration(Bucket=BUCKET)
                   .get("QueueConfigurations"))


def presigned_get(server, shape):
    return presigned_setting_read(server, shape, "get_bucket_notification_configuration", SEEDED, "<Id>seeded</Id>")


# name: (action needed on the bucket, run, the configuration afterwards when allowed)
OPERATIONS = {
    "put": ("write", put_notification, WANTED),
    "get": ("list", get_notification, SEEDED),
    "presigned-get": ("list", presigned_get, SEEDED),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_notification_operations_answer_as_the_grants_say(server, shape, operation):
    setting_answers_as_the_grants_say(
        server, shape, operation, OPERATIONS, SEEDED, current=lambda: configurations(server),
        seed=lambda: server.client().put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": SEEDED}))
