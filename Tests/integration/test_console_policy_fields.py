"""The console's policy form has every field of the admin API's policy document (issue 20 item 5),
in headless Chromium against the real server: each field filled in the browser reaches the
policy, the edit page shows each one back, saving it unchanged changes nothing; a bad value is
named by the admin API's error and its field marked aria-invalid; a policy made in the form with
an expiry really deletes a recording (on a server clock two days ahead). Screenshots go to
test_console's dir."""
import os
import time

import pytest

from admin_client import Admin
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import browser, pytestmark, shot, sign_in, wait_for  # noqa: F401
from test_console_admin import fill, text_of

CONFIG = """storage: { lifecycleInterval: 1s }
buckets: [rec]
tiers:
  - { name: nas1, type: filesystem, path: "NAS1" }
"""

# Every field of the form, as typed (element id without the `p-`), and what the admin API then describes.
TYPED = {
    "name": "every-field", "bucket": "rec", "prefix": "cam3/", "key": "cam3/*.mp4", "account": "CAMKEY",
    "minSize": "1024", "maxSize": "1048576", "tier": "nas1", "mode": "on-demand", "versions": "current",
    "encryptedObjects": "plaintext", "expireAfter": "30d", "expireWhere": "everywhere", "noncurrentAfter": "7d",
    "keepNewerNoncurrent": "3", "lockMode": "GOVERNANCE", "lockDays": "5", "transitionAfter": "2d",
}
TEXTAREAS = {"metadata": "event-instancename=cam3", "tags": "case=4711\nkeep=yes"}
FLAGS = ["deletes", "expiredDeleteMarkers"]
DESCRIBED = {
    "match": {"bucket": "rec", "prefix": "cam3/", "key": "cam3/*.mp4", "account": "CAMKEY", "minSize": 1024,
              "maxSize": 1048576, "metadata": {"event-instancename": "cam3"}, "tags": {"case": "4711", "keep": "yes"}},
    "replicate": {"to": ["nas1"], "mode": "on-demand", "deletes": True, "versions": "current",
                  "encryptedObjects": "plaintext"},
    "expire": {"after": "2592000s", "where": "everywhere", "noncurrentAfter": "604800s", "keepNewerNoncurrent": 3,
               "expiredDeleteMarkers": True},
    "lock": {"mode": "GOVERNANCE", "days": 5},
    "transition": {"after": "172800s"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-policy-fields")
    os.mkdir(directory / "nas1")
    config = directory / "depot.yaml"
    config.write_text(CONFIG.replace("NAS1", str(directory / "nas1")))
    # The server's clock runs two days ahead: a recording stored now is two days old to its expiry.
    server = DepotServer(config=str(config), extra_env={"DEPOT_CLOCK_OFFSET_SECONDS": str(2 * 86400)}).start()
    yield server
    server.cleanup()


def value_of(browser, element_id):
    from selenium.webdriver.common.by import By
    element = browser.find_element(By.ID, element_id)
    if element.get_attribute("type") == "checkbox":
        return element.is_selected()
    return element.get_attribute("value")


def test_every_field_round_trips_through_the_create_and_edit_forms(server, browser):
    from selenium.webdriver.common.by import By
    admin = Admin(server.endpoint)
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/policies")
    fill(browser, {"p-" + name: value for name, value in {**TYPED, **TEXTAREAS}.items()})
    for name in FLAGS:
        browser.find_element(By.ID, "p-" + name).click()
    shot(browser, "policy-every-field")
    browser.find_element(By.ID, "save-policy").click()
    wait_for(lambda: "every-field" in text_of(browser, "policies"), what="the saved policy")
    status, saved = admin.get("/admin/v1/policies/every-field")
    assert status == 200, saved
    for part, described in DESCRIBED.items():
        assert saved[part] == described, (part, saved[part])

    browser.get(server.endpoint + "/console/policy?name=every-field")
    shown = {name: value_of(browser, "pe-" + name) for name in [*TYPED, *TEXTAREAS, *FLAGS] if name != "name"}
    assert shown == {**{k: v for k, v in TYPED.items() if k != "name"},
                     "metadata": TEXTAREAS["metadata"], "tags": TEXTAREAS["tags"],
                     "deletes": True, "expiredDeleteMarkers": True}, shown
    shot(browser, "policy-every-field-edit")
    browser.find_element(By.ID, "save-policy-edit").click()
    wait_for(lambda: "/console/policy?name=every-field" in browser.current_url and text_of(browser, "dry-matches-saved"),
             what="the policy's page after saving")
    assert admin.get("/admin/v1/policies/every-field")[1] == saved


@pytest.mark.parametrize("element, value, field", [
    ("expireAfter", "soon", "expire.after"),
    ("minSize", "big", "match.minSize"),
    ("lockDays", "lots", "lock.days"),
    ("encryptedObjects", "ciphertext", "replicate.encryptedObjects"),
    ("metadata", "not a pair", "match.metadata"),
])
def test_a_bad_value_is_named_and_its_field_marked(server, browser, element, value, field):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/policies")
    fill(browser, {"p-name": "bad", "p-bucket": "rec", "p-tier": "nas1", "p-lockMode": "GOVERNANCE",
                   "p-" + element: value})
    browser.find_element(By.ID, "save-policy").click()
    error = wait_for(lambda: text_of(browser, "form-error"), what="the form's error")
    assert error.startswith(field), error
    assert browser.find_element(By.ID, "p-" + element).get_attribute("aria-invalid") == "true"
    assert [e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, "[aria-invalid=true]")] == ["p-" + element]
    assert value_of(browser, "p-" + element) == value
    assert Admin(server.endpoint).get("/admin/v1/policies/bad")[0] == 404


def test_a_policy_made_in_the_form_with_an_expiry_deletes_old_recordings(server, browser):
    from selenium.webdriver.common.by import By
    s3 = server.client()
    s3.put_object(Bucket="rec", Key="short/old.mp4", Body=b"o" * 100)
    s3.put_object(Bucket="rec", Key="long/kept.mp4", Body=b"k" * 100)
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/policies")
    fill(browser, {"p-name": "short-lived", "p-bucket": "rec", "p-prefix": "short/", "p-expireAfter": "1d"})
    browser.find_element(By.ID, "dry-run-button").click()
    wait_for(lambda: text_of(browser, "dry-matches") == "1", what="the dry run")
    browser.find_element(By.ID, "save-policy").click()
    wait_for(lambda: "short-lived" in text_of(browser, "policies"), what="the saved policy")
    assert Admin(server.endpoint).get("/admin/v1/policies/short-lived")[1]["expire"]["after"] == "86400s"

    def keys():
        return sorted(o["Key"] for o in s3.list_objects_v2(Bucket="rec").get("Contents", []))
    # Expiry runs every second (storage.lifecycleInterval); the recording is two days old to it.
    deadline = time.time() + 20
    while "short/old.mp4" in keys() and time.time() < deadline:
        time.sleep(0.3)
    assert keys() == ["long/kept.mp4"]


def test_a_dry_run_of_long_keys_and_an_error_quoting_a_long_value_fit_a_phone(server, browser):
    """Keys and typed values have no spaces to wrap at: the dry run's list and the error quoting
    the value used to push the page sideways (1023 px wide at a 375 px viewport)."""
    from selenium.webdriver.common.by import By
    long_prefix = "long/" + "a" * 60 + "/"
    server.client().put_object(Bucket="rec", Key=long_prefix + "b" * 60 + ".mp4", Body=b"x")
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    try:
        browser.set_window_size(390, 844)
        browser.get(server.endpoint + "/console/policies")
        fill(browser, {"p-bucket": "rec", "p-prefix": long_prefix})
        browser.find_element(By.ID, "dry-run-button").click()
        wait_for(lambda: text_of(browser, "dry-matches") == "1", what="the dry run")
        widths = browser.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], ("dry run", widths)
        fill(browser, {"p-name": "phone", "p-expireAfter": "x" * 80})
        browser.find_element(By.ID, "save-policy").click()
        wait_for(lambda: text_of(browser, "form-error").startswith("expire.after"), what="the form's error")
        widths = browser.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], ("error", widths)
        shot(browser, "policy-phone-error")
    finally:
        browser.set_window_size(1280, 800)
