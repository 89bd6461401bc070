"""Per-account quotas (`accounts[].quota: { bytes, objects }`): the logical sizes and the number
of the objects an account owns (the access key that stored them). An upload past the quota is
refused with S3's 403 `QuotaExceeded` (Vault: a JSON 403), before its body when it declares its
size, else at its commit; a refused upload stores nothing. Overwrites count the difference,
deletes give back. The stored parts of uploads in progress (multipart, tus) hold space and count
against the byte quota until the upload completes or is aborted. The counters are kept in the
same transaction as each commit, so they are exact after kill -9, and an index rebuilt from the
segments counts them again. The admin API's account view and `depot status` show usage and quota."""
import base64
import json
import os

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from admin_client import Admin
from conftest import DepotServer, run_depot

MIB = 1 << 20
KEY, SECRET = "CAMQUOTA", "cam-quota-secret-1"
VAULT = {"X-Kerberos-Storage-AccessKey": KEY, "X-Kerberos-Storage-SecretAccessKey": SECRET}


@pytest.fixture
def server(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""buckets: [rec]
accounts:
  - name: camera
    accessKey: {KEY}
    secretKey: {SECRET}
    allow: [{{ bucket: rec, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: rec }}
    quota: {{ bytes: 8MiB, objects: 3 }}
""")
    server = DepotServer(config=str(config)).start()
    yield server
    server.cleanup()


def client(server, key, secret):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def refused(call):
    with pytest.raises(ClientError) as error:
        call()
    return error.value.response["Error"]["Code"], error.value.response["ResponseMetadata"]["HTTPStatusCode"]


def usage(server, key=KEY):
    status, account = Admin(server.endpoint).get(f"/admin/v1/accounts/{key}")
    assert status == 200, account
    return account.get("usage"), account.get("quota")


def keys(s3):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket="rec").get("Contents", []))


def test_uploads_past_the_quota_are_refused_and_usage_survives_kill_and_rebuild(server):
    s3 = client(server, KEY, SECRET)
    # The stored parts of an upload in progress hold space too: a part past the quota is refused,
    # and an aborted upload gives its parts' bytes back.
    upload = s3.create_multipart_upload(Bucket="rec", Key="multi")["UploadId"]
    s3.upload_part(Bucket="rec", Key="multi", UploadId=upload, PartNumber=1, Body=os.urandom(5 * MIB))
    assert usage(server)[0] == {"bytes": 0, "objects": 0, "uploadingBytes": 5 * MIB}
    assert refused(lambda: s3.upload_part(
        Bucket="rec", Key="multi", UploadId=upload, PartNumber=2, Body=os.urandom(4 * MIB))) == ("QuotaExceeded", 403)
    s3.abort_multipart_upload(Bucket="rec", Key="multi", UploadId=upload)
    assert usage(server)[0] == {"bytes": 0, "objects": 0, "uploadingBytes": 0}
    assert keys(s3) == []
    # A completed upload's parts become the object's bytes.
    upload = s3.create_multipart_upload(Bucket="rec", Key="multi")["UploadId"]
    etag = s3.upload_part(Bucket="rec", Key="multi", UploadId=upload, PartNumber=1, Body=os.urandom(MIB))["ETag"]
    s3.complete_multipart_upload(Bucket="rec", Key="multi", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert usage(server)[0] == {"bytes": MIB, "objects": 1, "uploadingBytes": 0}
    s3.delete_object(Bucket="rec", Key="multi")
    # A tus upload's PATCHes hold space as they arrive (exactly, across a kill -9) until it is
    # terminated.
    created = requests.post(f"{server.endpoint}/api/storage/tus/", timeout=10, headers={
        **VAULT, "Tus-Resumable": "1.0.0", "Upload-Length": str(MIB), "X-Kerberos-Storage-Directory": "cam",
        "Upload-Metadata": "filename " + base64.b64encode(b"cam_1_part.mp4").decode()})
    assert created.status_code == 201, created.text
    tus = "/api/storage/tus/" + created.headers["Location"].rsplit("/", 1)[-1]
    patched = requests.patch(server.endpoint + tus, data=os.urandom(256 << 10), timeout=30, headers={
        **VAULT, "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert patched.status_code == 204, patched.text
    assert usage(server)[0] == {"bytes": 0, "objects": 0, "uploadingBytes": 256 << 10}
    server.kill9()
    server.start()
    assert usage(server)[0] == {"bytes": 0, "objects": 0, "uploadingBytes": 256 << 10}
    assert requests.delete(server.endpoint + tus, headers={**VAULT, "Tus-Resumable": "1.0.0"}, timeout=10).status_code == 204
    assert usage(server)[0] == {"bytes": 0, "objects": 0, "uploadingBytes": 0}
    s3 = client(server, KEY, SECRET)

    s3.put_object(Bucket="rec", Key="a", Body=os.urandom(5 * MIB))
    assert usage(server) == ({"bytes": 5 * MIB, "objects": 1, "uploadingBytes": 0}, {"bytes": 8 * MIB, "objects": 3})
    # Declared past the quota: refused before the body; an overwrite counts only the difference.
    assert refused(lambda: s3.put_object(Bucket="rec", Key="b", Body=os.urandom(4 * MIB))) == ("QuotaExceeded", 403)
    s3.put_object(Bucket="rec", Key="a", Body=os.urandom(7 * MIB))
    assert usage(server)[0] == {"bytes": 7 * MIB, "objects": 1, "uploadingBytes": 0}

    # The Vault doors: a chunked legacy POST (no declared size) is refused at its commit, a tus
    # upload at its creation; JSON 403 either way, nothing stored.
    posted = requests.post(f"{server.endpoint}/api/storage", timeout=30, data=iter([os.urandom(MIB), os.urandom(MIB)]),
                           headers={**VAULT, "X-Kerberos-Storage-FileName": "cam_1_clip.mp4",
                                    "X-Kerberos-Storage-Directory": "cam"})
    assert posted.status_code == 403, posted.text
    assert "quota" in posted.json()["data"].lower()
    # Its bytes, appended before the commit refused them, are handed to the space recovery at once.
    storage = json.loads(run_depot("status", "--json", env={"DEPOT_ENDPOINT": server.endpoint}).stdout)["storage"]
    assert storage["abandonedUploadBytes"] >= 2 * MIB, storage
    metadata = "filename " + base64.b64encode(b"cam_1_tus.mp4").decode()
    created = requests.post(f"{server.endpoint}/api/storage/tus/", timeout=10, headers={
        **VAULT, "Tus-Resumable": "1.0.0", "Upload-Length": str(2 * MIB), "Upload-Metadata": metadata,
        "X-Kerberos-Storage-Directory": "cam"})
    assert created.status_code == 403, created.text
    assert keys(s3) == ["a"]

    # The object count: three at most.
    s3.put_object(Bucket="rec", Key="x", Body=b"x")
    s3.put_object(Bucket="rec", Key="y", Body=b"yy")
    assert refused(lambda: s3.put_object(Bucket="rec", Key="z", Body=b"z")) == ("QuotaExceeded", 403)
    # A copy made by the account is its object too.
    assert refused(lambda: s3.copy_object(Bucket="rec", Key="z", CopySource="rec/x")) == ("QuotaExceeded", 403)
    s3.delete_object(Bucket="rec", Key="x")
    s3.put_object(Bucket="rec", Key="z", Body=b"zzz")
    expected = {"bytes": 7 * MIB + 5, "objects": 3, "uploadingBytes": 0}
    assert usage(server)[0] == expected

    # Objects the root account stores are not the camera's, even in the same bucket.
    server.client().put_object(Bucket="rec", Key="root-owned", Body=os.urandom(MIB))
    assert usage(server)[0] == expected

    # `depot status` shows it.
    shown = run_depot("status", env={"DEPOT_ENDPOINT": server.endpoint})
    assert f"account {KEY} (camera): 7.0 MiB of 8.0 MiB, 3 objects of 3" in shown.stdout, shown.stdout
    status = json.loads(run_depot("status", "--json", env={"DEPOT_ENDPOINT": server.endpoint}).stdout)
    assert [q["usage"] for q in status["quotas"]] == [expected]

    # Exact after kill -9, and after an index rebuilt from the segments alone.
    server.kill9()
    server.start()
    assert usage(server)[0] == expected
    server.stop()
    rebuilt = run_depot("fsck", "--data", server.data_dir, "--rebuild-index")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    server.start()
    assert usage(server)[0] == expected
    s3 = client(server, KEY, SECRET)
    assert refused(lambda: s3.put_object(Bucket="rec", Key="w", Body=b"w")) == ("QuotaExceeded", 403)


def test_an_api_account_quota_is_set_changed_and_removed(server):
    admin = Admin(server.endpoint)
    status, made = admin.post("/admin/v1/accounts", {
        "name": "viewer", "allow": [{"bucket": "rec", "actions": ["read", "write", "list"]}],
        "quota": {"bytes": "1KiB"}})
    assert status == 201, made
    assert made["quota"] == {"bytes": 1024}
    s3 = client(server, made["accessKey"], made["secretKey"])
    s3.put_object(Bucket="rec", Key="small", Body=b"s" * 1000)
    assert refused(lambda: s3.put_object(Bucket="rec", Key="big", Body=b"b" * 100)) == ("QuotaExceeded", 403)
    status, changed = admin.patch(f"/admin/v1/accounts/{made['accessKey']}", {"quota": {"bytes": 4096}})
    assert status == 200, changed
    s3.put_object(Bucket="rec", Key="big", Body=b"b" * 100)
    status, changed = admin.patch(f"/admin/v1/accounts/{made['accessKey']}", {"quota": None})
    assert status == 200 and "quota" not in changed, changed
    assert changed["usage"] == {"bytes": 1100, "objects": 2, "uploadingBytes": 0}
    s3.put_object(Bucket="rec", Key="bigger", Body=b"b" * 5000)
    status, bad = admin.patch(f"/admin/v1/accounts/{made['accessKey']}", {"quota": {"bytes": "lots"}})
    assert status == 400 and "quota.bytes" in json.dumps(bad), bad
