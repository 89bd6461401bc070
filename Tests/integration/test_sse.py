"""Server-side encryption, SSE-S3 and SSE-KMS (issue 17 #5), on the real server with boto3 and
the minio client: headers echoed on PUT, GET, HEAD, copy and multipart; a bucket default applies
to plain PUTs; unknown key ids and requests without configured keys are refused; and the raw-disk
check: no byte pattern of an encrypted object appears in any file of the data directory, while
the same pattern stored in plaintext does (the check can fail). fsck and an index rebuild work
on encrypted chunks."""
import io
import os
import uuid

import pytest
from minio import Minio
from minio.sse import SseKMS, SseS3

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot
from sse_support import error_of, files_containing, pattern

KEY_K2_HEX = "8f" * 32


def write_config(directory):
    key_file = os.path.join(directory, "k1.key")
    with open(key_file, "wb") as f:
        f.write(os.urandom(32))
    config = os.path.join(directory, "depot.yaml")
    with open(config, "w") as f:
        f.write("encryption:\n"
                f"  keys:\n    - {{ id: k1, file: {key_file} }}\n    - {{ id: k2, env: DEPOT_TEST_KEY_K2 }}\n"
                "  default: k1\n")
    return config


@pytest.fixture
def server(tmp_path):
    depot = DepotServer(config=write_config(str(tmp_path)), extra_env={"DEPOT_TEST_KEY_K2": KEY_K2_HEX}).start()
    yield depot
    depot.cleanup()


@pytest.fixture
def client(server):
    return server.client()


@pytest.fixture
def bucket(client):
    name = "sse-" + uuid.uuid4().hex[:12]
    client.create_bucket(Bucket=name)
    return name








def test_sse_s3_put_get_head_echo_and_no_plaintext_on_disk(server, client, bucket):
    secret_marker = b"SECRET-FOOTAGE-" + uuid.uuid4().hex.encode()
    plain_marker = b"PLAIN-CONTROL-" + uuid.uuid4().hex.encode()
    secret = pattern(secret_marker, 3 << 20)
    plain = pattern(plain_marker, 3 << 20)
    put = client.put_object(Bucket=bucket, Key="secret.mp4", Body=secret, ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    client.put_object(Bucket=bucket, Key="plain.mp4", Body=plain)
    got = client.get_object(Bucket=bucket, Key="secret.mp4")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == secret
    assert client.head_object(Bucket=bucket, Key="secret.mp4")["ServerSideEncryption"] == "AES256"
    assert "ServerSideEncryption" not in client.head_object(Bucket=bucket, Key="plain.mp4")
    # A range across chunk boundaries (chunks are 256 KiB to 4 MiB).
    ranged = client.get_object(Bucket=bucket, Key="secret.mp4", Range="bytes=1000000-2500000")["Body"].read()
    assert ranged == secret[1000000:2500001]
    # The raw-disk check, with a control that proves it can fail.
    assert files_containing(server.data_dir, plain_marker), "the plaintext control is not on disk"
    assert files_containing(server.data_dir, secret_marker) == []
    assert files_containing(server.data_dir, secret[:64]) == []


def test_sse_kms_with_key_ids_and_arns(client, bucket):
    body = os.urandom(100_000)
    put = client.put_object(Bucket=bucket, Key="k", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId="k2")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == "k2"
    head = client.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "k2"
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == body
    arn = "arn:aws:kms:us-east-1:123456789012:key/k2"
    put = client.put_object(Bucket=bucket, Key="arn", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    assert put["SSEKMSKeyId"] == "k2"
    # aws:kms without a key id uses the default key.
    put = client.put_object(Bucket=bucket, Key="default", Body=body, ServerSideEncryption="aws:kms")
    assert put["SSEKMSKeyId"] == "k1"
    code, status = error_of(lambda: client.put_object(
        Bucket=bucket, Key="nope", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="no-such-key"))
    assert (code, status) == ("KMS.NotFoundException", 400)
    code, status = error_of(lambda: client.put_object(Bucket=bucket, Key="nope", Body=b"x", ServerSideEncryption="AES512"))
    assert (code, status) == ("InvalidArgument", 400)
    assert error_of(lambda: client.head_object(Bucket=bucket, Key="nope"))[1] == 404


def test_copy_keeps_or_changes_the_encryption(client, bucket):
    body = os.urandom(700_000)
    client.put_object(Bucket=bucket, Key="plain", Body=body)
    client.put_object(Bucket=bucket, Key="s3", Body=body, ServerSideEncryption="AES256")
    # Plaintext to SSE-S3, SSE-S3 to another key: the bytes are re-encrypted.
    copied = client.copy_object(Bucket=bucket, Key="to-s3", CopySource={"Bucket": bucket, "Key": "plain"},
                                ServerSideEncryption="AES256")
    assert copied["ServerSideEncryption"] == "AES256"
    copied = client.copy_object(Bucket=bucket, Key="to-k2", CopySource={"Bucket": bucket, "Key": "s3"},
                                ServerSideEncryption="aws:kms", SSEKMSKeyId="k2")
    assert copied["ServerSideEncryption"] == "aws:kms" and copied["SSEKMSKeyId"] == "k2"
    # Without headers, the copy stays as encrypted as its source (it shares its chunks).
    copied = client.copy_object(Bucket=bucket, Key="same", CopySource={"Bucket": bucket, "Key": "s3"})
    assert copied["ServerSideEncryption"] == "AES256"
    # Copying an object onto itself with the header encrypts it in place (as `aws s3 cp --sse`);
    # without any change it is still refused, as AWS refuses it.
    copied = client.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "plain"},
                                ServerSideEncryption="AES256")
    assert copied["ServerSideEncryption"] == "AES256"
    assert error_of(lambda: client.copy_object(
        Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "plain"}))[0] == "InvalidRequest"
    for key, algorithm in [("to-s3", "AES256"), ("to-k2", "aws:kms"), ("same", "AES256"), ("plain", "AES256")]:
        got = client.get_object(Bucket=bucket, Key=key)
        assert got["ServerSideEncryption"] == algorithm
        assert got["Body"].read() == body


def test_multipart_upload_encrypts_every_part_and_parts_refuse_the_header(server, client, bucket):
    marker = b"MULTIPART-SECRET-" + uuid.uuid4().hex.encode()
    part1, part2 = pattern(marker, 5 << 20), pattern(marker, 1 << 20)
    upload = client.create_multipart_upload(Bucket=bucket, Key="mp", ServerSideEncryption="aws:kms",
                                            SSEKMSKeyId="k2")
    assert upload["ServerSideEncryption"] == "aws:kms"
    upload_id = upload["UploadId"]
    code, status = error_of(lambda: client.upload_part(
        Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=part1, SSECustomerAlgorithm="AES256",
        SSECustomerKey="k" * 32))
    assert status in (400, 501)
    e1 = client.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=part1)["ETag"]
    e2 = client.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=2, Body=part2)["ETag"]
    done = client.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert done["ServerSideEncryption"] == "aws:kms" and done["SSEKMSKeyId"] == "k2"
    got = client.get_object(Bucket=bucket, Key="mp")
    assert got["ServerSideEncryption"] == "aws:kms"
    assert got["Body"].read() == part1 + part2
    assert files_containing(server.data_dir, marker) == []


def test_upload_part_with_an_encryption_header_is_refused(server, bucket):
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    client = server.client()
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    url = f"{server.endpoint}/{bucket}/mp?partNumber=1&uploadId={upload_id}"
    request = AWSRequest(method="PUT", url=url, data=b"abc", headers={"x-amz-server-side-encryption": "AES256",
                                                                          "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    response = requests.put(url, data=b"abc", headers=dict(request.headers), timeout=15)
    assert response.status_code == 400, response.text
    assert "<Code>InvalidArgument</Code>" in response.text
    assert client.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id).get("Parts", []) == []


def test_bucket_default_encryption_applies_to_plain_puts(server, client, bucket):
    code, status = error_of(lambda: client.get_bucket_encryption(Bucket=bucket))
    assert (code, status) == ("ServerSideEncryptionConfigurationNotFoundError", 404)
    client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k2"}}]})
    rule = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k2"}
    marker = b"DEFAULT-ENCRYPTED-" + uuid.uuid4().hex.encode()
    body = pattern(marker, 1 << 20)
    put = client.put_object(Bucket=bucket, Key="plain-put", Body=body)
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == "k2"
    assert client.get_object(Bucket=bucket, Key="plain-put")["Body"].read() == body
    assert files_containing(server.data_dir, marker) == []
    # The request's own header wins over the default.
    put = client.put_object(Bucket=bucket, Key="s3", Body=b"x", ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    code, status = error_of(lambda: client.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "unknown"}}]}))
    assert (code, status) == ("KMS.NotFoundException", 400)
    client.delete_bucket_encryption(Bucket=bucket)
    assert error_of(lambda: client.get_bucket_encryption(Bucket=bucket))[1] == 404
    assert "ServerSideEncryption" not in client.put_object(Bucket=bucket, Key="after", Body=b"x")


def test_minio_client_sse_s3_and_kms(server, bucket):
    mc = Minio(server.endpoint.split("//", 1)[1], access_key=ROOT_USER, secret_key=ROOT_PASSWORD, secure=False)
    body = os.urandom(300_000)
    mc.put_object(bucket, "m-s3", io.BytesIO(body), len(body), sse=SseS3())
    mc.put_object(bucket, "m-kms", io.BytesIO(body), len(body), sse=SseKMS("k2", {}))
    for key, algorithm in [("m-s3", "AES256"), ("m-kms", "aws:kms")]:
        stat = mc.stat_object(bucket, key)
        assert stat.metadata["x-amz-server-side-encryption"] == algorithm
        response = mc.get_object(bucket, key)
        try:
            assert response.read() == body
        finally:
            response.close()
            response.release_conn()


def test_encryption_header_without_configured_keys_is_refused(depot, s3):
    bucket = "plain-server"
    s3.create_bucket(Bucket=bucket)
    code, status = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256"))
    assert (code, status) == ("InvalidArgument", 400)
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="k"))[1] == 404
    code, status = error_of(lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}))
    assert (code, status) == ("InvalidArgument", 400)
    # SSE-C needs no configured key, but is refused over plain HTTP (test_sse_c.py).
    code, status = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", SSECustomerAlgorithm="AES256",
                                                  SSECustomerKey="k" * 32))
    assert (code, status) == ("InvalidRequest", 400)


def test_fsck_and_rebuild_index_with_encrypted_objects(tmp_path):
    config = write_config(str(tmp_path))
    env = {"DEPOT_TEST_KEY_K2": KEY_K2_HEX}
    server = DepotServer(config=config, extra_env=env).start()
    try:
        client = server.client()
        client.create_bucket(Bucket="rebuild")
        body = os.urandom(2 << 20)
        client.put_object(Bucket="rebuild", Key="s3", Body=body, ServerSideEncryption="AES256")
        client.put_object(Bucket="rebuild", Key="kms", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId="k2")
        client.put_object(Bucket="rebuild", Key="plain", Body=body)
        server.stop()
        fsck = run_depot("fsck", "--config", config, "--data", server.data_dir, env=env)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        rebuilt = run_depot("fsck", "--config", config, "--data", server.data_dir, "--rebuild-index", env=env)
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        server.start()
        client = server.client()
        for key in ("s3", "kms", "plain"):
            assert client.get_object(Bucket="rebuild", Key=key)["Body"].read() == body
    finally:
        server.cleanup()


def test_post_form_with_encryption_fields(server, client, bucket):
    import requests

    marker = b"FORM-SECRET-" + uuid.uuid4().hex.encode()
    body = pattern(marker, 600_000)
    post = client.generate_presigned_post(
        bucket, "form-key", Fields={"x-amz-server-side-encryption": "aws:kms",
                                    "x-amz-server-side-encryption-aws-kms-key-id": "k2"},
        Conditions=[{"x-amz-server-side-encryption": "aws:kms"},
                    {"x-amz-server-side-encryption-aws-kms-key-id": "k2"}])
    response = requests.post(post["url"], data=post["fields"], files={"file": ("f", body)}, timeout=30)
    assert response.status_code == 204, response.text
    assert response.headers["x-amz-server-side-encryption"] == "aws:kms"
    assert response.headers["x-amz-server-side-encryption-aws-kms-key-id"] == "k2"
    got = client.get_object(Bucket=bucket, Key="form-key")
    assert got["SSEKMSKeyId"] == "k2" and got["Body"].read() == body
    assert files_containing(server.data_dir, marker) == []
    # An unknown key is refused and nothing is stored.
    post = client.generate_presigned_post(
        bucket, "bad-key", Fields={"x-amz-server-side-encryption": "aws:kms",
                                   "x-amz-server-side-encryption-aws-kms-key-id": "nope"},
        Conditions=[{"x-amz-server-side-encryption": "aws:kms"},
                    {"x-amz-server-side-encryption-aws-kms-key-id": "nope"}])
    response = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x")}, timeout=30)
    assert response.status_code == 400 and "KMS.NotFoundException" in response.text, response.text
    assert error_of(lambda: client.head_object(Bucket=bucket, Key="bad-key"))[1] == 404


def test_encrypted_objects_replicate_to_a_tier_decrypted(tmp_path):
    """A tier gets the plaintext (through the engine's read path) and none of Depot's internal
    encryption metadata; the local copy stays ciphertext."""
    import time

    nas = tmp_path / "nas"
    nas.mkdir()
    config = write_config(str(tmp_path))
    with open(config, "a") as f:
        f.write(f"buckets: [recordings]\ntiers:\n  - {{ name: nas, type: filesystem, path: \"{nas}\" }}\n"
                "policies:\n  - { name: mirror, match: { bucket: recordings }, replicate: { to: [nas] } }\n")
    server = DepotServer(config=config, extra_env={"DEPOT_TEST_KEY_K2": KEY_K2_HEX}).start()
    try:
        client = server.client()
        marker = b"TIERED-SECRET-" + uuid.uuid4().hex.encode()
        body = pattern(marker, 2 << 20)
        client.put_object(Bucket="recordings", Key="cam/x.mp4", Body=body, ServerSideEncryption="AES256")
        deadline = time.time() + 60
        while time.time() < deadline and client.head_object(
                Bucket="recordings", Key="cam/x.mp4").get("ReplicationStatus") != "COMPLETED":
            time.sleep(0.2)
        assert (nas / "cam" / "x.mp4").read_bytes() == body
        assert files_containing(str(nas), b"x-depot") == []
        assert files_containing(server.data_dir, marker) == []
    finally:
        server.cleanup()


def test_vault_uploads_follow_the_bucket_default_and_download_decrypted(tmp_path):
    """Kerberos Agent's doors (legacy POST, tus PATCHes) get the bucket's default encryption;
    Vault downloads answer the plaintext; the tus ETag (an MD5 read back from the stored parts)
    is the plaintext's."""
    import base64
    import hashlib

    import requests

    config = write_config(str(tmp_path))
    with open(config, "a") as f:
        f.write("buckets: [recordings]\naccounts:\n  - name: agents\n    accessKey: AGENTKEY\n"
                "    secretKey: agent-secret-1\n    allow: [{ bucket: recordings, actions: [read, write, delete, list] }]\n"
                "    vault: { directory: \"*\", bucket: recordings }\n")
    server = DepotServer(config=config, extra_env={"DEPOT_TEST_KEY_K2": KEY_K2_HEX}).start()
    try:
        client = server.client()
        client.put_bucket_encryption(Bucket="recordings", ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        auth = {"X-Kerberos-Storage-Accesskey": "AGENTKEY", "X-Kerberos-Storage-Secretaccesskey": "agent-secret-1",
                "X-Kerberos-Storage-Provider": "", "X-Kerberos-Storage-Directory": "cam",
                "X-Kerberos-Storage-Device": "agent-key-1", "X-Kerberos-Storage-Capture": "IPCamera",
                "X-Kerberos-Storage-Cloudkey": ""}
        marker = b"VAULT-SECRET-" + uuid.uuid4().hex.encode()
        legacy = pattern(marker, 3 << 20)
        r = requests.post(server.endpoint + "/api/storage", data=legacy, timeout=60,
                          headers=dict(auth, **{"X-Kerberos-Storage-Filename": "legacy.mp4"}))
        assert r.status_code == 200, r.text
        resumable = pattern(marker, 9 << 20)
        metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                            {"filename": "tus.mp4", "directory": "cam", "device": "agent-key-1"}.items())
        r = requests.post(server.endpoint + "/api/storage/tus/", timeout=10, headers=dict(auth, **{
            "Tus-Resumable": "1.0.0", "Upload-Length": str(len(resumable)), "Upload-Metadata": metadata,
            "X-Kerberos-Storage-Filename": "tus.mp4"}))
        assert r.status_code == 201, r.text
        url = server.endpoint + "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]
        for offset in range(0, len(resumable), 4 << 20):
            r = requests.patch(url, data=resumable[offset:offset + (4 << 20)], timeout=60, headers=dict(auth, **{
                "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": str(offset)}))
            assert r.status_code == 204, r.text
        for key, body in [("cam/legacy.mp4", legacy), ("cam/tus.mp4", resumable)]:
            head = client.head_object(Bucket="recordings", Key=key)
            assert head["ServerSideEncryption"] == "AES256", key
            assert head["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), key
            blob = requests.get(server.endpoint + "/api/storage/blob", timeout=60,
                                headers=dict(auth, **{"X-Kerberos-Storage-Filename": key}))
            assert blob.status_code == 200 and blob.content == body, key
        assert files_containing(server.data_dir, marker) == []
    finally:
        server.cleanup()


def test_key_rotation_at_start_then_the_old_key_can_go(tmp_path):
    old_key, new_key = tmp_path / "old.key", tmp_path / "new.key"
    old_key.write_bytes(os.urandom(32))
    new_key.write_bytes(os.urandom(32))
    config = tmp_path / "depot.yaml"
    config.write_text(f"encryption: {{ keys: [{{ id: k1, file: {old_key} }}] }}\n")
    server = DepotServer(config=str(config)).start()
    try:
        body = os.urandom(500_000)
        client = server.client()
        client.create_bucket(Bucket="rotate")
        client.put_object(Bucket="rotate", Key="k", Body=body, ServerSideEncryption="AES256")
        server.stop()
        # A key that does not open the stored data key stops the start, naming the key.
        config.write_text(f"encryption: {{ keys: [{{ id: k1, file: {new_key} }}] }}\n")
        with pytest.raises(RuntimeError, match="encryption key k1 does not open"):
            server.start()
        config.write_text(f"encryption: {{ keys: [{{ id: k1, file: {new_key}, previous: [{{ file: {old_key} }}] }}] }}\n")
        server.start()
        assert "now wrapped by the current master key" in server.logs()
        assert server.client().get_object(Bucket="rotate", Key="k")["Body"].read() == body
        server.stop()
        config.write_text(f"encryption: {{ keys: [{{ id: k1, file: {new_key} }}] }}\n")
        server.start()
        assert server.client().get_object(Bucket="rotate", Key="k")["Body"].read() == body
    finally:
        server.cleanup()


def test_awscli_sse_upload_multipart_and_in_place_encryption(server, bucket, tmp_path):
    """`aws s3 cp --sse` (multipart above its threshold) and `--sse aws:kms --sse-kms-key-id`."""
    import subprocess

    from conftest import aws_env

    env = aws_env(server, tmp_path, multipart_threshold="5MB")
    source = tmp_path / "clip.mp4"
    body = os.urandom(12 << 20)
    source.write_bytes(body)

    def aws(*args):
        result = subprocess.run(["aws", "--endpoint-url", server.endpoint, *args], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    aws("s3", "cp", str(source), f"s3://{bucket}/s3.mp4", "--sse", "AES256")
    aws("s3", "cp", str(source), f"s3://{bucket}/kms.mp4", "--sse", "aws:kms", "--sse-kms-key-id", "k2")
    aws("s3", "cp", str(source), f"s3://{bucket}/plain.mp4")
    aws("s3", "cp", f"s3://{bucket}/plain.mp4", f"s3://{bucket}/plain.mp4", "--sse", "AES256")
    client = server.client()
    for key, algorithm in [("s3.mp4", "AES256"), ("kms.mp4", "aws:kms"), ("plain.mp4", "AES256")]:
        got = client.get_object(Bucket=bucket, Key=key)
        assert got["ServerSideEncryption"] == algorithm, key
        assert got["Body"].read() == body, key
    assert client.head_object(Bucket=bucket, Key="kms.mp4")["SSEKMSKeyId"] == "k2"
