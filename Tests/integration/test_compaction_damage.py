"""A damaged record in the middle of a sealed segment (bit rot, a bad sector) costs only the
object that owns it: `depot gc` copies the intact live records after it out, keeps the segment
instead of deleting it, and says so (exit 1); `depot fsck` names the segment, the offset and the
object; the server started again still serves every other object byte for byte."""
import os
import re
import struct

from conftest import DepotServer, run_depot

RECORD_MAGIC = 0x31525044
HEADER = 56
CHUNK = 1


def chunk_records(path):
    """(offset, payload length) of every chunk record in a segment file, front to back."""
    records = []
    with open(path, "rb") as f:
        data = f.read()
    offset = 16
    while offset + HEADER <= len(data):
        magic, kind, _flags, length = struct.unpack_from("<IBBxxI", data, offset)
        assert magic == RECORD_MAGIC, f"no record at {offset}"
        if kind == CHUNK:
            records.append((offset, length))
        offset += HEADER + length
    return records


def test_gc_keeps_a_damaged_segment_and_every_other_object_survives(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("storage: { segmentSize: 1MiB }\n")
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="rot")
        bodies = {f"clip/{i:02d}": os.urandom(90 * 1024 + i * 101) for i in range(30)}
        for key, body in bodies.items():
            s3.put_object(Bucket="rot", Key=key, Body=body)
        assert server.stop() == 0

        first = os.path.join(server.data_dir, "segments", "00000001.seg")
        records = chunk_records(first)
        assert len(records) >= 6
        # Nothing was deleted, so every chunk record is live: damage one in the middle.
        offset, length = records[len(records) // 2]
        with open(first, "r+b") as f:
            f.seek(offset + HEADER + length // 2)
            byte = f.read(1)
            f.seek(offset + HEADER + length // 2)
            f.write(bytes([byte[0] ^ 0xFF]))

        gc = run_depot("gc", "--threshold", "1.0", "--config", str(config), "--data", server.data_dir)
        assert gc.returncode == 1, gc.stdout + gc.stderr
        assert f"problem: segment 1 kept, not compacted: segment 1: the record at offset {offset} fails its CRC check" in gc.stdout, gc.stdout
        assert os.path.exists(first)

        fsck = run_depot("fsck", "--config", str(config), "--data", server.data_dir)
        assert fsck.returncode == 1, fsck.stdout + fsck.stderr
        assert f"problem: segment 1: the record at offset {offset} fails its CRC check" in fsck.stdout, fsck.stdout
        damaged = set(re.findall(r"problem: object rot/(\S+): its chunk [0-9a-f]+ lies in damaged bytes of segment 1 "
                                 rf"at offset {offset}\b", fsck.stdout))
        assert len(damaged) == 1, fsck.stdout

        server.start()
        s3 = server.client()
        for key, body in bodies.items():
            if key not in damaged:
                assert s3.get_object(Bucket="rot", Key=key)["Body"].read() == body, key
    finally:
        server.cleanup()
