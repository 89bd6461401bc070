"""The access line that answers "why can't camera 7 upload?": one per request at the default
level, with the operation (named for every sub-resource), status, error code, access key,
account, bucket, key, the bytes that actually moved, duration, client address and user agent.
A wrong secret, an unknown key and a denied prefix each read differently. `server.accessLog`
keeps every line, errors only, or none; `server.logLevel` sets the lowest level written."""
import json
import time

import boto3
import botocore
import pytest
import requests
from botocore.config import Config

from conftest import DepotServer
from test_access_log import field, request_lines

CONFIG = """buckets: [rec]
accounts:
  - name: camera7
    accessKey: CAM7KEY
    secretKey: camera7-secret-1234
    allow: [{ bucket: rec, prefix: "cam7/", actions: [read, write] }]
"""


def start(tmp_path, extra="", **kwargs):
    config = tmp_path / "depot.yaml"
    config.write_text(extra + CONFIG)
    return DepotServer(config=str(config), **kwargs).start()


def camera(server, access="CAM7KEY", secret="camera7-secret-1234"):
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=access,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1},
                      user_agent_extra="camera-7-firmware/1.2"))


def refused(call, code):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == code, error.value.response


def only(lines, **fields):
    found = [line for line in lines if all(field(line, k) == v for k, v in fields.items())]
    assert len(found) == 1, (fields, lines)
    return found[0]


def test_refusals_read_differently_and_successes_are_logged(tmp_path):
    server = start(tmp_path)
    try:
        refused(lambda: camera(server, secret="not-the-secret-1234").put_object(
            Bucket="rec", Key="cam7/a.mp4", Body=b"x" * 10), "SignatureDoesNotMatch")
        refused(lambda: camera(server, access="NOSUCHKEY").put_object(
            Bucket="rec", Key="cam7/a.mp4", Body=b"x" * 10), "InvalidAccessKeyId")
        refused(lambda: camera(server).put_object(Bucket="rec", Key="cam8/a.mp4", Body=b"x" * 10), "AccessDenied")
        cam = camera(server)
        cam.put_object(Bucket="rec", Key="cam7/ok.mp4", Body=b"v" * 3000)
        assert cam.get_object(Bucket="rec", Key="cam7/ok.mp4")["Body"].read() == b"v" * 3000
        cam.put_object_tagging(Bucket="rec", Key="cam7/ok.mp4", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
        lines = request_lines(server, 6)
        wrong = only(lines, error_code="SignatureDoesNotMatch")
        assert field(wrong, "access_key") == "CAM7KEY" and field(wrong, "status") == "403", wrong
        assert field(wrong, "operation") == "PutObject" and field(wrong, "account") is None
        assert field(wrong, "bucket") == "rec" and field(wrong, "key") == "cam7/a.mp4"
        unknown = only(lines, error_code="InvalidAccessKeyId")
        assert field(unknown, "access_key") == "NOSUCHKEY" and field(unknown, "status") == "403", unknown
        denied = only(lines, error_code="AccessDenied")
        # Authenticated, then refused: the account is named too, with the key it was refused.
        assert field(denied, "access_key") == "CAM7KEY" and field(denied, "account") == "camera7", denied
        assert field(denied, "key") == "cam8/a.mp4" and field(denied, "bytes_in") == "0"
        put = only(lines, operation="PutObject", status="200")
        assert field(put, "bytes_in") == "3000" and field(put, "account") == "camera7", put
        assert field(put, "client") == "127.0.0.1" and "camera-7-firmware/1.2" in field(put, "user_agent")
        assert float(field(put, "duration_ms")) > 0 and " info " in put
        get = only(lines, operation="GetObject", status="200")
        assert field(get, "bytes_out") == "3000" and field(get, "bytes_in") == "0", get
        only(lines, operation="PutObjectTagging", status="200")
    finally:
        server.cleanup()


def test_vault_lines_name_account_bucket_and_key(tmp_path):
    config = tmp_path / "vault.yaml"
    config.write_text("""buckets: [rec]
accounts:
  - name: agent7
    accessKey: AGENT7
    secretKey: agent7-secret-1234
    allow: [{ bucket: rec, actions: [read, write] }]
    vault: { directory: cam7, bucket: rec }
""")
    server = DepotServer(config=str(config)).start()
    try:
        headers = {"X-Kerberos-Storage-AccessKey": "AGENT7", "X-Kerberos-Storage-SecretAccessKey": "agent7-secret-1234",
                   "X-Kerberos-Storage-FileName": "1700000000_clip.mp4", "X-Kerberos-Storage-Device": "cam7",
                   "X-Kerberos-Storage-Capture": "cam7"}
        reply = requests.post(f"{server.endpoint}/api/storage", headers=headers, data=b"m" * 777, timeout=10)
        assert reply.status_code == 200, reply.text
        line = only(request_lines(server, 1), api="vault", status="200")
        assert field(line, "account") == "agent7" and field(line, "bucket") == "rec", line
        assert field(line, "key") == "cam7/1700000000_clip.mp4" and field(line, "bytes_in") == "777"
    finally:
        server.cleanup()


def json_lines(server):
    with open(server.log_path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def test_json_access_lines_keep_numbers_as_numbers(tmp_path):
    server = start(tmp_path, extra="server: { logFormat: json }\n")
    try:
        camera(server).put_object(Bucket="rec", Key="cam7/n.mp4", Body=b"n" * 1234)
        refused(lambda: camera(server).get_object(Bucket="rec", Key="cam7/none"), "NoSuchKey")
        deadline = time.time() + 5
        while len([l for l in json_lines(server) if l["message"] == "request"]) < 2 and time.time() < deadline:
            time.sleep(0.1)
        access = [l for l in json_lines(server) if l["message"] == "request"]
        put = next(l for l in access if l["operation"] == "PutObject")
        assert put["status"] == 200 and put["bytes_in"] == 1234 and put["bytes_out"] == 0, put
        assert isinstance(put["duration_ms"], float) and put["level"] == "info"
        missing = next(l for l in access if l["operation"] == "GetObject")
        assert missing["status"] == 404 and missing["error_code"] == "NoSuchKey" and missing["access_key"] == "CAM7KEY"
        assert isinstance(missing["bytes_out"], int) and missing["bytes_out"] > 0
    finally:
        server.cleanup()


@pytest.mark.parametrize("mode", ["errors", "off"])
def test_access_log_errors_only_or_off(tmp_path, mode):
    server = start(tmp_path, extra=f"server: {{ accessLog: {mode} }}\n")
    try:
        camera(server).put_object(Bucket="rec", Key="cam7/ok.mp4", Body=b"x")
        refused(lambda: camera(server).put_object(Bucket="rec", Key="cam8/no.mp4", Body=b"x"), "AccessDenied")
        # A line written after both requests, so both had their chance to be logged.
        requests.get(f"{server.endpoint}/admin/v1/no-such", timeout=10)
        time.sleep(0.5)
        lines = [line for line in open(server.log_path).read().splitlines() if line.endswith("request")]
        assert not any(field(line, "status") == "200" for line in lines), lines
        denied = [line for line in lines if field(line, "error_code") == "AccessDenied"]
        assert len(denied) == (1 if mode == "errors" else 0), lines
    finally:
        server.cleanup()


def test_log_level_from_the_configuration_and_the_environment(tmp_path):
    server = start(tmp_path, extra="server: { logLevel: warning }\n")
    try:
        refused(lambda: camera(server).put_object(Bucket="rec", Key="cam8/no.mp4", Body=b"x"), "AccessDenied")
        time.sleep(0.5)
        assert not [line for line in open(server.log_path).read().splitlines() if line.endswith("request")]
    finally:
        server.cleanup()
    server = start(tmp_path, extra="server: { logLevel: warning }\n", extra_env={"DEPOT_LOG_LEVEL": "info"})
    try:
        refused(lambda: camera(server).put_object(Bucket="rec", Key="cam8/no.mp4", Body=b"x"), "AccessDenied")
        assert request_lines(server, 1)
    finally:
        server.cleanup()
    config = tmp_path / "bad.yaml"
    config.write_text("server: { logLevel: loud }\n")
    with pytest.raises(RuntimeError) as failed:
        DepotServer(config=str(config)).start()
    assert "server.logLevel" in str(failed.value)


def test_a_reload_changes_the_access_log_at_once_and_names_the_log_level_as_restart_only(tmp_path):
    from admin_client import Admin
    server = start(tmp_path)
    config = tmp_path / "depot.yaml"
    try:
        camera(server).put_object(Bucket="rec", Key="cam7/before.mp4", Body=b"x")
        assert request_lines(server, 1)
        config.write_text("server: { accessLog: off, logLevel: debug }\n" + CONFIG)
        code, body = Admin(server.endpoint).post("/admin/v1/server/reload")
        assert code == 200 and "server.logLevel" in body["needsRestart"], body
        camera(server).put_object(Bucket="rec", Key="cam7/after.mp4", Body=b"x")
        time.sleep(0.5)
        logged = open(server.log_path).read()
        assert "key=cam7/before.mp4" in logged and "key=cam7/after.mp4" not in logged
    finally:
        server.cleanup()
