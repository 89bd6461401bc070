"""Issue 14 #11: a bucket named like one of Depot's own paths (`/openapi.json`, `/metrics`, …)
could be created but never listed, because the server answers those paths itself. Every such
name is refused, by CreateBucket (400 InvalidBucketName saying why) and by the configuration's
`buckets:` list (an error naming the field)."""
import botocore
import pytest
import requests

from conftest import run_depot

# Every top-level path Depot answers itself (DESIGN.md, "One port, reserved names").
RESERVED = ["api", "admin", "console", "swagger", "openapi.json", "metrics", "health", "minio", "favicon.ico"]


@pytest.mark.parametrize("name", [n for n in RESERVED if n not in ("api", "console")])
def test_create_bucket_refuses_reserved_names(s3, name):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.create_bucket(Bucket=name)
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidBucketName"
    assert f"reserved for Depot's own /{name} path" in error["Error"]["Message"]


@pytest.mark.parametrize("name", ["api", "console"])
def test_api_and_console_never_reach_s3(s3, name):
    # `/api` itself belongs to the Vault API and `/console` to the web console, so CreateBucket
    # never even reaches S3 there.
    with pytest.raises(botocore.exceptions.ClientError):
        s3.create_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_own_paths_still_answered_and_ordinary_dotted_names_work(depot, s3):
    assert requests.get(depot.endpoint + "/openapi.json", timeout=10).json()["openapi"]
    s3.create_bucket(Bucket="openapi.json-archive")
    s3.put_object(Bucket="openapi.json-archive", Key="k", Body=b"x")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="openapi.json-archive")["Contents"]] == ["k"]


@pytest.mark.parametrize("name", RESERVED)
def test_config_check_names_the_reserved_bucket(tmp_path, name):
    config = tmp_path / "depot.yaml"
    config.write_text(f"buckets: [recordings, {name}]\n")
    result = run_depot("config", "check", str(config))
    assert result.returncode == 1
    output = result.stderr + result.stdout
    assert "buckets[1]" in output and f"reserved for Depot's own /{name} path" in output
