"""`depot fsck` checks an encrypted chunk by its AES-GCM authentication tag, not only by the
record's CRC: a chunk record whose ciphertext (or tag) was changed and whose CRC32C was then made
to match again (a deliberate edit, or damage the CRC happens not to see) is reported as a chunk
that opens in no encryption domain, with its segment and offset. A plaintext chunk edited the same
way fails its SHA-256. The CRC32C here is computed in Python so the edit gets past the CRC check."""
import os
import struct

from conftest import DepotServer, run_depot
from test_compaction_damage import CHUNK, HEADER, chunk_records
from test_sse import KEY_K2_HEX, write_config

_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def edit_keeping_crc(path, offset, length, at):
    """Flips the payload byte `at` of the record at `offset` and stores a CRC32C that matches."""
    with open(path, "r+b") as f:
        f.seek(offset)
        record = bytearray(f.read(HEADER + length))
        assert crc32c(bytes(record[:52]) + bytes(record[HEADER:])) == struct.unpack_from("<I", record, 52)[0]
        record[HEADER + at] ^= 0x01
        struct.pack_into("<I", record, 52, crc32c(bytes(record[:52]) + bytes(record[HEADER:])))
        f.seek(offset)
        f.write(record)


def one_chunk_store(tmp_path, **put):
    tmp_path.mkdir(exist_ok=True)
    config = write_config(str(tmp_path))
    env = {"DEPOT_TEST_KEY_K2": KEY_K2_HEX}
    server = DepotServer(config=config, extra_env=env).start()
    s3 = server.client()
    s3.create_bucket(Bucket="tags")
    s3.put_object(Bucket="tags", Key="clip", Body=os.urandom(40_000), **put)
    assert server.stop() == 0
    segment = os.path.join(server.data_dir, "segments", "00000001.seg")
    records = chunk_records(segment)
    assert len(records) == 1, records
    return server, config, env, segment, records[0]


def fsck(server, config, env):
    return run_depot("fsck", "--config", config, "--data", server.data_dir, env=env)


def test_fsck_reports_an_encrypted_chunk_whose_tag_fails(tmp_path):
    for where in ("ciphertext", "tag"):
        server, config, env, segment, (offset, length) = one_chunk_store(
            tmp_path / where, ServerSideEncryption="aws:kms", SSEKMSKeyId="k2")
        try:
            clean = fsck(server, config, env)
            assert clean.returncode == 0, clean.stdout + clean.stderr
            edit_keeping_crc(segment, offset, length, length // 2 if where == "ciphertext" else length - 3)
            damaged = fsck(server, config, env)
            assert damaged.returncode == 1, damaged.stdout + damaged.stderr
            assert "fails its CRC" not in damaged.stdout
            assert "which is not an intact record of it" in damaged.stdout
            assert (f"chunk record at 1:{offset}+{length} does not match its SHA-256 nor opens in any "
                    "encryption domain") in damaged.stdout, damaged.stdout
        finally:
            server.cleanup()


def test_fsck_reports_a_plaintext_chunk_whose_hash_fails(tmp_path):
    server, config, env, segment, (offset, length) = one_chunk_store(tmp_path)
    try:
        edit_keeping_crc(segment, offset, length, 7)
        damaged = fsck(server, config, env)
        assert damaged.returncode == 1 and "fails its CRC" not in damaged.stdout
        assert f"chunk record at 1:{offset}+{length} does not match its SHA-256" in damaged.stdout, damaged.stdout
    finally:
        server.cleanup()
