"""The web console (issue 20): sign-in, recordings, playback, and its security, in a real headless
Chromium driven by Selenium against the real server, plus raw HTTP (requests) where the browser
would hide what is checked (cookies' attributes, a forged form, a forged link).

Recordings are uploaded through the Vault API as a Kerberos Agent would (legacy POST), one real
MP4 made with ffmpeg; playing it must advance the video's currentTime, and the server's access
log must show Range requests (206) served for it. Screenshots of each page go to a temp dir
(printed), at 1280x800."""
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer, aws_env
from tls_support import start_tls_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FFMPEG = shutil.which("ffmpeg")
try:
    import selenium  # noqa: F401
except ImportError:  # pragma: no cover
    selenium = None
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER and FFMPEG and selenium),
    reason="needs chromium, chromium-driver, ffmpeg and selenium (make deps installs them)")

CONFIG = """buckets: [rec]
tiers:
  - { name: nas, type: filesystem, path: "NAS_PATH" }
  - { name: offline, type: s3, endpoint: "http://127.0.0.1:9", region: us-east-1, bucket: gone,
      accessKey: k, secretKey: s }
policies:
  - { name: cam1-to-nas, match: { bucket: rec, prefix: "cam1/1764" }, replicate: { to: [nas] } }
  - { name: cam2-to-offline, match: { bucket: rec, prefix: "cam2/1764" }, replicate: { to: [offline] } }
accounts:
  - name: cam1
    accessKey: CAM1KEY
    secretKey: cam1-secret-1234
    allow: [{ bucket: rec, prefix: "cam1/", actions: [read, write, list, delete] }]
    vault: { directory: "*", bucket: rec }
  - name: cam2
    accessKey: CAM2KEY
    secretKey: cam2-secret-1234
    allow: [{ bucket: rec, prefix: "cam2/", actions: [read, write, list, delete] }]
    vault: { directory: "*", bucket: rec }
"""
CAM1_FILE = "1764900000_6-967003_frontdoor_200-200-400-400_24_3000.mp4"
CAM2_FILE = "1764900100_6-967004_backyard_200-200-400-400_11_3000.mp4"
XSS_KEY = "cam1/<script>window.__xss=1</script>.mp4"
XSS_META = "<img src=x onerror=\"window.__xss=2\">"
SHOTS = tempfile.mkdtemp(prefix="depot-console-shots-")


@pytest.fixture(scope="module")
def movie():
    """A real 3-second H.264 MP4 (moov first, so the browser can start playing at once)."""
    path = os.path.join(tempfile.mkdtemp(prefix="depot-console-mp4-"), "out.mp4")
    subprocess.run([FFMPEG, "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=15",
                    "-pix_fmt", "yuv420p", "-movflags", "+faststart", path], check=True, timeout=60)
    with open(path, "rb") as f:
        return f.read()


def vault_upload(server, access, secret, directory, filename, body):
    response = requests.post(server.endpoint + "/api/storage", data=body, timeout=10, headers={
        "X-Kerberos-Storage-AccessKey": access, "X-Kerberos-Storage-SecretAccessKey": secret,
        "X-Kerberos-Storage-Directory": directory, "X-Kerberos-Storage-FileName": filename,
        "X-Kerberos-Storage-Provider": "", "Content-Type": "video/mp4"})
    assert response.status_code in (200, 201), response.text


@pytest.fixture(scope="module")
def server(movie, tmp_path_factory):
    directory = tmp_path_factory.mktemp("console")
    config = directory / "depot.yaml"
    (directory / "nas").mkdir()
    config.write_text(CONFIG.replace("NAS_PATH", str(directory / "nas")))
    server = DepotServer(config=str(config)).start()
    vault_upload(server, "CAM1KEY", "cam1-secret-1234", "cam1", CAM1_FILE, movie)
    vault_upload(server, "CAM2KEY", "cam2-secret-1234", "cam2", CAM2_FILE, movie)
    server.client().put_object(Bucket="rec", Key=XSS_KEY, Body=b"not a video", Metadata={"note": XSS_META})
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                     "--autoplay-policy=no-user-gesture-required", "--disable-dev-shm-usage"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))
    print(f"screenshot: {SHOTS}/{name}.png")


def sign_in(driver, server, access, secret):
    from selenium.webdriver.common.by import By
    driver.delete_all_cookies()
    driver.get(server.endpoint + "/")  # a browser at / is sent to the console, then to sign in
    assert driver.current_url.endswith("/console/signin"), driver.current_url
    driver.find_element(By.ID, "accessKey").send_keys(access)
    driver.find_element(By.ID, "secretKey").send_keys(secret)
    driver.find_element(By.CSS_SELECTOR, "#signin button").click()
    wait_for(lambda: driver.current_url.endswith("/console/buckets"), what="the buckets page after sign-in")


def submit(driver, button, timeout=15):
    """Clicks a form's submit button and waits until the answer has replaced the page. Selenium's
    click returns before the POST is sent: a browser.get right after it (a wait that reloads the
    page) cancels the submission, which then never reaches the server. That made a test that
    clicks Retry and then reloads the page until COMPLETED fail now and then on a loaded machine."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait
    old_page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, timeout).until(expected_conditions.staleness_of(old_page))


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def access_lines(server):
    return [line for line in open(server.log_path, errors="replace").read().splitlines() if line.endswith("request")]


def test_root_browses_to_a_vault_recording_and_plays_it_over_range_requests(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    shot(browser, "1-buckets")
    browser.find_element(By.LINK_TEXT, "rec").click()
    shot(browser, "2-bucket-folders")
    folders = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".folders a")]
    assert folders == ["cam1/", "cam2/"], folders
    browser.find_element(By.LINK_TEXT, "cam1/").click()
    # The camera column comes from Vault's event-instancename metadata; a camera filter narrows to it.
    rows = browser.find_elements(By.CSS_SELECTOR, "#recordings tbody tr")
    assert any("frontdoor" in row.text and "cam1/" + CAM1_FILE in row.text for row in rows), [r.text for r in rows]
    camera = browser.find_element(By.ID, "camera")
    camera.send_keys("frontdoor")
    browser.find_element(By.CSS_SELECTOR, ".filters button").click()
    # The click returns before the filtered page is there: read its rows once the browser is on it.
    wait_for(lambda: "camera=frontdoor" in browser.current_url, what="the filtered list")
    rows = browser.find_elements(By.CSS_SELECTOR, "#recordings tbody tr")
    assert len(rows) == 1 and "2025-12-05" in rows[0].text, [r.text for r in rows]
    shot(browser, "3-recordings-filtered")
    browser.find_element(By.PARTIAL_LINK_TEXT, CAM1_FILE).click()
    video = wait_for(lambda: browser.find_elements(By.ID, "player"), what="the video element")[0]
    assert video.get_attribute("src").startswith(server.endpoint + "/rec/cam1/")
    browser.execute_script("document.getElementById('player').play()")
    wait_for(lambda: browser.execute_script("return document.getElementById('player').currentTime") > 0.5,
             timeout=15, what="currentTime to advance")
    assert browser.execute_script("return document.getElementById('player').error") is None
    shot(browser, "4-recording-playing")
    # Its copy on the filesystem tier shows on its page once the policy has replicated it.
    def replicated():
        browser.refresh()
        return "nas: COMPLETED" in browser.find_element(By.CSS_SELECTOR, "table.facts").text
    wait_for(replicated, timeout=15, what="nas: COMPLETED on the recording's page")
    # The browser fetched it with Range requests, answered 206 by the S3 door (the access log says so).
    served = wait_for(lambda: [line for line in access_lines(server) if " status=206" in line
                               and "operation=GetObject" in line and "key=cam1/" + CAM1_FILE in line],
                      what="a 206 for the recording in the access log")
    assert all("HeadlessChrome" in line for line in served), served


def test_camera_account_sees_only_its_prefix_and_forged_links_are_refused(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    assert "cam1/" in browser.page_source
    browser.find_element(By.LINK_TEXT, "rec").click()
    shot(browser, "5-camera-recordings")
    # Browsing starts at the account's own prefix: cam2's recording is not listed anywhere.
    assert CAM1_FILE in browser.page_source and CAM2_FILE not in browser.page_source
    # Forged console URLs: another camera's listing and recording are refused (403), the same
    # answer whether the key exists or not.
    for path in [f"/console/list?bucket=rec&prefix=cam2/",
                 f"/console/object?bucket=rec&key=cam2/{CAM2_FILE}",
                 "/console/object?bucket=rec&key=cam2/no-such-file.mp4"]:
        browser.get(server.endpoint + path)
        assert "Access denied" in browser.page_source and CAM2_FILE not in browser.title, path
    shot(browser, "6-camera-forged-refused")
    # A presigned link of its own recording, edited to name cam2's, is refused by the S3 door.
    browser.get(server.endpoint + "/console/object?" + urllib.parse.urlencode({"bucket": "rec", "key": "cam1/" + CAM1_FILE}))
    src = browser.find_element(By.ID, "player").get_attribute("src")
    assert requests.get(src, headers={"Range": "bytes=0-99"}, timeout=10).status_code == 206
    forged = src.replace("/cam1/" + CAM1_FILE, "/cam2/" + CAM2_FILE)
    assert requests.get(forged, timeout=10).status_code == 403


def test_keys_and_metadata_with_markup_render_as_text(server, browser):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/list?bucket=rec&prefix=cam1/")
    # The key's `</` makes a folder of `cam1/<script>…</` in a listing by "/": shown as text too.
    folder = browser.find_element(By.CSS_SELECTOR, ".folders a")
    assert folder.text == XSS_KEY[:XSS_KEY.index("</") + 2]
    folder.click()
    link = browser.find_element(By.CSS_SELECTOR, "#recordings td.key a")
    assert link.text == XSS_KEY
    link.click()
    assert browser.find_element(By.CSS_SELECTOR, "h1.key").text == XSS_KEY
    assert XSS_META in browser.find_element(By.CSS_SELECTOR, "table.facts").text
    shot(browser, "7-xss-as-text")
    assert browser.execute_script("return window.__xss === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text


def signed_in_session(server, access, secret):
    """A requests session signed in the way a browser does it (sign-in page's token and cookie)."""
    session = requests.Session()
    page = session.get(server.endpoint + "/console/signin", timeout=10)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    answer = session.post(server.endpoint + "/console/signin", allow_redirects=False, timeout=10,
                          data={"csrf": token, "accessKey": access, "secretKey": secret})
    assert answer.status_code == 303, answer.text
    return session, answer


def csrf_of(session, server, path):
    return re.search(r'name="csrf" value="([0-9a-f]+)"', session.get(server.endpoint + path, timeout=10).text).group(1)


def test_forms_without_the_csrf_token_are_refused(server):
    key = "cam1/csrf-target.mp4"
    server.client().put_object(Bucket="rec", Key=key, Body=b"x")
    session, _ = signed_in_session(server, "CAM1KEY", "cam1-secret-1234")
    for data in [{"bucket": "rec", "key": key}, {"bucket": "rec", "key": key, "csrf": "0" * 64}]:
        refused = session.post(server.endpoint + "/console/delete", data=data, allow_redirects=False, timeout=10)
        assert refused.status_code == 403 and "CSRF" in refused.text, refused.text
    assert server.client().head_object(Bucket="rec", Key=key)["ContentLength"] == 1
    # Sign-in and sign-out are forms too.
    fresh = requests.post(server.endpoint + "/console/signin", timeout=10,
                          data={"accessKey": ROOT_USER, "secretKey": ROOT_PASSWORD}, allow_redirects=False)
    assert fresh.status_code == 403 and "depot_console=" not in fresh.headers.get("Set-Cookie", "")
    assert session.post(server.endpoint + "/console/signout", timeout=10, allow_redirects=False).status_code == 403
    assert session.get(server.endpoint + "/console/buckets", timeout=10, allow_redirects=False).status_code == 200
    # With the page's token the delete goes through (through the S3 door), and sign-out ends the session.
    token = csrf_of(session, server, "/console/buckets")
    deleted = session.post(server.endpoint + "/console/delete", data={"bucket": "rec", "key": key, "csrf": token},
                           allow_redirects=False, timeout=10)
    assert deleted.status_code == 303, deleted.text
    with pytest.raises(server.client().exceptions.ClientError):
        server.client().head_object(Bucket="rec", Key=key)
    assert session.post(server.endpoint + "/console/signout", data={"csrf": token}, timeout=10,
                        allow_redirects=False).status_code == 303
    after = session.get(server.endpoint + "/console/buckets", timeout=10, allow_redirects=False)
    assert after.status_code == 303 and after.headers["Location"] == "/console/signin"


def test_a_session_id_set_before_sign_in_is_never_the_session(server):
    planted = "f" * 64
    session = requests.Session()
    session.cookies.set("depot_console", planted, domain="127.0.0.1", path="/console")
    page = session.get(server.endpoint + "/console/signin", timeout=10)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    answer = session.post(server.endpoint + "/console/signin", allow_redirects=False, timeout=10,
                          data={"csrf": token, "accessKey": "CAM1KEY", "secretKey": "cam1-secret-1234"})
    cookie = [c for c in answer.headers["Set-Cookie"].split(", ") if c.startswith("depot_console=")][0]
    issued = cookie.split(";")[0].split("=", 1)[1]
    assert issued != planted and re.fullmatch(r"[0-9a-f]{64}", issued)
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="]:
        assert attribute in cookie, cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS the cookie is Secure
    planted_only = requests.get(server.endpoint + "/console/buckets", cookies={"depot_console": planted},
                                allow_redirects=False, timeout=10)
    assert planted_only.status_code == 303 and planted_only.headers["Location"] == "/console/signin"
    issued_only = requests.get(server.endpoint + "/console/buckets", cookies={"depot_console": issued},
                               allow_redirects=False, timeout=10)
    assert issued_only.status_code == 200 and "cam1/" in issued_only.text


def test_browser_at_root_goes_to_the_console_and_s3_clients_still_list_buckets(server, tmp_path):
    browser_visit = requests.get(server.endpoint + "/", headers={"Accept": "text/html,application/xhtml+xml"},
                                 allow_redirects=False, timeout=10)
    assert browser_visit.status_code == 303 and browser_visit.headers["Location"] == "/console/"
    # Unsigned and not asking for HTML: still S3's answer.
    assert "<Error>" in requests.get(server.endpoint + "/", timeout=10).text
    # SigV4, SigV2 and presigned ListBuckets, each also claiming to want HTML.
    def with_html(request, **_):
        request.headers["Accept"] = "text/html"
    for version in ["s3v4", "s3"]:
        client = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id=ROOT_USER, aws_secret_access_key=ROOT_PASSWORD,
                              config=Config(signature_version=version, s3={"addressing_style": "path"}))
        client.meta.events.register("before-send.s3.ListBuckets", with_html)
        assert "rec" in [b["Name"] for b in client.list_buckets()["Buckets"]], version
    presigned = server.client().generate_presigned_url("list_buckets", ExpiresIn=60)
    listed = requests.get(presigned, headers={"Accept": "text/html"}, allow_redirects=False, timeout=10)
    assert listed.status_code == 200 and "<Name>rec</Name>" in listed.text, listed.text
    from minio import Minio
    assert "rec" in [b.name for b in Minio(f"127.0.0.1:{server.port}", ROOT_USER, ROOT_PASSWORD, secure=False).list_buckets()]
    aws = subprocess.run(["aws", "--endpoint-url", server.endpoint, "s3", "ls"], capture_output=True, text=True,
                         timeout=60, env=aws_env(server, tmp_path))
    assert aws.returncode == 0 and "rec" in aws.stdout.split(), aws.stdout + aws.stderr
    s3cfg = tmp_path / "s3cfg"
    s3cfg.write_text(f"[default]\naccess_key = {ROOT_USER}\nsecret_key = {ROOT_PASSWORD}\n"
                     f"host_base = 127.0.0.1:{server.port}\nhost_bucket = 127.0.0.1:{server.port}\n"
                     "use_https = False\nsignature_v2 = False\n")
    s3cmd = subprocess.run(["s3cmd", "-c", str(s3cfg), "ls"], capture_output=True, text=True, timeout=60)
    assert s3cmd.returncode == 0 and "s3://rec" in s3cmd.stdout.split(), s3cmd.stdout + s3cmd.stderr


def test_failed_sign_ins_are_rate_limited_per_address(tmp_path):
    server = DepotServer().start()
    try:
        for _ in range(5):
            session = requests.Session()
            token = csrf_of(session, server, "/console/signin")
            wrong = session.post(server.endpoint + "/console/signin", timeout=10, allow_redirects=False,
                                 data={"csrf": token, "accessKey": ROOT_USER, "secretKey": "not-the-password"})
            assert wrong.status_code == 401 and "Wrong access key or secret key" in wrong.text
        session = requests.Session()
        token = csrf_of(session, server, "/console/signin")
        limited = session.post(server.endpoint + "/console/signin", timeout=10, allow_redirects=False,
                               data={"csrf": token, "accessKey": ROOT_USER, "secretKey": ROOT_PASSWORD})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert "depot_console=" not in limited.headers.get("Set-Cookie", "").replace("depot_console_signin", "")
    finally:
        server.cleanup()


def test_recordings_page_through_the_listing_and_filter_by_day(server, browser):
    """120 recordings under one folder come 50 a page through continuation links, each once; the
    day filter keeps the Vault recording of 2025-12-05 (its event-timestamp) and drops it on another day."""
    from concurrent.futures import ThreadPoolExecutor
    from selenium.webdriver.common.by import By
    client = server.client()
    keys = [f"cam1/many/clip-{i:04d}.mp4" for i in range(120)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: client.put_object(Bucket="rec", Key=k, Body=b"x"), keys))
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    browser.get(server.endpoint + "/console/list?bucket=rec&prefix=cam1/many/")
    seen, pages = [], 0
    while True:
        pages += 1
        seen += [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#recordings td.key a")]
        following = browser.find_elements(By.ID, "next-page")
        if not following:
            break
        following[0].click()
        assert pages < 5
    assert pages == 3 and seen == keys, (pages, len(seen))
    shot(browser, "8-last-page")
    for day, expected in [("2025-12-05", [f"cam1/{CAM1_FILE}"]), ("2025-12-06", [])]:
        browser.get(server.endpoint + "/console/list?" + urllib.parse.urlencode({"bucket": "rec", "prefix": "cam1/", "day": day}))
        assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#recordings td.key a")] == expected, day
    browser.get(server.endpoint + "/console/list?bucket=rec&prefix=cam1/&day=yesterday")
    assert "The day must be written YYYY-MM-DD" in browser.page_source


def test_camera_account_deletes_its_own_recording_in_the_browser(server, browser):
    from selenium.webdriver.common.by import By
    key = "cam1/to-delete.mp4"
    server.client().put_object(Bucket="rec", Key=key, Body=b"x")
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    browser.get(server.endpoint + "/console/object?" + urllib.parse.urlencode({"bucket": "rec", "key": key}))
    browser.find_element(By.ID, "delete").click()
    browser.switch_to.alert.accept()  # the script asks first
    wait_for(lambda: "/console/list" in browser.current_url, what="the listing after the delete")
    assert key not in browser.page_source
    with pytest.raises(server.client().exceptions.ClientError):
        server.client().head_object(Bucket="rec", Key=key)
    # A forged delete form naming another camera's recording is refused, and that recording stays.
    session, _ = signed_in_session(server, "CAM1KEY", "cam1-secret-1234")
    token = csrf_of(session, server, "/console/buckets")
    refused = session.post(server.endpoint + "/console/delete", allow_redirects=False, timeout=10,
                           data={"bucket": "rec", "key": "cam2/" + CAM2_FILE, "csrf": token})
    assert refused.status_code == 403 and "Access denied" in refused.text
    assert server.client().head_object(Bucket="rec", Key="cam2/" + CAM2_FILE)["ContentLength"] > 0


def test_session_cookie_is_secure_over_tls(tmp_path):
    server, cert = start_tls_server(tmp_path)
    try:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the session's own CA
        session.verify = str(cert)
        page = session.get(server.endpoint + "/console/signin", timeout=10)
        assert "Secure" in page.headers["Set-Cookie"]
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        answer = session.post(server.endpoint + "/console/signin", allow_redirects=False, timeout=10,
                              data={"csrf": token, "accessKey": ROOT_USER, "secretKey": ROOT_PASSWORD})
        cookie = [c for c in answer.headers["Set-Cookie"].split(", ") if c.startswith("depot_console=")][0]
        assert "; Secure" in cookie and "HttpOnly" in cookie, cookie
    finally:
        server.cleanup()


def test_object_lock_state_is_shown(server, browser):
    from selenium.webdriver.common.by import By
    import datetime
    client = server.client()
    client.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    until = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    client.put_object(Bucket="locked", Key="evidence.mp4", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/list?bucket=locked")
    row = browser.find_element(By.CSS_SELECTOR, "#recordings tbody tr").text
    assert "GOVERNANCE until 2030-01-02 03:04:05, legal hold" in row, row
    # A camera account cannot list the bucket at all.
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    assert "locked" not in browser.find_element(By.TAG_NAME, "main").text
    browser.get(server.endpoint + "/console/list?bucket=locked")
    assert "Access denied" in browser.page_source


def test_dashboard_shows_storage_and_the_backlog_of_an_unreachable_tier_to_admins_only(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.find_element(By.LINK_TEXT, "Dashboard").click()
    storage = browser.find_element(By.ID, "storage").text
    assert "Stored after deduplication" in storage and "Device free" in storage, storage
    # cam2's recording waits for the tier nobody answers for.
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#backlog tbody tr")]
    assert any(r.startswith("offline 1") for r in rows), rows
    shot(browser, "9-dashboard")
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    assert not browser.find_elements(By.LINK_TEXT, "Dashboard")
    browser.get(server.endpoint + "/console/dashboard")
    assert "Access denied" in browser.page_source and "Device free" not in browser.page_source


def test_pages_fit_a_phone_sized_window_without_sideways_scrolling(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    try:
        browser.set_window_size(390, 844)
        for path in ["/console/buckets", "/console/list?bucket=rec&prefix=cam1/",
                     "/console/object?" + urllib.parse.urlencode({"bucket": "rec", "key": "cam1/" + CAM1_FILE}),
                     "/console/dashboard"]:
            browser.get(server.endpoint + path)
            width = browser.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert width[0] <= width[1], (path, width)
        shot(browser, "10-phone-dashboard")
        # Pages are reached by keyboard: every link and button is focusable, inputs have labels.
        for field in browser.find_elements(By.CSS_SELECTOR, "main input:not([type=hidden])"):
            assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']")
    finally:
        browser.set_window_size(1280, 800)
    lines = [line for line in access_lines(server) if "api=console" in line and "path=/console/dashboard" in line]
    assert any("access_key=" + ROOT_USER in line for line in lines), lines


def test_pages_of_folders_and_recordings_together_show_each_once_in_order(server, browser):
    """Folders (cameras' directories) and recordings side by side, in the listing's order: 50
    recordings fill the first page exactly, so the folders after them start the second page
    (they were shown on the first page and again on the second)."""
    from concurrent.futures import ThreadPoolExecutor
    from selenium.webdriver.common.by import By
    client = server.client()
    expected = ([f"cam1/mixed/a-{i:03d}.mp4" for i in range(50)] + [f"cam1/mixed/b-{i:03d}/" for i in range(5)]
                + [f"cam1/mixed/c-{i:03d}.mp4" for i in range(10)])
    keys = [name + "clip.mp4" if name.endswith("/") else name for name in expected]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: client.put_object(Bucket="rec", Key=k, Body=b"x"), keys))
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    browser.get(server.endpoint + "/console/list?bucket=rec&prefix=cam1/mixed/")
    seen, pages = [], 0
    while True:
        pages += 1
        entries = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".folders a, #recordings td.key a")]
        seen += sorted(entries, key=lambda name: name.encode())
        following = browser.find_elements(By.ID, "next-page")
        if not following:
            break
        following[0].click()
        assert pages < 5
    assert pages == 2 and seen == expected, (pages, seen)


def test_admin_replicates_a_recording_on_demand_and_a_camera_account_may_not(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    key = "cam1/on-demand.mp4"  # no policy copies it on its own
    server.client().put_object(Bucket="rec", Key=key, Body=b"on demand")
    page = server.endpoint + "/console/object?" + urllib.parse.urlencode({"bucket": "rec", "key": key})
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(page)
    assert "local only" in browser.find_element(By.CSS_SELECTOR, "table.facts").text
    tiers = Select(browser.find_element(By.ID, "tier"))
    assert sorted(o.text for o in tiers.options) == ["nas", "offline"]
    tiers.select_by_visible_text("nas")
    submit(browser, browser.find_element(By.ID, "replicate"))  # answered before copied() reloads the page

    def copied():
        browser.get(page)
        return "nas: COMPLETED" in browser.find_element(By.CSS_SELECTOR, "table.facts").text
    wait_for(copied, timeout=15, what="nas: COMPLETED after Replicate now")
    # A tier already holding the copy is not offered again.
    assert [o.text for o in Select(browser.find_element(By.ID, "tier")).options] == ["offline"]
    shot(browser, "11-replicated-on-demand")
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    browser.get(page)
    assert not browser.find_elements(By.ID, "replicate")
    session, _ = signed_in_session(server, "CAM1KEY", "cam1-secret-1234")
    token = csrf_of(session, server, "/console/buckets")
    refused = session.post(server.endpoint + "/console/replicate", allow_redirects=False, timeout=10,
                           data={"bucket": "rec", "key": key, "tier": "offline", "csrf": token})
    assert refused.status_code == 403 and "admin" in refused.text
    browser.get(page)
    assert "offline" not in browser.find_element(By.CSS_SELECTOR, "table.facts").text  # nothing was queued


def heartbeat(server, body, access=None, secret=None):
    headers = {"Content-Type": "application/json"}
    if access:
        headers.update({"X-Kerberos-Storage-AccessKey": access, "X-Kerberos-Storage-SecretAccessKey": secret})
    response = requests.post(server.endpoint + "/api/devices/heartbeat", json=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def test_cameras_page_lists_an_accounts_own_devices_and_every_device_for_admins(server, browser):
    from selenium.webdriver.common.by import By
    heartbeat(server, {"key": "agent-frontdoor", "cameraname": "frontdoor", "hostname": "pi-1", "version": "3.2.1"},
              "CAM1KEY", "cam1-secret-1234")
    heartbeat(server, {"key": "agent-backyard", "cameraname": "backyard", "hostname": "pi-2", "version": "3.2.1"},
              "CAM2KEY", "cam2-secret-1234")
    heartbeat(server, {"key": "agent-stray", "cameraname": "<b onmouseover=window.__xss=3>stray</b>"})
    sign_in(browser, server, "CAM1KEY", "cam1-secret-1234")
    browser.find_element(By.LINK_TEXT, "Cameras").click()
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#cameras tbody tr")]
    assert len(rows) == 1 and rows[0].startswith("frontdoor ONLINE") and "agent-frontdoor (pi-1) 3.2.1" in rows[0], rows
    assert "Accounts" not in browser.find_element(By.ID, "cameras").text
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/cameras")
    rows = {r.find_element(By.CSS_SELECTOR, "td.key").text.split()[0]: r.text
            for r in browser.find_elements(By.CSS_SELECTOR, "#cameras tbody tr")}
    assert {"agent-frontdoor", "agent-backyard", "agent-stray"} <= set(rows), rows
    assert rows["agent-backyard"].endswith("CAM2KEY") and rows["agent-frontdoor"].endswith("CAM1KEY")
    assert "<b onmouseover=window.__xss=3>stray</b>" in rows["agent-stray"]
    assert "()" not in rows["agent-stray"]  # no host name: nothing shown for it
    assert not browser.find_elements(By.CSS_SELECTOR, "#cameras b")
    shot(browser, "12-cameras")
