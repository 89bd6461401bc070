"""Virtual-host style addressing (`server.domain`, like MINIO_DOMAIN) beside path style."""
import os

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer


@pytest.fixture
def domain_depot(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("server:\n  domain: depot.test\n")
    server = DepotServer(config=str(config)).start()
    yield server
    server.cleanup()


def virtual_request(server, method, bucket, key, data=b""):
    """Signs for http://<bucket>.depot.test:PORT/<key> and sends it to 127.0.0.1 with that Host."""
    host = f"{bucket}.depot.test:{server.port}"
    request = AWSRequest(method=method, url=f"http://{host}/{key}", data=data,
                         headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(ROOT_USER, ROOT_PASSWORD), "s3", "us-east-1").add_auth(request)
    headers = dict(request.headers)
    headers["Host"] = host
    return requests.request(method, f"http://127.0.0.1:{server.port}/{key}", data=data, headers=headers, timeout=10)


def test_virtual_host_and_path_style_reach_the_same_object(domain_depot):
    s3 = domain_depot.client()
    s3.create_bucket(Bucket="cams")
    data = os.urandom(50_000)
    r = virtual_request(domain_depot, "PUT", "cams", "front/clip.mp4", data)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket="cams", Key="front/clip.mp4")["Body"].read() == data
    r = virtual_request(domain_depot, "GET", "cams", "front/clip.mp4")
    assert r.status_code == 200 and r.content == data
    r = virtual_request(domain_depot, "GET", "cams", "?list-type=2")
    assert r.status_code == 200 and "<Key>front/clip.mp4</Key>" in r.text
    r = virtual_request(domain_depot, "GET", "nosuchbucket", "x")
    assert r.status_code == 404 and "<Code>NoSuchBucket</Code>" in r.text
