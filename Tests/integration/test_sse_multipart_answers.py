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
import base64
import hashlib
import os
import subprocess
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer

KEY = os.urandom(32)
OTHER_KEY = os.urandom(32)
SSE_C = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
OTHER_SSE_C = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER_KEY)
SOURCE_SSE_C = dict(CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY)
PART = 5 << 20


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sse-mpu-tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    master = directory / "k1.key"
    master.write_bytes(os.urandom(32))
    config = directory / "depot.yaml"
    config.write_text(f"server:\n  tls: {{ certificate: {cert}, key: {key} }}\n"
                      f"encryption:\n  keys:\n    - {{ id: k1, file: {master} }}\n  default: k1\n")
    server = DepotServer(config=str(config)).start()
    assert server.endpoint.startswith("https://")
    yield server, str(cert)
    server.cleanup()


@pytest.fixture(scope="module")
def s3(tls_server):
    server, cert = tls_server
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", verify=cert,
                        aws_access_key_id=ROOT_USER, aws_secret_access_key=ROOT_PASSWORD,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


@pytest.fixture
def bucket(s3):
    name = "ssempu-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def key_md5(key):
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def headers_of(response):
    return response["ResponseMetadata"]["HTTPHeaders"]


def one_part_upload(s3, bucket, key, body, **encryption):
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **encryption)["UploadId"]
    part_args = SSE_C if "SSECustomerKey" in encryption else {}
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=body, **part_args)["ETag"]
    return upload, {"Parts": [{"PartNumber": 1, "ETag": etag}]}


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
