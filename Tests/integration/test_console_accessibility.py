"""The console's accessibility basics (issue 20 item 6), in headless Chromium against the real
server: on every page a root user can reach, every form control has an accessible name (a
<label for>, aria-label or its text, as the browser computes it), the video player and the
tables are named, the keyboard reaches the main content from the top of the page (through the
skip link, and by Tab alone in the page's own order), and the focused control has a visible
outline."""
import os

import pytest

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from admin_client import Admin
from test_console import browser, movie, pytestmark, shot, sign_in  # noqa: F401

CONFIG = """buckets: [rec]
tiers:
  - { name: filetier, type: filesystem, path: "FILE_TIER_PATH" }
accounts:
  - name: cam1
    accessKey: CAM1KEY
    secretKey: cam1-secret-1234
    allow: [{ bucket: rec, prefix: "cam1/", actions: [read, write, list, delete] }]
"""
KEY = "cam1/1764900000_6-967003_frontdoor_200-200-400-400_24_3000.mp4"
# What the keyboard can stop on, in the page's order (hidden inputs are not reachable).
FOCUSABLE = ("a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, "
             "video[controls], [tabindex]:not([tabindex='-1'])")


@pytest.fixture(scope="module")
def server(movie, tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-a11y")
    os.mkdir(directory / "filetier")
    os.mkdir(directory / "apitier")
    config = directory / "depot.yaml"
    config.write_text(CONFIG.replace("FILE_TIER_PATH", str(directory / "filetier")))
    server = DepotServer(config=str(config)).start()
    admin = Admin(server.endpoint)
    assert admin.put("/admin/v1/tiers/apitier", {"type": "filesystem", "path": str(directory / "apitier")})[0] == 201
    assert admin.put("/admin/v1/policies/to-api", {"match": {"bucket": "rec", "prefix": "cam1/"},
                                                    "replicate": {"to": ["apitier"]}})[0] == 201
    status, account = admin.post("/admin/v1/accounts", {"name": "viewer", "allow": [{"bucket": "rec", "actions": ["read"]}]})
    assert status == 201, account
    server.api_account = account["accessKey"]
    server.client().put_object(Bucket="rec", Key=KEY, Body=movie, ContentType="video/mp4",
                               Metadata={"event-instancename": "frontdoor"})
    yield server
    server.cleanup()


def pages(server):
    return ["/console/buckets", "/console/list?bucket=rec", "/console/list?bucket=rec&prefix=cam1/",
            "/console/timeline?bucket=rec&camera=frontdoor&day=2025-12-05",
            "/console/object?bucket=rec&key=" + KEY, "/console/dashboard", "/console/cameras",
            "/console/tiers", "/console/tier?name=apitier", "/console/tier?name=apitier&confirm=delete",
            "/console/tier?name=filetier", "/console/policies", "/console/policy?name=to-api",
            "/console/accounts", "/console/account?accessKey=" + server.api_account,
            "/console/account?accessKey=CAM1KEY", "/console/events"]


def unnamed_controls(driver):
    from selenium.webdriver.common.by import By
    missing = []
    for element in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea, button, video"):
        if not (element.accessible_name or "").strip():
            missing.append(element.get_attribute("outerHTML")[:120])
    return missing


def test_every_control_on_every_page_has_an_accessible_name_and_every_table_a_header(server, browser):
    from selenium.webdriver.common.by import By
    browser.delete_all_cookies()
    browser.get(server.endpoint + "/console/signin")
    assert unnamed_controls(browser) == []
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    for page in pages(server):
        browser.get(server.endpoint + page)
        assert browser.find_elements(By.TAG_NAME, "main"), page
        assert unnamed_controls(browser) == [], page
        for table in browser.find_elements(By.TAG_NAME, "table"):
            assert table.find_elements(By.TAG_NAME, "th"), (page, table.get_attribute("outerHTML")[:120])
    browser.get(server.endpoint + "/console/object?bucket=rec&key=" + KEY)
    player = browser.find_element(By.ID, "player")
    assert "frontdoor" in player.accessible_name or KEY in player.accessible_name, player.accessible_name
    assert browser.find_element(By.CSS_SELECTOR, "figure figcaption").text


def tab(driver):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    ActionChains(driver).send_keys(Keys.TAB).perform()
    return driver.switch_to.active_element


def test_the_keyboard_reaches_the_main_content_from_the_top_of_every_page(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    without_controls = []
    for page in pages(server):
        browser.get(server.endpoint + page)
        main_first = browser.find_element(By.CSS_SELECTOR, "main").find_elements(By.CSS_SELECTOR, FOCUSABLE)
        main_first = [element for element in main_first if element.is_displayed()]
        if not main_first:  # a page with nothing to operate in its main content (no cameras yet)
            without_controls.append(page)
            continue
        main_first = main_first[0]
        in_order = [element for element in browser.find_elements(By.CSS_SELECTOR, FOCUSABLE)]
        # Tab alone from the top: the skip link, the navigation, sign-out, then the main content's
        # first control, each in the page's order.
        reached = []
        for _ in range(len(in_order) + 2):
            active = tab(browser)
            reached.append(active)
            if active == main_first:
                break
        assert reached[-1] == main_first, (page, [element.get_attribute("outerHTML")[:60] for element in reached])
        shown = [element for element in in_order if element.is_displayed() or element.get_attribute("class") == "skip"]
        assert reached == shown[:len(reached)], (page, [e.get_attribute("outerHTML")[:50] for e in reached],
                                                 [e.get_attribute("outerHTML")[:50] for e in shown[:len(reached)]])
        outline = browser.execute_script(
            "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]")
        assert outline[0] != "none" and outline[1] != "0px", (page, outline)
        # The skip link: Tab, Enter, Tab lands on the main content's first control.
        browser.get(server.endpoint + page)
        main_first = [element for element in browser.find_element(By.TAG_NAME, "main").find_elements(
            By.CSS_SELECTOR, FOCUSABLE) if element.is_displayed()][0]
        skip = tab(browser)
        assert skip.text == "Skip to content" or skip.get_attribute("class") == "skip", page
        skip.send_keys(Keys.ENTER)
        assert tab(browser) == main_first, page
    # Pages with nothing to operate in their main content here (no cameras; figures only).
    assert without_controls == ["/console/dashboard", "/console/cameras"], without_controls
    shot(browser, "a11y-focus")
