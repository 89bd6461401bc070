"""Keys up to S3's 1,024 bytes work in every bucket, even one with a 63-character name, through
every door, and listings keep S3's order across long keys that share a long prefix (issue 14 #8).
Before, LMDB's 511-byte key limit capped keys at 510 bytes minus the bucket name's."""
import base64
import random

import botocore
import pytest
import requests

from conftest import run_depot
from vault_agent_server import ACCESS_KEY, SECRET_KEY, start_with_agent

BUCKET = "long-keys-" + "b" * 53
ASCII_1024 = "cam/" + "a" * 1020
UTF8_1024 = "é" * 511 + "/x"          # 2-byte characters
CJK_1024 = "日" * 341 + "a"           # 3-byte characters


@pytest.fixture
def server(tmp_path):
    srv = start_with_agent(tmp_path, bucket=BUCKET)
    yield srv
    srv.cleanup()


def byte_order(keys):
    return sorted(keys, key=lambda k: k.encode())


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_1024_byte_keys_put_get_head_copy_tag_delete(server):
    assert len(BUCKET) == 63 and all(len(k.encode()) == 1024 for k in (ASCII_1024, UTF8_1024, CJK_1024))
    s3 = server.client()
    for key in (ASCII_1024, UTF8_1024, CJK_1024):
        body = key.encode()[:100] + b"!"
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata={"n": "1"})
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentLength"] == len(body) and head["Metadata"] == {"n": "1"}
        s3.put_object_tagging(Bucket=BUCKET, Key=key, Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
        assert s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"] == [{"Key": "t", "Value": "v"}]
        attributes = s3.get_object_attributes(Bucket=BUCKET, Key=key, ObjectAttributes=["ObjectSize"])
        assert attributes["ObjectSize"] == len(body)
        copy = key[:-1] + "C"
        s3.copy_object(Bucket=BUCKET, Key=copy, CopySource={"Bucket": BUCKET, "Key": key})
        assert s3.get_object(Bucket=BUCKET, Key=copy)["Body"].read() == body
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    everything = [k for key in (ASCII_1024, UTF8_1024, CJK_1024) for k in (key, key[:-1] + "C")]
    assert listed == byte_order(everything)
    originals, copies = everything[0::2], everything[1::2]
    for key in originals:
        s3.delete_object(Bucket=BUCKET, Key=key)
        assert error_code(lambda: s3.head_object(Bucket=BUCKET, Key=key))[1] == 404
    deleted = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in copies]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == sorted(copies)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_1024_byte_key_multipart_upload(server):
    s3 = server.client()
    key = UTF8_1024
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    assert s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"][0]["Key"] == key
    parts = []
    for number, piece in ((1, b"a" * (5 << 20)), (2, b"tail")):
        etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=piece)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)["Parts"]] == [1, 2]
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == (5 << 20) + 4
    assert s3.get_object(Bucket=BUCKET, Key=key, PartNumber=2)["Body"].read() == b"tail"


def test_keys_over_1024_bytes_are_refused_at_every_door(server):
    s3 = server.client()
    too_long = ASCII_1024 + "x"
    s3.put_object(Bucket=BUCKET, Key="source", Body=b"s")
    for call in (
        lambda: s3.put_object(Bucket=BUCKET, Key=too_long, Body=b"data"),
        lambda: s3.put_object(Bucket=BUCKET, Key="é" * 512 + "x", Body=b"data"),
        lambda: s3.copy_object(Bucket=BUCKET, Key=too_long, CopySource={"Bucket": BUCKET, "Key": "source"}),
        lambda: s3.create_multipart_upload(Bucket=BUCKET, Key=too_long),
        # No object can have such a key: reads and deletes say why too, not NoSuchKey or 204.
        lambda: s3.get_object(Bucket=BUCKET, Key=too_long),
        lambda: s3.delete_object(Bucket=BUCKET, Key=too_long),
        lambda: s3.get_object_tagging(Bucket=BUCKET, Key=too_long),
    ):
        assert error_code(call) == ("KeyTooLongError", 400)
    head = requests.head(s3.generate_presigned_url("head_object", Params={"Bucket": BUCKET, "Key": too_long}), timeout=30)
    assert head.status_code == 400

    post = s3.generate_presigned_post(BUCKET, too_long, ExpiresIn=300)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"clip")}, timeout=30)
    assert r.status_code == 400 and "<Code>KeyTooLongError</Code>" in r.text, r.text
    post = s3.generate_presigned_post(BUCKET, ASCII_1024, ExpiresIn=300)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"clip")}, timeout=30)
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=BUCKET, Key=ASCII_1024)["Body"].read() == b"clip"

    headers = {"X-Kerberos-Storage-Accesskey": ACCESS_KEY, "X-Kerberos-Storage-Secretaccesskey": SECRET_KEY,
               "X-Kerberos-Storage-Directory": "cam"}
    vault_key = "cam/" + "v" * 1020
    r = requests.post(server.endpoint + "/api/storage", data=b"clip",
                      headers=dict(headers, **{"X-Kerberos-Storage-Filename": "v" * 1021}), timeout=30)
    assert r.status_code == 400, r.text
    r = requests.post(server.endpoint + "/api/storage", data=b"vault clip",
                      headers=dict(headers, **{"X-Kerberos-Storage-Filename": "v" * 1020}), timeout=30)
    assert r.status_code == 200, r.text
    blob = requests.get(server.endpoint + "/api/storage/blob", timeout=30,
                        headers=dict(headers, **{"X-Kerberos-Storage-Filename": vault_key}))
    assert blob.status_code == 200 and blob.content == b"vault clip"

    def tus_create(filename):
        metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                            for k, v in (("directory", "tus"), ("filename", filename)))
        return requests.post(server.endpoint + "/api/storage/tus/", timeout=30, headers=dict(
            headers, **{"X-Kerberos-Storage-Directory": "tus", "X-Kerberos-Storage-Filename": filename,
                        "Tus-Resumable": "1.0.0", "Upload-Length": "4", "Upload-Metadata": metadata}))
    assert tus_create("t" * 1021).status_code == 400
    created = tus_create("t" * 1020)
    assert created.status_code == 201, created.text
    patched = requests.patch(server.endpoint + "/api/storage/tus/" + created.headers["Location"].rsplit("/", 1)[-1],
                             data=b"tus!", timeout=30, headers=dict(headers, **{
                                 "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream",
                                 "Upload-Offset": "0"}))
    assert patched.status_code == 204, patched.text
    tus_key = "tus/" + "t" * 1020
    assert s3.get_object(Bucket=BUCKET, Key=tus_key)["Body"].read() == b"tus!"
    assert byte_order([o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]) == byte_order(
        [ASCII_1024, vault_key, tus_key, "source"])


def expected_listing(keys, prefix="", delimiter="", start_after=""):
    """S3's answer worked out here: keys and common prefixes in UTF-8 byte order."""
    entries = []
    for key in byte_order(keys):
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0:
            common = key[:cut + len(delimiter)]
            if common.encode() > start_after.encode() and (not entries or entries[-1] != common):
                entries.append(common)
        elif key.encode() > start_after.encode():
            entries.append(key)
    return entries


def list_v2_pages(s3, max_keys, **query):
    """Every entry of a V2 listing, one page of `max_keys` at a time."""
    entries, pages, token = [], 0, None
    while True:
        args = dict(Bucket=BUCKET, MaxKeys=max_keys, **query)
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        pages += 1
        got = [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert len(got) <= max_keys and page["KeyCount"] == len(got)
        entries += byte_order(got)
        if not page["IsTruncated"]:
            return entries, pages
        token = page["NextContinuationToken"]
        assert pages < 500


def list_v1_pages(s3, max_keys, **query):
    entries, marker = [], ""
    while True:
        page = s3.list_objects(Bucket=BUCKET, MaxKeys=max_keys, Marker=marker, **query)
        got = [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        entries += byte_order(got)
        if not page["IsTruncated"]:
            return entries
        marker = page.get("NextMarker") or page["Contents"][-1]["Key"]


def test_listing_order_and_paging_across_long_keys_sharing_600_bytes(server):
    s3 = server.client()
    rng = random.Random(14)
    shared = "site-1/"
    while len(shared.encode()) < 590:
        shared += rng.choice("abcé日")
    shared = shared + "s" * (600 - len(shared.encode()))
    assert len(shared.encode()) == 600
    keys = {"a", "site-1/short", "zz", shared}
    while len(keys) < 30:
        tail = "".join(rng.choice("xyz/é") for _ in range(rng.randint(1, 200)))
        key = shared + tail
        if len(key.encode()) <= 1024:
            keys.add(key)
    keys.add(shared + "q" * 424)
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode()[-20:])
    keys = sorted(keys)

    assert list_v2_pages(s3, 1000)[0] == byte_order(keys)
    everything, pages = list_v2_pages(s3, 1)
    assert everything == byte_order(keys) and pages == len(keys)
    for prefix, delimiter in (("", "/"), (shared, "/"), (shared, ""), (shared[:500], "/"), (shared + "x", "/"),
                              ("site-1/", "é"), (shared, "é")):
        want = expected_listing(keys, prefix, delimiter)
        assert list_v2_pages(s3, 1, Prefix=prefix, Delimiter=delimiter)[0] == want, (len(prefix.encode()), delimiter)
        assert list_v1_pages(s3, 2, Prefix=prefix, Delimiter=delimiter) == want
    middle = byte_order(keys)[len(keys) // 2]
    assert list_v2_pages(s3, 3, StartAfter=middle)[0] == expected_listing(keys, start_after=middle)
    assert list_v2_pages(s3, 3, StartAfter=middle, Prefix=shared, Delimiter="/")[0] == expected_listing(
        keys, shared, "/", middle)

    # Overwritten versions leave dead commit records for compaction to drop.
    for key in keys[:10]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode()[-20:])

    # A restart keeps them all, in order; the offline tools handle long keys: fsck, compaction,
    # and an index rebuilt from the segments that equals the one it replaces.
    server.stop()
    fsck = run_depot("fsck", "--data", server.data_dir)
    assert fsck.returncode == 0 and "clean" in fsck.stdout, fsck.stdout + fsck.stderr
    gc = run_depot("gc", "--data", server.data_dir)
    assert gc.returncode == 0, gc.stdout + gc.stderr
    dump = run_depot("index", "dump", "--data", server.data_dir, check=True).stdout
    assert all(f"object {BUCKET}/{key} size=" in dump for key in keys)
    rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert run_depot("index", "dump", "--data", server.data_dir, check=True).stdout == dump
    server.start()
    s3 = server.client()
    assert list_v2_pages(s3, 7)[0] == byte_order(keys)
    for key in keys:
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == key.encode()[-20:]
