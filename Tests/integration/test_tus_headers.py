"""tus's numeric headers are non-negative decimal integers (tus 1.0.0): a sign, spaces or another
base are refused with a Vault JSON 400 naming the header (they were read as numbers before), and
Upload-Defer-Length, an extension Depot does not offer, is refused saying so."""
import base64

import pytest
import requests

from vault_agent_server import VAULT_HEADERS, start_with_agent

TUS = {"Tus-Resumable": "1.0.0"}
METADATA = "filename " + base64.b64encode(b"clip.mp4").decode() + ",directory " + base64.b64encode(b"cam").decode()


@pytest.fixture
def vault(tmp_path):
    server = start_with_agent(tmp_path)
    yield server
    server.cleanup()


def create(vault, **headers):
    return requests.post(vault.endpoint + "/api/storage/tus/", timeout=10,
                         headers=dict(VAULT_HEADERS, **TUS, **{"Upload-Metadata": METADATA}, **headers))


@pytest.mark.parametrize("length", ["+5", "0x10", "1e3", "-0"])
def test_upload_length_must_be_digits(vault, length):
    r = create(vault, **{"Upload-Length": length})
    assert r.status_code == 400, r.text
    assert "Upload-Length must be a non-negative decimal integer" in r.json()["data"]


def test_deferred_length_is_refused_by_name(vault):
    r = create(vault, **{"Upload-Defer-Length": "1"})
    assert r.status_code == 400 and "Upload-Defer-Length is not supported" in r.json()["data"]


def test_upload_offset_must_be_digits(vault):
    r = create(vault, **{"Upload-Length": "5"})
    assert r.status_code == 201, r.text
    url = vault.endpoint + "/api/storage/tus/" + r.headers["Location"].rsplit("/", 1)[-1]
    patch = dict(VAULT_HEADERS, **TUS, **{"Content-Type": "application/offset+octet-stream"})
    r = requests.patch(url, data=b"12345", headers=dict(patch, **{"Upload-Offset": "+0"}), timeout=10)
    assert r.status_code == 400 and "Upload-Offset must be a non-negative decimal integer" in r.json()["data"]
    assert requests.head(url, headers=dict(VAULT_HEADERS, **TUS), timeout=10).headers["Upload-Offset"] == "0"
    r = requests.patch(url, data=b"12345", headers=dict(patch, **{"Upload-Offset": "0"}), timeout=10)
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "5"
