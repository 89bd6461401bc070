"""Object Lock from the web console (issue 20: investigators "lock or export" a recording): the
legal hold switch and the retention form on a recording's page, in a real headless Chromium
against the real server, checked with boto3 (the S3 door must see exactly what the console set,
and refuse what S3 refuses). The console goes through the S3 door itself, so the S3 rules and
the access rule apply unchanged: COMPLIANCE is never shortened, GOVERNANCE only with the bypass
permission, and an account without s3:PutObjectLegalHold / s3:PutObjectRetention sees no
controls and is refused when it forges the form."""
import datetime
import re

import pytest
from botocore.exceptions import ClientError

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import browser, csrf_of, shot, sign_in, signed_in_session, wait_for  # noqa: F401 (fixtures)
from test_console import pytestmark  # noqa: F401 (same skip when chromium or selenium is missing)

CONFIG = """buckets: [plain]
accounts:
  - name: viewer
    accessKey: VIEWERKEY
    secretKey: viewer-secret-1234
    allow: [{ bucket: evidence, prefix: "", actions: [read, list] }, { bucket: plain, prefix: "", actions: [read, list] }]
  - name: investigator
    accessKey: INVESTKEY
    secretKey: invest-secret-1234
    allow: [{ bucket: evidence, prefix: "", actions: [read, write, list] }]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-lock")
    config = directory / "depot.yaml"
    config.write_text(CONFIG)
    server = DepotServer(config=str(config)).start()
    server.client().create_bucket(Bucket="evidence", ObjectLockEnabledForBucket=True)
    yield server
    server.cleanup()


def upload(server, key, bucket="evidence"):
    return server.client().put_object(Bucket=bucket, Key=key, Body=b"recording bytes").get("VersionId")


def object_path(key, bucket="evidence"):
    return f"/console/object?bucket={bucket}&key={key}"


def minute(days_ahead):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days_ahead)
    return when.replace(second=0, microsecond=0)


def submit_retention(browser, mode, until):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    Select(browser.find_element(By.ID, "lock-mode")).select_by_value(mode)
    # A datetime-local field's typing order depends on the browser's locale; its value is what the form sends.
    browser.execute_script("document.getElementById('lock-until').value = arguments[0]", until.strftime("%Y-%m-%dT%H:%M"))
    browser.find_element(By.ID, "set-retention").click()


def hold_pressed(browser):
    """The legal hold button's aria-pressed, or None while the next page loads."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    try:
        return browser.find_element(By.ID, "legal-hold").get_attribute("aria-pressed")
    except (NoSuchElementException, StaleElementReferenceException):
        return None


def test_legal_hold_set_in_the_console_is_seen_by_s3_and_stops_a_delete(server, browser):
    from selenium.webdriver.common.by import By
    key = "cam1/hold.mp4"
    version = upload(server, key)
    client = server.client()
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + object_path(key))
    button = browser.find_element(By.ID, "legal-hold")
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    wait_for(lambda: hold_pressed(browser) == "true",
             what="the legal hold shown as on")
    shot(browser, "object-lock-legal-hold")
    assert "legal hold" in browser.find_element(By.CSS_SELECTOR, "table.facts").text
    assert client.get_object_legal_hold(Bucket="evidence", Key=key)["LegalHold"]["Status"] == "ON"
    with pytest.raises(ClientError) as refused:
        client.delete_object(Bucket="evidence", Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # Lifting it in the console lets the version go.
    browser.find_element(By.ID, "legal-hold").click()
    wait_for(lambda: hold_pressed(browser) == "false",
             what="the legal hold shown as off")
    assert client.get_object_legal_hold(Bucket="evidence", Key=key)["LegalHold"]["Status"] == "OFF"
    client.delete_object(Bucket="evidence", Key=key, VersionId=version)


def test_compliance_retention_set_in_the_console_matches_s3_and_cannot_be_shortened(server, browser):
    from selenium.webdriver.common.by import By
    key = "cam1/compliance.mp4"
    upload(server, key)
    client = server.client()
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + object_path(key))
    until = minute(2)
    submit_retention(browser, "COMPLIANCE", until)
    wait_for(lambda: "COMPLIANCE until" in browser.execute_script(
        "return (document.querySelector('table.facts') || {textContent: ''}).textContent"),
             what="the retention shown")
    retention = client.get_object_retention(Bucket="evidence", Key=key)["Retention"]
    assert retention["Mode"] == "COMPLIANCE" and retention["RetainUntilDate"] == until, retention
    # The form shows the current retention; shortening it is refused with the S3 rule's own words, on the field.
    assert browser.find_element(By.ID, "lock-until").get_attribute("value") == until.strftime("%Y-%m-%dT%H:%M")
    submit_retention(browser, "COMPLIANCE", minute(1))
    error = wait_for(lambda: browser.execute_script(
        "return (document.getElementById('lock-error') || {}).textContent"), what="the refusal")
    shot(browser, "object-lock-compliance-refused")
    assert error.startswith("retainUntil:") and "a COMPLIANCE retention can only be extended" in error, error
    assert browser.find_element(By.ID, "lock-until").get_attribute("aria-invalid") == "true"
    # Changing the mode (or removing it) is refused too, and names the mode.
    submit_retention(browser, "GOVERNANCE", minute(3))
    error = wait_for(lambda: [text for text in [browser.execute_script(
        "return (document.getElementById('lock-error') || {}).textContent")] if text and text.startswith("mode:")],
        what="the refusal naming the mode")[0]
    assert error.startswith("mode:") and "COMPLIANCE" in error, error
    assert client.get_object_retention(Bucket="evidence", Key=key)["Retention"] == retention
    # Extending is allowed.
    extended = minute(4)
    submit_retention(browser, "COMPLIANCE", extended)
    wait_for(lambda: client.get_object_retention(Bucket="evidence", Key=key)["Retention"]["RetainUntilDate"] == extended,
             what="the extended retention")


def test_governance_is_shortened_only_with_the_bypass_permission(server):
    key = "cam1/governance.mp4"
    upload(server, key)
    client = server.client()
    session, _ = signed_in_session(server, "INVESTKEY", "invest-secret-1234")
    page = session.get(server.endpoint + object_path(key), timeout=10).text
    # It may set retention (write), but not bypass (that needs admin): no bypass box.
    assert 'id="retention-form"' in page and 'id="lock-bypass"' not in page
    token = csrf_of(session, server, object_path(key))
    form = {"csrf": token, "bucket": "evidence", "key": key, "mode": "GOVERNANCE"}
    later, sooner = minute(3), minute(1)
    answer = session.post(server.endpoint + "/console/lock/retention", timeout=10, allow_redirects=False,
                          data={**form, "retainUntil": later.strftime("%Y-%m-%dT%H:%M")})
    assert answer.status_code == 303, answer.text
    # A forged bypass box changes nothing: the S3 door decides the bypass.
    refused = session.post(server.endpoint + "/console/lock/retention", timeout=10, allow_redirects=False,
                           data={**form, "retainUntil": sooner.strftime("%Y-%m-%dT%H:%M"), "bypassGovernance": "on"})
    assert refused.status_code == 403 and "GOVERNANCE retention can only be shortened" in refused.text, refused.text
    assert client.get_object_retention(Bucket="evidence", Key=key)["Retention"]["RetainUntilDate"] == later
    # Root holds the permission: with the box it shortens, then removes it.
    root, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    assert 'id="lock-bypass"' in root.get(server.endpoint + object_path(key), timeout=10).text
    token = csrf_of(root, server, object_path(key))
    root_form = {**form, "csrf": token, "bypassGovernance": "on"}
    without_box = root.post(server.endpoint + "/console/lock/retention", timeout=10, allow_redirects=False,
                            data={**root_form, "bypassGovernance": "", "retainUntil": sooner.strftime("%Y-%m-%dT%H:%M")})
    assert without_box.status_code == 403, without_box.text
    shortened = root.post(server.endpoint + "/console/lock/retention", timeout=10, allow_redirects=False,
                          data={**root_form, "retainUntil": sooner.strftime("%Y-%m-%dT%H:%M")})
    assert shortened.status_code == 303, shortened.text
    assert client.get_object_retention(Bucket="evidence", Key=key)["Retention"]["RetainUntilDate"] == sooner
    removed = root.post(server.endpoint + "/console/lock/retention", timeout=10, allow_redirects=False,
                        data={**root_form, "mode": "NONE", "retainUntil": ""})
    assert removed.status_code == 303, removed.text
    with pytest.raises(ClientError) as none:
        client.get_object_retention(Bucket="evidence", Key=key)
    assert none.value.response["Error"]["Code"] == "NoSuchObjectLockConfiguration"


def test_bad_retention_fields_are_named(server):
    key = "cam1/bad-fields.mp4"
    upload(server, key)
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    token = csrf_of(session, server, object_path(key))
    base = {"csrf": token, "bucket": "evidence", "key": key}
    for fields, named in [({"mode": "COMPLIANCE", "retainUntil": "next tuesday"}, "retainUntil:"),
                          ({"mode": "FOREVER", "retainUntil": "2031-01-01T00:00"}, "mode:"),
                          ({"mode": "COMPLIANCE", "retainUntil": "2001-01-01T00:00"}, "retainUntil:")]:
        answer = session.post(server.endpoint + "/console/lock/retention", data={**base, **fields}, timeout=10,
                              allow_redirects=False)
        assert answer.status_code == 400, answer.text
        error = re.search(r'id="lock-error">([^<]*)<', answer.text).group(1)
        assert error.startswith(named), error
    hold = session.post(server.endpoint + "/console/lock/legal-hold", data={**base, "legalHold": "MAYBE"}, timeout=10,
                        allow_redirects=False)
    assert hold.status_code == 400 and 'id="lock-error">legalHold:' in hold.text, hold.text


def test_accounts_without_the_permission_and_buckets_without_object_lock_show_no_controls(server):
    key = "cam1/viewer.mp4"
    upload(server, key)
    upload(server, key, bucket="plain")
    client = server.client()
    viewer, _ = signed_in_session(server, "VIEWERKEY", "viewer-secret-1234")
    page = viewer.get(server.endpoint + object_path(key), timeout=10)
    assert page.status_code == 200 and key in page.text
    assert 'id="object-lock"' not in page.text and "/console/lock/" not in page.text
    # A forged form (with a good CSRF token) is refused by the access rule, and changes nothing.
    token = csrf_of(viewer, server, object_path(key))
    base = {"csrf": token, "bucket": "evidence", "key": key}
    hold = viewer.post(server.endpoint + "/console/lock/legal-hold", data={**base, "legalHold": "ON"}, timeout=10,
                       allow_redirects=False)
    assert hold.status_code == 403, hold.text
    retain = viewer.post(server.endpoint + "/console/lock/retention", timeout=10, allow_redirects=False,
                         data={**base, "mode": "COMPLIANCE", "retainUntil": minute(2).strftime("%Y-%m-%dT%H:%M")})
    assert retain.status_code == 403, retain.text
    assert client.get_object_legal_hold(Bucket="evidence", Key=key)["LegalHold"]["Status"] == "OFF"
    with pytest.raises(ClientError):
        client.get_object_retention(Bucket="evidence", Key=key)
    # Root sees the controls in the locked bucket, none in a bucket without Object Lock.
    root, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    assert 'id="object-lock"' in root.get(server.endpoint + object_path(key), timeout=10).text
    assert 'id="object-lock"' not in root.get(server.endpoint + object_path(key, bucket="plain"), timeout=10).text


def test_lock_forms_without_the_csrf_token_are_refused(server):
    key = "cam1/csrf.mp4"
    upload(server, key)
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    base = {"bucket": "evidence", "key": key}
    for extra in [{}, {"csrf": "0" * 64}]:
        hold = session.post(server.endpoint + "/console/lock/legal-hold", data={**base, **extra, "legalHold": "ON"},
                            timeout=10, allow_redirects=False)
        assert hold.status_code == 403 and "CSRF" in hold.text, hold.text
        retain = session.post(server.endpoint + "/console/lock/retention", timeout=10, allow_redirects=False,
                              data={**base, **extra, "mode": "COMPLIANCE",
                                    "retainUntil": minute(2).strftime("%Y-%m-%dT%H:%M")})
        assert retain.status_code == 403 and "CSRF" in retain.text, retain.text
    client = server.client()
    assert client.get_object_legal_hold(Bucket="evidence", Key=key)["LegalHold"]["Status"] == "OFF"
    with pytest.raises(ClientError):
        client.get_object_retention(Bucket="evidence", Key=key)
