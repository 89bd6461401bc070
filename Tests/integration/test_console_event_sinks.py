"""Event sinks made, edited, validated and deleted in the console (issue 20 item 5), in headless
Chromium against the real server, and the admin API routes under them (POST /admin/v1/events,
GET/PUT/DELETE /admin/v1/events/{name}).

A webhook sink made in the browser points at a local receiver (event_receiver.Receiver, as the
test_events* files use): `Validate` must bring the receiver the s3:TestEvent, and an upload its
event signed with the secret typed at creation, which no page or GET shows again and which an
edit that leaves it blank keeps. Bad fields are refused with the admin API's message naming the
field, and the form marks that field. A sink from the configuration file cannot be edited."""
import hashlib
import hmac
import os

import pytest
import requests

from admin_client import Admin
from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from event_receiver import Receiver
from test_console import browser, csrf_of, pytestmark, shot, sign_in, signed_in_session, wait_for  # noqa: F401
# text_of: "" while a page is being replaced (the old page's element, found a moment before, can be
# gone by the next find, which made the waits below fail now and then).
from test_console_admin import fill, text_of

SECRET = "webhook-signing-secret-42"
CONFIG = """buckets: [rec]
accounts:
  - name: viewer
    accessKey: VIEWKEY
    secretKey: view-secret-1234
    allow: [{ bucket: rec, actions: [read, list] }]
events:
  sinks:
    - { name: from-file, type: webhook, url: "http://127.0.0.1:9/never", match: { bucket: none } }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("console-sinks")
    config = directory / "depot.yaml"
    config.write_text(CONFIG)
    receiver = Receiver().start()
    server = DepotServer(config=str(config)).start()
    server.receiver = receiver
    yield server
    server.cleanup()
    receiver.stop()


def signed(body, secret=SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_webhook_sink_made_in_the_browser_validates_and_delivers_signed_events(server, browser):
    from selenium.webdriver.common.by import By
    receiver = server.receiver
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/events?type=webhook")
    fill(browser, {"s-name": "browser-hook", "s-url": receiver.url + "/hook", "s-secret": SECRET,
                   "s-match-bucket": "rec"})
    browser.find_element(By.ID, "create-sink").click()
    wait_for(lambda: "/console/event?name=browser-hook" in browser.current_url, what="the new sink's page")
    # The secret typed is never shown again: not in the page, not in the edit form.
    assert SECRET not in browser.page_source
    assert browser.find_element(By.ID, "se-secret").get_attribute("value") == ""
    status = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
              for row in browser.find_elements(By.CSS_SELECTOR, "#sink-status tr")}
    assert status["Backlog"] == "0" and status["Last error"] == "—" and status["Failing"] == "false", status
    browser.find_element(By.ID, "validate").click()
    result = wait_for(lambda: browser.find_elements(By.ID, "validation")
                      and browser.find_element(By.ID, "validation").text, what="the validation result")
    assert result == "Test event to browser-hook: delivered", result
    tests = [body for body in receiver.bodies("/hook") if body.get("Event") == "s3:TestEvent"]
    assert len(tests) == 1 and tests[0]["Sink"] == "browser-hook", tests
    shot(browser, "sink-validated")
    # The sink is live: an upload's event arrives, signed with the secret.
    server.client().put_object(Bucket="rec", Key="cam/first.mp4", Body=b"first")
    wait_for(lambda: any("Records" in b for b in receiver.bodies("/hook")), what="the upload's event")
    headers, body = next((h, b) for h, b in receiver.messages("/hook") if b"Records" in b)
    assert headers["x-depot-signature"] == signed(body)
    # An edit that leaves the secret blank keeps it; the prefix filter now applies.
    browser.get(server.endpoint + "/console/event?name=browser-hook")
    fill(browser, {"se-match-prefix": "keep/"})
    browser.find_element(By.ID, "save-sink").click()
    wait_for(lambda: "keep/" in text_of(browser, "sink-facts"),
             what="the edited sink's page")
    assert SECRET not in browser.page_source
    server.client().put_object(Bucket="rec", Key="skip/ignored.mp4", Body=b"ignored")
    server.client().put_object(Bucket="rec", Key="keep/second.mp4", Body=b"second")
    wait_for(lambda: any(b"keep/second.mp4" in b for _, b in receiver.messages("/hook")), what="the kept key's event")
    assert not any(b"skip/ignored.mp4" in b for _, b in receiver.messages("/hook"))
    headers, body = next((h, b) for h, b in receiver.messages("/hook") if b"keep/second.mp4" in b)
    assert headers["x-depot-signature"] == signed(body)
    # The list links to it and shows its deliveries.
    browser.get(server.endpoint + "/console/events")
    row = browser.find_element(By.XPATH, "//table[@id='sinks']//tr[td/a[text()='browser-hook']]")
    assert row.text.split()[:2] == ["browser-hook", "webhook"], row.text


def test_bad_fields_are_refused_with_the_field_named_and_marked(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    browser.get(server.endpoint + "/console/events?type=webhook")
    fill(browser, {"s-name": "bad-url", "s-url": "ftp://127.0.0.1/hook"})
    browser.find_element(By.ID, "create-sink").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error") and browser.find_element(By.ID, "form-error").text,
                     what="the refusal")
    assert error == "url: must start with http:// or https://", error
    assert browser.find_element(By.ID, "s-url").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "s-url").get_attribute("value") == "ftp://127.0.0.1/hook"  # kept to fix
    assert browser.find_element(By.ID, "s-name").get_attribute("aria-invalid") is None
    shot(browser, "sink-bad-url")
    # Every type's form: a Kafka broker that is not HOST:PORT, an SQS sink without its secret.
    browser.get(server.endpoint + "/console/events?type=kafka")
    fill(browser, {"s-name": "bad-kafka", "s-brokers": "127.0.0.1:9092, nowhere", "s-topic": "t"})
    browser.find_element(By.ID, "create-sink").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error") and browser.find_element(By.ID, "form-error").text,
                     what="the kafka refusal")
    assert error.startswith("brokers[1]: must be HOST:PORT"), error
    assert browser.find_element(By.ID, "s-brokers").get_attribute("aria-invalid") == "true"
    browser.get(server.endpoint + "/console/events?type=sqs")
    fill(browser, {"s-name": "bad-sqs", "s-queueUrl": "http://127.0.0.1:9/queue", "s-accessKey": "k"})
    browser.find_element(By.ID, "create-sink").click()
    error = wait_for(lambda: browser.find_elements(By.ID, "form-error") and browser.find_element(By.ID, "form-error").text,
                     what="the sqs refusal")
    assert error.startswith("secretKey:"), error
    assert browser.find_element(By.ID, "s-secretKey").get_attribute("aria-invalid") == "true"
    names = [sink["name"] for sink in Admin(server.endpoint).get("/admin/v1/events")[1]["sinks"]]
    assert not {"bad-url", "bad-kafka", "bad-sqs"} & set(names), names


def test_every_sink_type_has_a_form_and_a_file_sink_is_not_editable(server, browser):
    from selenium.webdriver.common.by import By
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    expected = {"webhook": "s-url", "sqs": "s-queueUrl", "kafka": "s-brokers", "rabbitmq": "s-exchange"}
    for kind, field in expected.items():
        browser.get(server.endpoint + f"/console/events?type={kind}")
        assert browser.find_element(By.ID, "sink-form-kind").text == f"A new {kind} sink"
        assert browser.find_element(By.ID, field).is_displayed()
    # A RabbitMQ sink: its URL's password is masked on its page and kept by an edit.
    fill(browser, {"s-name": "rabbit", "s-url": "amqp://depot:rabbit-pass-9@127.0.0.1:5672/", "s-exchange": "x"})
    browser.find_element(By.ID, "create-sink").click()
    wait_for(lambda: "/console/event?name=rabbit" in browser.current_url, what="the rabbit sink's page")
    assert "rabbit-pass-9" not in browser.page_source
    assert browser.find_element(By.ID, "se-url").get_attribute("value") == "amqp://depot:********@127.0.0.1:5672/"
    fill(browser, {"se-routingKey": "cams"})
    browser.find_element(By.ID, "save-sink").click()
    wait_for(lambda: "cams" in text_of(browser, "sink-facts"),
             what="the edited rabbit sink")
    browser.get(server.endpoint + "/console/event?name=from-file")
    assert "defined in the configuration file" in browser.find_element(By.ID, "not-editable").text
    assert not browser.find_elements(By.ID, "sink-edit-form") and not browser.find_elements(By.ID, "delete-link")
    # Delete asks first, then the sink is gone.
    browser.get(server.endpoint + "/console/event?name=rabbit")
    browser.find_element(By.ID, "delete-link").click()
    browser.find_element(By.ID, "confirm-delete").click()
    wait_for(lambda: browser.current_url.endswith("/console/events"), what="the list after the delete")
    assert not browser.find_elements(By.XPATH, "//table[@id='sinks']//a[text()='rabbit']")


def test_sink_pages_fit_a_phone_sized_window(server, browser):
    sign_in(browser, server, ROOT_USER, ROOT_PASSWORD)
    try:
        browser.set_window_size(390, 844)
        for path in ["/console/events?type=kafka", "/console/event?name=from-file"]:
            browser.get(server.endpoint + path)
            width = browser.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert width[0] <= width[1], (path, width)
            shot(browser, "sink-phone-" + path.rsplit("=", 1)[-1])
    finally:
        browser.set_window_size(1280, 800)


def test_admin_api_masks_secrets_keeps_them_on_put_and_the_sink_outlives_a_restart(server):
    admin = Admin(server.endpoint)
    document = {"name": "api-hook", "type": "webhook", "url": server.receiver.url + "/api", "secret": "api-secret-7",
                "headers": {"Authorization": "Bearer token-8"}, "match": {"bucket": "none"}}
    status, made = admin.post("/admin/v1/events", document)
    assert status == 201, made
    assert made["secret"] == "********" and made["headers"] == {"Authorization": "********"}, made
    assert made["source"] == "api" and made["status"]["backlog"] == 0, made
    status, again = admin.post("/admin/v1/events", document)
    assert status == 409 and again["field"] == "name", again
    status, bad = admin.put("/admin/v1/events/api-hook", {**made, "timeout": "forever"})
    assert status == 400 and bad["field"] == "timeout", bad
    status, unknown = admin.put("/admin/v1/events/api-hook", {**made, "colour": "red"})
    assert status == 400 and unknown["field"] == "colour", unknown
    # Sent back as GET shows it: the masked secret and header stay the stored ones.
    status, kept = admin.put("/admin/v1/events/api-hook", {**made, "match": {"bucket": "rec", "prefix": "api/"}})
    assert status == 200, kept
    server.client().put_object(Bucket="rec", Key="api/one.mp4", Body=b"one")
    wait_for(lambda: server.receiver.messages("/api"), what="the api sink's event")
    headers, body = server.receiver.messages("/api")[0]
    assert headers["x-depot-signature"] == signed(body, "api-secret-7")
    assert headers["authorization"] == "Bearer token-8"
    status, refused = admin.delete("/admin/v1/events/from-file")
    assert status == 409, refused
    server.restart()
    admin = Admin(server.endpoint)
    status, after = admin.get("/admin/v1/events/api-hook")
    assert status == 200 and after["match"]["prefix"] == "api/" and after["secret"] == "********", after
    status, gone = admin.delete("/admin/v1/events/api-hook")
    assert status == 200 and gone == {"deleted": "api-hook", "restoredFromConfig": False}, gone
    assert admin.get("/admin/v1/events/api-hook")[0] == 404


def test_sink_forms_need_the_admin_right_and_the_csrf_token(server):
    session, _ = signed_in_session(server, "VIEWKEY", "view-secret-1234")
    token = csrf_of(session, server, "/console/buckets")
    for path, form in {"/console/events": {"name": "forged", "type": "webhook", "url": "http://127.0.0.1:9/"},
                       "/console/events/edit": {"name": "from-file", "url": "http://127.0.0.1:9/forged"},
                       "/console/events/delete": {"name": "from-file"}}.items():
        answer = session.post(server.endpoint + path, data={"csrf": token, **form}, timeout=10, allow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
    root, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    answer = root.post(server.endpoint + "/console/events", timeout=10, allow_redirects=False,
                       data={"name": "forged", "type": "webhook", "url": "http://127.0.0.1:9/"})
    assert answer.status_code == 403
    names = [sink["name"] for sink in Admin(server.endpoint).get("/admin/v1/events")[1]["sinks"]]
    assert "forged" not in names and "from-file" in names
    assert requests.get(server.endpoint + "/console/event?name=from-file", timeout=10,
                        allow_redirects=False).status_code in (302, 303)
