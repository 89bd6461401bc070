"""Structured logs: with `server.logFormat: json`, every line is a JSON object, and the lines
written while serving a request carry that request's id, the same as its x-amz-request-id."""
import json
import time

import botocore
import pytest

from conftest import DepotServer


def test_json_logs_carry_the_request_id(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("server: { logFormat: json }\nbuckets: [rec]\n")
    server = DepotServer(config=str(config), extra_env={"DEPOT_LOG_LEVEL": "debug"}).start()
    try:
        s3 = server.client()
        with pytest.raises(botocore.exceptions.ClientError) as missing:
            s3.get_object(Bucket="rec", Key="nothing-here")
        request_id = missing.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
        s3.put_object(Bucket="rec", Key="k", Body=b"x")
        time.sleep(0.5)
        with open(server.log_path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        assert all({"time", "level", "message", "label"} <= set(line) for line in lines)
        mine = [line for line in lines if line.get("request_id") == request_id]
        # The handler's own line (written inside the request) and the access line.
        assert any("NoSuchKey" in line["message"] for line in mine), mine
        access = [line for line in mine if line["message"] == "request"]
        # Numbers are JSON numbers (log collectors compare and sum them), not strings.
        assert access and access[0]["status"] == 404 and access[0]["operation"] == "GetObject"
        assert isinstance(access[0]["duration_ms"], float) and access[0]["bytes_in"] == 0
        assert access[0]["method"] == "GET" and access[0]["path"] == "/rec/nothing-here"
        puts = [line for line in lines if line.get("operation") == "PutObject" and line["message"] == "request"]
        # Successes get their access line at the default level too.
        assert puts and puts[0]["request_id"] != request_id and puts[0]["level"] == "info"
        assert puts[0]["bytes_in"] == 1 and puts[0]["status"] == 200 and puts[0]["key"] == "k"
    finally:
        server.cleanup()
