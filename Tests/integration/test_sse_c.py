"""SSE-C, server-side encryption with customer-provided keys (issue 17 #5), on the real server
over TLS with boto3 (SSECustomerAlgorithm/SSECustomerKey) and the minio client (SseCustomerKey):
put, get, head, ranges, copies (to another customer key, to plaintext), multipart with the key on
every part; a missing key, a wrong key and a wrong key MD5 are refused as S3 refuses them; plain
HTTP is refused unless encryption.allowCustomerKeysOverHTTP is set; and the raw-disk check: no
byte pattern of an SSE-C object appears in any data file, while the same check finds a plaintext
control (so it can fail)."""
import base64
import hashlib
import io
import os
import uuid

import pytest
import urllib3
from minio import Minio
from minio.error import S3Error as MinioS3Error
from minio.sse import SseCustomerKey

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot
from sse_support import error_of, files_containing, key_md5, pattern
from tls_support import start_tls_server, tls_client

KEY = os.urandom(32)
OTHER_KEY = os.urandom(32)
SSE_C = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
OTHER_SSE_C = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER_KEY)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    server, cert = start_tls_server(tmp_path_factory.mktemp("ssec-tls"))
    yield server, cert
    server.cleanup()


@pytest.fixture(scope="module")
def s3(tls_server):
    return tls_client(*tls_server)


@pytest.fixture
def bucket(s3):
    name = "ssec-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name










def test_put_get_head_range_echo_and_no_plaintext_on_disk(tls_server, s3, bucket):
    server, _ = tls_server
    secret_marker = b"SSEC-SECRET-" + uuid.uuid4().hex.encode()
    plain_marker = b"SSEC-PLAIN-CONTROL-" + uuid.uuid4().hex.encode()
    secret = pattern(secret_marker, 3 << 20)
    plain = pattern(plain_marker, 1 << 20)
    put = s3.put_object(Bucket=bucket, Key="secret.mp4", Body=secret, **SSE_C)
    assert put["SSECustomerAlgorithm"] == "AES256" and put["SSECustomerKeyMD5"] == key_md5(KEY)
    assert "ServerSideEncryption" not in put
    s3.put_object(Bucket=bucket, Key="plain.mp4", Body=plain)
    got = s3.get_object(Bucket=bucket, Key="secret.mp4", **SSE_C)
    assert got["SSECustomerAlgorithm"] == "AES256" and got["SSECustomerKeyMD5"] == key_md5(KEY)
    assert got["Body"].read() == secret
    assert got["ETag"] == '"%s"' % hashlib.md5(secret).hexdigest()
    head = s3.head_object(Bucket=bucket, Key="secret.mp4", **SSE_C)
    assert head["ContentLength"] == len(secret) and head["SSECustomerKeyMD5"] == key_md5(KEY)
    ranged = s3.get_object(Bucket=bucket, Key="secret.mp4", Range="bytes=1000000-2500000", **SSE_C)
    assert ranged["Body"].read() == secret[1000000:2500001]
    assert files_containing(server.data_dir, plain_marker), "the plaintext control is not on disk"
    assert files_containing(server.data_dir, secret_marker) == []
    assert files_containing(server.data_dir, secret[:64]) == []
    assert files_containing(server.data_dir, KEY) == []
    assert files_containing(server.data_dir, base64.b64encode(KEY)) == []


def test_missing_wrong_and_mismatched_keys_are_refused(s3, bucket):
    body = os.urandom(10_000)
    s3.put_object(Bucket=bucket, Key="k", Body=body, **SSE_C)
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("InvalidRequest", 400)
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="k"))[1] == 400
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="k", **OTHER_SSE_C)) == ("AccessDenied", 403)
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="k", **OTHER_SSE_C))[1] == 403
    # A key MD5 that is not the key's: boto3 computes it, so send it raw through the parameter.
    wrong_md5 = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=base64.b64encode(KEY).decode(),
                     SSECustomerKeyMD5=key_md5(OTHER_KEY))
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="bad-md5", Body=b"x", **wrong_md5)) == ("InvalidArgument", 400)
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="k", **wrong_md5)) == ("InvalidArgument", 400)
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="short", Body=b"x", SSECustomerAlgorithm="AES256",
                                          SSECustomerKey=os.urandom(16))) == ("InvalidArgument", 400)
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="alg", Body=b"x", SSECustomerAlgorithm="AES128",
                                          SSECustomerKey=KEY)) == ("InvalidArgument", 400)
    for refused in ["bad-md5", "short", "alg"]:
        assert error_of(lambda: s3.head_object(Bucket=bucket, Key=refused))[1] == 404
    # A key for a plaintext object is refused too; the object is unchanged.
    s3.put_object(Bucket=bucket, Key="plain", Body=body)
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="plain", **SSE_C)) == ("InvalidRequest", 400)
    assert s3.get_object(Bucket=bucket, Key="k", **SSE_C)["Body"].read() == body


def test_copy_to_another_key_to_plaintext_and_from_plaintext(s3, bucket):
    body = os.urandom(700_000)
    s3.put_object(Bucket=bucket, Key="src", Body=body, **SSE_C)
    source = dict(CopySource=f"{bucket}/src", CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY)
    copied = s3.copy_object(Bucket=bucket, Key="other-key", **source, **OTHER_SSE_C)
    assert copied["SSECustomerKeyMD5"] == key_md5(OTHER_KEY)
    assert s3.get_object(Bucket=bucket, Key="other-key", **OTHER_SSE_C)["Body"].read() == body
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="other-key", **SSE_C)) == ("AccessDenied", 403)
    s3.copy_object(Bucket=bucket, Key="plain-copy", **source)
    plain = s3.get_object(Bucket=bucket, Key="plain-copy")
    assert plain["Body"].read() == body and "SSECustomerAlgorithm" not in plain
    # Without the source's key the copy is refused and nothing is stored.
    assert error_of(lambda: s3.copy_object(Bucket=bucket, Key="nokey", CopySource=f"{bucket}/src")) == ("InvalidRequest", 400)
    assert error_of(lambda: s3.copy_object(Bucket=bucket, Key="nokey", CopySource=f"{bucket}/src",
                                           CopySourceSSECustomerAlgorithm="AES256",
                                           CopySourceSSECustomerKey=OTHER_KEY)) == ("AccessDenied", 403)
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="nokey"))[1] == 404
    # A plaintext object copied to SSE-C.
    s3.copy_object(Bucket=bucket, Key="now-secret", CopySource=f"{bucket}/plain-copy", **SSE_C)
    assert s3.get_object(Bucket=bucket, Key="now-secret", **SSE_C)["Body"].read() == body
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="now-secret"))[1] == 400


def test_multipart_with_the_key_on_every_part(s3, bucket):
    parts = [os.urandom(5 << 20), os.urandom(1 << 20)]
    created = s3.create_multipart_upload(Bucket=bucket, Key="mp", **SSE_C)
    assert created["SSECustomerKeyMD5"] == key_md5(KEY)
    upload = created["UploadId"]
    # A part without the key, or with another key, is refused.
    assert error_of(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1,
                                           Body=parts[0])) == ("InvalidRequest", 400)
    assert error_of(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=parts[0],
                                           **OTHER_SSE_C)) == ("InvalidArgument", 400)
    etags = []
    for number, data in enumerate(parts, start=1):
        part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=data, **SSE_C)
        assert part["SSECustomerKeyMD5"] == key_md5(KEY)
        etags.append({"PartNumber": number, "ETag": part["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": etags})
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp", **SSE_C)["Body"].read() == whole
    ranged = s3.get_object(Bucket=bucket, Key="mp", Range="bytes=5242000-5243999", **SSE_C)["Body"].read()
    assert ranged == whole[5242000:5244000]
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="mp"))[1] == 400
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="mp", **OTHER_SSE_C))[1] == 403


def test_minio_client_sse_c_over_tls(tls_server, bucket):
    server, cert = tls_server
    http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=cert)
    mc = Minio(server.endpoint.split("//", 1)[1], access_key=ROOT_USER, secret_key=ROOT_PASSWORD, secure=True,
               http_client=http)
    ssec = SseCustomerKey(KEY)
    body = os.urandom(300_000)
    mc.put_object(bucket, "m", io.BytesIO(body), len(body), sse=ssec)
    stat = mc.stat_object(bucket, "m", ssec=ssec)
    assert stat.size == len(body)
    assert stat.metadata["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    response = mc.get_object(bucket, "m", ssec=ssec, offset=1000, length=5000)
    try:
        assert response.read() == body[1000:6000]
    finally:
        response.close()
        response.release_conn()
    with pytest.raises(MinioS3Error) as caught:
        mc.stat_object(bucket, "m", ssec=SseCustomerKey(OTHER_KEY))
    assert caught.value.response.status == 403


def test_plain_http_is_refused_unless_allowed(tmp_path):
    refusing = DepotServer().start()
    try:
        client = refusing.client()
        client.create_bucket(Bucket="plain-http")
        assert error_of(lambda: client.put_object(Bucket="plain-http", Key="k", Body=b"x", **SSE_C)) == ("InvalidRequest", 400)
        assert error_of(lambda: client.head_object(Bucket="plain-http", Key="k"))[1] == 404
    finally:
        refusing.cleanup()
    config = tmp_path / "depot.yaml"
    config.write_text("encryption:\n  allowCustomerKeysOverHTTP: true\n")
    allowing = DepotServer(config=str(config)).start()
    try:
        client = allowing.client()
        client.create_bucket(Bucket="plain-http")
        client.put_object(Bucket="plain-http", Key="k", Body=b"allowed", **SSE_C)
        assert client.get_object(Bucket="plain-http", Key="k", **SSE_C)["Body"].read() == b"allowed"
        allowing.stop()
        # fsck does not call the SSE-C chunks corrupt (it cannot check their tag without the key).
        fsck = run_depot("fsck", "--config", str(config), "--data", allowing.data_dir)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    finally:
        allowing.cleanup()


def test_tier_replication_fails_clearly_and_vault_downloads_are_refused(tmp_path):
    """The server keeps no customer key, so an SSE-C object cannot be sent to a tier (its replica
    is FAILED at once, never retried) nor served by Vault (a JSON 400 naming SSE-C); a plaintext
    control in the same bucket replicates and downloads (so the checks can fail)."""
    import time

    import requests

    nas = tmp_path / "nas"
    nas.mkdir()
    config = tmp_path / "depot.yaml"
    config.write_text(
        "encryption:\n  allowCustomerKeysOverHTTP: true\nbuckets: [recordings]\n"
        f"tiers:\n  - {{ name: nas, type: filesystem, path: \"{nas}\" }}\n"
        "policies:\n  - { name: mirror, match: { bucket: recordings }, replicate: { to: [nas] } }\n"
        "accounts:\n  - name: agents\n    accessKey: AGENTKEY\n    secretKey: agent-secret-1\n"
        "    allow: [{ bucket: recordings, actions: [read, write, delete, list] }]\n"
        "    vault: { directory: \"*\", bucket: recordings }\n")
    server = DepotServer(config=str(config)).start()
    try:
        client = server.client()
        client.put_object(Bucket="recordings", Key="cam/secret.mp4", Body=b"customer secret", **SSE_C)
        client.put_object(Bucket="recordings", Key="cam/plain.mp4", Body=b"plain control")

        def status(key, **extra):
            return client.head_object(Bucket="recordings", Key=key, **extra).get("ReplicationStatus")
        deadline = time.time() + 30
        while time.time() < deadline and (status("cam/secret.mp4", **SSE_C) != "FAILED"
                                          or status("cam/plain.mp4") != "COMPLETED"):
            time.sleep(0.2)
        assert status("cam/plain.mp4") == "COMPLETED"
        assert status("cam/secret.mp4", **SSE_C) == "FAILED"
        assert (nas / "cam" / "plain.mp4").read_bytes() == b"plain control"
        assert not (nas / "cam" / "secret.mp4").exists()
        auth = {"X-Kerberos-Storage-Accesskey": "AGENTKEY", "X-Kerberos-Storage-Secretaccesskey": "agent-secret-1",
                "X-Kerberos-Storage-Directory": "cam"}
        blob = requests.get(server.endpoint + "/api/storage/blob", timeout=10,
                            headers=dict(auth, **{"X-Kerberos-Storage-Filename": "cam/secret.mp4"}))
        assert blob.status_code == 400, blob.text
        assert "SSE-C" in blob.json()["data"] and b"customer secret" not in blob.content
        plain = requests.get(server.endpoint + "/api/storage/blob", timeout=10,
                             headers=dict(auth, **{"X-Kerberos-Storage-Filename": "cam/plain.mp4"}))
        assert plain.status_code == 200 and plain.content == b"plain control"
    finally:
        server.cleanup()


def test_post_form_with_customer_key_fields(tls_server, s3, bucket):
    """A browser-style POST form carries the SSE-C fields; the object needs the key to be read,
    and a form whose key MD5 does not match stores nothing."""
    import requests

    server, cert = tls_server
    ssec_fields = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
                   "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY).decode(),
                   "x-amz-server-side-encryption-customer-key-MD5": key_md5(KEY)}
    form = s3.generate_presigned_post(bucket, "form.mp4", Fields=ssec_fields,
                                      Conditions=[{name: value} for name, value in ssec_fields.items()])
    body = os.urandom(50_000)
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("f", body)}, timeout=10, verify=cert)
    assert posted.status_code == 204, posted.text
    assert posted.headers["x-amz-server-side-encryption-customer-key-MD5"] == key_md5(KEY)
    assert s3.get_object(Bucket=bucket, Key="form.mp4", **SSE_C)["Body"].read() == body
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="form.mp4"))[1] == 400
    wrong = dict(ssec_fields, **{"x-amz-server-side-encryption-customer-key-MD5": key_md5(OTHER_KEY)})
    form = s3.generate_presigned_post(bucket, "wrong.mp4", Fields=wrong,
                                      Conditions=[{name: value} for name, value in wrong.items()])
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("f", body)}, timeout=10, verify=cert)
    assert posted.status_code == 400 and b"InvalidArgument" in posted.content, posted.text
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="wrong.mp4"))[1] == 404
