"""Bucket policies at the Kerberos Vault door: an explicit Deny that names a Vault account (by access
key or IAM ARN, as on the S3 door) and the S3 action a Vault operation carries out (upload
s3:PutObject, blob and signed links s3:GetObject, delete s3:DeleteObject) refuses it with Vault's
JSON 403 and stores nothing; a Deny for another principal changes nothing; a policy Allow never
widens what the account's own `allow` list gives it (README "Kerberos Agent")."""
import json

import pytest
import requests

from vault_agent_server import ACCESS_KEY, VAULT_HEADERS, start_with_agent

BUCKET = "rec"


@pytest.fixture
def vault(tmp_path):
    server = start_with_agent(tmp_path, bucket=BUCKET, more_accounts="""\
  - name: other
    accessKey: OTHERKEY
    secretKey: "other-secret-1234"
    allow: [{ bucket: rec, actions: [read, write, delete, list] }]
    vault: { directory: "*", bucket: rec }
  - name: narrow
    accessKey: NARROWKEY
    secretKey: "narrow-secret-1234"
    allow: [{ bucket: rec, prefix: "a/", actions: [read, write] }]
    vault: { directory: "*", bucket: rec }
""")
    yield server
    server.cleanup()


def other():
    return {"X-Kerberos-Storage-AccessKey": "OTHERKEY", "X-Kerberos-Storage-SecretAccessKey": "other-secret-1234"}


def upload(vault, key, body=b"recording bytes", headers=VAULT_HEADERS):
    directory, filename = key.rsplit("/", 1)
    return requests.post(vault.endpoint + "/api/storage", data=body, timeout=10, headers=dict(
        headers, **{"X-Kerberos-Storage-Directory": directory, "X-Kerberos-Storage-FileName": filename}))


def tus_create(vault, key, length=10, headers=VAULT_HEADERS):
    directory, filename = key.rsplit("/", 1)
    return requests.post(vault.endpoint + "/api/storage/tus", timeout=10, headers=dict(
        headers, **{"Tus-Resumable": "1.0.0", "Upload-Length": str(length), "X-Kerberos-Storage-Directory": directory,
                    "X-Kerberos-Storage-FileName": filename}))


def tus_patch(vault, location, body, headers=VAULT_HEADERS):
    return requests.patch(vault.endpoint + location, data=body, timeout=10, headers=dict(
        headers, **{"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}))


def blob(vault, key, headers=VAULT_HEADERS):
    return requests.get(vault.endpoint + "/api/storage/blob", timeout=10,
                        headers=dict(headers, **{"X-Kerberos-Storage-FileName": key}))


def signed_link(vault, key):
    return requests.get(vault.endpoint + "/api/storage", timeout=10,
                        headers=dict(VAULT_HEADERS, **{"X-Kerberos-Storage-FileName": key}))


def bulk_links(vault, keys):
    return requests.post(vault.endpoint + "/api/storage/bulk", timeout=10, headers=VAULT_HEADERS,
                         json=[{"provider": "", "filename": key, "uriExpiryTime": 600} for key in keys]).json()["data"]


def put_policy(vault, effect, action, principal, resource=f"arn:aws:s3:::{BUCKET}/*"):
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": effect, "Principal": {"AWS": [principal]}, "Action": [action], "Resource": [resource]}]}
    vault.client().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))


def assert_policy_refusal(response):
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert "policy of bucket rec denies" in response.json()["data"]


def stored_keys(vault):
    return sorted(o["Key"] for o in vault.client().list_objects_v2(Bucket=BUCKET).get("Contents", []))


def open_uploads(vault):
    return vault.client().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])


def test_deny_put_object_refuses_vault_uploads_and_stores_nothing(vault):
    assert upload(vault, "cams/before.mp4").status_code == 200
    created = tus_create(vault, "cams/tus-before.mp4")
    assert created.status_code == 201, created.text
    pending = created.headers["Location"]

    put_policy(vault, "Deny", "s3:PutObject", ACCESS_KEY, f"arn:aws:s3:::{BUCKET}/cams/*")
    assert_policy_refusal(upload(vault, "cams/denied.mp4"))
    assert_policy_refusal(tus_create(vault, "cams/tus-denied.mp4"))
    # An upload created before the policy is not continued either: nothing is stored from it.
    refused = tus_patch(vault, pending, b"0123456789")
    assert_policy_refusal(refused)
    assert refused.headers["Tus-Resumable"] == "1.0.0"
    assert stored_keys(vault) == ["cams/before.mp4"]
    assert [u["Key"] for u in open_uploads(vault)] == ["cams/tus-before.mp4"]
    # The Deny is on the keys it names and the action it names: elsewhere and for reading, nothing changes.
    assert upload(vault, "yard/allowed.mp4").status_code == 200
    assert blob(vault, "cams/before.mp4").content == b"recording bytes"

    vault.client().delete_bucket_policy(Bucket=BUCKET)
    assert upload(vault, "cams/after.mp4").status_code == 200
    assert tus_patch(vault, pending, b"0123456789").status_code == 204
    assert stored_keys(vault) == ["cams/after.mp4", "cams/before.mp4", "cams/tus-before.mp4", "yard/allowed.mp4"]


def test_deny_by_account_arn_refuses_everyone_it_names_only(vault):
    # The account's IAM user ARN (by its name) and Principal "*" both name it, as on the S3 door.
    put_policy(vault, "Deny", "s3:PutObject", "arn:aws:iam::123456789012:user/agents")
    assert_policy_refusal(upload(vault, "cams/a.mp4"))
    assert_policy_refusal(tus_create(vault, "cams/b.mp4"))
    assert upload(vault, "cams/other.mp4", headers=other()).status_code == 200
    vault.client().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    assert_policy_refusal(upload(vault, "cams/c.mp4", headers=other()))
    assert stored_keys(vault) == ["cams/other.mp4"]
    assert open_uploads(vault) == []


def test_deny_for_another_principal_changes_nothing(vault):
    put_policy(vault, "Deny", "s3:*", "OTHERKEY")
    assert_policy_refusal(upload(vault, "cams/x.mp4", headers=other()))
    assert upload(vault, "cams/a.mp4").status_code == 200
    created = tus_create(vault, "cams/t.mp4")
    assert created.status_code == 201
    assert tus_patch(vault, created.headers["Location"], b"0123456789").status_code == 204
    assert blob(vault, "cams/t.mp4").content == b"0123456789"
    assert stored_keys(vault) == ["cams/a.mp4", "cams/t.mp4"]


def test_deny_get_object_refuses_blob_and_signed_links(vault):
    assert upload(vault, "cams/clip.mp4", body=b"clip").status_code == 200
    made_before = signed_link(vault, "cams/clip.mp4").json()["data"]
    assert requests.get(made_before, timeout=10).content == b"clip"
    assert list(bulk_links(vault, ["cams/clip.mp4"])) == ["cams/clip.mp4"]

    put_policy(vault, "Deny", "s3:GetObject", ACCESS_KEY)
    assert_policy_refusal(blob(vault, "cams/clip.mp4"))
    assert_policy_refusal(signed_link(vault, "cams/clip.mp4"))
    # A link made before the policy stops working: it is its account's read.
    assert_policy_refusal(requests.get(made_before, timeout=10))
    assert bulk_links(vault, ["cams/clip.mp4"]) == {}
    # Uploads are another action, and the other account still reads.
    assert upload(vault, "cams/new.mp4").status_code == 200
    assert blob(vault, "cams/clip.mp4", headers=other()).content == b"clip"

    vault.client().delete_bucket_policy(Bucket=BUCKET)
    assert blob(vault, "cams/clip.mp4").content == b"clip"
    assert requests.get(made_before, timeout=10).content == b"clip"


def test_deny_delete_object_refuses_vault_delete(vault):
    assert upload(vault, "cams/keep.mp4").status_code == 200
    put_policy(vault, "Deny", "s3:DeleteObject", ACCESS_KEY)
    refused = requests.delete(vault.endpoint + "/api/storage", timeout=10,
                              headers=dict(VAULT_HEADERS, **{"X-Kerberos-Storage-FileName": "cams/keep.mp4"}))
    assert_policy_refusal(refused)
    assert stored_keys(vault) == ["cams/keep.mp4"]


def test_policy_allow_does_not_widen_a_vault_account(vault):
    narrow = {"X-Kerberos-Storage-AccessKey": "NARROWKEY", "X-Kerberos-Storage-SecretAccessKey": "narrow-secret-1234"}
    put_policy(vault, "Allow", "s3:PutObject", "NARROWKEY")
    assert upload(vault, "a/in.mp4", headers=narrow).status_code == 200
    outside = upload(vault, "b/out.mp4", headers=narrow)
    assert outside.status_code == 403 and "may not write" in outside.json()["data"]
    assert tus_create(vault, "b/out.mp4", headers=narrow).status_code == 403
    assert stored_keys(vault) == ["a/in.mp4"]


@pytest.mark.parametrize("operator, refused", [("IpAddress", True), ("NotIpAddress", False)])
def test_deny_conditions_see_the_vault_request(vault, operator, refused):
    # aws:SourceIp is the Vault client's address (127.0.0.1 here), as on the S3 door.
    vault.client().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Condition": {operator: {"aws:SourceIp": "127.0.0.1/32"}}}]}))
    answer = upload(vault, "cams/c.mp4")
    if refused:
        assert_policy_refusal(answer)
        assert stored_keys(vault) == []
    else:
        assert answer.status_code == 200 and stored_keys(vault) == ["cams/c.mp4"]


def test_tls_only_policy_refuses_vault_over_plain_http(vault):
    vault.client().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    assert_policy_refusal(upload(vault, "cams/plain.mp4"))
    assert_policy_refusal(tus_create(vault, "cams/plain.mp4"))
    vault.client().delete_bucket_policy(Bucket=BUCKET)
    assert stored_keys(vault) == [] and open_uploads(vault) == []
