"""The console's tier, policy, account and event pages (issue 20 item 5), in headless Chromium
against the real server: they go through the admin API's own handlers, so a tier and a policy
made in the browser replicate a boto3 upload, a bad field is named as the admin API names it,
an account made from the camera template writes to its prefix only, and none of it is open to
a non-admin account or to a form without its CSRF token. Screenshots go to test_console's dir."""
import os
import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from admin_client import Admin
from event_receiver import Receiver
from test_console import browser, csrf_of, pytestmark, shot, sign_in, signed_in_session, wait_for  # noqa: F401

CONFIG = """buckets: [rec]
tiers:
  - { name: filetier, type: filesystem, path: "FILE_TIER_PATH" }
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
    # The edit and delete forms (their targets are made by keep_me below and must survive).
    "/console/tiers/edit": {"name": "keep-me", "path": "/tmp/forged"},
    "/console/tiers/delete": {"name": "keep-me"},
    "/console/tiers/retry": {"name": "keep-me"},
    "/console/policies/edit": {"name": "keep-me", "bucket": "rec", "prefix": "forged/", "action": "save"},
    "/console/policies/delete": {"name": "keep-me"},
    "/console/accounts/enable": {"accessKey": "KEEPMEKEY", "enabled": "false"},
    "/console/accounts/grants": {"accessKey": "KEEPMEKEY", "bucket-0": "rec", "write-0": "on"},
    "/console/accounts/delete": {"accessKey": "KEEPMEKEY"},
    "/console/events": {"type": "webhook", "name": "forged", "url": "http://127.0.0.1:9/"},
    "/console/events/edit": {"name": "keep-me", "type": "webhook", "url": "http://127.0.0.1:9/forged"},
    "/console/events/delete": {"name": "keep-me"},
}
# The console's other forms: any signed-in account may send them, and the access rule decides per
# object (test_console.py, test_console_lock.py, test_console_reach.py refuse them across cameras).
OBJECT_FORMS = {"/console/signout", "/console/delete", "/console/replicate", "/console/lock/legal-hold",
                "/console/lock/retention"}
CONSOLE_SOURCES = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "DepotConsole")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-admin")
    config = directory / "depot.yaml"
    receiver = Receiver().start()
    os.mkdir(directory / "filetier")
    config.write_text(CONFIG.replace("RECEIVER_URL", receiver.url).replace("FILE_TIER_PATH", str(directory / "filetier")))
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


def keep_me(server):
    """A tier, a policy and an account made through the admin API that the refused forms aim at."""
    admin = Admin(server.endpoint)
    path = os.path.join(server.tier_path, "keep-me")
    os.makedirs(path, exist_ok=True)
    assert admin.put("/admin/v1/tiers/keep-me", {"type": "filesystem", "path": path})[0] in (200, 201)
    assert admin.put("/admin/v1/policies/keep-me", {"match": {"bucket": "rec", "prefix": "keep/"},
                                                     "replicate": {"to": ["keep-me"]}})[0] in (200, 201)
    sink = {"type": "webhook", "url": server.receiver.url + "/keep"}
    assert admin.put("/admin/v1/events/keep-me", sink)[0] in (200, 201)
    if admin.get("/admin/v1/accounts/KEEPMEKEY")[0] == 404:
        status, body = admin.post("/admin/v1/accounts", {"name": "keep", "accessKey": "KEEPMEKEY",
                                                         "allow": [{"bucket": "rec", "actions": ["read"]}]})
        assert status == 201, body
    return admin, path


def assert_kept(admin, path):
    assert admin.get("/admin/v1/tiers/keep-me")[1]["path"] == path
    assert admin.get("/admin/v1/policies/keep-me")[1]["match"]["prefix"] == "keep/"
    account = admin.get("/admin/v1/accounts/KEEPMEKEY")[1]
    assert account["enabled"] is True and account["allow"] == [{"bucket": "rec", "prefix": "", "actions": ["read"]}], account
    assert admin.get("/admin/v1/events/keep-me")[1]["url"].endswith("/keep")
    assert admin.get("/admin/v1/events/forged")[0] == 404


def test_every_form_the_console_takes_is_in_the_refusal_matrix():
    """The POST forms in the console's sources (ConsoleService's switch, the edit and sink
    forms): each is an admin form the two tests below send, or an object form whose refusals the
    recordings tests check; a form added later that is in neither fails here."""
    found = set()
    for name in ["ConsoleService.swift", "ConsoleEdits.swift", "EventsPages.swift"]:
        with open(os.path.join(CONSOLE_SOURCES, name)) as f:
            text = f.read()
        if name == "ConsoleService.swift":
            text = text[text.index("if method == .post {"):text.index("guard method == .get else")]
        for case in re.findall(r'^\s*case ("/console/[^:]*):', text, re.M):
            found |= set(re.findall(r'"(/console/[a-z/-]+)"', case))
    found -= {"/console/signin"}
    assert found == set(ADMIN_FORMS) | OBJECT_FORMS, (found - set(ADMIN_FORMS) - OBJECT_FORMS,
                                                      set(ADMIN_FORMS) - found)


def test_a_camera_account_gets_403_on_every_admin_page_and_form(server):
    admin, kept_path = keep_me(server)
    session, _ = signed_in_session(server, "CAM1KEY", "cam1-secret-1234")
    token = csrf_of(session, server, "/console/buckets")
    for path in ADMIN_PAGES:
        answer = session.get(server.endpoint + path, timeout=10, allow_redirects=False)
        assert answer.status_code == 403 and "admin action" in answer.text, (path, answer.status_code)
    for path, data in ADMIN_FORMS.items():
        answer = session.post(server.endpoint + path, data=dict(data, csrf=token), timeout=10, allow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
    assert "forged" not in session.get(server.endpoint + "/console/buckets", timeout=10).text
    assert_kept(admin, kept_path)


def test_each_admin_form_refuses_a_missing_or_wrong_csrf_token(server):
    admin, kept_path = keep_me(server)
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    for path, data in ADMIN_FORMS.items():
        for forged in [data, dict(data, csrf="0" * 64)]:
            answer = session.post(server.endpoint + path, data=forged, timeout=10, allow_redirects=False)
            assert answer.status_code == 403 and "CSRF" in answer.text, (path, answer.status_code)
    for page in ["/console/tiers", "/console/policies", "/console/accounts"]:
        assert "forged" not in session.get(server.endpoint + page, timeout=10).text, page
    assert_kept(admin, kept_path)


def test_validate_sends_a_test_event_through_each_sink_and_shows_the_result(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/events")
    browser.find_element(By.ID, "validate-good").click()
    result = wait_for(lambda: text_of(browser, "validation"), what="the good sink's result")
    assert result == "Test event to good: delivered", result
    tests = [body for body in server.receiver.bodies("/events") if body.get("Event") == "s3:TestEvent"]
    assert len(tests) == 1 and tests[0]["Sink"] == "good"
    browser.find_element(By.ID, "validate-hook").click()
    # The page before the click shows the good sink's result: wait for the broken one's.
    result = wait_for(lambda: "hook" in text_of(browser, "validation") and text_of(browser, "validation"),
                      what="the broken sink's result")
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


def text_of(driver, element_id):
    """The element's text, or "" while the page is being replaced (no element yet, a stale one, or
    Chromium's "Node with given id does not belong to the document" for a node of the old page)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    try:
        return driver.find_element(By.ID, element_id).text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return ""
        raise


def files_under(path):
    return [os.path.join(root, name) for root, _, names in os.walk(path) for name in names]


def test_edit_a_tiers_path_in_the_browser_and_the_next_copy_goes_there(server, browser):
    from selenium.webdriver.common.by import By
    admin = Admin(server.endpoint)
    first, second = os.path.join(server.tier_path, "edit-a"), os.path.join(server.tier_path, "edit-b")
    os.makedirs(first, exist_ok=True)
    os.makedirs(second, exist_ok=True)
    assert admin.put("/admin/v1/tiers/edited", {"type": "filesystem", "path": first, "concurrency": 3})[0] == 201
    assert admin.put("/admin/v1/policies/to-edited", {"match": {"bucket": "rec", "prefix": "ed/"},
                                                       "replicate": {"to": ["edited"]}})[0] == 201
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/tier?name=edited")
    assert browser.find_element(By.ID, "e-path").get_attribute("value") == first  # prefilled
    fill(browser, {"e-path": second})
    browser.find_element(By.ID, "save-tier").click()
    wait_for(lambda: second in text_of(browser, "tier-facts"), what="the edited path on the tier's page")
    shot(browser, "admin-tier-edited")
    tier = admin.get("/admin/v1/tiers/edited")[1]
    assert tier["path"] == second and tier["concurrency"] == 3, tier  # what the form does not show is kept
    s3 = server.client()
    s3.put_object(Bucket="rec", Key="ed/clip.mp4", Body=b"e" * 300)
    wait_for(lambda: s3.head_object(Bucket="rec", Key="ed/clip.mp4").get("ReplicationStatus") == "COMPLETED",
             timeout=20, what="the copy to the edited tier")
    assert files_under(second) and not files_under(first)


def test_a_bad_tier_edit_names_the_field_and_changes_nothing(server, browser):
    from selenium.webdriver.common.by import By
    admin = Admin(server.endpoint)
    path = os.path.join(server.tier_path, "bad-edit")
    os.makedirs(path, exist_ok=True)
    assert admin.put("/admin/v1/tiers/bad-edit", {"type": "filesystem", "path": path})[0] in (200, 201)
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/tier?name=bad-edit")
    field = browser.find_element(By.ID, "e-path")
    browser.execute_script("arguments[0].removeAttribute('required')", field)  # as a script-less client could send
    field.clear()
    browser.find_element(By.ID, "save-tier").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error"), what="the edit's error")[0].text
    assert error.startswith("path"), error
    shot(browser, "admin-tier-edit-error")
    assert admin.get("/admin/v1/tiers/bad-edit")[1]["path"] == path


def test_an_s3_tiers_secret_is_not_in_the_edit_form_and_kept_when_left_blank(server, browser):
    from selenium.webdriver.common.by import By
    admin = Admin(server.endpoint)
    # The tier is this same server's S3 API: its Check signs with the stored secret, so it passes
    # only if the edit kept the secret (a wrong one gets SignatureDoesNotMatch).
    server.client().create_bucket(Bucket="far")
    document = {"type": "s3", "endpoint": server.endpoint, "region": "us-east-1", "bucket": "far",
                "accessKey": ROOT_USER, "secretKey": ROOT_PASSWORD}
    assert admin.put("/admin/v1/tiers/far", document)[0] in (200, 201)
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/tier?name=far")
    assert browser.find_element(By.ID, "e-secret").get_attribute("value") == ""  # blank keeps the stored one
    assert ROOT_PASSWORD not in browser.page_source
    fill(browser, {"e-prefix": "copies/"})
    browser.find_element(By.ID, "save-tier").click()
    wait_for(lambda: "copies/" in text_of(browser, "tier-facts"), what="the edited prefix")
    assert admin.get("/admin/v1/tiers/far")[1]["secretKey"] == "********"
    browser.find_element(By.ID, "check").click()
    wait_for(lambda: browser.find_elements(By.ID, "check-result"), what="the check's result")
    assert "Check passed" in browser.page_source, text_of(browser, "check-result")
    # The same check with a secret typed wrong fails: the check does tell the secrets apart.
    fill(browser, {"e-secret": "not-the-secret"})
    browser.find_element(By.ID, "save-tier").click()
    wait_for(lambda: "/console/tier?name=far" in browser.current_url and not browser.find_elements(By.ID, "check-result"),
             what="the tier's page after the second edit")
    browser.find_element(By.ID, "check").click()
    wait_for(lambda: browser.find_elements(By.ID, "check-result"), what="the second check's result")
    assert "Check failed" in browser.page_source, text_of(browser, "check-result")


def test_edit_a_policy_after_its_dry_run(server, browser):
    from selenium.webdriver.common.by import By
    admin = Admin(server.endpoint)
    server.client().put_object(Bucket="rec", Key="pb/one.mp4", Body=b"p" * 50)
    assert admin.put("/admin/v1/policies/editable", {"match": {"bucket": "rec", "prefix": "pa/"},
                                                      "expire": {"after": "30d"}})[0] in (200, 201)
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/policy?name=editable")
    assert browser.find_element(By.ID, "pe-prefix").get_attribute("value") == "pa/"
    fill(browser, {"pe-prefix": "pb/"})
    browser.find_element(By.ID, "edit-dry-run-button").click()
    assert wait_for(lambda: browser.find_elements(By.ID, "edit-dry-matches"))[0].text == "1"
    assert "pb/one.mp4" in browser.find_element(By.ID, "edit-dry-run").text
    assert admin.get("/admin/v1/policies/editable")[1]["match"]["prefix"] == "pa/"  # the dry run saved nothing
    assert browser.find_element(By.ID, "pe-prefix").get_attribute("value") == "pb/"
    shot(browser, "admin-policy-edit-dry-run")
    browser.find_element(By.ID, "save-policy-edit").click()
    # The dry run's answer is at /console/policies/edit; the save redirects to the policy's page.
    wait_for(lambda: "/console/policy?name=editable" in browser.current_url, what="the policy's page after saving")
    policy = admin.get("/admin/v1/policies/editable")[1]
    assert policy["match"]["prefix"] == "pb/" and policy["expire"]["after"] == "2592000s", policy


def test_delete_a_policy_a_tier_and_an_account_after_confirming(server, browser):
    from selenium.webdriver.common.by import By
    admin = Admin(server.endpoint)
    path = os.path.join(server.tier_path, "doomed")
    os.makedirs(path, exist_ok=True)
    assert admin.put("/admin/v1/tiers/doomed", {"type": "filesystem", "path": path})[0] in (200, 201)
    assert admin.put("/admin/v1/policies/doomed", {"match": {"bucket": "rec", "prefix": "dd/"},
                                                    "replicate": {"to": ["doomed"]}})[0] in (200, 201)
    status, account = admin.post("/admin/v1/accounts", {"name": "doomed", "allow": [{"bucket": "rec", "actions": ["read"]}]})
    assert status == 201, account
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)

    # The tier first: the admin API refuses while a policy replicates to it, and the page says why.
    browser.get(server.endpoint + "/console/tier?name=doomed")
    browser.find_element(By.ID, "delete-link").click()
    wait_for(lambda: browser.find_elements(By.ID, "confirm-delete"), what="the confirm step")
    assert admin.get("/admin/v1/tiers/doomed")[0] == 200  # asking deleted nothing
    browser.find_element(By.ID, "confirm-delete").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error"), what="the refusal")[0].text
    assert "doomed" in error and "replicate" in error, error

    browser.get(server.endpoint + "/console/policy?name=doomed")
    browser.find_element(By.ID, "delete-link").click()
    shot(browser, "admin-policy-confirm-delete")
    browser.find_element(By.ID, "confirm-delete").click()
    wait_for(lambda: browser.current_url.endswith("/console/policies"), what="the policy list")
    assert admin.get("/admin/v1/policies/doomed")[0] == 404

    browser.get(server.endpoint + "/console/tier?name=doomed")
    browser.find_element(By.ID, "delete-link").click()
    browser.find_element(By.ID, "confirm-delete").click()
    wait_for(lambda: browser.current_url.endswith("/console/tiers"), what="the tier list")
    assert admin.get("/admin/v1/tiers/doomed")[0] == 404

    # The account: disable, enable, then delete.
    browser.get(server.endpoint + "/console/account?accessKey=" + account["accessKey"])
    browser.find_element(By.ID, "toggle-enabled").click()
    wait_for(lambda: text_of(browser, "toggle-enabled") == "Enable account", what="the disabled account")
    assert admin.get("/admin/v1/accounts/" + account["accessKey"])[1]["enabled"] is False
    browser.find_element(By.ID, "toggle-enabled").click()
    wait_for(lambda: text_of(browser, "toggle-enabled") == "Disable account", what="the enabled account")
    assert admin.get("/admin/v1/accounts/" + account["accessKey"])[1]["enabled"] is True
    browser.find_element(By.ID, "delete-link").click()
    browser.find_element(By.ID, "cancel-delete").click()  # cancel leaves it
    assert admin.get("/admin/v1/accounts/" + account["accessKey"])[0] == 200
    browser.find_element(By.ID, "delete-link").click()
    browser.find_element(By.ID, "confirm-delete").click()
    wait_for(lambda: browser.current_url.endswith("/console/accounts"), what="the account list")
    assert admin.get("/admin/v1/accounts/" + account["accessKey"])[0] == 404


def test_items_from_the_file_or_from_s3_say_why_they_cannot_be_edited(server, browser):
    from selenium.webdriver.common.by import By
    s3 = server.client()
    s3.put_bucket_lifecycle_configuration(Bucket="rec", LifecycleConfiguration={"Rules": [
        {"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "lc/"}, "Expiration": {"Days": 30}}]})
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    for page, reason in [("/console/tier?name=filetier", "defined in the configuration file"),
                         ("/console/policy?name=s3-lifecycle:rec:old", "PutBucketLifecycleConfiguration"),
                         ("/console/account?accessKey=CAM1KEY", "defined in the configuration file")]:
        browser.get(server.endpoint + page)
        note = browser.find_element(By.ID, "not-editable").text
        assert reason in note, (page, note)
        for control in ["save-tier", "save-policy-edit", "toggle-enabled", "delete-link"]:
            assert not browser.find_elements(By.ID, control), (page, control)
    shot(browser, "admin-file-tier")
    # A form sent anyway is refused with the reason, and the file's tier stays as it is.
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    token = csrf_of(session, server, "/console/tiers")
    admin = Admin(server.endpoint)
    before = admin.get("/admin/v1/tiers/filetier")[1]
    for path, data in [("/console/tiers/edit", {"name": "filetier", "path": "/tmp"}),
                       ("/console/tiers/delete", {"name": "filetier"}),
                       ("/console/policies/edit", {"name": "s3-lifecycle:rec:old", "prefix": "x/", "action": "save"}),
                       ("/console/accounts/delete", {"accessKey": "CAM1KEY"})]:
        answer = session.post(server.endpoint + path, data=dict(data, csrf=token), timeout=10, allow_redirects=False)
        assert answer.status_code == 409 and "form-error" in answer.text, (path, answer.status_code)
    assert admin.get("/admin/v1/tiers/filetier")[1] == before
    assert admin.get("/admin/v1/accounts/CAM1KEY")[0] == 200
    s3.delete_bucket_lifecycle(Bucket="rec")
