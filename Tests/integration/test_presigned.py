"""Presigned URLs and browser form uploads (POST policy), as clients and browsers use them."""
import os
import time

import boto3
import pytest
import requests


def test_presigned_get_and_put(s3, bucket):
    data = os.urandom(100_000)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "via-url"}, ExpiresIn=300)
    assert requests.put(put_url, data=data, timeout=10).status_code == 200
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "via-url", "ResponseContentType": "video/mp4",
                              "ResponseContentDisposition": "attachment; filename=clip.mp4"}, ExpiresIn=300)
    r = requests.get(get_url, timeout=10)
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-Type"] == "video/mp4"
    assert r.headers["Content-Disposition"] == "attachment; filename=clip.mp4"
    tampered = get_url.replace("via-url", "via-urL")
    assert requests.get(tampered, timeout=10).status_code == 403


def test_presigned_url_expires(s3, bucket):
    s3.put_object(Bucket=bucket, Key="short", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "short"}, ExpiresIn=1)
    time.sleep(2.1)
    r = requests.get(url, timeout=10)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text and "expired" in r.text


def test_browser_form_upload_with_post_policy(s3, bucket):
    post = s3.generate_presigned_post(
        bucket, "uploads/${filename}", Fields={"success_action_status": "201"},
        Conditions=[["starts-with", "$key", "uploads/"], {"success_action_status": "201"},
                    ["content-length-range", 1, 10 * 1024 * 1024]], ExpiresIn=300)
    data = os.urandom(300_000)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("clip.mp4", data)}, timeout=30)
    assert r.status_code == 201, r.text
    assert "<Key>uploads/clip.mp4</Key>" in r.text
    assert s3.get_object(Bucket=bucket, Key="uploads/clip.mp4")["Body"].read() == data


def test_form_upload_outside_policy_is_refused(s3, bucket):
    post = s3.generate_presigned_post(bucket, "allowed/${filename}",
                                      Conditions=[["starts-with", "$key", "allowed/"], ["content-length-range", 1, 1000]])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("big.bin", os.urandom(5000))}, timeout=30)
    assert r.status_code == 400 and "EntityTooLarge" in r.text
    fields = dict(post["fields"], key="elsewhere/x")
    r = requests.post(post["url"], data=fields, files={"file": ("x", b"abc")}, timeout=30)
    assert r.status_code == 403 and "AccessDenied" in r.text
    fields = dict(post["fields"], policy=post["fields"]["policy"][:-4] + "AAAA")
    r = requests.post(post["url"], data=fields, files={"file": ("x", b"abc")}, timeout=30)
    assert r.status_code == 403
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
