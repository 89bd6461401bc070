"""The Content-Disposition of a Vault blob (issue 14 #10): the recording's name is quoted and
escaped per RFC 6266, so a name holding `"; filename="evil.exe` cannot add a parameter of its own,
and a non-ASCII name reaches clients exactly through `filename*` (RFC 8187)."""
from email.message import Message
from email.utils import collapse_rfc2231_value

import pytest
import requests

from vault_agent_server import VAULT_HEADERS, start_with_agent

CASES = [
    # (key, the exact header)
    ('cam/a"; filename="evil.exe',
     "attachment; filename=\"cam/a\\\"; filename=\\\"evil.exe\"; filename*=UTF-8''cam%2Fa%22%3B%20filename%3D%22evil.exe"),
    ("cam/café ü.mp4", "attachment; filename=\"cam/caf_ _.mp4\"; filename*=UTF-8''cam%2Fcaf%C3%A9%20%C3%BC.mp4"),
    ("cam/back\\slash.mp4", "attachment; filename=\"cam/back\\\\slash.mp4\"; filename*=UTF-8''cam%2Fback%5Cslash.mp4"),
    ("cam/plain.mp4", "attachment; filename=\"cam/plain.mp4\"; filename*=UTF-8''cam%2Fplain.mp4"),
]


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    server = start_with_agent(tmp_path_factory.mktemp("disposition"))
    yield server
    server.cleanup()


@pytest.mark.parametrize("key,expected", CASES)
def test_blob_names_the_recording_in_one_quoted_parameter(agent, key, expected):
    agent.client().put_object(Bucket="rec", Key=key, Body=b"clip")
    # The name travels in a header as UTF-8 bytes, as Go's client sends it.
    headers = dict(VAULT_HEADERS, **{"X-Kerberos-Storage-FileName": key.encode()})
    response = requests.get(agent.endpoint + "/api/storage/blob", headers=headers, timeout=10)
    assert response.status_code == 200 and response.content == b"clip", response.text
    value = response.raw.headers["Content-Disposition"]
    assert value == expected
    # A standard parser (Python's email) sees the disposition and the two names, nothing
    # injected: the quoted fallback (the name itself when it is ASCII) and the exact UTF-8 name.
    message = Message()
    message["Content-Disposition"] = value
    fallback = key.encode("ascii", "replace").decode().replace("?", "_")
    params = message.get_params(header="content-disposition")
    assert params[:2] == [("attachment", ""), ("filename", fallback)] and len(params) == 3
    assert params[2][0] == "filename" and collapse_rfc2231_value(params[2][1]) == key
