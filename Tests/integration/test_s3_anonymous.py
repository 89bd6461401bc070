"""Anonymous requests (no signature at all). Only a bucket policy (or a public ACL) admits one
(test_bucket_policy.py); without either every anonymous request is refused with 403 AccessDenied,
and the answer is the same whether the bucket or the key exists or not. AWS answers 404 NoSuchBucket to an anonymous request for a missing bucket, which
tells anyone which bucket names are taken (camera sites are often named after places); the
uniform 403 is the safe choice, and it is what MinIO answers for a bucket without a policy."""
import http.client
import urllib.parse
import xml.etree.ElementTree as ET

import pytest


def anonymous(depot, method, path):
    url = urllib.parse.urlparse(depot.endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def error_code(body):
    return ET.fromstring(body).findtext("Code")


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_anonymous_answer_does_not_reveal_what_exists(depot, s3, bucket, method):
    s3.put_object(Bucket=bucket, Key="cam-1/clip.mp4", Body=b"x" * 10)
    paths = [f"/{bucket}", f"/{bucket}/cam-1/clip.mp4", f"/{bucket}/cam-1/missing.mp4", "/no-such-bucket-here",
             "/no-such-bucket-here/clip.mp4"]
    answers = []
    for path in paths:
        status, body = anonymous(depot, method, path)
        answers.append((status, body if method == "HEAD" else error_code(body)))
    expected = (403, b"" if method == "HEAD" else "AccessDenied")
    assert answers == [expected] * len(paths)
    # Nothing an anonymous request asked for happened.
    assert s3.get_object(Bucket=bucket, Key="cam-1/clip.mp4")["Body"].read() == b"x" * 10
    assert "no-such-bucket-here" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_anonymous_list_buckets_is_refused(depot):
    status, body = anonymous(depot, "GET", "/")
    assert status == 403 and error_code(body) == "AccessDenied"


@pytest.mark.parametrize("method, target", [("POST", ""), ("PUT", "?website"), ("GET", "?someFutureSubresource"),
                                            ("GET", "?acl&tagging")])
def test_anonymous_refusal_is_the_same_for_operations_no_policy_can_grant(depot, s3, bucket, method, target):
    """Requests that would be 405 or 501 for an account: an unsigned one gets the same 403 whether
    the bucket exists or not (a 405 only where it exists would tell which names are taken)."""
    answers = [anonymous(depot, method, f"/{name}{target}") for name in (bucket, "no-such-bucket-here")]
    assert [(status, error_code(body)) for status, body in answers] == [(403, "AccessDenied")] * 2
