"""One percent codec for every front door (DepotSigV4's SigV4Encoding): S3 paths and queries,
Vault signed links and admin path parameters decode and encode alike. Raw HTTP and real
clients against the real server."""
import http.client
import urllib.parse

import requests

from admin_client import Admin
from vault_agent_server import VAULT_HEADERS, start_with_agent

KEY = "cedric/café +1 €.mp4"


def raw(server, method, target):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest(method, target, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_vault_signed_links_are_ascii_and_serve_any_key(tmp_path):
    server = start_with_agent(tmp_path)
    try:
        server.client().put_object(Bucket="rec", Key=KEY, Body=b"clip bytes")
        answer = requests.post(
            server.endpoint + "/api/storage/bulk", json=[{"filename": KEY, "provider": ""}],
            headers=VAULT_HEADERS, timeout=10)
        assert answer.status_code == 200, answer.text
        url = answer.json()["data"][KEY]
        # Every byte of the key outside A-Z a-z 0-9 - . _ ~ is escaped (é was left raw).
        assert url.isascii() and "caf%C3%A9%20%2B1%20%E2%82%AC.mp4" in url, url
        fetched = requests.get(url, timeout=10)
        assert fetched.status_code == 200 and fetched.content == b"clip bytes"
        # A link whose escapes are tampered with is refused, not read as another key.
        assert requests.get(url.replace("%C3%A9", "%C3"), timeout=10).status_code in (400, 403)
    finally:
        server.cleanup()


def test_admin_path_parameters_and_s3_targets_decode_alike(tmp_path):
    server = start_with_agent(tmp_path)
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key=KEY, Body=b"x")
        status, body = Admin(server.endpoint).get("/admin/v1/buckets/rec/objects/" + urllib.parse.quote(KEY, safe="/"))
        assert status == 200 and body.get("key", KEY) == KEY, body
        # `+` in a query is a space (what SDKs never send raw, but forms and curl users do).
        listed = s3.list_objects_v2(Bucket="rec", Prefix="cedric/café +1")
        assert [o["Key"] for o in listed.get("Contents", [])] == [KEY]
        # A bad escape or invalid UTF-8 in the path is refused, never guessed at.
        for target in ["/rec/a%zz", "/rec/a%FF", "/rec/%C0%AF"]:
            status, body = raw(server, "GET", target)
            assert status == 400 and b"InvalidArgument" in body, (target, status, body)
    finally:
        server.cleanup()
