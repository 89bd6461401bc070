"""A bucket policy's Deny reaches every request on an open tus upload, not only its creation and
PATCHes: HEAD (the offset, S3's ListMultipartUploadParts) and DELETE (termination, S3's
AbortMultipartUpload) are refused with Vault's JSON 403 when the policy denies the account
s3:PutObject on the key, or the S3 action the request itself carries out; the upload is left as it
was. Before this check, HEAD answered the offset and DELETE ended the upload under such a Deny."""
import json

import pytest
import requests

from vault_agent_server import ACCESS_KEY, VAULT_HEADERS, start_with_agent

BUCKET = "rec"


@pytest.fixture
def vault(tmp_path):
    server = start_with_agent(tmp_path, bucket=BUCKET)
    yield server
    server.cleanup()


def tus(vault, method, location="/api/storage/tus", **headers):
    return requests.request(method, vault.endpoint + location, timeout=10,
                            headers=dict(VAULT_HEADERS, **{"Tus-Resumable": "1.0.0"}, **headers))


def create(vault, key):
    directory, filename = key.rsplit("/", 1)
    created = tus(vault, "POST", **{"Upload-Length": "10", "X-Kerberos-Storage-Directory": directory,
                                    "X-Kerberos-Storage-FileName": filename})
    assert created.status_code == 201, created.text
    return created.headers["Location"]


def deny(vault, action, resource=f"arn:aws:s3:::{BUCKET}/cams/*"):
    vault.client().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": [ACCESS_KEY]}, "Action": [action], "Resource": [resource]}]}))


def open_uploads(vault):
    return [u["Key"] for u in vault.client().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]


def assert_refused(response, action):
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    if response.request.method != "HEAD":  # a HEAD answer has no body to name the reason in
        assert "policy of bucket rec denies" in response.json()["data"] and action in response.json()["data"]


@pytest.mark.parametrize("action", ["s3:PutObject", "s3:*"])
def test_deny_of_the_upload_refuses_head_and_delete(vault, action):
    location = create(vault, "cams/clip.mp4")
    deny(vault, action)
    assert_refused(tus(vault, "HEAD", location), "")
    assert_refused(tus(vault, "DELETE", location), "")
    assert open_uploads(vault) == ["cams/clip.mp4"]
    vault.client().delete_bucket_policy(Bucket=BUCKET)
    head = tus(vault, "HEAD", location)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "0"
    assert tus(vault, "DELETE", location).status_code == 204
    assert open_uploads(vault) == []


def test_deny_of_list_parts_refuses_head_only(vault):
    location = create(vault, "cams/clip.mp4")
    deny(vault, "s3:ListMultipartUploadParts")
    assert_refused(tus(vault, "HEAD", location), "s3:ListMultipartUploadParts")
    patched = tus(vault, "PATCH", location, data=None, **{"Content-Type": "application/offset+octet-stream",
                                                          "Upload-Offset": "0"})
    assert patched.status_code == 204, patched.text
    assert tus(vault, "DELETE", location).status_code == 204
    assert open_uploads(vault) == []


def test_deny_of_abort_refuses_delete_only(vault):
    location = create(vault, "cams/clip.mp4")
    deny(vault, "s3:AbortMultipartUpload")
    assert tus(vault, "HEAD", location).status_code == 200
    assert_refused(tus(vault, "DELETE", location), "s3:AbortMultipartUpload")
    assert open_uploads(vault) == ["cams/clip.mp4"]


def test_deny_elsewhere_changes_nothing(vault):
    location = create(vault, "cams/clip.mp4")
    deny(vault, "s3:*", f"arn:aws:s3:::{BUCKET}/yard/*")
    assert tus(vault, "HEAD", location).status_code == 200
    assert tus(vault, "DELETE", location).status_code == 204
    assert open_uploads(vault) == []
