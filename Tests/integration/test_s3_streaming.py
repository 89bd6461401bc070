"""aws-chunked uploads signed chunk by chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), as minio-go
sends them over plain HTTP: every chunk signature is checked in its chain."""
import datetime
import hashlib
import hmac
import os
import socket

import pytest

from conftest import ROOT_PASSWORD, ROOT_USER

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed_streaming_put(depot, bucket, key, data, chunk_size=64 * 1024, tamper_chunk=None, trailer=None):
    """Builds the request the way the SigV4 streaming spec describes and sends it raw; returns
    the HTTP status line and body."""
    now = datetime.datetime.utcnow()
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/us-east-1/s3/aws4_request"
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]

    def framed_length():
        total = 0
        for c in chunks:
            total += len(f"{len(c):x};chunk-signature=".encode()) + 64 + 2 + len(c) + 2
        if trailer:
            total -= 2  # the final chunk line is followed by the trailer instead of CRLF
            total += len(f"{trailer[0]}:{trailer[1]}\r\n") + len("x-amz-trailer-signature:") + 64 + 2 + 2
        return total

    headers = {
        "host": f"127.0.0.1:{depot.port}", "x-amz-date": amz_date, "x-amz-content-sha256": mode,
        "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
        "content-length": str(framed_length()),
    }
    if trailer:
        headers["x-amz-trailer"] = trailer[0]
    signed = sorted(headers)
    canonical = "\n".join([
        "PUT", f"/{bucket}/{key}", "", "".join(f"{h}:{headers[h]}\n" for h in signed), ";".join(signed), mode])
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(_hmac(_hmac(_hmac(("AWS4" + ROOT_PASSWORD).encode(), day), "us-east-1"), "s3"), "aws4_request")
    seed = hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ROOT_USER}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={seed}")
    body = b""
    previous = seed
    for i, chunk in enumerate(chunks):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY_SHA256,
                         hashlib.sha256(chunk).hexdigest()])
        signature = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        previous = signature
        if tamper_chunk == i:
            signature = "0" * 64
        body += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk
        if chunk or not trailer:
            body += b"\r\n"
    if trailer:
        trailer_text = f"{trailer[0]}:{trailer[1]}\n"
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous,
                         hashlib.sha256(trailer_text.encode()).hexdigest()])
        signature = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        body += f"{trailer[0]}:{trailer[1]}\r\nx-amz-trailer-signature:{signature}\r\n\r\n".encode()
    assert len(body) == int(headers["content-length"])
    request = f"PUT /{bucket}/{key} HTTP/1.1\r\n" + "".join(f"{h}: {v}\r\n" for h, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", depot.port), timeout=30) as sock:
        sock.sendall(request.encode() + body)
        response = b""
        # The head, then as many body bytes as it declares (they may come in a later segment).
        while b"\r\n\r\n" not in response or len(response.split(b"\r\n\r\n", 1)[1]) < declared_length(response):
            part = sock.recv(65536)
            if not part:
                break
            response += part
    return response.split(b"\r\n", 1)[0].decode(), response


def declared_length(response):
    head = response.split(b"\r\n\r\n", 1)[0].decode(errors="replace").lower()
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip() == "content-length":
            return int(value.strip())
    return 0


def test_signed_chunks_are_verified_and_decoded(depot, s3, bucket):
    data = os.urandom(300_000)
    status, _ = signed_streaming_put(depot, bucket, "streamed", data)
    assert status == "HTTP/1.1 200 OK"
    got = s3.get_object(Bucket=bucket, Key="streamed")
    assert got["Body"].read() == data
    assert "aws-chunked" not in got.get("ContentEncoding", "")


def test_a_bad_chunk_signature_stores_nothing(depot, s3, bucket):
    status, response = signed_streaming_put(depot, bucket, "tampered", os.urandom(300_000), tamper_chunk=2)
    assert status.startswith("HTTP/1.1 403"), response
    assert b"SignatureDoesNotMatch" in response
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_signed_trailer_with_checksum(depot, s3, bucket):
    import base64
    import zlib
    data = os.urandom(200_000)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    status, response = signed_streaming_put(depot, bucket, "trailed", data, trailer=("x-amz-checksum-crc32", crc))
    assert status == "HTTP/1.1 200 OK", response
    head = s3.head_object(Bucket=bucket, Key="trailed", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc
    bad = base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    status, response = signed_streaming_put(depot, bucket, "bad-trailer", data, trailer=("x-amz-checksum-crc32", bad))
    assert status.startswith("HTTP/1.1 400") and b"BadDigest" in response
