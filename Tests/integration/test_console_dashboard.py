"""The console's dashboard, recordings timeline and filters, and a failed replication retried
from the browser (issue 20 items 2-4), in a real headless Chromium against the real server.

The module's server counts every byte the tests upload (`put`), so the dashboard's last-hour
chart must show exactly that total. Recordings carry the user metadata a Kerberos Agent sends
(event-instancename, event-timestamp, duration, fps). The `flaky` tier is a filesystem tier under
a path whose parent is a regular file: every copy fails at once (ENOTDIR is about the path, so
FAILED without retries); once the file is replaced by a directory, the console's retry copies it."""
import os
import random
import time
import urllib.parse

import pytest

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import browser, shot, sign_in, submit, wait_for, pytestmark  # noqa: F401  (fixture, skip rule)

CONFIG = """buckets: [rec]
tiers:
  - { name: flaky, type: filesystem, path: "FLAKY_PATH", maxAttempts: 1 }
  - { name: down, type: s3, endpoint: "http://127.0.0.1:9", region: us-east-1, bucket: gone, accessKey: k, secretKey: s }
policies:
  - { name: failing-to-flaky, match: { bucket: rec, prefix: "retry/" }, replicate: { to: [flaky] } }
  - { name: waiting-for-down, match: { bucket: rec, prefix: "down/" }, replicate: { to: [down] } }
events:
  sinks:
    - { name: hook, type: webhook, url: "http://127.0.0.1:9/" }
"""
DAY = 1764892800  # 2025-12-05T00:00:00Z


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-dashboard")
    blocker = directory / "blocker"
    blocker.write_text("a file where the tier expects a directory")
    config = directory / "depot.yaml"
    config.write_text(CONFIG.replace("FLAKY_PATH", str(blocker / "nas")))
    server = DepotServer(config=str(config)).start()
    server.uploaded = []
    server.blocker = blocker
    yield server
    server.cleanup()


def put(server, key, body, metadata=None):
    server.client().put_object(Bucket="rec", Key=key, Body=body, Metadata=metadata or {}, ContentType="video/mp4")
    server.uploaded.append(len(body))


def recording(server, camera, seconds, duration_ms="3000", fps="15"):
    key = f"{camera}/{seconds}_6-967003_{camera}_200-200-400-400_24_{duration_ms}.mp4"
    put(server, key, b"mp4 " + key.encode(), {
        "event-instancename": camera, "event-timestamp": str(seconds), "duration": duration_ms, "fps": fps})
    return key


def test_dashboard_charts_count_the_uploads_and_show_the_dedup_ratio(server, browser):
    from selenium.webdriver.common.by import By
    same = random.Random(7).randbytes(2 * 1024 * 1024)
    put(server, "dedup/first.bin", same)
    put(server, "dedup/second.bin", same)  # the same bytes again: stored once
    put(server, "dedup/small.bin", b"small")
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/dashboard")
    for chart in ("ingest-hour", "ingest-day"):
        svg = browser.find_element(By.ID, chart)
        assert svg.tag_name == "svg"
        assert int(svg.get_attribute("data-total-bytes")) == sum(server.uploaded), chart
        assert int(svg.get_attribute("data-total-objects")) == len(server.uploaded), chart
        bars = svg.find_elements(By.CSS_SELECTOR, "rect.bar")
        assert 1 <= len(bars) <= 2 and sum(int(b.get_attribute("data-bytes")) for b in bars) == sum(server.uploaded)
    ratio = browser.find_element(By.CSS_SELECTOR, "#stat-dedup td").text
    assert ratio.endswith("×") and float(ratio[:-1]) >= 1.8, ratio
    assert "4.0 MiB" in browser.find_element(By.CSS_SELECTOR, "#stat-logical td").text
    days_left = browser.find_element(By.CSS_SELECTOR, "#stat-days-left td").text
    assert "days" in days_left or "years" in days_left or "hours" in days_left, days_left
    assert browser.find_element(By.CSS_SELECTOR, "#stat-devices td").text == "0 / 0"
    shot(browser, "20-dashboard-charts")


def test_a_failed_replication_is_retried_from_the_console_once_the_tier_is_back(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    key = "retry/clip.mp4"
    put(server, key, b"a recording the tier cannot take yet")
    page = server.endpoint + "/console/object?" + urllib.parse.urlencode({"bucket": "rec", "key": key})
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)

    def shows(state):
        browser.get(page)
        return f"flaky: {state}" in browser.find_element(By.CSS_SELECTOR, "table.facts").text
    wait_for(lambda: shows("FAILED"), timeout=15, what="flaky: FAILED")
    assert "Not a directory" in browser.find_element(By.CSS_SELECTOR, "table.facts").text
    listing = server.endpoint + "/console/list?" + urllib.parse.urlencode({"bucket": "rec", "prefix": "retry/"})
    browser.get(listing)
    assert "flaky: FAILED" in browser.find_element(By.ID, "recordings").text
    shot(browser, "21-replication-failed")
    # The tier comes back: its path can be created now.
    os.remove(server.blocker)
    os.mkdir(server.blocker)
    started = time.time()
    browser.get(page)
    Select(browser.find_element(By.ID, "tier")).select_by_visible_text("flaky")
    # The retry's POST answered (a reload started before it was sent would cancel it).
    submit(browser, browser.find_element(By.ID, "replicate"))
    try:
        wait_for(lambda: shows("COMPLETED"), timeout=18, what="flaky: COMPLETED after the retry")
    except AssertionError:  # what the page and the server said, to tell a slow worker from a lost retry
        print(browser.find_element(By.CSS_SELECTOR, "table.facts").text, open(server.log_path).read()[-3000:])
        raise
    assert time.time() - started < 20
    with open(server.blocker / "nas" / "retry" / "clip.mp4", "rb") as copy:
        assert copy.read() == b"a recording the tier cannot take yet"
    assert [o.text for o in Select(browser.find_element(By.ID, "tier")).options] == ["down"]  # flaky: nothing to retry
    shot(browser, "22-replication-retried")


def test_timeline_places_a_cameras_recordings_by_time_and_the_list_filters_by_time_range(server, browser):
    from selenium.webdriver.common.by import By
    morning = recording(server, "porch", DAY + 8 * 3600 + 15 * 60, duration_ms="600000", fps="25")  # 08:15, 10 min
    afternoon = recording(server, "porch", DAY + 14 * 3600 + 30 * 60)  # 14:30
    next_night = recording(server, "porch", DAY + 86400 + 3600)  # 2025-12-06 01:00
    other_camera = recording(server, "garage", DAY + 9 * 3600)
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/list?" + urllib.parse.urlencode(
        {"bucket": "rec", "prefix": "", "camera": "porch", "day": "2025-12-05"}))
    rows = {r.find_element(By.CSS_SELECTOR, "td.key").text: r for r in browser.find_elements(By.CSS_SELECTOR, "#recordings tbody tr")}
    assert set(rows) == {morning, afternoon}, list(rows)
    assert rows[morning].find_element(By.CSS_SELECTOR, "td.duration").text == "600.0 s"
    assert rows[morning].find_element(By.CSS_SELECTOR, "td.fps").text == "25"
    assert rows[afternoon].find_element(By.CSS_SELECTOR, "td.duration").text == "3.0 s"
    browser.find_element(By.ID, "timeline-link").click()
    blocks = {b.get_attribute("data-key"): b for b in browser.find_elements(By.CSS_SELECTOR, "#timeline a rect.block")}
    assert set(blocks) == {morning, afternoon}, list(blocks)
    assert (blocks[morning].get_attribute("data-hour"), blocks[morning].get_attribute("data-minute")) == ("8", "15")
    assert (blocks[afternoon].get_attribute("data-hour"), blocks[afternoon].get_attribute("data-minute")) == ("14", "30")
    # Drawn where they happen: the 14:30 block lies lower (a later hour) and further right (later in its hour).
    first, second = blocks[morning].rect, blocks[afternoon].rect
    assert second["y"] > first["y"] and second["x"] > first["x"]
    assert first["width"] > 10 * second["width"]  # 10 minutes against 3 seconds (drawn at least 3 units wide)
    shot(browser, "23-timeline")
    blocks[afternoon].click()
    wait_for(lambda: "/console/object?" in browser.current_url, what="the recording's page from its block")
    assert browser.find_element(By.CSS_SELECTOR, "h1.key").text == afternoon
    # A range across midnight: 14:00 on the 5th to 02:00 on the 6th keeps the afternoon and the night.
    for start, end, expected in [("2025-12-05T14:00", "2025-12-06T02:00", {afternoon, next_night}),
                                 ("2025-12-05T08:00", "2025-12-05T08:16", {morning, }),
                                 ("2025-12-05T08:16", "2025-12-05T14:30", {other_camera})]:
        browser.get(server.endpoint + "/console/list?" + urllib.parse.urlencode(
            {"bucket": "rec", "prefix": "", "from": start, "to": end}))
        keys = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "#recordings td.key a")}
        assert keys == expected, (start, end, keys)
    shot(browser, "24-time-range")
    browser.get(server.endpoint + "/console/list?bucket=rec&from=2025-12-05T25:00")
    assert "from must be written YYYY-MM-DDTHH:MM" in browser.page_source
    browser.get(server.endpoint + "/console/list?bucket=rec&from=2025-12-06T00:00&to=2025-12-05T00:00")
    assert "from must come before to" in browser.page_source


def test_cameras_page_links_each_cameras_last_recording(server, browser):
    import requests
    from selenium.webdriver.common.by import By
    for key, name in [("agent-porch", "porch"), ("agent-attic", "attic")]:
        answer = requests.post(server.endpoint + "/api/devices/heartbeat", timeout=10,
                               json={"key": key, "cameraname": name, "version": "3.2.1"})
        assert answer.status_code == 200, answer.text
    older = recording(server, "porch", DAY + 20 * 3600)
    newest = recording(server, "porch", DAY + 21 * 3600)  # committed last: the camera's last recording
    assert older != newest
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/cameras")
    cells = {r.find_element(By.CSS_SELECTOR, "td.key").text.split()[0]: r.find_element(By.CSS_SELECTOR, "td.last-recording")
             for r in browser.find_elements(By.CSS_SELECTOR, "#cameras tbody tr")}
    assert cells["agent-attic"].text == "none recorded"
    link = cells["agent-porch"].find_element(By.TAG_NAME, "a")
    assert link.text == newest.split("/")[-1]
    shot(browser, "25-cameras-last-recording")
    link.click()
    wait_for(lambda: "/console/object?" in browser.current_url, what="the last recording's page")
    assert browser.find_element(By.CSS_SELECTOR, "h1.key").text == newest


def test_dashboard_shows_each_tiers_failures_and_the_event_sinks_health(server, browser):
    from selenium.webdriver.common.by import By
    put(server, "down/clip.mp4", b"for a tier nobody answers for")
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)

    def tier_row():
        browser.get(server.endpoint + "/console/dashboard")
        rows = {r.find_elements(By.TAG_NAME, "td")[0].text: r for r in browser.find_elements(By.CSS_SELECTOR, "#backlog tbody tr")}
        cells = [c.text for c in rows["down"].find_elements(By.TAG_NAME, "td")]
        return cells if int(cells[4]) >= 1 and cells[5] else None
    cells = wait_for(tier_row, timeout=15, what="the down tier's failures on the dashboard")
    assert int(cells[1]) >= 1, cells  # the copy still waits for it
    assert "127.0.0.1:9" in cells[5] or "refused" in cells[5].lower(), cells
    sinks = [[c.text for c in r.find_elements(By.TAG_NAME, "td")] for r in browser.find_elements(By.CSS_SELECTOR, "#sinks tbody tr")]
    assert [s[:2] for s in sinks] == [["hook", "webhook"]], sinks
    shot(browser, "26-dashboard-tiers-and-sinks")
