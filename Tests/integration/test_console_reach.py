"""What the console answers and to whom (issue 20): HEAD on every page and asset is the GET's
status and headers without a body; the bucket list shows the buckets an account reaches through
a bucket policy (put with boto3's put_bucket_policy), starting where the policy lets it list, and
no other; a camera account that edits its own download link, or a timeline URL, to name another
camera's recordings is refused; keys and camera names with markup are text on the timeline."""
import http.client
import json
import socket
import time
import urllib.parse

import pytest
import requests

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import (browser, pytestmark, shot, sign_in, signed_in_session,  # noqa: F401
                          wait_for)
from test_console_admin import text_of

CONFIG = """buckets: [rec, shared, limited, secret, fenced]
accounts:
  - name: cam1
    accessKey: CAM1KEY
    secretKey: cam1-secret-1234
    allow: [{ bucket: rec, prefix: "cam1/", actions: [read, write, list, delete] }]
  - name: cam2
    accessKey: CAM2KEY
    secretKey: cam2-secret-1234
    allow: [{ bucket: rec, prefix: "cam2/", actions: [read, write, list, delete] }]
  - name: reader
    accessKey: READERKEY
    secretKey: reader-secret-1234
    allow:
      - { bucket: rec, prefix: "reader/", actions: [read, list] }
      - { bucket: fenced, actions: [read, list] }
"""
DAY = "2025-12-05"
STAMP = "1764932400"  # 2025-12-05 11:00:00 UTC
XSS_CAMERA = "<img src=x onerror=\"window.__xss=5\">"
XSS_KEY = "cam1/<script>window.__xss=6</script>.mp4"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-reach")
    config = directory / "depot.yaml"
    config.write_text(CONFIG)
    server = DepotServer(config=str(config)).start()
    s3 = server.client()
    for bucket, key in [("rec", "cam1/a.mp4"), ("rec", "cam2/b.mp4"), ("rec", "reader/r.mp4"), ("shared", "s/one.mp4"),
                        ("limited", "public/p.mp4"), ("limited", "private/q.mp4"), ("secret", "x.mp4"),
                        ("fenced", "f.mp4")]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"v" * 64, ContentType="video/mp4")
    s3.put_object(Bucket="rec", Key=XSS_KEY, Body=b"x", Metadata={"event-instancename": XSS_CAMERA,
                                                                   "event-timestamp": STAMP, "duration": "60000"})
    yield server
    server.cleanup()


def statement(effect, actions, resources, principal="READERKEY", condition=None):
    out = {"Effect": effect, "Principal": {"AWS": [principal]}, "Action": actions, "Resource": resources}
    if condition:
        out["Condition"] = condition
    return out


def put_policy(server, bucket, statements):
    server.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                                         "Statement": statements}))


# --- HEAD -------------------------------------------------------------------------------------

def test_head_is_the_gets_status_and_headers_without_a_body(server):
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies if c.name == "depot_console")
    pages = ["/console/buckets", "/console/list?bucket=rec", "/console/list?bucket=rec&prefix=cam1/",
             "/console/object?bucket=rec&key=cam1/a.mp4", "/console/accounts", "/console/account?accessKey=CAM1KEY",
             "/console/tiers", "/console/no-such-page", "/console/", "/console/assets/console.css",
             "/console/assets/console.js", "/console/assets/nothing.css"]
    # One connection for all of them: a body sent after a HEAD would be read as the next answer's start.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for path in pages:
            answers = {}
            for method in ["GET", "HEAD"]:
                connection.request(method, path, headers={"Cookie": cookie})
                response = connection.getresponse()
                answers[method] = (response.status, response.headers, response.read())
            (get_status, get_headers, get_body), (status, headers, body) = answers["GET"], answers["HEAD"]
            assert status == get_status and body == b"", (path, status, body[:80])
            assert headers["Content-Length"] == get_headers["Content-Length"] == str(len(get_body)), path
            for name in ["Content-Type", "Location", "Cache-Control", "Content-Security-Policy"]:
                assert headers.get(name) == get_headers.get(name), (path, name)
    finally:
        connection.close()
    assert len(answers) == 2
    # Not signed in: HEAD is sent to sign in as GET is; the sign-in page answers HEAD too.
    for path, expected in [("/console/buckets", 303), ("/console/signin", 200)]:
        head = requests.head(server.endpoint + path, timeout=10, allow_redirects=False)
        get = requests.get(server.endpoint + path, timeout=10, allow_redirects=False)
        assert head.status_code == get.status_code == expected, path
        assert head.headers["Content-Length"] == get.headers["Content-Length"] and head.content == b"", path


def test_head_sends_no_body_bytes_on_the_wire(server):
    """The raw bytes after the head of a HEAD answer: none, even when the connection is closed."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"HEAD /console/signin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            assert len(received) < 1 << 20
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: " in head.lower(), head
    assert rest == b"", rest[:80]


# --- buckets reached through a bucket policy ---------------------------------------------------

def bucket_names(browser):
    from selenium.webdriver.common.by import By
    return sorted(a.text for a in browser.find_elements(By.CSS_SELECTOR, "main table.list td a"))


def test_bucket_list_shows_buckets_a_policy_opens_to_the_account_and_no_others(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, "READERKEY", "reader-secret-1234")
    assert bucket_names(browser) == ["fenced", "rec"]  # its own grants only, before any policy
    # shared: the whole bucket; limited: listing under public/ and reading there; fenced: a Deny
    # that takes away what the account's own grants give.
    put_policy(server, "shared", [statement("Allow", ["s3:ListBucket", "s3:GetObject"],
                                            ["arn:aws:s3:::shared", "arn:aws:s3:::shared/*"])])
    put_policy(server, "limited", [
        statement("Allow", ["s3:ListBucket"], ["arn:aws:s3:::limited"],
                  condition={"StringLike": {"s3:prefix": ["public/*"]}}),
        statement("Allow", ["s3:GetObject"], ["arn:aws:s3:::limited/public/*"])])
    put_policy(server, "fenced", [statement("Deny", ["s3:*"], ["arn:aws:s3:::fenced", "arn:aws:s3:::fenced/*"])])
    # secret: a policy for another account opens nothing to this one.
    put_policy(server, "secret", [statement("Allow", ["s3:ListBucket", "s3:GetObject"],
                                            ["arn:aws:s3:::secret", "arn:aws:s3:::secret/*"], principal="CAM1KEY")])
    browser.get(server.endpoint + "/console/buckets")
    assert bucket_names(browser) == ["limited", "rec", "shared"]
    shot(browser, "reach-policy-buckets")

    browser.find_element(By.LINK_TEXT, "shared").click()
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".folders a")] == ["s/"]
    browser.find_element(By.LINK_TEXT, "s/").click()
    browser.find_element(By.LINK_TEXT, "s/one.mp4").click()
    download = browser.find_element(By.ID, "download").get_attribute("href")
    assert requests.get(download, timeout=10).content == b"v" * 64  # presigned with the reader's keys
    # limited starts at public/, the prefix its policy lets the account list, and shows nothing else.
    browser.get(server.endpoint + "/console/buckets")
    browser.find_element(By.LINK_TEXT, "limited").click()
    keys = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#recordings td.key a")]
    assert keys == ["public/p.mp4"] and "private/" not in browser.find_element(By.TAG_NAME, "main").text, keys
    shot(browser, "reach-policy-limited")
    for path in ["/console/list?bucket=limited&prefix=private/", "/console/list?bucket=limited&prefix=pub",
                 "/console/object?bucket=limited&key=private/q.mp4", "/console/list?bucket=secret",
                 "/console/list?bucket=fenced", "/console/object?bucket=fenced&key=f.mp4"]:
        browser.get(server.endpoint + path)
        assert "Access denied" in browser.page_source, path
    # The list page with no prefix given also starts where the policy allows.
    browser.get(server.endpoint + "/console/list?bucket=limited")
    assert "public/p.mp4" in browser.page_source

    # The policy removed, the bucket leaves the list.
    server.client().delete_bucket_policy(Bucket="shared")
    browser.get(server.endpoint + "/console/buckets")
    assert bucket_names(browser) == ["limited", "rec"]
    server.client().delete_bucket_policy(Bucket="fenced")


# --- forged URLs and markup --------------------------------------------------------------------

def test_a_camera_editing_its_download_link_or_a_timeline_url_to_another_camera_is_refused(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    browser.get(server.endpoint + "/console/object?bucket=rec&key=cam1/a.mp4")
    download = browser.find_element(By.ID, "download").get_attribute("href")
    own = requests.get(download, timeout=10)
    assert own.status_code == 200 and "attachment" in own.headers["Content-Disposition"]
    forged = download.replace("/rec/cam1/a.mp4", "/rec/cam2/b.mp4")
    assert forged != download
    answer = requests.get(forged, timeout=10)
    assert answer.status_code == 403 and b"v" * 64 not in answer.content
    # A link the camera signs itself, correctly, for the other camera's recording: the access rule refuses it.
    import boto3
    from botocore.config import Config
    own_keys = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id="CAM1KEY",
                            aws_secret_access_key="cam1-secret-1234", region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}))
    signed = own_keys.generate_presigned_url("get_object", Params={"Bucket": "rec", "Key": "cam2/b.mp4"}, ExpiresIn=60)
    assert requests.get(signed, timeout=10).status_code == 403
    # The timeline of the other camera's folder, with or without naming a camera, on the day it was stored.
    today = time.strftime("%Y-%m-%d", time.gmtime())
    for query in [{"bucket": "rec", "prefix": "cam2/", "camera": "cam2", "day": today},
                  {"bucket": "rec", "prefix": "cam2/", "camera": "", "day": today}]:
        browser.get(server.endpoint + "/console/timeline?" + urllib.parse.urlencode(query))
        assert "Access denied" in browser.page_source and "cam2/b.mp4" not in browser.page_source, query
    # Naming only the other camera keeps the timeline in the account's own prefix: nothing of cam2's.
    browser.get(server.endpoint + "/console/timeline?" + urllib.parse.urlencode(
        {"bucket": "rec", "camera": "cam2", "day": today}))
    assert text_of(browser, "timeline-count") == "0" and "cam2/b.mp4" not in browser.page_source
    browser.get(server.endpoint + "/console/timeline?" + urllib.parse.urlencode({"bucket": "rec", "day": today}))
    assert "cam1/a.mp4" in browser.page_source and "cam2/b.mp4" not in browser.page_source
    shot(browser, "reach-forged-timeline")
    # The same refusal through raw HTTP, for the console's own pages: 403, never the recording.
    session, _ = signed_in_session(server, "CAM1KEY", "cam1-secret-1234")
    for path in ["/console/timeline?bucket=rec&prefix=cam2/&camera=cam2&day=" + DAY,
                 "/console/object?bucket=rec&key=cam2/b.mp4", "/console/list?bucket=rec&prefix=cam2/"]:
        answer = session.get(server.endpoint + path, timeout=10, allow_redirects=False)
        assert answer.status_code == 403 and "Access denied" in answer.text and "v" * 64 not in answer.text, path


def test_timeline_shows_keys_and_camera_names_with_markup_as_text(server, browser):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    browser.get(server.endpoint + "/console/timeline?" + urllib.parse.urlencode(
        {"bucket": "rec", "prefix": "cam1/", "camera": XSS_CAMERA, "day": DAY}))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"{XSS_CAMERA} on {DAY}"
    block = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#timeline a rect.block"), what="the block")[0]
    assert block.get_attribute("data-key") == XSS_KEY and block.get_attribute("data-hour") == "11"
    assert XSS_KEY in block.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    shot(browser, "reach-timeline-markup")
    assert browser.execute_script("return window.__xss === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    # The recording's own page, reached from the block, shows the camera name as text too.
    browser.get(server.endpoint + "/console/object?" + urllib.parse.urlencode({"bucket": "rec", "key": XSS_KEY}))
    assert XSS_CAMERA in browser.find_element(By.TAG_NAME, "main").text
    assert browser.execute_script("return window.__xss === undefined")
