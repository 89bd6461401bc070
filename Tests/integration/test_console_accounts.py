"""The console's accounts (issue 20 item 5), in headless Chromium against the real server: each
template makes the grants it names (checked through the admin API and with boto3 clients using
the new keys), an account's grants are edited on its page through the admin API's PATCH (a
refusal names the grant, as the form shows it, and changes nothing) and the edit takes effect
for a boto3 client at once; the secret is shown once, on the answer to the create form."""
import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from admin_client import Admin
from test_console import browser, csrf_of, pytestmark, shot, sign_in, signed_in_session, wait_for  # noqa: F401
from test_console_admin import fill, text_of

CONFIG = """buckets: [rec, other]
accounts:
  - name: cam1
    accessKey: CAM1KEY
    secretKey: cam1-secret-1234
    allow: [{ bucket: rec, prefix: "cam1/", actions: [read, write, list, delete] }]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-accounts")
    config = directory / "depot.yaml"
    config.write_text(CONFIG)
    server = DepotServer(config=str(config)).start()
    s3 = server.client()
    s3.put_object(Bucket="rec", Key="clips/one.mp4", Body=b"r" * 10)
    s3.put_object(Bucket="other", Key="clips/two.mp4", Body=b"o" * 20)
    yield server
    server.cleanup()


def client_of(server, access, secret):
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def refused(call):
    with pytest.raises(ClientError) as error:
        call()
    return error.value.response["Error"]["Code"]


def create_in_browser(browser, server, template, name, bucket, prefix=""):
    from selenium.webdriver.common.by import By
    browser.get(server.endpoint + "/console/accounts")
    fill(browser, {"a-template": template, "a-name": name, "a-bucket": bucket, "a-prefix": prefix})
    browser.find_element(By.ID, "create-account").click()
    access = wait_for(lambda: text_of(browser, "new-access-key"), what=f"the keys of {name}")
    return access, browser.find_element(By.ID, "new-secret-key").text


def grants_of(server, access):
    status, account = Admin(server.endpoint).get("/admin/v1/accounts/" + access)
    assert status == 200, account
    return account["allow"]


def test_each_template_makes_its_grants_and_the_keys_do_just_that(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    made = {}
    for template, name, bucket, prefix in [("camera", "cam7", "rec", "cam7/"), ("viewer", "view1", "", ""),
                                           ("ml", "ml1", "rec", "cam7/")]:
        made[template] = create_in_browser(browser, server, template, name, bucket, prefix)
        shot(browser, f"accounts-created-{template}")
    assert grants_of(server, made["camera"][0]) == [{"bucket": "rec", "prefix": "cam7/", "actions": ["write"]}]
    # The viewer with no bucket named: every bucket.
    assert grants_of(server, made["viewer"][0]) == [{"bucket": "*", "prefix": "", "actions": ["list", "read"]}]
    assert grants_of(server, made["ml"][0]) == [{"bucket": "rec", "prefix": "cam7/", "actions": ["list", "read"]}]

    camera = client_of(server, *made["camera"])
    camera.put_object(Bucket="rec", Key="cam7/clip.mp4", Body=b"c" * 7)
    assert refused(lambda: camera.put_object(Bucket="rec", Key="cam1/clip.mp4", Body=b"x")) == "AccessDenied"
    assert refused(lambda: camera.put_object(Bucket="other", Key="cam7/clip.mp4", Body=b"x")) == "AccessDenied"
    assert refused(lambda: camera.get_object(Bucket="rec", Key="cam7/clip.mp4")) == "AccessDenied"
    assert server.client().head_object(Bucket="rec", Key="cam7/clip.mp4")["ContentLength"] == 7

    # An investigator finds recordings in every bucket and plays them, and changes nothing.
    viewer = client_of(server, *made["viewer"])
    assert viewer.get_object(Bucket="rec", Key="clips/one.mp4")["Body"].read() == b"r" * 10
    assert {o["Key"] for o in viewer.list_objects_v2(Bucket="rec")["Contents"]} >= {"clips/one.mp4", "cam7/clip.mp4"}
    assert [o["Key"] for o in viewer.list_objects_v2(Bucket="other")["Contents"]] == ["clips/two.mp4"]
    assert refused(lambda: viewer.put_object(Bucket="rec", Key="clips/new.mp4", Body=b"x")) == "AccessDenied"
    assert refused(lambda: viewer.delete_object(Bucket="rec", Key="clips/one.mp4")) == "AccessDenied"

    # The ML worker: its bucket and prefix only, read and list, nothing written or deleted.
    worker = client_of(server, *made["ml"])
    keys = [o["Key"] for o in worker.list_objects_v2(Bucket="rec", Prefix="cam7/").get("Contents", [])]
    assert keys == ["cam7/clip.mp4"]
    assert worker.get_object(Bucket="rec", Key="cam7/clip.mp4")["Body"].read() == b"c" * 7
    assert refused(lambda: worker.get_object(Bucket="rec", Key="clips/one.mp4")) == "AccessDenied"
    assert refused(lambda: worker.list_objects_v2(Bucket="other")) == "AccessDenied"
    assert refused(lambda: worker.put_object(Bucket="rec", Key="cam7/labels.json", Body=b"{}")) == "AccessDenied"
    assert refused(lambda: worker.delete_object(Bucket="rec", Key="cam7/clip.mp4")) == "AccessDenied"

    # The secrets were on the answers to the create forms only: not on the list, nor on any account's page.
    browser.get(server.endpoint + "/console/accounts")
    listed = browser.page_source
    for access, secret in made.values():
        assert access in listed and secret not in listed
        browser.get(server.endpoint + "/console/account?accessKey=" + access)
        assert browser.find_elements(By.ID, "grants-form") and secret not in browser.page_source


def test_a_viewer_signs_in_and_finds_recordings_in_the_buckets_it_was_given(server, browser):
    """The viewer template once granted read only: signed in, the investigator saw no buckets."""
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    access, secret = create_in_browser(browser, server, "viewer", "investigator", " other , rec2 ")
    assert grants_of(server, access) == [{"bucket": "other", "prefix": "", "actions": ["list", "read"]},
                                         {"bucket": "rec2", "prefix": "", "actions": ["list", "read"]}]
    browser.delete_all_cookies()
    sign_in(browser, server, access, secret)
    buckets = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "main a") if a.text in ("rec", "other")]
    assert buckets == ["other"], buckets  # the bucket it was given, not rec
    browser.find_element(By.LINK_TEXT, "other").click()
    wait_for(lambda: "clips/" in browser.page_source or "two.mp4" in browser.page_source, what="other's recordings")
    browser.get(server.endpoint + "/console/object?bucket=other&key=clips/two.mp4")
    assert "20 B" in browser.find_element(By.CSS_SELECTOR, "table.facts").text
    shot(browser, "accounts-viewer-signed-in")


@pytest.mark.parametrize("template", ["camera", "ml"])
def test_the_camera_and_ml_templates_name_a_missing_bucket_or_prefix(server, browser, template):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    for values, field in [({"a-bucket": "rec", "a-prefix": ""}, "prefix"), ({"a-bucket": "", "a-prefix": "x/"}, "bucket")]:
        browser.get(server.endpoint + "/console/accounts")
        fill(browser, dict({"a-template": template, "a-name": "half-camera"}, **values))
        browser.find_element(By.ID, "create-account").click()
        error = wait_for(lambda: text_of(browser, "form-error"), what="the form's error")
        assert error.startswith(field + ":"), error
        assert browser.find_element(By.ID, "a-name").get_attribute("value") == "half-camera"
    names = [a["name"] for a in Admin(server.endpoint).get("/admin/v1/accounts")[1]["accounts"]]
    assert "half-camera" not in names


def test_edit_a_viewers_grants_in_the_browser_and_its_keys_follow(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    access, secret = create_in_browser(browser, server, "viewer", "view2", "rec")
    viewer = client_of(server, access, secret)
    assert refused(lambda: viewer.get_object(Bucket="other", Key="clips/two.mp4")) == "AccessDenied"

    browser.get(server.endpoint + "/console/account?accessKey=" + access)
    # Prefilled: the template's grant, then a blank row to add one.
    assert browser.find_element(By.ID, "g0-bucket").get_attribute("value") == "rec"
    assert browser.find_element(By.ID, "g0-read").is_selected() and browser.find_element(By.ID, "g0-list").is_selected()
    assert not browser.find_element(By.ID, "g0-write").is_selected()
    assert browser.find_element(By.ID, "g1-bucket").get_attribute("value") == ""
    fill(browser, {"g1-bucket": "other", "g1-prefix": "clips/"})
    browser.find_element(By.ID, "g1-read").click()
    browser.find_element(By.ID, "save-grants").click()
    wait_for(lambda: '"bucket":"other"' in text_of(browser, "detail-facts"), what="the new grant on the account's page")
    shot(browser, "accounts-grants-edited")
    assert secret not in browser.page_source
    assert grants_of(server, access) == [{"bucket": "rec", "prefix": "", "actions": ["list", "read"]},
                                         {"bucket": "other", "prefix": "clips/", "actions": ["read"]}]
    # At once, with the same keys: the added bucket reads, and only under the grant's prefix.
    assert viewer.get_object(Bucket="other", Key="clips/two.mp4")["Body"].read() == b"o" * 20
    server.client().put_object(Bucket="other", Key="elsewhere.mp4", Body=b"e")
    assert refused(lambda: viewer.get_object(Bucket="other", Key="elsewhere.mp4")) == "AccessDenied"

    # Removing the first grant takes rec away and keeps other.
    browser.find_element(By.ID, "g0-remove").click()
    browser.find_element(By.ID, "save-grants").click()
    wait_for(lambda: '"bucket":"rec"' not in text_of(browser, "detail-facts") and text_of(browser, "detail-facts"),
             what="the grant removed")
    assert grants_of(server, access) == [{"bucket": "other", "prefix": "clips/", "actions": ["read"]}]
    assert refused(lambda: viewer.get_object(Bucket="rec", Key="clips/one.mp4")) == "AccessDenied"
    assert viewer.get_object(Bucket="other", Key="clips/two.mp4")["ContentLength"] == 20


def test_a_refused_grant_edit_names_the_forms_grant_and_changes_nothing(server, browser):
    from selenium.webdriver.common.by import By
    status, account = Admin(server.endpoint).post("/admin/v1/accounts", {
        "name": "two-grants", "allow": [{"bucket": "rec", "actions": ["read"]}, {"bucket": "other", "actions": ["list"]}]})
    assert status == 201, account
    before = grants_of(server, account["accessKey"])
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/account?accessKey=" + account["accessKey"])
    # The first grant removed, and the admin action (server-wide only) asked for on one bucket in
    # the blank third row: the admin API refuses its allow[1] (the second grant it was sent),
    # which is the form's third row.
    browser.find_element(By.ID, "g0-remove").click()
    fill(browser, {"g2-bucket": "rec"})
    browser.find_element(By.ID, "g2-admin").click()
    browser.find_element(By.ID, "save-grants").click()
    error = wait_for(lambda: text_of(browser, "form-error"), what="the refusal")
    assert error.startswith("allow[2].actions: (grant 3)") and "server-wide" in error, error
    shot(browser, "accounts-grants-refused")
    browser.execute_script("document.getElementById('grant-2').scrollIntoView()")
    shot(browser, "accounts-grants-refused-form")
    # What was typed is kept, and nothing changed.
    assert browser.find_element(By.ID, "g2-bucket").get_attribute("value") == "rec"
    assert browser.find_element(By.ID, "g2-admin").is_selected() and browser.find_element(By.ID, "g0-remove").is_selected()
    assert browser.find_element(By.ID, "g3-bucket").get_attribute("value") == ""  # and a blank row again
    assert grants_of(server, account["accessKey"]) == before


def test_the_grants_form_is_refused_without_admin_csrf_or_for_a_file_account(server):
    admin = Admin(server.endpoint)
    status, account = admin.post("/admin/v1/accounts", {"name": "kept", "allow": [{"bucket": "rec", "actions": ["read"]}]})
    assert status == 201, account
    forged = {"accessKey": account["accessKey"], "rows": "1", "bucket-0": "*", "action-0-admin": "1"}
    camera, _ = signed_in_session(server, "CAM1KEY", "cam1-secret-1234")
    answer = camera.post(server.endpoint + "/console/accounts/grants", timeout=10, allow_redirects=False,
                         data=dict(forged, csrf=csrf_of(camera, server, "/console/buckets")))
    assert answer.status_code == 403 and "admin action" in answer.text
    root, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    for data in [forged, dict(forged, csrf="0" * 64)]:
        answer = root.post(server.endpoint + "/console/accounts/grants", data=data, timeout=10, allow_redirects=False)
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert grants_of(server, account["accessKey"]) == [{"bucket": "rec", "prefix": "", "actions": ["read"]}]
    # The account's page has the account's controls only, and a policy's page (the same detail
    # template) none of them.
    page = root.get(server.endpoint + "/console/account?accessKey=" + account["accessKey"], timeout=10).text
    assert 'id="grants-form"' in page and 'id="enable-form"' in page and 'id="policy-edit-form"' not in page
    assert admin.put("/admin/v1/policies/kept-policy", {"match": {"bucket": "rec", "prefix": "k/"},
                                                        "expire": {"after": "30d"}})[0] in (200, 201)
    page = root.get(server.endpoint + "/console/policy?name=kept-policy", timeout=10).text
    assert 'id="policy-edit-form"' in page and 'id="enable-form"' not in page and 'id="grants-form"' not in page
    # An account of the configuration file is edited there: the page has no grants form, and one sent anyway is a 409.
    page = root.get(server.endpoint + "/console/account?accessKey=CAM1KEY", timeout=10)
    assert 'id="grants-form"' not in page.text and "configuration file" in page.text
    answer = root.post(server.endpoint + "/console/accounts/grants", timeout=10, allow_redirects=False,
                       data=dict(forged, accessKey="CAM1KEY", csrf=csrf_of(root, server, "/console/accounts")))
    assert answer.status_code == 409 and "form-error" in answer.text
    assert grants_of(server, "CAM1KEY") == [{"bucket": "rec", "prefix": "cam1/", "actions": ["delete", "list", "read", "write"]}]
    assert requests.get(server.endpoint + "/console/account?accessKey=CAM1KEY", timeout=10,
                        allow_redirects=False).status_code == 303  # signed out: sent to sign in
