"""A browser page on another origin uploads a recording to Depot and plays it back (issue 17 #4),
in real headless Chromium: the page (served by a Python http.server on another 127.0.0.1 port)
records a short MP4 from a canvas with MediaRecorder, PUTs it with a presigned URL (a preflighted
cross-origin PUT with Content-Type), fetches it back with a presigned GET and compares the bytes,
and plays it in a `<video crossorigin>` element. With the bucket's CORS rule all of it works;
without it the very same page fails every step and nothing is stored.

The page reports to its own origin (a same-origin POST), so the test needs no remote debugging
and every wait is bounded."""
import hashlib
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import urllib.parse

import botocore
import pytest

from waiting import stop_process

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make deps installs it)")

PAGE = b"""<!doctype html>
<html><head><title>running</title></head><body><script>
const params = new URLSearchParams(location.search);
const out = {};
async function sha256(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('');
}
async function record() {
  // A short recording, as a camera page would make: a canvas filmed by MediaRecorder.
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 48;
  const ctx = canvas.getContext('2d');
  const types = ['video/mp4;codecs=avc1', 'video/mp4', 'video/webm;codecs=vp8', 'video/webm'];
  const type = types.find(t => MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(canvas.captureStream(25), {mimeType: type});
  const chunks = [];
  recorder.ondataavailable = e => chunks.push(e.data);
  let frame = 0;
  const paint = setInterval(() => {
    ctx.fillStyle = `hsl(${frame * 30}, 80%, 50%)`; ctx.fillRect(0, 0, 64, 48); frame++;
  }, 40);
  recorder.start(100);
  await new Promise(r => setTimeout(r, 700));
  const stopped = new Promise(r => recorder.onstop = r);
  recorder.stop();
  await stopped;
  clearInterval(paint);
  return new Blob(chunks, {type: type.split(';')[0]});
}
function play(url) {
  return new Promise(resolve => {
    const video = document.createElement('video');
    video.crossOrigin = 'anonymous';  // a CORS request: the page may use what it plays
    video.muted = true;
    video.onloadeddata = () => resolve({width: video.videoWidth, height: video.videoHeight});
    video.onerror = () => resolve({error: String(video.error && video.error.code)});
    setTimeout(() => resolve({error: 'timeout'}), 10000);
    video.src = url;
  });
}
(async () => {
  try {
    const blob = await record();
    const bytes = new Uint8Array(await blob.arrayBuffer());
    out.recorded = {type: blob.type, size: bytes.length, sha256: await sha256(bytes)};
    try {
      const put = await fetch(params.get('put'), {method: 'PUT', body: blob, headers: {'Content-Type': blob.type}});
      out.put = {status: put.status, etag: put.headers.get('ETag')};
    } catch (e) { out.put = {error: String(e)}; }
    try {
      const got = await fetch(params.get('get'));
      const back = new Uint8Array(await got.arrayBuffer());
      out.get = {status: got.status, size: back.length, sha256: await sha256(back)};
    } catch (e) { out.get = {error: String(e)}; }
    out.play = await play(params.get('get'));
  } catch (e) { out.error = String(e); }
  document.title = 'done';
  await fetch('/result', {method: 'POST', body: JSON.stringify(out)});
})();
</script></body></html>
"""


class PageServer:
    """The other origin: serves the page and takes its one report."""

    def __init__(self):
        self.result = None
        self.reported = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            def do_POST(self):
                owner.result = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()
                owner.reported.set()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def run_page(self, tmp_path, put_url, get_url, timeout=60):
        """Opens the page in headless Chromium until it reports (bounded); returns its report."""
        self.result = None
        self.reported.clear()
        query = urllib.parse.urlencode({"put": put_url, "get": get_url})
        profile = tempfile.mkdtemp(prefix="depot-chromium-", dir=tmp_path)
        log = open(tmp_path / "chromium.log", "ab")
        browser = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-extensions", f"--user-data-dir={profile}", f"{self.origin}/page.html?{query}"],
            stdout=subprocess.DEVNULL, stderr=log)
        try:
            assert self.reported.wait(timeout), "the page did not report within the bound"
            return self.result
        finally:
            stop_process(browser)
            log.close()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def page_server():
    server = PageServer()
    yield server
    server.close()


def test_a_page_on_another_origin_uploads_and_plays_a_recording(s3, bucket, page_server, tmp_path):
    def presigned(method, key):
        return s3.generate_presigned_url(method, Params={"Bucket": bucket, "Key": key}, ExpiresIn=600)

    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [page_server.origin], "AllowedMethods": ["PUT", "GET", "HEAD"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]})
    key = "cam-1/browser-recording"
    report = page_server.run_page(tmp_path, presigned("put_object", key), presigned("get_object", key))
    recorded = report.get("recorded")
    assert recorded and recorded["size"] > 0, report
    assert report["put"].get("status") == 200, report
    stored = s3.get_object(Bucket=bucket, Key=key)
    body = stored["Body"].read()
    assert hashlib.sha256(body).hexdigest() == recorded["sha256"], report
    assert stored["ContentType"] == recorded["type"]
    assert report["put"]["etag"] == stored["ETag"]  # the page could read the exposed ETag
    assert report["get"] == {"status": 200, "size": len(body), "sha256": recorded["sha256"]}, report
    assert report["play"] == {"width": 64, "height": 48}, report

    # Without the rule, the very same page fails at every step, and its upload is not stored.
    s3.delete_bucket_cors(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="cam-1/existing-recording", Body=body, ContentType=recorded["type"])
    refused_key = "cam-1/refused-recording"
    report = page_server.run_page(
        tmp_path, presigned("put_object", refused_key), presigned("get_object", "cam-1/existing-recording"))
    assert report.get("recorded", {}).get("size", 0) > 0, report
    assert "error" in report["put"] and "error" in report["get"], report
    assert "error" in report["play"], report
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key=refused_key)
    assert e.value.response["Error"]["Code"] == "404"
