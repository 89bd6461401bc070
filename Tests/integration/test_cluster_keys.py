"""Cluster mode's shared secrets (issue 21 item 5; README "Cluster mode"): every node is given the
same `cluster.keyFile` (made by `depot cluster keygen`), and what one node seals or signs with
keys derived from it, another opens: an account made through node A's admin API (its record
sealed in the shared index) signs requests on node B; SSE-S3 and SSE-C objects written through A
read back through B; a console session signed in on A works on B (no sticky balancer); a Vault
download link signed by A is valid on B; root is the same account on every node. The index keeps
only the key's check value, never the key, and a node given another key file refuses to start
with an error naming cluster.keyFile. Real PostgreSQL, moto_server as the chunk store, real
nodes; clients are boto3, requests and botocore's signer."""
import os
import re

import boto3
import botocore.exceptions
import pytest
import requests
from botocore.config import Config

from admin_client import Admin
from backends import Moto
from cluster_support import chunks_section, cluster_config, postgres  # noqa: F401 (fixture)
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot

VAULT_KEY, VAULT_SECRET = "AGENTKEY", "agent-secret-1234"
VAULT_HEADERS = {"X-Kerberos-Storage-AccessKey": VAULT_KEY, "X-Kerberos-Storage-SecretAccessKey": VAULT_SECRET}


def start_without_root_variables(node):
    """Starts (or restarts) `node` with DEPOT_ROOT_USER/DEPOT_ROOT_PASSWORD empty, so it derives
    root from the cluster key (ClusterKey.rootCredentials). DepotServer always sets the tests'
    root, and an empty variable counts as unset, so its values are blanked for the call."""
    names = DepotServer.start.__globals__
    saved = names["ROOT_USER"], names["ROOT_PASSWORD"]
    names["ROOT_USER"] = names["ROOT_PASSWORD"] = ""
    try:
        node.stop()
        return node.start()
    finally:
        names["ROOT_USER"], names["ROOT_PASSWORD"] = saved


def keygen(path):
    """Runs `depot cluster keygen`; returns its check value and root account."""
    result = run_depot("cluster", "keygen", str(path))
    assert result.returncode == 0, result.stderr
    found = dict(re.findall(r"(check value|access key|secret key): (\S+)", result.stdout))
    return found["check value"], found["access key"], found["secret key"]


class Cluster:
    def __init__(self, postgres, database, dsn, moto, directory, key_file, sse_key_file):
        self.postgres, self.database, self.dsn, self.moto = postgres, database, dsn, moto
        self.directory, self.key_file, self.sse_key_file = directory, key_file, sse_key_file
        self.check_value, self.root_key, self.root_secret = keygen(key_file)
        self.nodes = []

    def config(self, name, key_file=None):
        """A node's configuration: the shared index and store, `key_file` (default the cluster's),
        one SSE master key (the same file on every node), a Vault account and SSE-C over HTTP."""
        directory = self.directory / name
        directory.mkdir(exist_ok=True)
        path = cluster_config(
            directory / "depot.yaml", self.dsn, name, chunks_section(self.moto, directory / "cache"),
            key_file=str(key_file or self.key_file))
        with open(path, "a") as f:
            f.write(f"""encryption:
  keys: [{{ id: k1, file: {self.sse_key_file} }}]
  default: k1
  allowCustomerKeysOverHTTP: true
buckets: [rec]
accounts:
  - name: agent
    accessKey: {VAULT_KEY}
    secretKey: "{VAULT_SECRET}"
    allow: [{{ bucket: rec, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: rec }}
""")
        return path

    def start(self, name, key_file=None):
        node = start_without_root_variables(DepotServer(config=self.config(name, key_file)))
        self.nodes.append(node)
        return node

    def s3(self, node, access_key=None, secret_key=None):
        return boto3.client(
            "s3", endpoint_url=node.endpoint, region_name="us-east-1", aws_access_key_id=access_key or self.root_key,
            aws_secret_access_key=secret_key or self.root_secret,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def admin(self, node):
        return Admin(node.endpoint, self.root_key, self.root_secret)

    def sql(self, query):
        return self.postgres.psql(query, database=self.database)


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):  # noqa: F811 (fixture)
    database = "t" + os.urandom(6).hex()
    postgres.psql(f"CREATE DATABASE {database}")
    dsn = postgres.dsn.rsplit("/", 1)[0] + "/" + database
    directory = tmp_path_factory.mktemp("keys")
    sse_key_file = directory / "sse-k1.key"
    sse_key_file.write_bytes(os.urandom(32))
    moto = Moto()
    made = Cluster(postgres, database, dsn, moto, directory, directory / "cluster.key", sse_key_file)
    try:
        moto.client.create_bucket(Bucket="depot-chunks")
        made.a = made.start("node-a")
        made.b = made.start("node-b")
        yield made
    finally:
        for node in made.nodes:
            node.cleanup()
        moto.stop()


def test_root_is_the_key_files_account_on_every_node_and_the_index_holds_no_secret(cluster):
    for node in (cluster.a, cluster.b):
        assert "rec" in [b["Name"] for b in cluster.s3(node).list_buckets()["Buckets"]]
        # Not the data directory's own root (embedded mode's root-credentials file).
        assert not os.path.exists(os.path.join(node.data_dir, "root-credentials"))
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            cluster.s3(node, ROOT_USER, ROOT_PASSWORD).list_buckets()
        assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    # The index keeps the check value only: not the key, not root's secret.
    assert cluster.sql("SELECT convert_from(v, 'UTF8') FROM depot_meta WHERE k = 'cluster-key-check'::bytea") == (
        cluster.check_value)
    key_hex = cluster.key_file.read_text().strip()
    dump = cluster.sql("SELECT string_agg(encode(v, 'escape'), '') FROM depot_meta")
    assert key_hex not in dump and cluster.root_secret not in dump


def test_an_account_made_through_node_a_admin_api_uploads_through_node_b(cluster):
    status, created = cluster.admin(cluster.a).post("/admin/v1/accounts", {
        "name": "cam-7", "allow": [{"bucket": "rec", "prefix": "cam7/", "actions": ["read", "write", "list"]}]})
    assert status == 201, created
    key, secret = created["accessKey"], created["secretKey"]
    # The stored record is sealed: the secret is nowhere in the shared database.
    assert cluster.sql(f"SELECT count(*) FROM depot_accounts WHERE k = convert_to('{key}', 'UTF8')") == "1"
    assert secret not in cluster.sql("SELECT string_agg(encode(v, 'escape'), '') FROM depot_accounts")
    # B learns of new accounts at its start (the account list is taken then; README): it opens
    # the record A sealed with the key they share.
    start_without_root_variables(cluster.b)
    camera = cluster.s3(cluster.b, key, secret)
    camera.put_object(Bucket="rec", Key="cam7/clip.mp4", Body=b"through B")
    assert cluster.s3(cluster.a).get_object(Bucket="rec", Key="cam7/clip.mp4")["Body"].read() == b"through B"
    with pytest.raises(botocore.exceptions.ClientError):
        camera.put_object(Bucket="rec", Key="other/clip.mp4", Body=b"x")  # its grants came along too


def test_sse_s3_and_sse_c_objects_written_through_a_read_back_through_b(cluster):
    a, b = cluster.s3(cluster.a), cluster.s3(cluster.b)
    body = os.urandom(300_000)
    a.put_object(Bucket="rec", Key="sse/s3.bin", Body=body, ServerSideEncryption="AES256")
    read = b.get_object(Bucket="rec", Key="sse/s3.bin")
    assert read["ServerSideEncryption"] == "AES256" and read["Body"].read() == body
    customer = dict(SSECustomerAlgorithm="AES256", SSECustomerKey="c" * 32)
    a.put_object(Bucket="rec", Key="sse/c.bin", Body=body[:50_000], **customer)
    assert b.get_object(Bucket="rec", Key="sse/c.bin", **customer)["Body"].read() == body[:50_000]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        b.get_object(Bucket="rec", Key="sse/c.bin")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # The chunk store holds no plaintext of either.
    for item in cluster.moto.client.list_objects_v2(Bucket="depot-chunks").get("Contents", []):
        pack = cluster.moto.client.get_object(Bucket="depot-chunks", Key=item["Key"])["Body"].read()
        assert body[1000:1064] not in pack


def console_sign_in(node, access_key, secret_key):
    """Signs in through `node` with requests; returns the session cookie's value."""
    page = requests.get(node.endpoint + "/console/signin", timeout=10)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    answer = requests.post(
        node.endpoint + "/console/signin", cookies=page.cookies, allow_redirects=False, timeout=10,
        data={"csrf": token, "accessKey": access_key, "secretKey": secret_key})
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/buckets", answer.text
    return answer.cookies["depot_console"]


def test_a_console_session_signed_in_on_a_works_on_b(cluster):
    session = console_sign_in(cluster.a, cluster.root_key, cluster.root_secret)
    pages = {}
    for node in (cluster.a, cluster.b):
        page = requests.get(node.endpoint + "/console/buckets", cookies={"depot_console": session},
                            allow_redirects=False, timeout=10)
        assert page.status_code == 200, page.headers
        assert "rec" in page.text
        pages[node.endpoint] = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    # Both nodes ask the same CSRF token of the session's forms; B accepts a form with it.
    assert len(set(pages.values())) == 1
    cluster.s3(cluster.a).put_object(Bucket="rec", Key="console/gone.mp4", Body=b"x")
    deleted = requests.post(
        cluster.b.endpoint + "/console/delete", cookies={"depot_console": session}, allow_redirects=False, timeout=10,
        data={"csrf": pages[cluster.a.endpoint], "bucket": "rec", "key": "console/gone.mp4"})
    assert deleted.status_code in (200, 303), deleted.text
    assert "console/gone.mp4" not in [o["Key"] for o in cluster.s3(cluster.a).list_objects_v2(
        Bucket="rec", Prefix="console/").get("Contents", [])]
    # The object page's download link (presigned with the signed-in account's keys) made by A
    # opens through B, as behind a balancer: both requests carry the balancer's Host.
    cluster.s3(cluster.a).put_object(Bucket="rec", Key="console/clip.mp4", Body=b"console clip")
    balancer = {"Host": "depot.example:9000"}
    page = requests.get(cluster.a.endpoint + "/console/object", params={"bucket": "rec", "key": "console/clip.mp4"},
                        cookies={"depot_console": session}, headers=balancer, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    link = re.search(r'id="download" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert "X-Amz-Signature=" in link
    assert requests.get(cluster.b.endpoint + link, headers=balancer, timeout=10).content == b"console clip"
    # Signing out through B ends the session there for good (its valid signature does not bring it
    # back on B); a copy of the cookie still works on A (README: sign-out is per node).
    out = requests.post(cluster.b.endpoint + "/console/signout", cookies={"depot_console": session},
                        data={"csrf": pages[cluster.b.endpoint]}, allow_redirects=False, timeout=10)
    assert out.status_code == 303 and out.headers["Location"] == "/console/signin"
    again = requests.get(cluster.b.endpoint + "/console/buckets", cookies={"depot_console": session},
                         allow_redirects=False, timeout=10)
    assert again.status_code == 303 and again.headers["Location"] == "/console/signin"
    # A forged or altered session id is no session on any node.
    forged = session[:-1] + ("0" if session[-1] != "0" else "1")
    for node in (cluster.a, cluster.b):
        page = requests.get(node.endpoint + "/console/buckets", cookies={"depot_console": forged},
                            allow_redirects=False, timeout=10)
        assert page.status_code == 303 and page.headers["Location"] == "/console/signin"


def test_a_vault_link_signed_by_node_a_is_valid_on_node_b(cluster):
    upload = requests.post(cluster.a.endpoint + "/api/storage", data=b"vault clip", timeout=10, headers=dict(
        VAULT_HEADERS, **{"X-Kerberos-Storage-Directory": "cams", "X-Kerberos-Storage-FileName": "v.mp4"}))
    assert upload.status_code == 200, upload.text
    link = requests.get(cluster.a.endpoint + "/api/storage", timeout=10,
                        headers=dict(VAULT_HEADERS, **{"X-Kerberos-Storage-FileName": "cams/v.mp4"})).json()["data"]
    assert link.startswith(cluster.a.endpoint)
    on_b = cluster.b.endpoint + link[len(cluster.a.endpoint):]
    assert requests.get(on_b, timeout=10).content == b"vault clip"
    tampered = on_b.replace("v.mp4", "w.mp4")
    assert requests.get(tampered, timeout=10).status_code in (401, 403)


def test_a_node_given_another_key_file_refuses_to_start_naming_the_field(cluster):
    other = cluster.directory / "other.key"
    other_check, _, _ = keygen(other)
    assert other_check != cluster.check_value
    stranger = DepotServer(config=cluster.config("node-x", key_file=other))
    with pytest.raises(RuntimeError) as refused:
        start_without_root_variables(stranger)
    stranger.cleanup()
    message = str(refused.value)
    assert "cluster.keyFile" in message and cluster.check_value in message and other_check in message, message
    # It changed nothing: the index still holds the cluster's check value, and a third node with
    # the right key joins.
    assert cluster.sql("SELECT convert_from(v, 'UTF8') FROM depot_meta WHERE k = 'cluster-key-check'::bytea") == (
        cluster.check_value)
    cluster.s3(cluster.a).put_object(Bucket="rec", Key="sse/for-c.bin", Body=b"to c", ServerSideEncryption="AES256")
    # The right cluster key but another SSE master key: refused at its start, naming the field.
    cluster.sse_key_file, right_sse_key = cluster.directory / "other-sse.key", cluster.sse_key_file
    cluster.sse_key_file.write_bytes(os.urandom(32))
    wrong_sse = DepotServer(config=cluster.config("node-y"))
    cluster.sse_key_file = right_sse_key
    with pytest.raises(RuntimeError) as refused:
        start_without_root_variables(wrong_sse)
    wrong_sse.cleanup()
    assert "encryption.keys (id k1)" in str(refused.value), str(refused.value)
    c = cluster.start("node-c")
    assert cluster.s3(c).get_object(Bucket="rec", Key="sse/for-c.bin")["Body"].read() == b"to c"


def test_a_tier_made_through_node_a_is_sealed_in_the_shared_index_and_opens_on_node_b(cluster):
    """Admin-made documents hold secrets (a tier's secret key): in the shared database they are
    sealed with a key derived from the cluster key, and another node opens them."""
    cluster.moto.client.create_bucket(Bucket="archive")
    secret = "tier-secret-" + os.urandom(8).hex()
    status, tier = cluster.admin(cluster.a).put("/admin/v1/tiers/cloud", {
        "type": "s3", "endpoint": cluster.moto.endpoint, "bucket": "archive", "accessKey": "tier-key",
        "secretKey": secret, "prefix": "keys/"})
    assert status == 201, tier
    stored = cluster.sql("SELECT string_agg(encode(v, 'escape'), '') FROM depot_settings")
    assert stored and secret not in stored and "archive" not in stored
    start_without_root_variables(cluster.b)
    status, seen = cluster.admin(cluster.b).get("/admin/v1/tiers/cloud")
    assert status == 200 and seen["bucket"] == "archive" and seen["source"] == "api", seen
