"""boto3 over HTTPS with its default checksum settings: since 1.36 it sends aws-chunked bodies
(STREAMING-UNSIGNED-PAYLOAD-TRAILER, Transfer-Encoding: chunked, trailing CRC32)."""
import hashlib
import os

import pytest
from boto3.s3.transfer import TransferConfig

from tls_support import start_tls_server, tls_client


@pytest.fixture(scope="module")
def tls_depot(tmp_path_factory):
    server, cert = start_tls_server(tmp_path_factory.mktemp("tls"))
    yield server, cert
    server.cleanup()


def client(server, cert):
    return tls_client(server, cert)


def test_put_get_over_tls_with_trailing_checksum(tls_depot):
    server, cert = tls_depot
    s3 = client(server, cert)
    s3.create_bucket(Bucket="secure")
    data = os.urandom(5 * 1024 * 1024 + 3)
    put = s3.put_object(Bucket="secure", Key="clip.mp4", Body=data)
    assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert "ChecksumCRC32" in put
    got = s3.get_object(Bucket="secure", Key="clip.mp4", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
    # The stored Content-Encoding does not keep the aws-chunked framing.
    assert "aws-chunked" not in got.get("ContentEncoding", "")


def test_upload_file_100_mib_multipart_over_tls(tls_depot, tmp_path):
    server, cert = tls_depot
    s3 = client(server, cert)
    s3.create_bucket(Bucket="secure-mp")
    path = tmp_path / "hundred.bin"
    data = os.urandom(100 * 1024 * 1024)
    path.write_bytes(data)
    s3.upload_file(str(path), "secure-mp", "hundred.bin", Config=TransferConfig(multipart_chunksize=16 * 1024 * 1024))
    head = s3.head_object(Bucket="secure-mp", Key="hundred.bin", ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-7"')
    assert head["ChecksumCRC32"].endswith("-7")
    back = tmp_path / "back.bin"
    s3.download_file("secure-mp", "hundred.bin", str(back))
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(data).digest()
