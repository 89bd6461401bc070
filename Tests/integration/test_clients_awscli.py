"""awscli with its defaults: cp (single and multipart), sync, ls, rm --recursive, s3api."""
import filecmp
import json
import os
import subprocess

from conftest import aws_env


def aws(depot, env, *args, check=True):
    result = subprocess.run(["aws", "--endpoint-url", depot.endpoint, *args], env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_cp_sync_ls_rm(depot, bucket, tmp_path):
    env = aws_env(depot, tmp_path)
    tree = tmp_path / "recordings"
    for cam in range(3):
        (tree / f"cam-{cam}").mkdir(parents=True)
        for i in range(5):
            (tree / f"cam-{cam}" / f"{i}.mp4").write_bytes(os.urandom(1000 * (i + 1) * (cam + 1)))
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(20 * 1024 * 1024 + 3))
    aws(depot, env, "s3", "cp", str(big), f"s3://{bucket}/big.mp4")
    aws(depot, env, "s3", "cp", f"s3://{bucket}/big.mp4", str(tmp_path / "big-back.mp4"))
    assert filecmp.cmp(big, tmp_path / "big-back.mp4", shallow=False)
    aws(depot, env, "s3", "sync", str(tree), f"s3://{bucket}/site/")
    listing = aws(depot, env, "s3", "ls", "--recursive", f"s3://{bucket}/site/").stdout
    assert len(listing.strip().splitlines()) == 15
    top = aws(depot, env, "s3", "ls", f"s3://{bucket}/site/").stdout
    assert "PRE cam-0/" in top and "PRE cam-2/" in top
    back = tmp_path / "back"
    aws(depot, env, "s3", "sync", f"s3://{bucket}/site/", str(back))
    assert not filecmp.dircmp(tree, back).diff_files
    for cam in range(3):
        assert not filecmp.dircmp(tree / f"cam-{cam}", back / f"cam-{cam}").diff_files
    # A second sync has nothing to do.
    assert aws(depot, env, "s3", "sync", str(tree), f"s3://{bucket}/site/").stdout.strip() == ""
    aws(depot, env, "s3", "rm", "--recursive", f"s3://{bucket}/site/")
    assert aws(depot, env, "s3", "ls", "--recursive", f"s3://{bucket}/site/", check=False).stdout.strip() == ""


def test_s3api_tagging_copy_multipart(depot, bucket, tmp_path):
    env = aws_env(depot, tmp_path)
    body = tmp_path / "part"
    body.write_bytes(os.urandom(6 * 1024 * 1024))
    aws(depot, env, "s3api", "put-object", "--bucket", bucket, "--key", "a.mp4", "--body", str(body))
    aws(depot, env, "s3api", "put-object-tagging", "--bucket", bucket, "--key", "a.mp4",
        "--tagging", "TagSet=[{Key=camera,Value=front}]")
    tags = json.loads(aws(depot, env, "s3api", "get-object-tagging", "--bucket", bucket, "--key", "a.mp4").stdout)
    assert tags["TagSet"] == [{"Key": "camera", "Value": "front"}]
    aws(depot, env, "s3api", "copy-object", "--bucket", bucket, "--key", "b.mp4", "--copy-source", f"{bucket}/a.mp4")
    head = json.loads(aws(depot, env, "s3api", "head-object", "--bucket", bucket, "--key", "b.mp4").stdout)
    assert head["ContentLength"] == 6 * 1024 * 1024
    upload = json.loads(aws(depot, env, "s3api", "create-multipart-upload", "--bucket", bucket, "--key", "mp.mp4").stdout)
    uid = upload["UploadId"]
    uploads = json.loads(aws(depot, env, "s3api", "list-multipart-uploads", "--bucket", bucket).stdout)
    assert [u["UploadId"] for u in uploads["Uploads"]] == [uid]
    parts = []
    for n in (1, 2):
        r = json.loads(aws(depot, env, "s3api", "upload-part", "--bucket", bucket, "--key", "mp.mp4", "--upload-id", uid,
                           "--part-number", str(n), "--body", str(body)).stdout)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    listed = json.loads(aws(depot, env, "s3api", "list-parts", "--bucket", bucket, "--key", "mp.mp4", "--upload-id", uid).stdout)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2]
    done = json.loads(aws(depot, env, "s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "mp.mp4",
                          "--upload-id", uid, "--multipart-upload", json.dumps({"Parts": parts})).stdout)
    assert done["ETag"].endswith('-2"')
    aborted = json.loads(aws(depot, env, "s3api", "create-multipart-upload", "--bucket", bucket, "--key", "x").stdout)
    aws(depot, env, "s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "x", "--upload-id", aborted["UploadId"])
    location = json.loads(aws(depot, env, "s3api", "get-bucket-location", "--bucket", bucket).stdout)
    assert location["LocationConstraint"] in (None, "")
    aws(depot, env, "s3api", "head-bucket", "--bucket", bucket)
