"""What CompleteMultipartUpload and UploadPartCopy answer and do for encrypted uploads (issue 17
#5), over TLS with boto3, as S3 does:

- CompleteMultipartUpload names the object's encryption: x-amz-server-side-encryption (and the
  KMS key id) for SSE-S3/KMS uploads; for SSE-C uploads the customer algorithm, and the key MD5
  when the request carries the key (checked against the upload: another key is refused). Before,
  Complete answered none of these.
- UploadPartCopy from an SSE-C source takes the source key in
  x-amz-copy-source-server-side-encryption-customer-*; the part is stored under the upload's own
  encryption (an SSE-C upload's part needs the destination key in the usual headers). A missing or
  wrong source key gets S3's errors. Before, an SSE-C source answered 501."""
import os
import uuid

import pytest

from conftest import DepotServer
from sse_support import error_of, key_md5
from tls_support import start_tls_server, tls_client

KEY = os.urandom(32)
OTHER_KEY = os.urandom(32)
SSE_C = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
OTHER_SSE_C = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER_KEY)
SOURCE_SSE_C = dict(CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY)
PART = 5 << 20


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sse-mpu-tls")
    master = directory / "k1.key"
    master.write_bytes(os.urandom(32))
    server, cert = start_tls_server(
        directory, f"encryption:\n  keys:\n    - {{ id: k1, file: {master} }}\n  default: k1\n")
    yield server, cert
    server.cleanup()


@pytest.fixture(scope="module")
def s3(tls_server):
    return tls_client(*tls_server)


@pytest.fixture
def bucket(s3):
    name = "ssempu-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name






def headers_of(response):
    return response["ResponseMetadata"]["HTTPHeaders"]


def one_part_upload(s3, bucket, key, body, **encryption):
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **encryption)["UploadId"]
    part_args = SSE_C if "SSECustomerKey" in encryption else {}
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=body, **part_args)["ETag"]
    return upload, {"Parts": [{"PartNumber": 1, "ETag": etag}]}


def test_upload_part_names_the_uploads_encryption(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k", ServerSideEncryption="aws:kms", SSEKMSKeyId="k1")
    part = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload["UploadId"], PartNumber=1, Body=b"part")
    assert part["ServerSideEncryption"] == "aws:kms" and part["SSEKMSKeyId"] == "k1"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="p")
    part = s3.upload_part(Bucket=bucket, Key="p", UploadId=upload["UploadId"], PartNumber=1, Body=b"part")
    assert "ServerSideEncryption" not in part


def test_complete_echoes_sse_s3_and_kms(s3, bucket):
    upload, parts = one_part_upload(s3, bucket, "s3", b"sse-s3 body", ServerSideEncryption="AES256")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="s3", UploadId=upload, MultipartUpload=parts)
    assert done["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in done
    upload, parts = one_part_upload(s3, bucket, "kms", b"kms body", ServerSideEncryption="aws:kms", SSEKMSKeyId="k1")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="kms", UploadId=upload, MultipartUpload=parts)
    assert done["ServerSideEncryption"] == "aws:kms" and done["SSEKMSKeyId"] == "k1"
    upload, parts = one_part_upload(s3, bucket, "plain", b"plain body")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="plain", UploadId=upload, MultipartUpload=parts)
    assert "ServerSideEncryption" not in done


def test_complete_echoes_the_customer_key_headers(s3, bucket):
    upload, parts = one_part_upload(s3, bucket, "c", b"customer body", **SSE_C)
    # Another key on Complete is refused, as on a part; the upload stays open.
    assert error_of(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="c", UploadId=upload, MultipartUpload=parts, **OTHER_SSE_C)) == ("InvalidArgument", 400)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=upload, MultipartUpload=parts, **SSE_C)
    headers = headers_of(done)
    assert headers["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert headers["x-amz-server-side-encryption-customer-key-md5"] == key_md5(KEY)
    assert "x-amz-server-side-encryption" not in headers
    assert s3.get_object(Bucket=bucket, Key="c", **SSE_C)["Body"].read() == b"customer body"
    # Without the key (S3 makes it optional) the algorithm is still named; the MD5 is not kept.
    upload, parts = one_part_upload(s3, bucket, "c2", b"customer body 2", **SSE_C)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="c2", UploadId=upload, MultipartUpload=parts)
    assert headers_of(done)["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    # A key for an upload that is not SSE-C is refused.
    upload, parts = one_part_upload(s3, bucket, "p", b"plain")
    assert error_of(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="p", UploadId=upload, MultipartUpload=parts, **SSE_C)) == ("InvalidRequest", 400)


def test_upload_part_copy_from_an_sse_c_source(tls_server, s3, bucket):
    server, _ = tls_server
    marker = b"PART-COPY-SECRET-" + uuid.uuid4().hex.encode()
    source = (marker * (PART // len(marker) + 1))[:PART + 1000]
    s3.put_object(Bucket=bucket, Key="src", Body=source, **SSE_C)
    copy = dict(Bucket=bucket, CopySource=f"{bucket}/src")

    # Into an SSE-C upload under another key: the source key reads, the destination key seals.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dst", **OTHER_SSE_C)["UploadId"]
    part = s3.upload_part_copy(Key="dst", UploadId=upload, PartNumber=1, CopySourceRange=f"bytes=0-{PART - 1}",
                               **copy, **SOURCE_SSE_C, **OTHER_SSE_C)
    assert part["SSECustomerAlgorithm"] == "AES256" and part["SSECustomerKeyMD5"] == key_md5(OTHER_KEY)
    last = s3.upload_part_copy(Key="dst", UploadId=upload, PartNumber=2, CopySourceRange=f"bytes={PART}-{len(source) - 1}",
                               **copy, **SOURCE_SSE_C, **OTHER_SSE_C)
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]},
                       {"PartNumber": 2, "ETag": last["CopyPartResult"]["ETag"]}]}
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload, MultipartUpload=parts)
    assert s3.get_object(Bucket=bucket, Key="dst", **OTHER_SSE_C)["Body"].read() == source
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="dst", **SSE_C)) == ("AccessDenied", 403)

    # Into a plaintext upload and an SSE-S3 upload: the part is in the upload's encryption.
    for key, encryption in (("plain", {}), ("sse-s3", dict(ServerSideEncryption="AES256"))):
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **encryption)["UploadId"]
        part = s3.upload_part_copy(Key=key, UploadId=upload, PartNumber=1, **copy, **SOURCE_SSE_C)
        assert part.get("ServerSideEncryption") == encryption.get("ServerSideEncryption")
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == source and got.get("ServerSideEncryption") == encryption.get("ServerSideEncryption")
    # Only the plaintext copy put the marker on disk in the clear.
    assert any(marker in open(os.path.join(d, f), "rb").read()
               for d, _, files in os.walk(server.data_dir) for f in files)


def test_upload_part_copy_refusals(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"customer bytes", **SSE_C)
    s3.put_object(Bucket=bucket, Key="plain-src", Body=b"plain bytes")
    copy = dict(Bucket=bucket, Key="dst", PartNumber=1)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    ssec_upload = s3.create_multipart_upload(Bucket=bucket, Key="dst", **SSE_C)["UploadId"]
    # The source without its key, with another, and a key for a plaintext source: as GET answers.
    assert error_of(lambda: s3.upload_part_copy(UploadId=upload, CopySource=f"{bucket}/src", **copy)) == (
        "InvalidRequest", 400)
    assert error_of(lambda: s3.upload_part_copy(
        UploadId=upload, CopySource=f"{bucket}/src", CopySourceSSECustomerAlgorithm="AES256",
        CopySourceSSECustomerKey=OTHER_KEY, **copy)) == ("AccessDenied", 403)
    assert error_of(lambda: s3.upload_part_copy(
        UploadId=upload, CopySource=f"{bucket}/plain-src", **SOURCE_SSE_C, **copy)) == ("InvalidRequest", 400)
    # An SSE-C upload's part without the destination key, or with another one.
    assert error_of(lambda: s3.upload_part_copy(
        UploadId=ssec_upload, CopySource=f"{bucket}/plain-src", **copy)) == ("InvalidRequest", 400)
    assert error_of(lambda: s3.upload_part_copy(
        UploadId=ssec_upload, CopySource=f"{bucket}/plain-src", **OTHER_SSE_C, **copy)) == ("InvalidArgument", 400)
    # A destination key for a plaintext upload.
    assert error_of(lambda: s3.upload_part_copy(
        UploadId=upload, CopySource=f"{bucket}/plain-src", **SSE_C, **copy)) == ("InvalidRequest", 400)
    for upload_id in (upload, ssec_upload):
        assert s3.list_parts(Bucket=bucket, Key="dst", UploadId=upload_id).get("Parts", []) == []
    # With the source key and the destination key, the SSE-C part is stored.
    part = s3.upload_part_copy(UploadId=ssec_upload, CopySource=f"{bucket}/src", **SOURCE_SSE_C, **SSE_C, **copy)
    assert part["SSECustomerKeyMD5"] == key_md5(KEY)
    assert len(s3.list_parts(Bucket=bucket, Key="dst", UploadId=ssec_upload)["Parts"]) == 1


def test_upload_part_copy_source_key_over_plain_http_is_refused():
    server = DepotServer().start()
    try:
        client = server.client()
        client.create_bucket(Bucket="plain")
        client.put_object(Bucket="plain", Key="src", Body=b"x")
        upload = client.create_multipart_upload(Bucket="plain", Key="dst")["UploadId"]
        assert error_of(lambda: client.upload_part_copy(
            Bucket="plain", Key="dst", UploadId=upload, PartNumber=1, CopySource="plain/src",
            **SOURCE_SSE_C)) == ("InvalidRequest", 400)
    finally:
        server.cleanup()


def test_minio_multipart_and_compose_with_a_customer_key(tls_server, bucket):
    """The minio client's own multipart upload (it sends the key on every part) and its
    compose_object (UploadPartCopy from SSE-C sources into an SSE-C upload)."""
    import io

    import urllib3
    from minio import Minio
    from minio.commonconfig import ComposeSource
    from minio.sse import SseCustomerKey

    from conftest import ROOT_PASSWORD, ROOT_USER

    server, cert = tls_server
    mc = Minio(server.endpoint.split("//", 1)[1], access_key=ROOT_USER, secret_key=ROOT_PASSWORD, secure=True,
               http_client=urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=cert))
    ssec, other = SseCustomerKey(KEY), SseCustomerKey(OTHER_KEY)
    first, second = os.urandom(PART + 123), os.urandom(1 << 20)
    mc.put_object(bucket, "a", io.BytesIO(first), len(first), sse=ssec, part_size=PART)
    mc.put_object(bucket, "b", io.BytesIO(second), len(second), sse=ssec)
    mc.compose_object(bucket, "ab", [ComposeSource(bucket, "a", ssec=ssec), ComposeSource(bucket, "b", ssec=ssec)],
                      sse=other)
    response = mc.get_object(bucket, "ab", ssec=other)
    try:
        assert response.read() == first + second
    finally:
        response.close()
        response.release_conn()
