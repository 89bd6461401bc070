"""The console's policy forms with more than one tier, the replication mode and deletes (issue 20
item 5), in headless Chromium against the real server: a policy made in the browser copies a
boto3 upload to two filesystem tiers and removes both copies when the recording is deleted; its
edit to one tier, on demand, without deletes, leaves the next recording local until "Replicate
now"; a tier that does not exist or a mode the admin API does not know is named by its error.
Screenshots go to test_console's dir."""
import os
import time
import urllib.parse

import pytest

from admin_client import Admin
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import browser, pytestmark, shot, sign_in, wait_for  # noqa: F401
from test_console_admin import fill, text_of

CONFIG = """buckets: [rec]
tiers:
  - { name: nas1, type: filesystem, path: "NAS1" }
  - { name: nas2, type: filesystem, path: "NAS2" }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-policy-form")
    server_dirs = {name: str(directory / name) for name in ("nas1", "nas2")}
    for path in server_dirs.values():
        os.mkdir(path)
    config = directory / "depot.yaml"
    config.write_text(CONFIG.replace("NAS1", server_dirs["nas1"]).replace("NAS2", server_dirs["nas2"]))
    server = DepotServer(config=str(config)).start()
    server.tiers = server_dirs
    yield server
    server.cleanup()


def is_stale(element):
    from selenium.common.exceptions import StaleElementReferenceException
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True


def copied(server, tier, key):
    return os.path.exists(os.path.join(server.tiers[tier], key))


def test_a_policy_to_two_tiers_with_deletes_then_edited_to_one_tier_on_demand(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    s3 = server.client()
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/policies")
    fill(browser, {"p-name": "both", "p-bucket": "rec", "p-prefix": "both/", "p-tier": "nas1, nas2"})
    browser.find_element(By.ID, "p-deletes").click()
    browser.find_element(By.ID, "dry-run-button").click()
    wait_for(lambda: text_of(browser, "dry-matches") == "0", what="the dry run")
    # The dry run keeps the whole form as it was filled in.
    assert browser.find_element(By.ID, "p-tier").get_attribute("value") == "nas1, nas2"
    assert browser.find_element(By.ID, "p-deletes").is_selected()
    # The mode left at the admin API's default (continuous), which the menu's first entry names.
    assert Select(browser.find_element(By.ID, "p-mode")).first_selected_option.get_attribute("value") == ""
    browser.find_element(By.ID, "save-policy").click()
    wait_for(lambda: "both" in text_of(browser, "policies"), what="the saved policy")
    replicate = Admin(server.endpoint).get("/admin/v1/policies/both")[1]["replicate"]
    assert replicate["to"] == ["nas1", "nas2"] and replicate["deletes"] is True and replicate["mode"] == "continuous"

    s3.put_object(Bucket="rec", Key="both/a.mp4", Body=b"a" * 500)
    wait_for(lambda: copied(server, "nas1", "both/a.mp4") and copied(server, "nas2", "both/a.mp4"), timeout=20,
             what="the copies on both tiers")
    s3.delete_object(Bucket="rec", Key="both/a.mp4")
    wait_for(lambda: not copied(server, "nas1", "both/a.mp4") and not copied(server, "nas2", "both/a.mp4"),
             timeout=20, what="both copies deleted with the recording")

    # The edit: one tier, on demand, deletes off; prefilled from the policy first.
    browser.get(server.endpoint + "/console/policy?name=both")
    assert browser.find_element(By.ID, "pe-tier").get_attribute("value") == "nas1, nas2"
    assert browser.find_element(By.ID, "pe-deletes").is_selected()
    fill(browser, {"pe-tier": "nas2", "pe-mode": "on-demand"})
    browser.find_element(By.ID, "pe-deletes").click()
    shot(browser, "policy-edit-on-demand")
    save = browser.find_element(By.ID, "save-policy-edit")
    save.click()
    # The edit page posts to itself and comes back to the same address, so the address alone says
    # nothing about whether the save has happened (CI read the policy before it had): wait for the
    # page that was clicked to be replaced by the one answering the post.
    wait_for(lambda: is_stale(save), what="the policy's page answering the save")
    assert "/console/policy?name=both" in browser.current_url
    replicate = Admin(server.endpoint).get("/admin/v1/policies/both")[1]["replicate"]
    assert replicate["to"] == ["nas2"] and replicate["deletes"] is False and replicate["mode"] == "on-demand"
    assert Select(browser.find_element(By.ID, "pe-mode")).first_selected_option.get_attribute("value") == "on-demand"

    # On demand: the next recording stays local until Replicate now sends it.
    s3.put_object(Bucket="rec", Key="both/b.mp4", Body=b"b" * 500)
    time.sleep(1.5)
    assert not copied(server, "nas2", "both/b.mp4") and not copied(server, "nas1", "both/b.mp4")
    page = server.endpoint + "/console/object?" + urllib.parse.urlencode({"bucket": "rec", "key": "both/b.mp4"})
    browser.get(page)
    Select(browser.find_element(By.ID, "tier")).select_by_visible_text("nas2")
    browser.find_element(By.ID, "replicate").click()
    wait_for(lambda: copied(server, "nas2", "both/b.mp4"), timeout=20, what="the copy asked for")
    assert not copied(server, "nas1", "both/b.mp4")


@pytest.mark.parametrize("tiers, mode, field", [
    ("nas1, nowhere", "continuous", "replicate.to[1]"),
    ("nas1", "sometimes", "replicate.mode"),
])
def test_a_bad_tier_or_mode_is_named_by_the_admin_apis_error(server, browser, tiers, mode, field):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/policies")
    fill(browser, {"p-name": "bad", "p-bucket": "rec", "p-prefix": "x/", "p-tier": tiers})
    # A mode the menu does not offer, as a script-less client could send it.
    browser.execute_script("arguments[0].options[0].value = arguments[1]", browser.find_element(By.ID, "p-mode"), mode)
    browser.find_element(By.ID, "save-policy").click()
    error = wait_for(lambda: text_of(browser, "form-error"), what="the form's error")
    assert error.startswith(field), error
    assert browser.find_element(By.ID, "p-tier").get_attribute("value") == tiers
    assert Admin(server.endpoint).get("/admin/v1/policies/bad")[0] == 404


def test_the_policy_forms_fit_a_phone_sized_window(server, browser):
    status, body = Admin(server.endpoint).put("/admin/v1/policies/small", {
        "match": {"bucket": "rec", "prefix": "small/"}, "replicate": {"to": ["nas1"], "mode": "on-demand"}})
    assert status in (200, 201), body
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    try:
        browser.set_window_size(390, 844)
        for path in ["/console/policies", "/console/policy?name=small"]:
            browser.get(server.endpoint + path)
            width = browser.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert width[0] <= width[1], (path, width)
        shot(browser, "policy-edit-phone")
    finally:
        browser.set_window_size(1280, 800)
