"""Every admin API route (as `depot routes` lists them, so a route added later is covered without
editing this file) refuses an unsigned request (401) and a signed request of an account without the
server-wide admin action (403), and neither refusal changes anything the admin API shows."""
import re

import pytest
import requests

from admin_client import Admin
from conftest import DepotServer, run_depot

READER = ("reader-key", "reader-secret-123")
CONFIG = f"""buckets: [rec]
accounts:
  - {{ name: reader, accessKey: {READER[0]}, secretKey: {READER[1]},
      allow: [{{ bucket: "*", actions: [read, write, list, delete] }}] }}
"""
# A body for the routes that take one: valid enough that only the refusal stops it.
BODIES = {
    "/admin/v1/accounts": {"name": "intruder", "allow": [{"bucket": "rec", "actions": ["admin"]}]},
    "/admin/v1/tiers": {"name": "t", "type": "filesystem", "path": "/tmp"},
    "/admin/v1/tiers/{name}": {"type": "filesystem", "path": "/tmp"},
    "/admin/v1/policies": {"name": "p", "match": {"bucket": "rec"}, "expire": {"after": "1d"}},
    "/admin/v1/policies/{name}": {"match": {"bucket": "rec"}, "expire": {"after": "1d"}},
    "/admin/v1/accounts/{accessKey}": {"enabled": False},
}


def admin_routes():
    listed = run_depot("routes").stdout.split("\n")
    return [tuple(line.split(" ", 1)) for line in listed if " /admin/" in line]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = tmp_path_factory.mktemp("admin-routes") / "depot.yaml"
    config.write_text(CONFIG)
    depot = DepotServer(config=str(config)).start()
    yield depot
    depot.cleanup()


def visible_state(server):
    root = Admin(server.endpoint)
    return [root.get(path)[1] for path in ("/admin/v1/accounts", "/admin/v1/tiers", "/admin/v1/policies")]


def test_the_route_list_holds_the_admin_api():
    routes = admin_routes()
    assert len(routes) >= 30 and ("GET", "/admin/v1/trace") in routes


@pytest.mark.parametrize("method,template", admin_routes())
def test_every_admin_route_refuses_unsigned_and_non_admin_requests(server, method, template):
    path = re.sub(r"\{accessKey\}", READER[0], template)
    path = re.sub(r"\{[^}]+\}", "x", path)
    body = BODIES.get(template)
    before = visible_state(server)
    unsigned = requests.request(method, server.endpoint + path, json=body, timeout=10)
    assert unsigned.status_code == 401, (method, path, unsigned.text)
    status, answer = Admin(server.endpoint, *READER).call(method, path, body)
    assert status == 403 and "lacks the admin action" in answer.get("error", ""), (method, path, status, answer)
    assert visible_state(server) == before
