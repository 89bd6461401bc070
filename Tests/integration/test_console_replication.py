"""Replication end to end through the console (issue 20): signed in as root, a browser makes an
S3 tier pointing at a real `moto_server` with the tier form and checks it, makes a replicate
policy with the policy form (its dry run first), and sees a recording uploaded through the Vault
API reach moto on the recording's page (and in moto itself, read with boto3). Then moto is cut
off (a TCP proxy in front of it stops, as a network outage would; moto keeps its data): the next
recording's copy is FAILED with the error shown, and after moto comes back the page's Retry
copies it. Screenshots go to test_console's dir."""
import urllib.parse

import pytest

from backends import Moto, TcpProxy
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import (browser, movie, pytestmark, shot, sign_in, vault_upload,  # noqa: F401
                          submit, wait_for)
from test_console_admin import fill, text_of

CONFIG = """buckets: [rec]
accounts:
  - name: cam1
    accessKey: CAM1KEY
    secretKey: cam1-secret-1234
    allow: [{ bucket: rec, prefix: "cam1/", actions: [read, write, list, delete] }]
    vault: { directory: "*", bucket: rec }
"""
FIRST = "1764900000_6-967003_frontdoor_200-200-400-400_24_3000.mp4"
SECOND = "1764900300_6-967003_frontdoor_200-200-400-400_24_3000.mp4"


@pytest.fixture
def moto():
    backend = Moto()
    proxy = TcpProxy(backend.port).start()
    backend.proxy = proxy
    yield backend
    proxy.stop()
    backend.stop()


@pytest.fixture
def server(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text(CONFIG)
    server = DepotServer(config=str(config)).start()
    yield server
    server.cleanup()


def object_page(server, key):
    return server.endpoint + "/console/object?" + urllib.parse.urlencode({"bucket": "rec", "key": key})


def replication_cell(browser):
    from selenium.webdriver.common.by import By
    rows = browser.find_elements(By.CSS_SELECTOR, "table.facts tr")
    return next(row.text for row in rows if row.text.startswith("Replication"))


def show(browser, element):
    """Scrolls the element to the middle of the window, for the screenshot."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)


def wait_for_state(browser, server, key, state, timeout=20):
    def reached():
        browser.get(object_page(server, key))
        return f"moto: {state}" in replication_cell(browser)
    try:
        wait_for(reached, timeout=timeout, what=f"moto: {state} on the page of {key}")
    except AssertionError as error:
        raise AssertionError(f"{error}; the page says: {replication_cell(browser)}")
    return replication_cell(browser)


def in_moto(moto, key):
    return moto.client.get_object(Bucket="archive", Key="site-a/" + key)["Body"].read()


def test_a_tier_and_policy_made_in_the_browser_replicate_to_moto_and_a_failed_copy_is_retried(
        server, moto, browser, movie):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)

    # The tier: its type first (the form then shows the s3 fields), then its settings.
    browser.get(server.endpoint + "/console/tiers")
    fill(browser, {"t-type": "s3"})
    wait_for(lambda: text_of(browser, "tier-form-kind") == "A new s3 tier", what="the s3 tier's fields")
    assert not browser.find_elements(By.ID, "t-path")  # the filesystem tier's field is not shown
    fill(browser, {"t-name": "moto", "t-endpoint": f"http://127.0.0.1:{moto.proxy.port}", "t-region": "us-east-1",
                   "t-bucket": "archive", "t-prefix": "site-a/", "t-access": "tier-key", "t-secret": "tier-secret",
                   "t-maxAttempts": "1"})
    show(browser, browser.find_element(By.ID, "t-secret"))
    shot(browser, "replication-1-tier-form")
    browser.find_element(By.ID, "create-tier").click()
    wait_for(lambda: "/console/tier?name=moto" in browser.current_url, what="the new tier's page")
    facts = browser.find_element(By.ID, "tier-facts").text
    assert "s3" in facts and "site-a/" in facts and "maxAttempts 1" in facts, facts
    assert "tier-secret" not in browser.page_source
    browser.find_element(By.ID, "check").click()
    wait_for(lambda: browser.find_elements(By.ID, "check-result"), what="the check's result")
    assert "Check passed" in browser.page_source, browser.find_element(By.ID, "check-result").text
    shot(browser, "replication-2-tier-checked")

    # The policy: its dry run shows what it would copy now, before anything is saved.
    server.client().put_object(Bucket="rec", Key="cam1/before.mp4", Body=b"b" * 10)
    browser.get(server.endpoint + "/console/policies")
    fill(browser, {"p-name": "cam1-to-moto", "p-bucket": "rec", "p-prefix": "cam1/", "p-tier": "moto"})
    browser.find_element(By.ID, "dry-run-button").click()
    assert wait_for(lambda: browser.find_elements(By.ID, "dry-matches"), what="the dry run")[0].text == "1"
    assert "rec/cam1/before.mp4" in browser.find_element(By.ID, "dry-run").text
    assert not browser.find_elements(By.ID, "policies")  # nothing saved yet
    shot(browser, "replication-3-policy-dry-run")
    browser.find_element(By.ID, "save-policy").click()
    wait_for(lambda: browser.find_elements(By.ID, "policies") and "cam1-to-moto" in
             browser.find_element(By.ID, "policies").text, what="the saved policy")

    # A recording uploaded through the Vault API, as a Kerberos Agent does, reaches moto.
    vault_upload(server, "CAM1KEY", "cam1-secret-1234", "cam1", FIRST, movie)
    cell = wait_for_state(browser, server, "cam1/" + FIRST, "COMPLETED")
    assert not browser.find_elements(By.ID, "retry-moto"), cell
    show(browser, browser.find_element(By.CSS_SELECTOR, "table.facts"))
    shot(browser, "replication-4-recording-copied")
    assert in_moto(moto, "cam1/" + FIRST) == movie

    # moto cut off: the next recording's copy fails (one attempt, as the form set) with the error shown.
    moto.proxy.stop()
    vault_upload(server, "CAM1KEY", "cam1-secret-1234", "cam1", SECOND, movie)
    cell = wait_for_state(browser, server, "cam1/" + SECOND, "FAILED")
    error = cell.split("moto: FAILED", 1)[1].replace("Retry", "").strip()
    assert error and ("refused" in error.lower() or "connect" in error.lower()), cell
    show(browser, browser.find_element(By.CSS_SELECTOR, "table.facts"))
    shot(browser, "replication-5-copy-failed")
    failed = moto.client.list_objects_v2(Bucket="archive", Prefix="site-a/cam1/" + SECOND)
    assert failed.get("KeyCount", 0) == 0

    # moto back: Retry copies it; the page says so and moto holds the same bytes.
    moto.proxy.start()
    submit(browser, browser.find_element(By.ID, "retry-moto"))  # answered before the page is reloaded
    assert "/console/object" in browser.current_url
    wait_for_state(browser, server, "cam1/" + SECOND, "COMPLETED")
    assert not browser.find_elements(By.ID, "retry-moto")
    show(browser, browser.find_element(By.CSS_SELECTOR, "table.facts"))
    shot(browser, "replication-6-retried")
    assert in_moto(moto, "cam1/" + SECOND) == movie


def test_after_an_outage_the_tiers_page_lists_the_failed_copies_and_retries_them_all(server, moto, browser):
    from selenium.webdriver.common.by import By
    from admin_client import Admin
    admin = Admin(server.endpoint)
    status, body = admin.put("/admin/v1/tiers/moto", {
        "type": "s3", "endpoint": f"http://127.0.0.1:{moto.proxy.port}", "bucket": "archive", "prefix": "site-a/",
        "accessKey": "tier-key", "secretKey": "tier-secret", "maxAttempts": 1})
    assert status == 201, body
    status, body = admin.put("/admin/v1/policies/to-moto", {"match": {"bucket": "rec", "prefix": "out/"},
                                                            "replicate": {"to": ["moto"]}})
    assert status == 201, body
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/tier?name=moto")
    browser.find_element(By.ID, "show-failed").click()
    wait_for(lambda: text_of(browser, "no-failed"), what="no failed copies yet")

    moto.proxy.stop()
    s3 = server.client()
    keys = [f"out/clip-{i}.mp4" for i in range(3)]
    for key in keys:
        s3.put_object(Bucket="rec", Key=key, Body=key.encode() * 100)

    def listed():
        browser.get(server.endpoint + "/console/tier?name=moto&failed=show")
        return all(f"rec/{key}" in text_of(browser, "failed-copies") for key in keys)
    wait_for(listed, timeout=20, what="the three failed copies on the tier's page")
    rows = browser.find_elements(By.CSS_SELECTOR, "#failed-copies tbody tr")
    assert len(rows) == 3 and all("current 1" in row.text for row in rows), [row.text for row in rows]
    show(browser, browser.find_element(By.ID, "failed-copies"))
    shot(browser, "replication-7-tier-failed-copies")

    moto.proxy.start()
    browser.find_element(By.ID, "retry-failed").click()
    assert wait_for(lambda: text_of(browser, "retried"), what="the retry's answer") == "3 copies queued again"
    for key in keys:
        wait_for(lambda: s3.head_object(Bucket="rec", Key=key).get("ReplicationStatus") == "COMPLETED", timeout=20,
                 what=f"{key} copied after the retry")
        assert moto.client.get_object(Bucket="archive", Key="site-a/" + key)["Body"].read() == key.encode() * 100
    browser.get(server.endpoint + "/console/tier?name=moto&failed=show")
    assert text_of(browser, "no-failed") == "No copy to this tier is FAILED."
