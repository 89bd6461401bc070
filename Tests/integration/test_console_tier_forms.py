"""The console's tier forms cover every tier type the admin API accepts (issue 20 item 5), in
headless Chromium against the real server: each type's create form sends every setting the
type has and its edit form shows them all back (secrets excepted: never written into a page,
blank keeps the stored one), a GCS tier made and edited in the browser replicates to the real
gcp-storage-emulator with its service account key kept across the edit, and a bad field is
named by the admin API's own error and marked on the form. Screenshots go to test_console's dir."""
import json
import os
import re
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from admin_client import Admin
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import browser, pytestmark, shot, sign_in, wait_for  # noqa: F401
from test_console_admin import text_of
from test_tier_gcs import RecordingProxy, TokenEndpoint, emulator, remote  # noqa: F401

AZURE_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
# Every setting of every type, with values the admin API shows back as typed (sizes in bytes).
COMMON = {"prefix": "p/", "includeBucket": True, "concurrency": "3", "maxAttempts": "5", "failingAfter": "10m",
          "bandwidth": "1048576", "window": "22:00-06:00"}
EVERY_SETTING = {
    "filesystem": {"path": "TIER_DIR"},
    "s3": {"endpoint": "http://127.0.0.1:9", "region": "eu-west-1", "bucket": "b", "accessKey": "s3-access",
           "secretKey": "s3-secret-value", "pathStyle": False, "objectLock": True, "serverSideEncryption": "aws:kms",
           "kmsKeyId": "key-1", "multipartThreshold": "8388608", "partSize": "5242880"},
    "gcs": {"bucket": "archive", "endpoint": "http://127.0.0.1:9", "tokenUri": "http://127.0.0.1:9/token",
            "chunkSize": "524288"},
    "azure": {"account": "acct", "container": "c", "endpoint": "http://127.0.0.1:9/acct", "accountKey": AZURE_KEY,
              "sas": "sv=1&sig=azure-sas-value", "blockThreshold": "1048576", "blockSize": "262144"},
    "vault": {"endpoint": "http://127.0.0.1:9/api", "accessKey": "vault-access", "secretKey": "vault-secret-value",
              "provider": "minio", "chunkSize": "1048576"},
}
SECRETS = {"secretKey", "accountKey", "sas", "credentials"}
# Fields a type has that the round trip leaves blank: a GCS key is pasted or named by its file
# (the gcs test below pastes one; with a custom endpoint and none, requests are unauthenticated).
LEFT_BLANK = {"gcs": {"credentials", "credentialsFile"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-tier-forms")
    config = directory / "depot.yaml"
    config.write_text("buckets: [rec]\n")
    server = DepotServer(config=str(config)).start()
    server.tier_dir = str(directory / "tier")
    os.mkdir(server.tier_dir)
    yield server
    server.cleanup()


def element_id(prefix, field):
    return f"{prefix}-" + {"accessKey": "access", "secretKey": "secret"}.get(field, field)


def set_fields(driver, prefix, values):
    """Types text fields and ticks or unticks boxes, by field name."""
    from selenium.webdriver.common.by import By
    for field, value in values.items():
        element = driver.find_element(By.ID, element_id(prefix, field))
        if element.get_attribute("type") == "checkbox":
            if element.is_selected() != value:
                element.click()
        else:
            element.clear()
            element.send_keys(value)


def choose_type(driver, server, kind):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    driver.get(server.endpoint + "/console/tiers")
    Select(driver.find_element(By.ID, "t-type")).select_by_value(kind)  # the script loads its fields at once
    wait_for(lambda: text_of(driver, "tier-form-kind") == f"A new {kind} tier", what=f"the {kind} form")


def form_fields(driver, form_id):
    from selenium.webdriver.common.by import By
    form = driver.find_element(By.ID, form_id)
    return {e.get_attribute("name") for e in form.find_elements(By.CSS_SELECTOR, "input, textarea")
            if e.get_attribute("type") != "hidden"}


def shown(tier, field):
    """A setting as the admin API describes it (encryption is one object there)."""
    if field in ("serverSideEncryption", "kmsKeyId"):
        encryption = tier.get("serverSideEncryption", {})
        return encryption.get("algorithm" if field == "serverSideEncryption" else "kmsKeyId")
    if field == "failingAfter":
        return f"{tier['failingAfterSeconds'] // 60}m"
    return tier.get(field)


def test_the_type_menu_lists_exactly_the_types_the_admin_api_accepts(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    status, refusal = Admin(server.endpoint).put("/admin/v1/tiers/x", {"type": "nope"})
    assert status == 400 and refusal["field"] == "type", refusal
    accepted = set(re.findall(r"[a-z0-9]+", refusal["error"].split("got")[0])) - {"must", "be", "or"}
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/tiers")
    offered = {o.get_attribute("value") for o in Select(browser.find_element(By.ID, "t-type")).options}
    assert offered == accepted == set(EVERY_SETTING), (offered, accepted)


@pytest.mark.parametrize("kind", list(EVERY_SETTING))
def test_every_setting_of_each_type_goes_in_through_the_form_and_comes_back_in_the_edit_form(server, browser, kind):
    from selenium.webdriver.common.by import By
    settings = {k: (v.replace("TIER_DIR", server.tier_dir) if isinstance(v, str) else v)
                for k, v in dict(EVERY_SETTING[kind], **COMMON).items()}
    settings["storageClass"] = "COLD_" + kind.upper()
    name = f"every-{kind}"
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    choose_type(browser, server, kind)
    # The form has exactly this type's settings (and its name): none missing, none of another type.
    blank = LEFT_BLANK.get(kind, set())
    assert form_fields(browser, "tier-form") == set(settings) | blank | {"name"}
    set_fields(browser, "t", dict(settings, name=name))
    browser.find_element(By.ID, "create-tier").click()
    wait_for(lambda: f"/console/tier?name={name}" in browser.current_url,
             what=f"the new tier's page ({browser.find_elements(By.ID, 'form-error') and browser.find_element(By.ID, 'form-error').text})")
    admin = Admin(server.endpoint)
    tier = admin.get(f"/admin/v1/tiers/{name}")[1]
    assert tier["type"] == kind
    for field, value in settings.items():
        if field in SECRETS:
            assert tier[field] == "********", (field, tier)
        elif isinstance(value, bool):
            assert tier[field] is value, (field, tier)
        else:
            assert str(shown(tier, field)) == value, (field, tier)
    # The edit form shows every setting back, each secret blank and nowhere in the page.
    assert form_fields(browser, "tier-edit-form") == set(settings) | blank
    for field, value in settings.items():
        element = browser.find_element(By.ID, element_id("e", field))
        if field in SECRETS:
            assert element.get_attribute("value") == "" and value not in browser.page_source, field
            assert "leave blank to keep" in browser.find_element(By.CSS_SELECTOR, f"label[for={element.get_attribute('id')}]").text
        elif isinstance(value, bool):
            assert element.is_selected() is value, field
        else:
            assert element.get_attribute("value") == value, field
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "tier-edit-form"))
    shot(browser, f"tier-form-{kind}-edit")
    # Saved as shown, nothing changes (no setting reset to its default, no secret lost).
    browser.find_element(By.ID, "save-tier").click()
    wait_for(lambda: browser.current_url.endswith(f"/console/tier?name={name}"), what="the tier's page after saving")
    assert not browser.find_elements(By.ID, "form-error")
    assert admin.get(f"/admin/v1/tiers/{name}")[1] == tier


def test_a_gcs_tier_made_and_edited_in_the_browser_replicates_to_the_emulator(server, browser, emulator,  # noqa: F811
                                                                              tmp_path):
    from selenium.webdriver.common.by import By
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    email = "depot-console@project.iam.gserviceaccount.com"
    tokens = TokenEndpoint(key.public_key(), email)
    proxy = RecordingProxy(emulator)  # records each request's Authorization
    credentials = json.dumps({"type": "service_account", "client_email": email, "private_key": pem,
                              "token_uri": tokens.url})
    key_line = pem.splitlines()[5]  # a piece of the private key the page must never show
    try:
        sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
        choose_type(browser, server, "gcs")
        set_fields(browser, "t", {"name": "gcs", "bucket": "archive", "endpoint": f"http://127.0.0.1:{proxy.port}",
                                  "prefix": "site-a/", "chunkSize": "256KiB"})
        # A pasted key (set by script: typing 2,000 characters one by one would take seconds).
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, "t-credentials"),
                               credentials)
        shot(browser, "tier-form-gcs-new")
        browser.find_element(By.ID, "create-tier").click()
        wait_for(lambda: "/console/tier?name=gcs" in browser.current_url, what="the gcs tier's page")
        facts = browser.find_element(By.ID, "tier-facts").text
        assert "gcs" in facts and "site-a/" in facts and "credentials ********" in facts, facts
        assert key_line not in browser.page_source
        browser.find_element(By.ID, "check").click()
        wait_for(lambda: browser.find_elements(By.ID, "check-result"), what="the check's result")
        assert "Check passed" in browser.page_source, browser.find_element(By.ID, "check-result").text
        assert tokens.calls and set(proxy.authorizations) == {"Bearer token-from-test"}
        shot(browser, "tier-gcs-checked")

        # The edit: a new prefix and chunk size, the key left blank (kept).
        assert browser.find_element(By.ID, "e-credentials").get_attribute("value") == ""
        assert browser.find_element(By.ID, "e-chunkSize").get_attribute("value") == str(256 * 1024)
        set_fields(browser, "e", {"prefix": "site-b/", "chunkSize": "512KiB"})
        browser.find_element(By.ID, "save-tier").click()
        wait_for(lambda: "site-b/" in text_of(browser, "tier-facts"), what="the edited prefix")
        assert key_line not in browser.page_source
        tier = Admin(server.endpoint).get("/admin/v1/tiers/gcs")[1]
        assert tier["prefix"] == "site-b/" and tier["chunkSize"] == 512 * 1024 and tier["credentials"] == "********"
        seen = len(proxy.authorizations)
        browser.find_element(By.ID, "check").click()
        wait_for(lambda: browser.find_elements(By.ID, "check-result"), what="the second check's result")
        assert "Check passed" in browser.page_source
        # Still signed with the kept key (a lost key would leave the requests unauthenticated).
        assert proxy.authorizations[seen:] and set(proxy.authorizations[seen:]) == {"Bearer token-from-test"}

        # A new key named by its file replaces the kept one: its own token endpoint is the one asked now.
        new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        new_tokens = TokenEndpoint(new_key.public_key(), email)
        key_file = tmp_path / "new-key.json"
        key_file.write_text(json.dumps({"type": "service_account", "client_email": email, "token_uri": new_tokens.url,
                                        "private_key": new_key.private_bytes(
                                            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode()}))
        set_fields(browser, "e", {"credentialsFile": str(key_file)})
        browser.find_element(By.ID, "save-tier").click()
        wait_for(lambda: "/console/tier?name=gcs" in browser.current_url and not browser.find_elements(By.ID, "check-result")
                 and browser.find_elements(By.ID, "check"), what="the tier's page after the key change")
        browser.find_element(By.ID, "check").click()
        wait_for(lambda: browser.find_elements(By.ID, "check-result"), what="the third check's result")
        assert "Check passed" in browser.page_source
        assert new_tokens.calls, "the new key was not used"
        new_tokens.server.shutdown()

        status, body = Admin(server.endpoint).put("/admin/v1/policies/to-gcs", {
            "match": {"bucket": "rec", "prefix": "gcs/"}, "replicate": {"to": ["gcs"]}})
        assert status in (200, 201), body
        s3 = server.client()
        data = os.urandom(700 * 1024)  # two chunks of 512 KiB
        s3.put_object(Bucket="rec", Key="gcs/clip.mp4", Body=data, ContentType="video/mp4")
        deadline = time.time() + 30
        while s3.head_object(Bucket="rec", Key="gcs/clip.mp4").get("ReplicationStatus") != "COMPLETED":
            assert time.time() < deadline, "the copy to the gcs tier made in the browser"
            time.sleep(0.2)
        copied = remote(emulator, "site-b/gcs/clip.mp4")
        assert copied.status_code == 200 and copied.content == data
    finally:
        Admin(server.endpoint).delete("/admin/v1/policies/to-gcs")
        Admin(server.endpoint).delete("/admin/v1/tiers/gcs")
        tokens.server.shutdown()
        proxy.server.shutdown()


@pytest.mark.parametrize("values, field", [
    ({"bucket": "archive", "endpoint": "http://127.0.0.1:9", "chunkSize": "100KiB"}, "chunkSize"),
    ({"endpoint": "http://127.0.0.1:9"}, "bucket"),
    ({"bucket": "archive", "endpoint": "ftp://127.0.0.1:9"}, "endpoint"),
    ({"bucket": "archive", "credentials": "{\"type\": \"service_account\"}"}, "credentials"),
    ({"bucket": "archive", "endpoint": "http://127.0.0.1:9", "concurrency": "many"}, "concurrency"),
])
def test_a_bad_gcs_field_is_named_and_marked_and_the_form_keeps_the_rest(server, browser, values, field):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    choose_type(browser, server, "gcs")
    set_fields(browser, "t", dict(values, name="bad-gcs"))
    browser.find_element(By.ID, "create-tier").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error"), what="the form's error")[0].text
    assert error.startswith(field + ":"), error
    assert browser.find_element(By.ID, "t-" + field).get_attribute("aria-invalid") == "true"
    others = [e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, "[aria-invalid=true]")]
    assert others == ["t-" + field], others
    # Still the gcs form, with what was typed (a typed key is not written back).
    assert browser.find_element(By.ID, "tier-form-kind").text == "A new gcs tier"
    assert browser.find_element(By.ID, "t-name").get_attribute("value") == "bad-gcs"
    for name, value in values.items():
        expected = "" if name == "credentials" else value
        assert browser.find_element(By.ID, "t-" + name).get_attribute("value") == expected, name
    if field == "chunkSize":
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", browser.find_element(By.ID, "t-chunkSize"))
        shot(browser, "tier-form-gcs-error")
    assert Admin(server.endpoint).get("/admin/v1/tiers/bad-gcs")[0] == 404


def test_a_bad_edit_of_a_gcs_tier_is_named_and_changes_nothing(server, browser, emulator):  # noqa: F811
    from selenium.webdriver.common.by import By
    admin = Admin(server.endpoint)
    status, before = admin.put("/admin/v1/tiers/gcs-edit", {"type": "gcs", "bucket": "archive", "endpoint": emulator})
    assert status == 201, before
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/tier?name=gcs-edit")
    set_fields(browser, "e", {"chunkSize": "1000", "prefix": "changed/"})
    browser.find_element(By.ID, "save-tier").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error"), what="the edit's error")[0].text
    assert error.startswith("chunkSize:") and "256KiB" in error, error
    assert browser.find_element(By.ID, "e-chunkSize").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "e-prefix").get_attribute("value") == "changed/"  # what was typed stays
    assert admin.get("/admin/v1/tiers/gcs-edit")[1] == before
    browser.find_element(By.ID, "check").click()
    wait_for(lambda: browser.find_elements(By.ID, "check-result"), what="the check's result")
    assert "Check passed" in browser.page_source, browser.find_element(By.ID, "check-result").text
    admin.delete("/admin/v1/tiers/gcs-edit")


def test_each_types_forms_have_named_controls_and_fit_a_phone_sized_window(server, browser):
    from test_console_accessibility import unnamed_controls
    admin = Admin(server.endpoint)
    for kind, settings in EVERY_SETTING.items():
        document = {k: v.replace("TIER_DIR", server.tier_dir) if isinstance(v, str) else v for k, v in settings.items()
                    if k not in ("serverSideEncryption", "kmsKeyId")}  # one object in the API, two fields on the form
        status, body = admin.put(f"/admin/v1/tiers/small-{kind}", dict(document, type=kind))
        assert status in (200, 201), body
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    try:
        browser.set_window_size(390, 844)
        for kind in EVERY_SETTING:
            for path in [f"/console/tiers?type={kind}", f"/console/tier?name=small-{kind}"]:
                browser.get(server.endpoint + path)
                assert unnamed_controls(browser) == [], path
                width = browser.execute_script(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
                assert width[0] <= width[1], (path, width)
        shot(browser, "tier-form-vault-phone")
    finally:
        browser.set_window_size(1280, 800)
        for kind in EVERY_SETTING:
            admin.delete(f"/admin/v1/tiers/small-{kind}")
