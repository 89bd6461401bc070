"""Encrypted objects on tiers (issue 17 #5), against a real moto_server S3 tier:

- plaintext copies (the default): an SSE-S3/SSE-KMS object is decrypted and sent with the tier's
  own `serverSideEncryption` (x-amz-server-side-encryption, and the KMS key id), single PUT and
  multipart alike, as moto's head_object shows; before, copies went with no encryption setting.
- `replicate.encryptedObjects: ciphertext`: the tier receives a sealed copy (Depot's chunk
  ciphertext and tags, and a trailer with the data key wrapped by the master key, never a key
  that opens it alone): no plaintext byte on the tier, and the copy opens in Python with the
  documented derivation (for SSE-C, with the customer's key), so it is a real backup. SSE-C
  objects, FAILED in plaintext mode, replicate this way; a plaintext object still goes plain.
- a transition to a ciphertext tier evicts SSE-S3 objects and GET (whole, ranged) gives the
  plaintext back, decrypted from the sealed copy; an SSE-C object stays local.
- a serverSideEncryption setting or ciphertext copies on a tier kind that cannot honour them
  are configuration errors naming the field."""
import base64
import hashlib
import hmac
import json
import os
import struct
import time
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from admin_client import Admin
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot
from waiting import wait_for_replication
from test_tiering import moto  # noqa: F401  (moto is a fixture)

MAGIC = b"\x00DEPOT-SEALED\x00v1"
CUSTOMER_KEY = os.urandom(32)
SSE_C = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=CUSTOMER_KEY)


def pattern(marker, size):
    out = bytearray()
    while len(out) < size:
        out += marker + os.urandom(16)
    return bytes(out[:size])


def write_config(tmp_path, body):
    master = tmp_path / "k1.key"
    master.write_bytes(os.urandom(32))
    config = tmp_path / "depot.yaml"
    config.write_text(f"encryption:\n  keys:\n    - {{ id: k1, file: {master} }}\n  default: k1\n"
                      "  allowCustomerKeysOverHTTP: true\n" + body)
    return str(config)


def tier(name, endpoint, bucket, extra=""):
    return (f"  - {{ name: {name}, type: s3, endpoint: \"{endpoint}\", bucket: {bucket}, accessKey: k, secretKey: s,"
            f" multipartThreshold: 5MiB, partSize: 5MiB{extra} }}\n")


def test_plaintext_copies_use_the_tiers_own_encryption(tmp_path, moto):  # noqa: F811
    endpoint, remote = moto
    remote.create_bucket(Bucket="kms-archive")
    config = write_config(tmp_path, "buckets: [rec]\ntiers:\n"
                          + tier("aes", endpoint, "archive", ", serverSideEncryption: AES256")
                          + tier("kms", endpoint, "kms-archive",
                                 ", serverSideEncryption: { algorithm: \"aws:kms\", kmsKeyId: tier-key-7 }")
                          + "policies:\n  - { name: both, match: { bucket: rec }, replicate: { to: [aes, kms] } }\n")
    server = DepotServer(config=config).start()
    try:
        s3 = server.client()
        bodies = {"sse-s3.mp4": (os.urandom(300_000), dict(ServerSideEncryption="AES256")),
                  "kms-big.mp4": (os.urandom(11 << 20), dict(ServerSideEncryption="aws:kms", SSEKMSKeyId="k1")),
                  "plain.mp4": (os.urandom(1000), {})}
        for key, (body, extra) in bodies.items():
            s3.put_object(Bucket="rec", Key=key, Body=body, **extra)
        for key, (body, _) in bodies.items():
            wait_for_replication(s3, "rec", key)
            on_aes = remote.head_object(Bucket="archive", Key=key)
            assert on_aes["ServerSideEncryption"] == "AES256", (key, on_aes)
            on_kms = remote.head_object(Bucket="kms-archive", Key=key)
            assert on_kms["ServerSideEncryption"] == "aws:kms" and on_kms["SSEKMSKeyId"].endswith("tier-key-7"), on_kms
            # Decrypted by Depot: the tier holds the plaintext, under its own encryption.
            assert remote.get_object(Bucket="archive", Key=key)["Body"].read() == body
            assert remote.get_object(Bucket="kms-archive", Key=key)["Body"].read() == body
        assert "-" in remote.head_object(Bucket="archive", Key="kms-big.mp4")["ETag"]  # went up in parts
    finally:
        server.cleanup()


def sealed_parts(blob):
    assert blob[:16] == MAGIC and blob[-16:] == MAGIC
    (length,) = struct.unpack("<I", blob[-20:-16])
    trailer = json.loads(blob[-20 - length:-20])
    return trailer, blob[16:-20 - length]


def open_sealed(blob, data_key):
    """The documented derivation (README "Encrypted objects on tiers"), outside Depot."""
    trailer, payloads = sealed_parts(blob)
    out, offset = bytearray(), 0
    for chunk in trailer["chunks"]:
        address = bytes.fromhex(chunk["address"])
        payload = payloads[offset:offset + chunk["length"] + 16]
        offset += len(payload)
        key = hmac.new(data_key, b"chunk-key" + address, hashlib.sha256).digest()
        nonce = hmac.new(data_key, b"chunk-nonce" + address, hashlib.sha256).digest()[:12]
        out += AESGCM(key).decrypt(nonce, payload, address)
    assert offset == len(payloads)
    return bytes(out)


def test_ciphertext_copies_are_sealed_and_sse_c_objects_go_too(tmp_path, moto):  # noqa: F811
    endpoint, remote = moto
    config = write_config(tmp_path, "buckets: [rec]\ntiers:\n" + tier("vault", endpoint, "archive")
                          + "policies:\n  - { name: sealed, match: { bucket: rec },"
                            " replicate: { to: [vault], encryptedObjects: ciphertext } }\n")
    server = DepotServer(config=config).start()
    try:
        s3 = server.client()
        marker = b"TIER-SECRET-" + uuid.uuid4().hex.encode()
        secret = pattern(marker, 3 << 20)
        customer = pattern(marker, 7 << 20)
        s3.put_object(Bucket="rec", Key="s3.mp4", Body=secret, ServerSideEncryption="AES256")
        s3.put_object(Bucket="rec", Key="customer.mp4", Body=customer, **SSE_C)
        s3.put_object(Bucket="rec", Key="plain.mp4", Body=b"plain control")
        wait_for_replication(s3, "rec", "s3.mp4")
        wait_for_replication(s3, "rec", "plain.mp4")
        deadline = time.time() + 60
        while time.time() < deadline and s3.head_object(Bucket="rec", Key="customer.mp4", **SSE_C).get(
                "ReplicationStatus") != "COMPLETED":
            time.sleep(0.2)
        assert s3.head_object(Bucket="rec", Key="customer.mp4", **SSE_C)["ReplicationStatus"] == "COMPLETED"

        assert remote.get_object(Bucket="archive", Key="plain.mp4")["Body"].read() == b"plain control"
        for key, body, algorithm in (("s3.mp4", secret, "AES256"), ("customer.mp4", customer, "SSE-C")):
            stored = remote.get_object(Bucket="archive", Key=key)
            blob = stored["Body"].read()
            assert blob != body and marker not in blob and body[:4096] not in blob
            assert stored["Metadata"]["depot-sealed-copy"] == "depot-sealed-copy/1"
            assert stored["ContentType"] == "application/octet-stream"
            trailer, _ = sealed_parts(blob)
            assert trailer["format"] == "depot-sealed-copy/1" and trailer["algorithm"] == algorithm
            assert trailer["size"] == len(body) and trailer["etag"] == hashlib.md5(body).hexdigest() or "-" in trailer["etag"]
            if algorithm == "SSE-C":
                # No key material at all: the customer's key opens it, as documented.
                assert "wrappedDataKey" not in trailer
                data_key = hmac.new(CUSTOMER_KEY, b"depot-sse-c-domain", hashlib.sha256).digest()
                assert open_sealed(blob, data_key) == body
            else:
                # The data key wrapped by master key k1 (AES-256-GCM, 12-byte nonce first), not the key.
                assert trailer["keyId"] == "k1" and len(base64.b64decode(trailer["wrappedDataKey"])) > 32
        # The copy on the tier was sent as ciphertext; Depot still serves the plaintext.
        assert s3.get_object(Bucket="rec", Key="s3.mp4")["Body"].read() == secret
        assert s3.get_object(Bucket="rec", Key="customer.mp4", **SSE_C)["Body"].read() == customer
    finally:
        server.cleanup()


def test_sse_c_in_plaintext_mode_fails_once_naming_the_way_out(tmp_path, moto):  # noqa: F811
    endpoint, remote = moto
    config = write_config(tmp_path, "buckets: [rec]\ntiers:\n" + tier("cloud", endpoint, "archive")
                          + "policies:\n  - { name: plain, match: { bucket: rec }, replicate: { to: [cloud] } }\n")
    server = DepotServer(config=config).start()
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="c.mp4", Body=b"customer secret", **SSE_C)
        deadline = time.time() + 30
        while time.time() < deadline and s3.head_object(Bucket="rec", Key="c.mp4", **SSE_C).get(
                "ReplicationStatus") != "FAILED":
            time.sleep(0.2)
        assert s3.head_object(Bucket="rec", Key="c.mp4", **SSE_C)["ReplicationStatus"] == "FAILED"
        assert remote.list_objects_v2(Bucket="archive").get("KeyCount", 0) == 0
        # Once, not retried, with the reason and the way out, in `depot replication list --failed`.
        keys = ["--endpoint", server.endpoint, "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD]
        failed = json.loads(run_depot("replication", "list", "--failed", "--json", *keys, check=True).stdout)["failed"]
        assert [(f["key"], f["tier"], f["attempts"]) for f in failed] == [("c.mp4", "cloud", 1)]
        assert "SSE-C" in failed[0]["lastError"] and "encryptedObjects: ciphertext" in failed[0]["lastError"]
    finally:
        server.cleanup()


def test_transition_to_a_ciphertext_tier_reads_back_plaintext(tmp_path, moto):  # noqa: F811
    endpoint, remote = moto
    config = write_config(tmp_path, "storage: { lifecycleInterval: 1s }\nbuckets: [rec]\ntiers:\n"
                          + tier("vault", endpoint, "archive")
                          + "policies:\n  - { name: move, match: { bucket: rec }, transition: { after: 7d },"
                            " replicate: { to: [vault], encryptedObjects: ciphertext } }\n")
    server = DepotServer(config=config, extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    try:
        s3 = server.client()
        body = os.urandom(9 << 20)
        s3.put_object(Bucket="rec", Key="old.mp4", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId="k1")
        s3.put_object(Bucket="rec", Key="customer.mp4", Body=b"stays here", **SSE_C)

        def local(key, **extra):
            return s3.head_object(Bucket="rec", Key=key, **extra)["ResponseMetadata"]["HTTPHeaders"]["x-depot-local-copy"]
        deadline = time.time() + 60
        while time.time() < deadline and local("old.mp4") != "evicted":
            time.sleep(0.3)
        assert local("old.mp4") == "evicted"
        assert remote.get_object(Bucket="archive", Key="old.mp4")["Body"].read()[:16] == MAGIC
        got = s3.get_object(Bucket="rec", Key="old.mp4")
        assert got["Body"].read() == body and got["ServerSideEncryption"] == "aws:kms"
        for start, end in ((0, 0), (1_000_000, 5_000_123), (len(body) - 10, len(body) - 1)):
            ranged = s3.get_object(Bucket="rec", Key="old.mp4", Range=f"bytes={start}-{end}")["Body"].read()
            assert ranged == body[start:end + 1], (start, end)
        # A sealed copy changed on the tier fails its tag: the read breaks off, never serves garbage.
        blob = bytearray(remote.get_object(Bucket="archive", Key="old.mp4")["Body"].read())
        blob[16 + 100] ^= 0x01
        remote.put_object(Bucket="archive", Key="old.mp4", Body=bytes(blob))
        with pytest.raises(Exception):
            tampered = s3.get_object(Bucket="rec", Key="old.mp4", Range="bytes=0-99")
            assert tampered["Body"].read() == body[:100]
        assert s3.get_object(Bucket="rec", Key="old.mp4", Range=f"bytes={len(body) - 100}-")["Body"].read() == body[-100:]
        # The SSE-C object's copy is COMPLETED but it is not evicted: a read needs the client's key.
        assert s3.head_object(Bucket="rec", Key="customer.mp4", **SSE_C)["ReplicationStatus"] == "COMPLETED"
        time.sleep(2.5)
        assert local("customer.mp4", **SSE_C) == "present"
        assert s3.get_object(Bucket="rec", Key="customer.mp4", **SSE_C)["Body"].read() == b"stays here"
    finally:
        server.cleanup()


def test_transition_of_an_encrypted_object_with_a_plaintext_copy(tmp_path, moto):  # noqa: F811
    """The read-through tells a plaintext copy of an encrypted object from a sealed one by its
    first bytes, and streams it as it is."""
    endpoint, remote = moto
    config = write_config(tmp_path, "storage: { lifecycleInterval: 1s }\nbuckets: [rec]\ntiers:\n"
                          + tier("cloud", endpoint, "archive", ", serverSideEncryption: AES256")
                          + "policies:\n  - { name: move, match: { bucket: rec }, transition: { after: 7d },"
                            " replicate: { to: [cloud] } }\n")
    server = DepotServer(config=config, extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(8 * 86400)}).start()
    try:
        s3 = server.client()
        body = os.urandom(3 << 20)
        s3.put_object(Bucket="rec", Key="old.mp4", Body=body, ServerSideEncryption="AES256")
        deadline = time.time() + 60
        while time.time() < deadline and s3.head_object(Bucket="rec", Key="old.mp4")["ResponseMetadata"][
                "HTTPHeaders"]["x-depot-local-copy"] != "evicted":
            time.sleep(0.3)
        assert remote.get_object(Bucket="archive", Key="old.mp4")["Body"].read() == body
        assert s3.get_object(Bucket="rec", Key="old.mp4")["Body"].read() == body
        assert s3.get_object(Bucket="rec", Key="old.mp4", Range="bytes=5-10")["Body"].read() == body[5:11]
    finally:
        server.cleanup()


@pytest.mark.parametrize("tier_text, policy_text, field", [
    ('{ name: nas, type: filesystem, path: /tmp, serverSideEncryption: AES256 }', "", "tiers[0].serverSideEncryption"),
    ('{ name: c, type: s3, endpoint: "http://127.0.0.1:1", bucket: b, accessKey: k, secretKey: s,'
     ' serverSideEncryption: aws:kms2 }', "", "tiers[0].serverSideEncryption"),
    ('{ name: c, type: s3, endpoint: "http://127.0.0.1:1", bucket: b, accessKey: k, secretKey: s,'
     ' serverSideEncryption: { algorithm: AES256, kmsKeyId: x } }', "", "tiers[0].serverSideEncryption.kmsKeyId"),
    ('{ name: nas, type: filesystem, path: /tmp }',
     "policies:\n  - { name: p, match: { bucket: b }, replicate: { to: [nas], encryptedObjects: ciphertext } }\n",
     "policies[0].replicate.encryptedObjects"),
    ('{ name: nas, type: filesystem, path: /tmp }',
     "policies:\n  - { name: p, match: { bucket: b }, replicate: { to: [nas], encryptedObjects: sealed } }\n",
     "policies[0].replicate.encryptedObjects"),
])
def test_settings_a_tier_cannot_honour_are_refused(tmp_path, tier_text, policy_text, field):
    config = tmp_path / "depot.yaml"
    config.write_text(f"tiers:\n  - {tier_text}\n{policy_text}")
    checked = run_depot("config", "check", str(config))
    assert checked.returncode == 1 and field in checked.stdout + checked.stderr, checked.stdout + checked.stderr


def test_admin_api_takes_and_shows_the_settings(tmp_path, moto):  # noqa: F811
    endpoint, remote = moto
    config = write_config(tmp_path, "buckets: [rec]\n")
    server = DepotServer(config=config).start()
    try:
        admin = Admin(server.endpoint)
        status, made = admin.put("/admin/v1/tiers/cloud", {
            "type": "s3", "endpoint": endpoint, "bucket": "archive", "accessKey": "k", "secretKey": "s",
            "serverSideEncryption": {"algorithm": "aws:kms", "kmsKeyId": "tier-key-9"}})
        assert status == 201, made
        assert made["serverSideEncryption"] == {"algorithm": "aws:kms", "kmsKeyId": "tier-key-9"}
        status, made = admin.put("/admin/v1/tiers/nas", {"type": "filesystem", "path": str(tmp_path),
                                                         "serverSideEncryption": "AES256"})
        assert status == 400 and "serverSideEncryption" in json.dumps(made), made
        status, policy = admin.post("/admin/v1/policies", {
            "name": "sealed", "match": {"bucket": "rec"}, "replicate": {"to": ["cloud"], "encryptedObjects": "ciphertext"}})
        assert status == 201 and policy["replicate"]["encryptedObjects"] == "ciphertext", policy
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="a.mp4", Body=b"api secret", ServerSideEncryption="AES256")
        wait_for_replication(s3, "rec", "a.mp4")
        stored = remote.get_object(Bucket="archive", Key="a.mp4")
        assert stored["ServerSideEncryption"] == "aws:kms" and stored["Body"].read()[:16] == MAGIC
    finally:
        server.cleanup()
