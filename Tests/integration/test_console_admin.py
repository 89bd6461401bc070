"""The console's tier, policy, account and event pages (issue 20 item 5), in headless Chromium
against the real server: they go through the admin API's own handlers, so a tier and a policy
made in the browser replicate a boto3 upload, a bad field is named as the admin API names it,
an account made from the camera template writes to its prefix only, and none of it is open to
a non-admin account or to a form without its CSRF token. Screenshots go to test_console's dir."""
import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from admin_client import Admin
from event_receiver import Receiver
from test_console import browser, csrf_of, pytestmark, shot, sign_in, signed_in_session, wait_for  # noqa: F401

CONFIG = """buckets: [rec]
accounts:
  - name: cam1
    accessKey: CAM1KEY
    secretKey: cam1-secret-1234
    allow: [{ bucket: rec, prefix: "cam1/", actions: [read, write, list, delete] }]
events:
  sinks:
    - { name: hook, type: webhook, url: "http://127.0.0.1:9/events", format: s3 }
    - { name: good, type: webhook, url: "RECEIVER_URL/events", format: s3, match: { bucket: none } }
"""
ADMIN_PAGES = ["/console/tiers", "/console/tier?name=archive", "/console/policies", "/console/policy?name=x",
               "/console/accounts", "/console/account?accessKey=CAM1KEY", "/console/events"]
ADMIN_FORMS = {
    "/console/tiers": {"name": "forged", "type": "filesystem", "path": "/tmp"},
    "/console/tiers/check": {"name": "archive"},
    "/console/policies": {"name": "forged", "bucket": "rec", "prefix": "x/", "action": "save"},
    "/console/accounts": {"template": "viewer", "name": "forged", "bucket": "rec"},
    "/console/events/validate": {"name": "good"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-admin")
    config = directory / "depot.yaml"
    receiver = Receiver().start()
    config.write_text(CONFIG.replace("RECEIVER_URL", receiver.url))
    server = DepotServer(config=str(config)).start()
    server.receiver = receiver
    server.tier_path = str(directory / "archive")
    os.mkdir(server.tier_path)
    yield server
    server.cleanup()
    receiver.stop()


def fill(driver, values):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    for element_id, value in values.items():
        element = driver.find_element(By.ID, element_id)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)


def s3_client(server, access, secret):
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def test_tier_and_policy_made_in_the_browser_replicate_a_boto3_upload(server, browser):
    from selenium.webdriver.common.by import By
    s3 = server.client()
    s3.put_object(Bucket="rec", Key="fs/old.mp4", Body=b"o" * 100)
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/tiers")
    fill(browser, {"t-name": "archive", "t-type": "filesystem", "t-path": server.tier_path})
    browser.find_element(By.ID, "create-tier").click()
    wait_for(lambda: "/console/tier?name=archive" in browser.current_url, what="the new tier's page")
    assert "filesystem" in browser.find_element(By.ID, "tier-facts").text
    browser.find_element(By.ID, "check").click()
    result = wait_for(lambda: browser.find_elements(By.ID, "check-result"), what="the check's result")
    assert "Check passed" in browser.page_source, result[0].text
    shot(browser, "admin-tier-checked")

    browser.get(server.endpoint + "/console/policies")
    fill(browser, {"p-name": "fs-to-archive", "p-bucket": "rec", "p-prefix": "fs/", "p-tier": "archive"})
    browser.find_element(By.ID, "dry-run-button").click()
    # The dry run comes first, with the form still filled in, and saves nothing.
    assert wait_for(lambda: browser.find_elements(By.ID, "dry-matches"))[0].text == "1"
    assert "fs/old.mp4" in browser.find_element(By.ID, "dry-run").text
    assert "fs-to-archive" not in browser.find_element(By.TAG_NAME, "main").text.split("New policy")[0]
    shot(browser, "admin-policy-dry-run")
    browser.find_element(By.ID, "save-policy").click()
    wait_for(lambda: browser.find_elements(By.ID, "policies") and "fs-to-archive" in
             browser.find_element(By.ID, "policies").text, what="the saved policy in the list")
    shot(browser, "admin-policies")

    s3.put_object(Bucket="rec", Key="fs/new.mp4", Body=b"n" * 2000)
    wait_for(lambda: s3.head_object(Bucket="rec", Key="fs/new.mp4").get("ReplicationStatus") == "COMPLETED",
             timeout=20, what="the copy to the tier made in the browser")
    # The policy's own page: its settings and what the saved policy matches now (both recordings).
    browser.find_element(By.LINK_TEXT, "fs-to-archive").click()
    wait_for(lambda: browser.find_elements(By.ID, "dry-matches-saved"), what="the policy's page")
    assert browser.find_element(By.ID, "dry-matches-saved").text == "2 stored objects (2100 bytes)"
    assert "archive" in browser.find_element(By.ID, "detail-facts").text


def test_a_bad_field_is_shown_next_to_the_form_naming_the_field(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/tiers")
    fill(browser, {"t-name": "nopath", "t-type": "filesystem"})
    browser.find_element(By.ID, "create-tier").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error"), what="the tier form's error")[0].text
    assert error.startswith("path"), error
    assert browser.find_element(By.ID, "t-name").get_attribute("value") == "nopath"  # the form keeps what was typed
    shot(browser, "admin-tier-error")
    browser.get(server.endpoint + "/console/policies")
    fill(browser, {"p-name": "bad", "p-bucket": "rec", "p-prefix": "x/", "p-tier": "nowhere"})
    browser.find_element(By.ID, "save-policy").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error"), what="the policy form's error")[0].text
    assert error.startswith("replicate") and "nowhere" in error, error


def test_camera_account_from_the_template_writes_to_its_prefix_only(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/accounts")
    fill(browser, {"a-template": "camera", "a-name": "cam9", "a-bucket": "rec", "a-prefix": "cam9/"})
    browser.find_element(By.ID, "create-account").click()
    access = wait_for(lambda: browser.find_elements(By.ID, "new-access-key"), what="the new keys")[0].text
    secret = browser.find_element(By.ID, "new-secret-key").text
    assert access and len(secret) >= 20
    shot(browser, "admin-account-created")
    browser.get(server.endpoint + "/console/accounts")
    assert access in browser.page_source and secret not in browser.page_source  # shown once
    browser.find_element(By.LINK_TEXT, "cam9").click()
    facts = wait_for(lambda: browser.find_elements(By.ID, "detail-facts"), what="the account's page")[0].text
    assert access in facts and '"prefix":"cam9/"' in facts and "enabled true" in facts
    assert secret not in browser.page_source
    camera = s3_client(server, access, secret)
    camera.put_object(Bucket="rec", Key="cam9/clip.mp4", Body=b"c" * 10)
    for attempt in [lambda: camera.put_object(Bucket="rec", Key="cam1/clip.mp4", Body=b"x"),
                    lambda: camera.get_object(Bucket="rec", Key="cam9/clip.mp4")]:  # write-only: no reading back
        with pytest.raises(ClientError) as refused:
            attempt()
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert server.client().head_object(Bucket="rec", Key="cam9/clip.mp4")["ContentLength"] == 10


def test_event_sinks_show_backlog_and_last_error(server, browser):
    from selenium.webdriver.common.by import By
    server.client().put_object(Bucket="rec", Key="ev/one.mp4", Body=b"e")
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)

    def failing():
        browser.get(server.endpoint + "/console/events")
        row = browser.find_element(By.ID, "sinks").text
        # The sink's row: its backlog (the upload's event waits) and the delivery error.
        return row.startswith("Sink") and "hook webhook" in row and "Connection refused" in row
    wait_for(failing, timeout=15, what="the unreachable sink's last error")
    shot(browser, "admin-events")


def test_a_camera_account_gets_403_on_every_admin_page_and_form(server):
    session, _ = signed_in_session(server, "CAM1KEY", "cam1-secret-1234")
    token = csrf_of(session, server, "/console/buckets")
    for path in ADMIN_PAGES:
        answer = session.get(server.endpoint + path, timeout=10, allow_redirects=False)
        assert answer.status_code == 403 and "admin action" in answer.text, (path, answer.status_code)
    for path, data in ADMIN_FORMS.items():
        answer = session.post(server.endpoint + path, data=dict(data, csrf=token), timeout=10, allow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
    assert "forged" not in session.get(server.endpoint + "/console/buckets", timeout=10).text


def test_each_admin_form_refuses_a_missing_or_wrong_csrf_token(server):
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    for path, data in ADMIN_FORMS.items():
        for forged in [data, dict(data, csrf="0" * 64)]:
            answer = session.post(server.endpoint + path, data=forged, timeout=10, allow_redirects=False)
            assert answer.status_code == 403 and "CSRF" in answer.text, (path, answer.status_code)
    for page in ["/console/tiers", "/console/policies", "/console/accounts"]:
        assert "forged" not in session.get(server.endpoint + page, timeout=10).text, page


def test_validate_sends_a_test_event_through_each_sink_and_shows_the_result(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/events")
    browser.find_element(By.ID, "validate-good").click()
    result = wait_for(lambda: browser.find_elements(By.ID, "validation"), what="the good sink's result")[0].text
    assert result == "Test event to good: delivered", result
    tests = [body for body in server.receiver.bodies("/events") if body.get("Event") == "s3:TestEvent"]
    assert len(tests) == 1 and tests[0]["Sink"] == "good"
    browser.find_element(By.ID, "validate-hook").click()
    result = wait_for(lambda: browser.find_elements(By.ID, "validation"), what="the broken sink's result")[0].text
    assert result.startswith("Test event to hook: not delivered:") and "refused" in result, result
    shot(browser, "admin-events-validate")


def test_admin_api_validate_names_the_sink_and_leaves_its_counters(server):
    admin = Admin(server.endpoint)
    status, body = admin.post("/admin/v1/events/nope/validate")
    assert status == 404 and "nope" in body["error"], body
    status, body = admin.post("/admin/v1/events/good/validate")
    assert status == 200 and body == {"sink": "good", "delivered": True}, body
    good = [sink for sink in admin.get("/admin/v1/events")[1]["sinks"] if sink["name"] == "good"][0]
    assert good["delivered"] == 0 and good["backlog"] == 0  # a test event is not an outbox event


def test_admin_pages_fit_a_phone_sized_window(server, browser):
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    try:
        browser.set_window_size(390, 844)
        for path in ["/console/buckets", "/console/tiers", "/console/policies", "/console/accounts", "/console/events"]:
            browser.get(server.endpoint + path)
            width = browser.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert width[0] <= width[1], (path, width)
        shot(browser, "admin-phone-events")
    finally:
        browser.set_window_size(1280, 800)
