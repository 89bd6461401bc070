"""Every small request body (tagging, versioning, policies, ACLs, lock settings, DeleteObjects,
CompleteMultipartUpload, ...) is checked against what the signature covers before it is acted on:
the `x-amz-content-sha256` the client signed, and `Content-MD5` when sent. The body is signed only
through that hash, so a body that does not match it was changed on the way. Before this was done
in one place (`readSmallBody`), only the CORS, lifecycle and encryption settings checked the hash:
a tagging or versioning body swapped in transit was applied."""
import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer

BUCKET = "integrity"


@pytest.fixture(scope="module")
def depot():
    server = DepotServer().start()
    client = server.client()
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="clip.mp4", Body=b"frames")
    client.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "site", "Value": "original"}]})
    yield server
    server.cleanup()


def send(depot, method, path, signed_body, sent_body, headers=None):
    """Signs `signed_body`'s SHA-256 (as every SDK does) and sends `sent_body` instead."""
    headers = dict({"x-amz-content-sha256": hashlib.sha256(signed_body).hexdigest()}, **(headers or {}))
    request = AWSRequest(method=method, url=f"{depot.endpoint}{path}", data=signed_body, headers=headers)
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    sent = dict(request.headers)
    sent["Content-Length"] = str(len(sent_body))
    return requests.request(method, f"{depot.endpoint}{path}", headers=sent, data=sent_body, timeout=15)


def code(response):
    return ET.fromstring(response.content).findtext("Code")


def tagging(value):
    return (f'<Tagging><TagSet><Tag><Key>site</Key><Value>{value}</Value></Tag></TagSet></Tagging>').encode()


def versioning(status):
    return f'<VersioningConfiguration><Status>{status}</Status></VersioningConfiguration>'.encode()


def state(client):
    return (client.get_bucket_tagging(Bucket=BUCKET)["TagSet"],
            client.get_object_tagging(Bucket=BUCKET, Key="clip.mp4")["TagSet"],
            client.get_bucket_versioning(Bucket=BUCKET).get("Status"),
            client.get_object(Bucket=BUCKET, Key="clip.mp4")["Body"].read())


@pytest.mark.parametrize("method,path,good,swapped", [
    ("PUT", f"/{BUCKET}?tagging", tagging("original"), tagging("swapped")),
    ("PUT", f"/{BUCKET}/clip.mp4?tagging", tagging("original"), tagging("swapped")),
    ("PUT", f"/{BUCKET}?versioning", versioning("Suspended"), versioning("Enabled")),
    ("POST", f"/{BUCKET}?delete", b"<Delete><Object><Key>other</Key></Object></Delete>",
     b"<Delete><Object><Key>clip.mp4</Key></Object></Delete>"),
], ids=["bucket-tagging", "object-tagging", "versioning", "delete-objects"])
def test_a_body_that_is_not_the_signed_one_is_refused_and_changes_nothing(depot, method, path, good, swapped):
    client = depot.client()
    before = state(client)
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(swapped).digest()).decode()} if "delete" in path else None
    response = send(depot, method, path, good, swapped, headers)
    assert response.status_code == 400 and code(response) == "XAmzContentSHA256Mismatch", response.text
    assert state(client) == before
    # The same request with the signed body goes through.
    assert send(depot, method, path, good, good, headers and {
        "Content-MD5": base64.b64encode(hashlib.md5(good).digest()).decode()}).status_code in (200, 204)


def test_a_content_md5_that_does_not_match_is_bad_digest(depot):
    body = tagging("second")
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    response = send(depot, "PUT", f"/{BUCKET}/clip.mp4?tagging", body, body, {"Content-MD5": wrong})
    assert response.status_code == 400 and code(response) == "BadDigest", response.text
    assert depot.client().get_object_tagging(Bucket=BUCKET, Key="clip.mp4")["TagSet"] != [
        {"Key": "site", "Value": "second"}]
