"""AWS Signature Version 2, as MinIO accepts it: the `Authorization: AWS key:signature` header (s3cmd with
signature_v2, botocore's 's3' signer), presigned query URLs (`s3cmd signurl`, botocore/awscli v1) and browser
POST forms signed with V2. The payload is unsigned in V2; Content-MD5, when sent, is signed and checked."""
import base64
import datetime
import email.utils
import hashlib
import hmac
import json
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, aws_env

MIB = 1024 * 1024


def v2_client(depot):
    return boto3.client(
        "s3", endpoint_url=depot.endpoint, region_name="us-east-1", aws_access_key_id=ROOT_USER,
        aws_secret_access_key=ROOT_PASSWORD,
        config=Config(signature_version="s3", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def v2_signature(string_to_sign, secret=ROOT_PASSWORD):
    return base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()


def error_code(response):
    root = ET.fromstring(response.content)
    return root.findtext("Code"), root.findtext("Message") or ""


@pytest.fixture
def s3cmd_v2(depot, tmp_path):
    config = tmp_path / "s3cfg"
    config.write_text(
        "[default]\n"
        f"access_key = {ROOT_USER}\nsecret_key = {ROOT_PASSWORD}\n"
        f"host_base = 127.0.0.1:{depot.port}\nhost_bucket = 127.0.0.1:{depot.port}\n"
        "use_https = False\nsignature_v2 = True\n")

    def run(*args, check=True):
        result = subprocess.run(["s3cmd", "-c", str(config), "--no-progress", "--debug", *args], capture_output=True,
                                text=True, timeout=120)
        if check:
            assert result.returncode == 0, f"s3cmd {' '.join(args)}:\n{result.stdout}{result.stderr[-3000:]}"
        return result
    return run


def test_s3cmd_with_signature_v2(s3cmd_v2, depot, tmp_path):
    s3cmd_v2("mb", "s3://sigv2-bucket")
    clip = tmp_path / "clip.mp4"
    data = os.urandom(300_000)
    clip.write_bytes(data)
    put = s3cmd_v2("put", "--mime-type=video/mp4", str(clip), "s3://sigv2-bucket/cam 1/clip.mp4")
    # It really signed with V2 (its debug log shows the string it signed: x-amz-date, an empty Date line).
    assert "Using signature v2" in put.stderr and "SignHeaders: 'PUT\\n" in put.stderr, put.stderr[-2000:]
    assert "AWS4-HMAC-SHA256" not in put.stderr
    s3cmd_v2("get", "s3://sigv2-bucket/cam 1/clip.mp4", str(tmp_path / "back.mp4"))
    assert (tmp_path / "back.mp4").read_bytes() == data
    listing = s3cmd_v2("ls", "s3://sigv2-bucket/cam 1/").stdout
    assert "s3://sigv2-bucket/cam 1/clip.mp4" in listing and "300000" in listing
    assert depot.client().head_object(Bucket="sigv2-bucket", Key="cam 1/clip.mp4")["ContentType"] == "video/mp4"

    # A multipart upload signs uploads / uploadId / partNumber sub-resources.
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * MIB))
    s3cmd_v2("put", "--multipart-chunk-size-mb=5", str(big), "s3://sigv2-bucket/big.bin")
    assert depot.client().head_object(Bucket="sigv2-bucket", Key="big.bin")["ETag"].endswith('-2"')

    # s3cmd signurl makes a V2 presigned URL (AWSAccessKeyId, Expires, Signature).
    url = s3cmd_v2("signurl", "s3://sigv2-bucket/cam 1/clip.mp4", "+300").stdout.strip().splitlines()[-1]
    assert "AWSAccessKeyId=" in url and "Signature=" in url, url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == data

    s3cmd_v2("del", "s3://sigv2-bucket/cam 1/clip.mp4")
    s3cmd_v2("del", "s3://sigv2-bucket/big.bin")
    assert "clip.mp4" not in s3cmd_v2("ls", "--recursive", "s3://sigv2-bucket").stdout
    s3cmd_v2("rb", "s3://sigv2-bucket")


def test_botocore_v2_header_and_presigned_urls(depot, bucket):
    s3 = v2_client(depot)
    s3.put_object(Bucket=bucket, Key="v2/object", Body=b"signed with version 2", ContentType="text/plain",
                  Metadata={"camera": "front"})
    got = s3.get_object(Bucket=bucket, Key="v2/object")
    assert got["Body"].read() == b"signed with version 2" and got["Metadata"] == {"camera": "front"}
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["v2/object"]

    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2/object",
                                                          "ResponseContentType": "video/mp4"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and "X-Amz-" not in url, url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == b"signed with version 2"
    assert r.headers["Content-Type"] == "video/mp4"

    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2/put"}, ExpiresIn=300)
    assert requests.put(put_url, data=b"uploaded", timeout=10).status_code == 200
    assert depot.client().get_object(Bucket=bucket, Key="v2/put")["Body"].read() == b"uploaded"

    # Tampering with the key breaks the signature.
    r = requests.get(url.replace("v2/object", "v2/objecT"), timeout=10)
    assert r.status_code == 403 and error_code(r)[0] == "SignatureDoesNotMatch"


def test_v2_presigned_url_expires(depot, bucket):
    depot.client().put_object(Bucket=bucket, Key="k", Body=b"x")
    expires = int(time.time()) - 5
    signature = v2_signature(f"GET\n\n\n{expires}\n/{bucket}/k")
    r = requests.get(f"{depot.endpoint}/{bucket}/k", params={"AWSAccessKeyId": ROOT_USER, "Expires": str(expires),
                                                             "Signature": signature}, timeout=10)
    assert r.status_code == 403, r.text
    assert error_code(r) == ("AccessDenied", "Request has expired"), r.text
    # The same URL with a future Expires is served.
    expires = int(time.time()) + 60
    signature = v2_signature(f"GET\n\n\n{expires}\n/{bucket}/k")
    r = requests.get(f"{depot.endpoint}/{bucket}/k", params={"AWSAccessKeyId": ROOT_USER, "Expires": str(expires),
                                                             "Signature": signature}, timeout=10)
    assert r.status_code == 200 and r.content == b"x"


def test_v2_header_errors(depot, bucket):
    date = email.utils.formatdate(usegmt=True)
    good = v2_signature(f"GET\n\n\n{date}\n/{bucket}/")
    r = requests.get(f"{depot.endpoint}/{bucket}/", headers={"Date": date, "Authorization": f"AWS {ROOT_USER}:{good}"},
                     timeout=10)
    assert r.status_code == 200, r.text
    wrong = v2_signature(f"GET\n\n\n{date}\n/{bucket}/", secret="not-the-secret")
    r = requests.get(f"{depot.endpoint}/{bucket}/", headers={"Date": date, "Authorization": f"AWS {ROOT_USER}:{wrong}"},
                     timeout=10)
    assert r.status_code == 403 and error_code(r)[0] == "SignatureDoesNotMatch", r.text
    # The answer shows what the server signed, so a client author can compare.
    assert ET.fromstring(r.content).findtext("StringToSign") == f"GET\n\n\n{date}\n/{bucket}/"
    r = requests.get(f"{depot.endpoint}/{bucket}/", headers={"Date": date, "Authorization": f"AWS NOBODY:{good}"},
                     timeout=10)
    assert r.status_code == 403 and error_code(r)[0] == "InvalidAccessKeyId", r.text
    old = email.utils.formatdate(time.time() - 3600, usegmt=True)
    skewed = v2_signature(f"GET\n\n\n{old}\n/{bucket}/")
    r = requests.get(f"{depot.endpoint}/{bucket}/", headers={"Date": old, "Authorization": f"AWS {ROOT_USER}:{skewed}"},
                     timeout=10)
    assert r.status_code == 403 and error_code(r)[0] == "RequestTimeTooSkewed", r.text


def test_v2_content_md5_is_signed_and_checked(depot, bucket):
    data = b"recording bytes"
    date = email.utils.formatdate(usegmt=True)
    md5 = base64.b64encode(hashlib.md5(b"other bytes").digest()).decode()
    signature = v2_signature(f"PUT\n{md5}\napplication/octet-stream\n{date}\n/{bucket}/k")
    r = requests.put(f"{depot.endpoint}/{bucket}/k", data=data, timeout=10, headers={
        "Date": date, "Content-MD5": md5, "Content-Type": "application/octet-stream",
        "Authorization": f"AWS {ROOT_USER}:{signature}"})
    assert r.status_code == 400 and error_code(r)[0] == "BadDigest", r.text
    assert "Contents" not in depot.client().list_objects_v2(Bucket=bucket)


def test_v2_date_in_rfc2822_form_with_minus_zero_zone(depot, bucket):
    # email.utils.formatdate(localtime=False) writes "-0000", as the S3 developer guide's examples do.
    date = email.utils.formatdate()
    assert date.endswith("-0000")
    signature = v2_signature(f"GET\n\n\n{date}\n/{bucket}/")
    r = requests.get(f"{depot.endpoint}/{bucket}/", headers={"Date": date, "Authorization": f"AWS {ROOT_USER}:{signature}"},
                     timeout=10)
    assert r.status_code == 200, r.text


def test_browser_form_signed_with_v2(depot, bucket):
    expiration = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    policy = base64.b64encode(json.dumps({"expiration": expiration, "conditions": [
        {"bucket": bucket}, ["starts-with", "$key", "forms/"], {"success_action_status": "201"},
        ["content-length-range", 1, 1_000_000]]}).encode()).decode()
    fields = {"key": "forms/${filename}", "AWSAccessKeyId": ROOT_USER, "policy": policy,
              "signature": v2_signature(policy), "success_action_status": "201"}
    data = os.urandom(50_000)
    r = requests.post(f"{depot.endpoint}/{bucket}", data=fields, files={"file": ("clip.mp4", data)}, timeout=30)
    assert r.status_code == 201, r.text
    assert depot.client().get_object(Bucket=bucket, Key="forms/clip.mp4")["Body"].read() == data
    fields["signature"] = v2_signature(policy, secret="not-the-secret")
    fields["key"] = "forms/other"
    r = requests.post(f"{depot.endpoint}/{bucket}", data=fields, files={"file": ("x", b"abc")}, timeout=30)
    assert r.status_code == 403 and error_code(r)[0] == "SignatureDoesNotMatch", r.text
    keys = [o["Key"] for o in depot.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["forms/clip.mp4"]


def test_awscli_v1_presign_makes_v2_urls_that_work(depot, bucket, tmp_path):
    depot.client().put_object(Bucket=bucket, Key="cam/clip.mp4", Body=b"presigned by awscli")
    result = subprocess.run(["aws", "--endpoint-url", depot.endpoint, "s3", "presign", f"s3://{bucket}/cam/clip.mp4",
                             "--expires-in", "300"], capture_output=True, text=True, timeout=60,
                            env=aws_env(depot, tmp_path))
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert "AWSAccessKeyId=" in url and "Signature=" in url and "Expires=" in url, url  # V2, awscli v1's default
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == b"presigned by awscli", r.text


def test_v2_virtual_host_style_signs_the_bucket_from_host(tmp_path):
    # The canonical resource of a virtual-host request starts with the bucket named by Host (s3cmd with
    # host_bucket = %(bucket)s.domain, MinIO's MINIO_DOMAIN).
    config = tmp_path / "depot.yaml"
    config.write_text("server:\n  domain: depot.test\n")
    server = DepotServer(config=str(config)).start()
    try:
        server.client().create_bucket(Bucket="cams")
        server.client().put_object(Bucket="cams", Key="front/clip.mp4", Body=b"virtual v2")
        date = email.utils.formatdate(usegmt=True)
        host = f"cams.depot.test:{server.port}"
        good = v2_signature(f"GET\n\n\n{date}\n/cams/front/clip.mp4")
        r = requests.get(f"http://127.0.0.1:{server.port}/front/clip.mp4", timeout=10,
                         headers={"Host": host, "Date": date, "Authorization": f"AWS {ROOT_USER}:{good}"})
        assert r.status_code == 200 and r.content == b"virtual v2", r.text
        # Signing the path alone (without the bucket) is what the server must not accept.
        wrong = v2_signature(f"GET\n\n\n{date}\n/front/clip.mp4")
        r = requests.get(f"http://127.0.0.1:{server.port}/front/clip.mp4", timeout=10,
                         headers={"Host": host, "Date": date, "Authorization": f"AWS {ROOT_USER}:{wrong}"})
        assert r.status_code == 403 and error_code(r)[0] == "SignatureDoesNotMatch", r.text
    finally:
        server.cleanup()
