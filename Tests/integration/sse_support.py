"""Helpers the server-side encryption tests share: S3 error codes of a refused boto3 call, a
customer key's MD5 header value, recognisable test bodies, and the raw-disk search for plaintext."""
import base64
import hashlib
import os

import pytest
from botocore.exceptions import ClientError


def error_of(call):
    """(S3 error code, HTTP status) of a boto3 call that must be refused."""
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def key_md5(key):
    """The x-amz-server-side-encryption-customer-key-MD5 value of a customer key."""
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def pattern(marker, size):
    """`marker` repeated with random bytes between, `size` bytes: recognisable, not all alike."""
    out = bytearray()
    while len(out) < size:
        out += marker + os.urandom(16)
    return bytes(out[:size])


def files_containing(root, needle):
    """Every file below `root` whose bytes contain `needle` (the plaintext-on-disk check)."""
    found = []
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                if needle in f.read():
                    found.append(path)
    return found
