"""Swagger UI in a real headless browser (Debian's chromium), driven over the DevTools protocol:
the page loads from Depot alone (assets from the installed swagger-ui-bundle, no internet), lists
the operations, and "Try it out" → "Execute" on GET /api/health returns data. A screenshot is
left in the test's temporary folder."""
import base64
import json
import shutil
import subprocess
import tempfile
import time

import pytest
import requests
import websocket

from backends import free_port, wait_for_port


class Browser:
    def __init__(self):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        assert binary, "chromium is not installed (make deps installs Debian's chromium)"
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="depot-chromium-")
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--remote-debugging-port={self.port}", f"--user-data-dir={self.profile}", "--window-size=1280,2000",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=60)
        page = next(t for t in requests.get(f"http://127.0.0.1:{self.port}/json", timeout=10).json() if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def wait_for(self, expression, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {expression}")

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.mark.parametrize("mount", ["/swagger/index.html", "/api/swagger/index.html"])
def test_swagger_ui_lists_operations_and_tries_one(depot, browser, tmp_path, mount):
    page = requests.get(depot.endpoint + mount, timeout=10)
    assert page.status_code == 200 and "cdn.jsdelivr" not in page.text  # served from the local distribution
    browser.send("Page.enable")
    browser.send("Page.navigate", url=depot.endpoint + mount)
    count = browser.wait_for("document.querySelectorAll('.opblock').length")
    assert count >= 40
    text = browser.evaluate("document.body.innerText")
    assert "/admin/v1/tiers" in text and "/api/storage/tus/{id}" in text and "Depot" in text
    # Try it out on GET /api/health, a read-only operation needing no keys.
    browser.evaluate("""(() => {
        const block = document.querySelector('#operations-vault-vaultHealth');
        block.querySelector('.opblock-summary-control').click();
        return true; })()""")
    browser.wait_for("!!document.querySelector('#operations-vault-vaultHealth .try-out__btn')")
    browser.evaluate("document.querySelector('#operations-vault-vaultHealth .try-out__btn').click()")
    browser.wait_for("!!document.querySelector('#operations-vault-vaultHealth .execute')")
    browser.evaluate("document.querySelector('#operations-vault-vaultHealth .execute').click()")
    body = browser.wait_for("""(() => {
        const r = document.querySelector('#operations-vault-vaultHealth .live-responses-table .response-col_description pre');
        return r ? r.innerText : null; })()""")
    assert json.loads(body) == {"data": "ok"}
    shot = browser.send("Page.captureScreenshot", format="png")
    (tmp_path / "swagger.png").write_bytes(base64.b64decode(shot["data"]))
    assert (tmp_path / "swagger.png").stat().st_size > 10_000
