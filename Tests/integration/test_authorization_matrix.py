"""The authorization matrix (issue 14, "Keep it from coming back"): every account shape of
Config/examples/edge-gateway.yaml × every object operation of the S3 door (with presigned URLs
and POST forms), of the Vault door and of the admin API, on keys each account may and may not touch. One rule for every door
(DESIGN "Accounts and access"): the answer must be what the account's `allow` grants say about
the FINAL key (a fixed Vault directory forces uploads into it), and a refused operation must
leave nothing stored, overwritten, deleted or read.

A new operation is one row of OPERATIONS: its name, the actions it needs, how to run it, and
what it changes. Runs against one real server; every case uses keys of its own."""
import base64

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from admin_client import Admin
from conftest import DepotServer, run_depot

ORIGINAL = b"original recording bytes"
NEW = b"bytes an upload tried to store"
BUCKET = "recordings"


class Shape:
    """An account of the example config: its keys, grants (prefix, actions) on `recordings`, and
    its Vault directory (fixed, or `*` for the agent's choice)."""

    def __init__(self, name, access, grants, directory, bucket=BUCKET):
        self.name, self.access, self.secret = name, access, f"{access.lower()}-secret-1"
        self.grants, self.directory, self.bucket = grants, directory, bucket

    def allows(self, action, key):
        return any(action in actions and key.startswith(prefix) for prefix, actions in self.grants)

    def final_key(self, key):
        """Where a Vault upload naming `key` lands: a fixed directory replaces the one named."""
        return key if self.directory == "*" else f"{self.directory}/{key.split('/', 1)[1]}"

    def yaml(self):
        grants = ", ".join(f"{{ bucket: \"{self.bucket}\", prefix: \"{p}\", actions: [{', '.join(sorted(a))}] }}"
                           for p, a in self.grants)
        return (f"  - name: {self.name}\n    accessKey: {self.access}\n    secretKey: {self.secret}\n"
                f"    allow: [{grants}]\n    vault: {{ directory: \"{self.directory}\", bucket: {BUCKET} }}\n")


SHAPES = [
    # site-cameras: a fixed directory, and grants to exactly that prefix.
    Shape("camera-fixed", "CAMFIXED", [("camera-2/", {"read", "write", "list"})], "camera-2"),
    # camera-1: the agent chooses the directory (`*`), but the grants stop at camera-1/.
    Shape("camera-star", "CAM1", [("camera-1/", {"read", "write"})], "*"),
    # A consumer (Kerberos Hub, a dashboard): read and list everything, nothing else.
    Shape("viewer", "VIEWER", [("", {"read", "list"})], "*"),
    # ml-worker: read, list and delete everything, never write.
    Shape("ml-worker", "MLWORKER", [("", {"read", "list", "delete"})], "*"),
    # An operator account: everything, on every bucket (`admin` is server-wide: Grant.problem).
    Shape("admin", "ADMINKEY", [("", {"read", "write", "delete", "list", "admin"})], "*", bucket="*"),
]
AREAS = ["camera-1", "camera-2", "other"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("authz")
    (tmp / "nas").mkdir()
    config = tmp / "depot.yaml"
    config.write_text(f"buckets: [{BUCKET}]\naccounts:\n" + "".join(s.yaml() for s in SHAPES) + f"""tiers:
  - {{ name: nas, type: filesystem, path: {tmp / 'nas'} }}
policies:
  - {{ name: when-asked, match: {{ bucket: {BUCKET} }}, replicate: {{ to: [nas], mode: on-demand }} }}
""")
    depot = DepotServer(config=str(config)).start()
    yield depot
    depot.cleanup()


def shapes_server(tmp_path_factory, name, extra=lambda tmp: ""):
    """A server with every account shape and the bucket, for the matrices of bucket settings;
    `extra(tmp)` adds configuration (tiers) in the server's own temporary directory."""
    tmp = tmp_path_factory.mktemp(name)
    config = tmp / "depot.yaml"
    config.write_text(f"buckets: [{BUCKET}]\naccounts:\n" + "".join(s.yaml() for s in SHAPES) + extra(tmp))
    return DepotServer(config=str(config)).start()


def bucket_allows(shape, action):
    """Account.allows with no key: a grant on the bucket, without a prefix unless the action is list."""
    return any(action in actions and (prefix == "" or action == "list") for prefix, actions in shape.grants)


def presigned_bucket_call(server, shape, operation, method):
    """A presigned bucket-setting call (boto3 `operation`, sent as `method`): (allowed, body);
    a refusal must be AccessDenied, a success 200 or 204."""
    url = s3_as(server, shape).generate_presigned_url(operation, Params={"Bucket": BUCKET}, ExpiresIn=300)
    response = requests.request(method, url, timeout=15)
    if response.status_code == 403:
        assert "<Code>AccessDenied</Code>" in response.text, response.text
        return False, None
    assert response.status_code in (200, 204), response.text
    return True, response.text


def presigned_setting_read(server, shape, operation, seeded, marker):
    """A presigned GET of a bucket setting (boto3 `operation`): (allowed, `seeded` when the answer
    holds `marker`, which only the seeded setting has, else the answer's text)."""
    allowed, text = presigned_bucket_call(server, shape, operation, "GET")
    return allowed, (seeded if allowed and marker in text else text)


def setting_answers_as_the_grants_say(server, shape, operation, operations, seeded, seed, current):
    """One cell of a bucket setting's matrix (CORS, lifecycle, notifications, replication,
    encryption). `operations[operation]` is (the action it needs on the bucket, how to run it as a
    shape, the setting it leaves when allowed); `seed()` stores `seeded` first and `current()` reads
    the setting back as root. The answer must be what the shape's grants say, an allowed read must
    return the seeded setting, and a refused call must change nothing. Returns the setting left."""
    action, run, after = operations[operation]
    seed()
    expected = bucket_allows(shape, action)
    allowed, read = run(server, shape)
    assert allowed == expected, f"{shape.name} {operation}: allowed={allowed}, grants say {expected}"
    if allowed and action == "list":
        assert read == seeded
    left = after if allowed else seeded
    assert current() == left
    return left


def s3_as(server, shape):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=shape.access,
                        aws_secret_access_key=shape.secret,
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                      retries={"max_attempts": 1}))


def stored(server, key):
    try:
        return server.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchKey", error.response
        return None


# --- How each operation is run: returns (allowed, what it read or listed) ------------------------

def s3_call(call):
    """Runs a boto3 call: (True, result) or (False, None) when refused with AccessDenied."""
    try:
        return True, call()
    except ClientError as error:
        # A HEAD answer has no body, so botocore names it by its status.
        assert error.response["Error"]["Code"] in ("AccessDenied", "403"), error.response
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        return False, None


def vault_call(response, ok=(200, 201, 204)):
    """A Vault answer: allowed, or refused with Vault's JSON 403 (never another status)."""
    if response.status_code == 403:
        assert isinstance(response.json()["data"], str), response.text
        return False
    assert response.status_code in ok, (response.status_code, response.text)
    return True


def vault_headers(shape, **extra):
    headers = {"X-Kerberos-Storage-Accesskey": shape.access, "X-Kerberos-Storage-Secretaccesskey": shape.secret}
    headers.update({"X-Kerberos-Storage-" + name: value for name, value in extra.items()})
    return headers


def s3_put(server, shape, key):
    return s3_call(lambda: s3_as(server, shape).put_object(Bucket=BUCKET, Key=key, Body=NEW))


def s3_get(server, shape, key):
    return s3_call(lambda: s3_as(server, shape).get_object(Bucket=BUCKET, Key=key)["Body"].read())


def s3_delete(server, shape, key):
    return s3_call(lambda: s3_as(server, shape).delete_object(Bucket=BUCKET, Key=key))


def s3_list(server, shape, key):
    allowed, listing = s3_call(lambda: s3_as(server, shape).list_objects_v2(Bucket=BUCKET, Prefix=key))
    return allowed and key in [o["Key"] for o in listing.get("Contents", [])], listing


def s3_copy(server, shape, key):
    return s3_call(lambda: s3_as(server, shape).copy_object(
        Bucket=BUCKET, Key=key + ".copy", CopySource={"Bucket": BUCKET, "Key": key}))


def s3_presigned_get(server, shape, key):
    url = s3_as(server, shape).generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=60)
    response = requests.get(url, timeout=10)
    return (True, response.content) if s3_refusal(response) else (False, None)


def s3_head(server, shape, key):
    allowed, head = s3_call(lambda: s3_as(server, shape).head_object(Bucket=BUCKET, Key=key))
    return allowed, (ORIGINAL if allowed and head["ContentLength"] == len(ORIGINAL) else None)


def s3_multipart(server, shape, key):
    """Refused at creation when the key may not be written; otherwise one part, completed."""
    client = s3_as(server, shape)
    allowed, created = s3_call(lambda: client.create_multipart_upload(Bucket=BUCKET, Key=key))
    if not allowed:
        return False, None
    upload = created["UploadId"]
    etag = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=NEW)["ETag"]
    client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    return True, None


def s3_attributes(server, shape, key):
    allowed, answer = s3_call(lambda: s3_as(server, shape).get_object_attributes(
        Bucket=BUCKET, Key=key, ObjectAttributes=["ObjectSize", "ETag"]))
    return allowed, (ORIGINAL if allowed and answer["ObjectSize"] == len(ORIGINAL) else None)


def s3_get_tagging(server, shape, key):
    allowed, _ = s3_call(lambda: s3_as(server, shape).get_object_tagging(Bucket=BUCKET, Key=key))
    return allowed, (ORIGINAL if allowed else None)


def s3_put_tagging(server, shape, key):
    return s3_call(lambda: s3_as(server, shape).put_object_tagging(
        Bucket=BUCKET, Key=key, Tagging={"TagSet": [{"Key": "by", "Value": shape.name}]}))


def s3_get_acl(server, shape, key):
    allowed, _ = s3_call(lambda: s3_as(server, shape).get_object_acl(Bucket=BUCKET, Key=key))
    return allowed, (ORIGINAL if allowed else None)


def sigv2_as(server, shape):
    """Signature Version 2 (accepted as MinIO does): the same grants must apply."""
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=shape.access,
                        aws_secret_access_key=shape.secret,
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3",
                                      retries={"max_attempts": 1}))


def s3_sigv2_get(server, shape, key):
    return s3_call(lambda: sigv2_as(server, shape).get_object(Bucket=BUCKET, Key=key)["Body"].read())


def s3_sigv2_put(server, shape, key):
    return s3_call(lambda: sigv2_as(server, shape).put_object(Bucket=BUCKET, Key=key, Body=NEW))


def s3_sigv2_delete(server, shape, key):
    return s3_call(lambda: sigv2_as(server, shape).delete_object(Bucket=BUCKET, Key=key))


def s3_refusal(response):
    """A raw S3 answer (presigned URL, POST form): success, or 403 AccessDenied."""
    if response.status_code == 403:
        assert b"<Code>AccessDenied</Code>" in response.content, response.content
        return False
    assert response.status_code in (200, 204), response.content
    return True


def s3_presigned_put(server, shape, key):
    url = s3_as(server, shape).generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=60)
    return s3_refusal(requests.put(url, data=NEW, timeout=10)), None


def s3_post_form(server, shape, key):
    form = s3_as(server, shape).generate_presigned_post(BUCKET, key, ExpiresIn=60)
    return s3_refusal(requests.post(form["url"], data=form["fields"], files={"file": ("clip.mp4", NEW)}, timeout=10)), None


def admin_object_status(server, shape, key):
    status, answer = Admin(server.endpoint, shape.access, shape.secret).get(f"/admin/v1/buckets/{BUCKET}/objects/{key}")
    assert status in (200, 403), (status, answer)
    return status == 200, None


def admin_list_tiers(server, shape, key):
    status, answer = Admin(server.endpoint, shape.access, shape.secret).get("/admin/v1/tiers")
    assert status in (200, 403), (status, answer)
    return status == 200, None


def admin_create_account(server, shape, key):
    """The escalation an admin grant opens: an account with every right. Refused, nothing made."""
    access = "NEW" + key.replace("/", "").replace("-", "").replace(".", "").upper()[:17]
    status, answer = Admin(server.endpoint, shape.access, shape.secret).post("/admin/v1/accounts", {
        "name": "escalated", "accessKey": access, "allow": [{"bucket": "*", "actions": ["read", "write", "admin"]}]})
    assert status in (201, 403), (status, answer)
    listed = [a["accessKey"] for a in Admin(server.endpoint).get("/admin/v1/accounts")[1]["accounts"]]
    assert (access in listed) == (status == 201)
    if status == 201:
        assert Admin(server.endpoint).delete(f"/admin/v1/accounts/{access}")[0] == 200
    return status == 201, None


def vault_legacy_post(server, shape, key):
    directory, filename = key.split("/", 1)
    response = requests.post(server.endpoint + "/api/storage", data=NEW, timeout=10,
                             headers=vault_headers(shape, Directory=directory, Filename=filename, Provider=""))
    return vault_call(response), None


def vault_tus(server, shape, key):
    """tus creation (where authorization is decided), then the PATCH that completes it."""
    directory, filename = key.split("/", 1)
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"filename": filename, "directory": directory}.items())
    created = requests.post(server.endpoint + "/api/storage/tus/", timeout=10, headers=dict(
        vault_headers(shape), **{"Tus-Resumable": "1.0.0", "Upload-Length": str(len(NEW)), "Upload-Metadata": metadata}))
    if not vault_call(created):
        return False, None
    patched = requests.patch(server.endpoint + created.headers["Location"], data=NEW, timeout=10, headers=dict(
        vault_headers(shape), **{"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                                 "Content-Type": "application/offset+octet-stream"}))
    assert patched.status_code == 204, patched.text
    return True, None


def vault_blob(server, shape, key):
    response = requests.get(server.endpoint + "/api/storage/blob", headers=vault_headers(shape, Filename=key), timeout=10)
    return (True, response.content) if vault_call(response) else (False, None)


def vault_signed_link(server, shape, key):
    response = requests.get(server.endpoint + "/api/storage", headers=vault_headers(shape, Filename=key), timeout=10)
    if not vault_call(response):
        return False, None
    return True, requests.get(response.json()["data"], timeout=10).content


def vault_bulk_link(server, shape, key):
    response = requests.post(server.endpoint + "/api/storage/bulk", headers=vault_headers(shape), timeout=10,
                             json=[{"provider": "", "filename": key, "uriExpiryTime": 60}])
    assert response.status_code == 200, response.text
    links = response.json()["data"]
    assert set(links) <= {key}
    return (True, requests.get(links[key], timeout=10).content) if key in links else (False, None)


def vault_delete(server, shape, key):
    response = requests.delete(server.endpoint + "/api/storage", headers=vault_headers(shape, Filename=key), timeout=10)
    return vault_call(response), None


def vault_forward(server, shape, key):
    response = requests.post(server.endpoint + "/api/storage/forward/media", headers=vault_headers(shape, Filename=key),
                             timeout=10)
    return vault_call(response), None


# --- What each operation changes, checked as root after it ran ---------------------------------

def effect_read(server, shape, key, allowed, payload):
    assert payload == (ORIGINAL if allowed else None)
    assert stored(server, key) == ORIGINAL


def effect_write(server, shape, key, allowed, payload, vault=False):
    final = shape.final_key(key) if vault else key
    assert stored(server, final) == (NEW if allowed else ORIGINAL)
    if final != key:
        assert stored(server, key) == ORIGINAL, "a forced directory must not write where the agent asked"


def effect_vault_write(server, shape, key, allowed, payload):
    effect_write(server, shape, key, allowed, payload, vault=True)


def effect_delete(server, shape, key, allowed, payload):
    assert stored(server, key) == (None if allowed else ORIGINAL)


def effect_copy(server, shape, key, allowed, payload):
    assert stored(server, key + ".copy") == (ORIGINAL if allowed else None)
    assert stored(server, key) == ORIGINAL


def effect_none(server, shape, key, allowed, payload):
    assert stored(server, key) == ORIGINAL


def effect_tagging(server, shape, key, allowed, payload):
    tags = server.client().get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
    assert tags == ([{"Key": "by", "Value": shape.name}] if allowed else [])
    assert stored(server, key) == ORIGINAL


# name: (actions needed on the key — a Vault upload's final key —, run, what it changes)
OPERATIONS = {
    "s3-put": ({"write"}, s3_put, effect_write),
    "s3-get": ({"read"}, s3_get, effect_read),
    "s3-delete": ({"delete"}, s3_delete, effect_delete),
    "s3-list": ({"list"}, s3_list, effect_none),
    "s3-copy": ({"read", "write"}, s3_copy, effect_copy),
    "s3-head": ({"read"}, s3_head, effect_read),
    "s3-multipart": ({"write"}, s3_multipart, effect_write),
    "s3-presigned-get": ({"read"}, s3_presigned_get, effect_read),
    "s3-presigned-put": ({"write"}, s3_presigned_put, effect_write),
    "s3-post-form": ({"write"}, s3_post_form, effect_write),
    "s3-get-attributes": ({"read"}, s3_attributes, effect_read),
    "s3-get-tagging": ({"read"}, s3_get_tagging, effect_read),
    "s3-put-tagging": ({"write"}, s3_put_tagging, effect_tagging),
    "s3-get-acl": ({"read"}, s3_get_acl, effect_read),
    "s3-sigv2-get": ({"read"}, s3_sigv2_get, effect_read),
    "s3-sigv2-put": ({"write"}, s3_sigv2_put, effect_write),
    "s3-sigv2-delete": ({"delete"}, s3_sigv2_delete, effect_delete),
    "admin-object-status": ({"admin"}, admin_object_status, effect_none),
    "admin-list-tiers": ({"admin"}, admin_list_tiers, effect_none),
    "admin-create-account": ({"admin"}, admin_create_account, effect_none),
    "vault-legacy-post": ({"write"}, vault_legacy_post, effect_vault_write),
    "vault-tus": ({"write"}, vault_tus, effect_vault_write),
    "vault-blob": ({"read"}, vault_blob, effect_read),
    "vault-signed-link": ({"read"}, vault_signed_link, effect_read),
    "vault-bulk-link": ({"read"}, vault_bulk_link, effect_read),
    "vault-delete": ({"delete"}, vault_delete, effect_delete),
    "vault-forward": ({"read"}, vault_forward, effect_none),
}
VAULT_UPLOADS = {"vault-legacy-post", "vault-tus"}


def test_the_bucket_setting_matrices_cover_both_answers():
    """Some shape is refused and some allowed for `list` and for `write` on a whole bucket, so the
    bucket settings' matrices (test_authorization_cors, _lifecycle, _notification, _replication,
    _encryption) can fail both ways."""
    for action in ("list", "write"):
        answers = {bucket_allows(shape, action) for shape in SHAPES}
        assert answers == {True, False}, action


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_every_door_answers_as_the_grants_say(server, shape, operation):
    needs, run, effect = OPERATIONS[operation]
    root = server.client()
    for area in AREAS:
        key = f"{area}/{operation}-{shape.name}.mp4"
        target = shape.final_key(key) if operation in VAULT_UPLOADS else key
        for seeded in {key, target}:
            root.put_object(Bucket=BUCKET, Key=seeded, Body=ORIGINAL)
        expected = all(shape.allows(action, target) for action in needs)
        allowed, payload = run(server, shape, key)
        assert allowed == expected, f"{shape.name} {operation} {target}: allowed={allowed}, grants say {expected}"
        effect(server, shape, key, allowed, payload)


def test_tus_upload_belongs_to_the_account_that_created_it(server):
    """HEAD, PATCH and DELETE of a tus upload by another account find nothing (404), and the
    upload goes on for its owner."""
    owner, other = SHAPES[1], SHAPES[4]  # camera-star, admin (who may write anywhere)
    metadata = f"filename {base64.b64encode(b'owned.mp4').decode()},directory {base64.b64encode(b'camera-1').decode()}"
    created = requests.post(server.endpoint + "/api/storage/tus/", timeout=10, headers=dict(
        vault_headers(owner), **{"Tus-Resumable": "1.0.0", "Upload-Length": str(len(NEW)), "Upload-Metadata": metadata}))
    assert created.status_code == 201, created.text
    url = server.endpoint + created.headers["Location"]
    tus = {"Tus-Resumable": "1.0.0"}
    patch = dict(tus, **{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert requests.head(url, headers=dict(vault_headers(other), **tus), timeout=10).status_code == 404
    assert requests.patch(url, data=NEW, headers=dict(vault_headers(other), **patch), timeout=10).status_code == 404
    assert requests.delete(url, headers=dict(vault_headers(other), **tus), timeout=10).status_code == 404
    assert requests.head(url, headers=dict(vault_headers(owner), **tus), timeout=10).headers["Upload-Offset"] == "0"
    assert requests.patch(url, data=NEW, headers=dict(vault_headers(owner), **patch), timeout=10).status_code == 204
    assert stored(server, "camera-1/owned.mp4") == NEW


def test_a_signed_link_is_bound_to_its_account(server):
    """The link names the account that made it: changing the account (to one that may read the
    key, or not) breaks the signature, and a link without an account is refused."""
    viewer = SHAPES[2]
    server.client().put_object(Bucket=BUCKET, Key="other/linked.mp4", Body=ORIGINAL)
    link = requests.get(server.endpoint + "/api/storage", headers=vault_headers(viewer, Filename="other/linked.mp4"),
                        timeout=10).json()["data"]
    assert "account=VIEWER" in link and requests.get(link, timeout=10).content == ORIGINAL
    for forged in (link.replace("account=VIEWER", "account=ADMINKEY"), link.replace("&account=VIEWER", "")):
        refused = requests.get(forged, timeout=10)
        assert refused.status_code == 403 and refused.json()["data"], refused.text


def test_a_signed_link_ends_when_its_account_loses_read(tmp_path):
    """Checked at use: after a reload that narrows the account's grants (or removes it), the
    links it handed out are refused."""
    config = tmp_path / "depot.yaml"
    body = f"buckets: [{BUCKET}]\naccounts:\n" + SHAPES[2].yaml() + SHAPES[3].yaml()
    config.write_text(body)
    depot = DepotServer(config=str(config)).start()
    try:
        depot.client().put_object(Bucket=BUCKET, Key="other/clip.mp4", Body=ORIGINAL)
        links = {}
        for shape in SHAPES[2:4]:
            answer = requests.get(depot.endpoint + "/api/storage", timeout=10,
                                  headers=vault_headers(shape, Filename="other/clip.mp4"))
            links[shape.name] = answer.json()["data"]
            assert requests.get(links[shape.name], timeout=10).content == ORIGINAL
        # The viewer may now read only camera-1/; the ML worker is gone.
        config.write_text(body.replace('prefix: "", actions: [list, read]', 'prefix: "camera-1/", actions: [list, read]')
                          .replace(SHAPES[3].yaml(), ""))
        status, answer = Admin(depot.endpoint).post("/admin/v1/server/reload")
        assert status == 200, answer
        for name in links:
            refused = requests.get(links[name], timeout=10)
            assert refused.status_code == 403 and refused.json()["data"], (name, refused.text)
    finally:
        depot.cleanup()



def test_a_tus_upload_stops_when_its_account_loses_write(tmp_path):
    """Write is asked again on every PATCH: an upload created before a reload took the account's
    write away stores nothing after it."""
    camera = SHAPES[1]
    config = tmp_path / "depot.yaml"
    body = f"buckets: [{BUCKET}]\naccounts:\n" + camera.yaml()
    config.write_text(body)
    depot = DepotServer(config=str(config)).start()
    try:
        metadata = f"filename {base64.b64encode(b'late.mp4').decode()},directory {base64.b64encode(b'camera-1').decode()}"
        created = requests.post(depot.endpoint + "/api/storage/tus/", timeout=10, headers=dict(
            vault_headers(camera), **{"Tus-Resumable": "1.0.0", "Upload-Length": str(len(NEW)), "Upload-Metadata": metadata}))
        assert created.status_code == 201, created.text
        config.write_text(body.replace("actions: [read, write]", "actions: [read]"))
        status, answer = Admin(depot.endpoint).post("/admin/v1/server/reload")
        assert status == 200, answer
        patched = requests.patch(depot.endpoint + created.headers["Location"], data=NEW, timeout=10, headers=dict(
            vault_headers(camera), **{"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                                      "Content-Type": "application/offset+octet-stream"}))
        assert patched.status_code == 403 and patched.json()["data"], patched.text
        assert stored(depot, "camera-1/late.mp4") is None
    finally:
        depot.cleanup()


def test_an_admin_grant_scoped_to_a_bucket_or_prefix_is_refused(tmp_path, server):
    """`admin` opens the whole admin API (it can make an account with any grant), so a grant that
    scopes it would promise a limit nobody keeps: refused in the file, in the admin API and by
    `depot account add`, each naming the field."""
    config = tmp_path / "depot.yaml"
    config.write_text(f"buckets: [{BUCKET}]\naccounts:\n" + Shape(
        "cam-admin", "CAMADMIN", [("camera-1/", {"read", "admin"})], "*").yaml())
    started = run_depot("serve", "--config", str(config), "--data", str(tmp_path / "data"), "--address", "127.0.0.1:0",
                        timeout=60)
    assert started.returncode != 0
    assert "accounts[0].allow[0].actions" in started.stderr and "server-wide" in started.stderr, started.stderr
    status, answer = Admin(server.endpoint).post("/admin/v1/accounts", {
        "name": "scoped", "allow": [{"bucket": BUCKET, "actions": ["read", "admin"]}]})
    assert status == 400 and answer["field"] == "allow[0].actions" and "server-wide" in answer["error"], answer
    offline = run_depot("account", "add", "--data", str(tmp_path / "offline"), "--name", "x", "--bucket", BUCKET,
                        "--actions", "read,admin", timeout=60)
    assert offline.returncode != 0 and "server-wide" in offline.stderr, offline.stderr


PROVIDER_ACCOUNTS = """buckets: [recordings]
providers:
  - { name: edge, bucket: recordings }
  - { name: archive, bucket: archive }
accounts:
  - name: edge-only
    accessKey: EDGEONLY
    secretKey: edge-only-secret
    allow: [{ bucket: recordings, actions: [read, write, list, delete] }]
    vault: { directory: "*", providers: [edge] }
  - name: both-providers-one-grant
    accessKey: BOTHPROV
    secretKey: both-prov-secret
    allow: [{ bucket: recordings, actions: [read, write, list, delete] }]
    vault: { directory: "*", providers: [edge, archive] }
"""


def test_a_provider_routes_only_where_the_account_may_go(tmp_path):
    """Naming a provider never widens an account: a provider that is not the account's is not
    found (400, nothing stored), and one that is the account's but leads to a bucket its grants
    do not cover is refused (403) for uploads, reads, links and deletes."""
    config = tmp_path / "depot.yaml"
    config.write_text(PROVIDER_ACCOUNTS)
    depot = DepotServer(config=str(config)).start()
    try:
        root = depot.client()
        root.put_object(Bucket="archive", Key="cam/kept.mp4", Body=ORIGINAL)
        edge = Shape("edge-only", "EDGEONLY", [], "*")
        edge.secret = "edge-only-secret"
        both = Shape("both", "BOTHPROV", [], "*")
        both.secret = "both-prov-secret"

        def post(shape, provider, name):
            return requests.post(depot.endpoint + "/api/storage", data=NEW, timeout=10, headers=vault_headers(
                shape, Directory="cam", Filename=name, Provider=provider))

        refused = post(edge, "archive", "a.mp4")
        assert refused.status_code == 400 and "storage_provider_not_found" in refused.json()["data"], refused.text
        assert not vault_call(post(both, "archive", "b.mp4"))
        assert vault_call(post(both, "edge", "c.mp4"))
        for verb, path in (("GET", "/api/storage/blob"), ("GET", "/api/storage"), ("DELETE", "/api/storage")):
            answer = requests.request(verb, depot.endpoint + path, timeout=10, headers=vault_headers(
                both, Filename="cam/kept.mp4", Provider="archive"))
            assert not vault_call(answer), (verb, path, answer.text)
        bulk = requests.post(depot.endpoint + "/api/storage/bulk", headers=vault_headers(both), timeout=10,
                             json=[{"provider": "archive", "filename": "cam/kept.mp4", "uriExpiryTime": 60}])
        assert bulk.status_code in (200, 403) and "cam/kept.mp4" not in (bulk.json().get("data") or {}), bulk.text
        assert sorted(o["Key"] for o in root.list_objects_v2(Bucket="archive")["Contents"]) == ["cam/kept.mp4"]
        assert root.get_object(Bucket="archive", Key="cam/kept.mp4")["Body"].read() == ORIGINAL
        assert root.get_object(Bucket="recordings", Key="cam/c.mp4")["Body"].read() == NEW
    finally:
        depot.cleanup()
