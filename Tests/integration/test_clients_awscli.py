"""awscli (v1) with its default settings against Depot: cp (single and multipart), sync up and back,
ls, rm --recursive, and the s3api calls tools script (tagging, copy, multipart, bucket probes)."""
import hashlib
import json
import os
import subprocess

from conftest import aws_env

MIB = 1024 * 1024


def aws(depot, env, *args, check=True, timeout=600):
    result = subprocess.run(["aws", "--endpoint-url", depot.endpoint, *args], env=env, capture_output=True,
                            text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"aws {' '.join(args)}: {result.stderr}"
    return result


def api(depot, env, *args):
    out = aws(depot, env, "s3api", *args).stdout
    return json.loads(out) if out.strip() else {}


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree_digest(root):
    return {os.path.relpath(os.path.join(d, f), root): sha256_of(os.path.join(d, f))
            for d, _, files in os.walk(root) for f in files}


def multipart_etag(data, part_size):
    digests = b"".join(hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size))
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), (len(data) + part_size - 1) // part_size)


def test_cp_single_and_multipart(depot, bucket, tmp_path):
    env = aws_env(depot, tmp_path)
    small = tmp_path / "small.mp4"
    small.write_bytes(os.urandom(300_000))
    aws(depot, env, "s3", "cp", str(small), f"s3://{bucket}/cam-1/small.mp4")
    head = api(depot, env, "head-object", "--bucket", bucket, "--key", "cam-1/small.mp4")
    assert head["ETag"] == '"%s"' % hashlib.md5(small.read_bytes()).hexdigest()
    assert head["ContentLength"] == 300_000

    big = tmp_path / "big.mp4"
    data = os.urandom(20 * MIB + 3)
    big.write_bytes(data)
    aws(depot, env, "s3", "cp", str(big), f"s3://{bucket}/cam-1/big.mp4")
    head = api(depot, env, "head-object", "--bucket", bucket, "--key", "cam-1/big.mp4")
    # awscli's defaults: multipart above 8 MiB, 8 MiB parts -> 3 parts; ETag is MD5 of the part MD5s.
    assert head["ETag"] == multipart_etag(data, 8 * MIB)
    assert head["ContentLength"] == len(data)
    aws(depot, env, "s3", "cp", f"s3://{bucket}/cam-1/big.mp4", str(tmp_path / "big-back.mp4"))
    aws(depot, env, "s3", "cp", f"s3://{bucket}/cam-1/small.mp4", str(tmp_path / "small-back.mp4"))
    assert sha256_of(tmp_path / "big-back.mp4") == hashlib.sha256(data).hexdigest()
    assert sha256_of(tmp_path / "small-back.mp4") == sha256_of(small)
    # Copy server-side (s3 to s3) keeps the bytes.
    aws(depot, env, "s3", "cp", f"s3://{bucket}/cam-1/big.mp4", f"s3://{bucket}/copies/big.mp4")
    aws(depot, env, "s3", "cp", f"s3://{bucket}/copies/big.mp4", str(tmp_path / "copy-back.mp4"))
    assert sha256_of(tmp_path / "copy-back.mp4") == hashlib.sha256(data).hexdigest()
    missing = aws(depot, env, "s3", "cp", f"s3://{bucket}/nope.mp4", str(tmp_path / "nope"), check=False)
    assert missing.returncode != 0 and "404" in missing.stderr


def test_sync_ls_rm(depot, bucket, tmp_path):
    env = aws_env(depot, tmp_path)
    tree = tmp_path / "recordings"
    for cam in range(3):
        for day in ("2026-11-24", "2026-11-25"):
            (tree / f"cam-{cam}" / day).mkdir(parents=True)
            for i in range(4):
                (tree / f"cam-{cam}" / day / f"{i}.mp4").write_bytes(os.urandom(1000 * (i + 1) * (cam + 1) + 7))
    (tree / "index.json").write_bytes(b"{}")
    (tree / "cam-0" / "empty.bin").write_bytes(b"")
    aws(depot, env, "s3", "sync", str(tree), f"s3://{bucket}/site/")
    recursive = aws(depot, env, "s3", "ls", "--recursive", f"s3://{bucket}/site/").stdout.strip().splitlines()
    assert len(recursive) == 3 * 2 * 4 + 2
    assert any(line.split()[-1] == "site/cam-2/2026-11-25/3.mp4" and line.split()[-2] == str(4000 * 3 + 7)
               for line in recursive), recursive
    top = aws(depot, env, "s3", "ls", f"s3://{bucket}/site/").stdout.strip().splitlines()
    assert sorted(line.split()[-1] for line in top) == ["cam-0/", "cam-1/", "cam-2/", "index.json"]
    assert sum(line.strip().startswith("PRE ") for line in top) == 3
    buckets = aws(depot, env, "s3", "ls").stdout
    assert bucket in buckets.split()

    back = tmp_path / "back"
    aws(depot, env, "s3", "sync", f"s3://{bucket}/site/", str(back))
    assert tree_digest(back) == tree_digest(tree)
    # Nothing changed: a second sync in either direction transfers nothing.
    assert aws(depot, env, "s3", "sync", str(tree), f"s3://{bucket}/site/").stdout.strip() == ""
    assert aws(depot, env, "s3", "sync", f"s3://{bucket}/site/", str(back)).stdout.strip() == ""
    # A changed and a deleted file: sync --delete makes the bucket match again.
    (tree / "cam-1" / "2026-11-24" / "0.mp4").write_bytes(os.urandom(5000))
    os.unlink(tree / "cam-2" / "2026-11-25" / "1.mp4")
    out = aws(depot, env, "s3", "sync", "--delete", str(tree), f"s3://{bucket}/site/").stdout
    assert "upload:" in out and "delete:" in out
    back2 = tmp_path / "back2"
    aws(depot, env, "s3", "sync", f"s3://{bucket}/site/", str(back2))
    assert tree_digest(back2) == tree_digest(tree)

    aws(depot, env, "s3", "rm", "--recursive", f"s3://{bucket}/site/cam-0/")
    left = aws(depot, env, "s3", "ls", "--recursive", f"s3://{bucket}/site/").stdout
    assert "cam-0/" not in left and "cam-1/" in left
    aws(depot, env, "s3", "rm", "--recursive", f"s3://{bucket}/")
    empty = aws(depot, env, "s3", "ls", "--recursive", f"s3://{bucket}/", check=False)
    assert empty.stdout.strip() == ""
    aws(depot, env, "s3", "rb", f"s3://{bucket}")
    assert bucket not in aws(depot, env, "s3", "ls").stdout.split()


def test_s3api_tagging_and_copy(depot, bucket, tmp_path):
    env = aws_env(depot, tmp_path)
    body = tmp_path / "a.mp4"
    body.write_bytes(os.urandom(6 * MIB))
    put = api(depot, env, "put-object", "--bucket", bucket, "--key", "a.mp4", "--body", str(body),
              "--metadata", "camera=front")
    api(depot, env, "put-object-tagging", "--bucket", bucket, "--key", "a.mp4",
        "--tagging", "TagSet=[{Key=camera,Value=front},{Key=event,Value=motion}]")
    tags = api(depot, env, "get-object-tagging", "--bucket", bucket, "--key", "a.mp4")
    assert sorted((t["Key"], t["Value"]) for t in tags["TagSet"]) == [("camera", "front"), ("event", "motion")]
    copied = api(depot, env, "copy-object", "--bucket", bucket, "--key", "b.mp4", "--copy-source", f"{bucket}/a.mp4")
    assert copied["CopyObjectResult"]["ETag"] == put["ETag"]
    head = api(depot, env, "head-object", "--bucket", bucket, "--key", "b.mp4")
    assert head["ContentLength"] == 6 * MIB and head["ETag"] == put["ETag"]
    assert head["Metadata"] == {"camera": "front"}
    api(depot, env, "get-object", "--bucket", bucket, "--key", "b.mp4", str(tmp_path / "b-back.mp4"))
    assert sha256_of(tmp_path / "b-back.mp4") == sha256_of(body)
    api(depot, env, "delete-object-tagging", "--bucket", bucket, "--key", "a.mp4")
    assert api(depot, env, "get-object-tagging", "--bucket", bucket, "--key", "a.mp4")["TagSet"] == []


def test_s3api_multipart(depot, bucket, tmp_path):
    env = aws_env(depot, tmp_path)
    part1, part2 = tmp_path / "p1", tmp_path / "p2"
    part1.write_bytes(os.urandom(5 * MIB))
    part2.write_bytes(os.urandom(1234))
    uid = api(depot, env, "create-multipart-upload", "--bucket", bucket, "--key", "mp.mp4")["UploadId"]
    other = api(depot, env, "create-multipart-upload", "--bucket", bucket, "--key", "aborted.mp4")["UploadId"]
    uploads = api(depot, env, "list-multipart-uploads", "--bucket", bucket)
    assert sorted((u["Key"], u["UploadId"]) for u in uploads["Uploads"]) == [("aborted.mp4", other), ("mp.mp4", uid)]
    parts = []
    for n, path in ((1, part1), (2, part2)):
        r = api(depot, env, "upload-part", "--bucket", bucket, "--key", "mp.mp4", "--upload-id", uid,
                "--part-number", str(n), "--body", str(path))
        assert r["ETag"] == '"%s"' % hashlib.md5(path.read_bytes()).hexdigest()
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    listed = api(depot, env, "list-parts", "--bucket", bucket, "--key", "mp.mp4", "--upload-id", uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == \
        [(1, parts[0]["ETag"], 5 * MIB), (2, parts[1]["ETag"], 1234)]
    # awscli pages with MaxParts / MaxUploads and follows NextPartNumberMarker / NextKeyMarker.
    paged = api(depot, env, "list-parts", "--bucket", bucket, "--key", "mp.mp4", "--upload-id", uid, "--page-size", "1")
    assert [p["PartNumber"] for p in paged["Parts"]] == [1, 2]
    paged = api(depot, env, "list-multipart-uploads", "--bucket", bucket, "--page-size", "1")
    assert sorted(u["UploadId"] for u in paged["Uploads"]) == sorted([uid, other])
    done = api(depot, env, "complete-multipart-upload", "--bucket", bucket, "--key", "mp.mp4", "--upload-id", uid,
               "--multipart-upload", json.dumps({"Parts": parts}))
    assert done["ETag"] == multipart_etag(part1.read_bytes() + part2.read_bytes(), 5 * MIB)
    api(depot, env, "get-object", "--bucket", bucket, "--key", "mp.mp4", str(tmp_path / "mp-back"))
    assert sha256_of(tmp_path / "mp-back") == hashlib.sha256(part1.read_bytes() + part2.read_bytes()).hexdigest()
    api(depot, env, "abort-multipart-upload", "--bucket", bucket, "--key", "aborted.mp4", "--upload-id", other)
    assert api(depot, env, "list-multipart-uploads", "--bucket", bucket).get("Uploads", []) == []
    gone = aws(depot, env, "s3api", "list-parts", "--bucket", bucket, "--key", "aborted.mp4", "--upload-id", other,
               check=False)
    assert gone.returncode != 0 and "NoSuchUpload" in gone.stderr


def test_s3api_bucket_probes(depot, bucket, tmp_path):
    env = aws_env(depot, tmp_path)
    head = aws(depot, env, "s3api", "head-bucket", "--bucket", bucket)
    assert head.returncode == 0
    missing = aws(depot, env, "s3api", "head-bucket", "--bucket", "no-such-bucket-here", check=False)
    assert missing.returncode != 0 and "404" in missing.stderr
    location = api(depot, env, "get-bucket-location", "--bucket", bucket)
    assert location.get("LocationConstraint") in (None, "")
    assert bucket in [b["Name"] for b in api(depot, env, "list-buckets")["Buckets"]]
