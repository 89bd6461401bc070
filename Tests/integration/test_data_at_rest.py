"""Secrets at rest (issue 14 #7): an account added through the admin API has its secret sealed
in the index (the raw bytes of index/data.mdb do not hold it) and still signs requests after a
restart; every file of the data directory is 0600 and every directory 0700, also when the server
starts on a data directory made with 0755/0644; a lost secrets-key refuses those accounts
without stopping the server."""
import os
import stat
import tempfile

import boto3
import pytest
from botocore.config import Config

from admin_client import Admin
from conftest import DepotServer, run_depot


def account_client(server, key, secret):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def modes(root):
    """Every entry under root (itself included) with its permission bits."""
    found = {root: stat.S_IMODE(os.lstat(root).st_mode)}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            found[path] = stat.S_IMODE(os.lstat(path).st_mode)
    return found


def assert_owner_only(root):
    entries = modes(root)
    assert os.path.join(root, "index", "data.mdb") in entries
    for path, mode in entries.items():
        expected = 0o700 if os.path.isdir(path) else 0o600
        assert mode == expected, f"{path} is {oct(mode)}, expected {oct(expected)}"


def start(config_dir, data_dir=None):
    config = os.path.join(config_dir, "depot.yaml")
    with open(config, "w") as f:
        f.write("buckets: [rec]\n")
    return DepotServer(data_dir=data_dir, config=config).start()


def add_account(server):
    status, created = Admin(server.endpoint).post("/admin/v1/accounts", {
        "name": "cam-1", "allow": [{"bucket": "rec", "actions": ["read", "write", "list"]}]})
    assert status == 201, created
    return created["accessKey"], created["secretKey"]


def test_api_account_secret_is_not_in_the_index_and_still_authenticates_after_restart(tmp_path):
    server = start(str(tmp_path))
    try:
        key, secret = add_account(server)
        account_client(server, key, secret).put_object(Bucket="rec", Key="a", Body=b"a")
        server.stop()
        with open(os.path.join(server.data_dir, "index", "data.mdb"), "rb") as f:
            raw = f.read()
        assert key.encode() in raw  # the record is there...
        assert secret.encode() not in raw  # ...but not its secret in clear
        key_file = os.path.join(server.data_dir, "secrets-key")
        assert os.path.getsize(key_file) == 32
        server.start()
        cam = account_client(server, key, secret)
        assert cam.get_object(Bucket="rec", Key="a")["Body"].read() == b"a"
        cam.put_object(Bucket="rec", Key="b", Body=b"b")
        assert_owner_only(server.data_dir)
    finally:
        server.cleanup()


def test_new_data_directory_is_owner_only_whatever_the_umask(tmp_path):
    previous = os.umask(0o000)
    try:
        server = start(str(tmp_path))
    finally:
        os.umask(previous)
    try:
        server.client().put_object(Bucket="rec", Key="x", Body=b"x" * 1000)
        add_account(server)
        assert_owner_only(server.data_dir)
    finally:
        server.cleanup()


def test_existing_loose_data_directory_is_tightened_at_start(tmp_path):
    data = tempfile.mkdtemp(prefix="depot-data-")
    server = start(str(tmp_path), data_dir=data)
    try:
        server.client().put_object(Bucket="rec", Key="x", Body=b"x" * 1000)
        key, secret = add_account(server)
        server.stop()
        # As a version before this one left it: directories 0755, files 0644.
        for path in modes(data):
            os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
        server.start()
        assert_owner_only(data)
        assert "owner-only modes" in server.logs()
        assert server.client().get_object(Bucket="rec", Key="x")["Body"].read() == b"x" * 1000
        account_client(server, key, secret).head_object(Bucket="rec", Key="x")
    finally:
        server.cleanup()


def test_lost_secrets_key_refuses_sealed_accounts_and_says_so(tmp_path):
    server = start(str(tmp_path))
    try:
        key, secret = add_account(server)
        server.stop()
        os.unlink(os.path.join(server.data_dir, "secrets-key"))
        server.start()  # does not crash
        assert key in server.logs() and "cannot be decrypted" in server.logs()
        with pytest.raises(Exception) as refused:
            account_client(server, key, secret).put_object(Bucket="rec", Key="c", Body=b"c")
        assert "InvalidAccessKeyId" in str(refused.value)
        server.client().put_object(Bucket="rec", Key="root", Body=b"r")  # the rest still works
        # A new account is sealed under a new key and works.
        new_key, new_secret = add_account(server)
        account_client(server, new_key, new_secret).put_object(Bucket="rec", Key="d", Body=b"d")
        # The lost account can be added again under its access key, with a new secret.
        status, again = Admin(server.endpoint).post("/admin/v1/accounts", {
            "name": "cam-1", "accessKey": key, "allow": [{"bucket": "rec", "actions": ["read", "write"]}]})
        assert status == 201, again
        account_client(server, key, again["secretKey"]).put_object(Bucket="rec", Key="e", Body=b"e")
        logged_before = os.path.getsize(server.log_path)
        server.restart()
        with open(server.log_path, "rb") as f:
            f.seek(logged_before)
            assert b"cannot be decrypted" not in f.read()
        account_client(server, key, again["secretKey"]).head_object(Bucket="rec", Key="e")
    finally:
        server.cleanup()


def test_account_whose_key_is_lost_can_be_removed_offline(tmp_path):
    server = start(str(tmp_path))
    try:
        key, _ = add_account(server)
        server.stop()
        os.unlink(os.path.join(server.data_dir, "secrets-key"))
        removed = run_depot("account", "remove", "--data", server.data_dir, key)
        assert removed.returncode == 0, removed.stderr
        server.start()
        assert "cannot be decrypted" not in server.logs()
    finally:
        server.cleanup()
