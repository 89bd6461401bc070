"""The dashboard's ingest figures and the cameras' last recordings (issue 20 items 2 and 4) survive
a restart on the same data directory, count every way of uploading (PUT, multipart through boto3,
tus through the Vault API) once, and a damaged history file is ignored with a log line instead of
keeping the server from starting.

The figures are read from the dashboard's HTML the way the browser gets it (a signed-in session):
the day chart's `data-total-bytes` and `data-total-objects`, and the cameras page's last recording."""
import base64
import os
import re

import requests

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer
from test_console import heartbeat, signed_in_session

MIB = 1 << 20
CAMERA_KEY, CAMERA_SECRET = "CAMHIST", "cam-history-secret-1"
VAULT = {"X-Kerberos-Storage-AccessKey": CAMERA_KEY, "X-Kerberos-Storage-SecretAccessKey": CAMERA_SECRET}
CONFIG = f"""buckets: [rec]
accounts:
  - name: camera
    accessKey: {CAMERA_KEY}
    secretKey: {CAMERA_SECRET}
    allow: [{{ bucket: rec, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: rec }}
"""


def start(tmp_path, data_dir=None):
    config = tmp_path / "depot.yaml"
    config.write_text(CONFIG)
    return DepotServer(config=str(config), data_dir=data_dir).start()


def day_totals(server):
    """The dashboard's day chart totals (bytes, objects), as root sees them."""
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    page = session.get(server.endpoint + "/console/dashboard", timeout=10)
    assert page.status_code == 200, page.text
    svg = re.search(r'<svg id="ingest-day"[^>]*>', page.text).group(0)
    return (int(re.search(r'data-total-bytes="(\d+)"', svg).group(1)),
            int(re.search(r'data-total-objects="(\d+)"', svg).group(1)))


def last_recording(server, device):
    """The cameras page's last-recording cell of `device`, as root sees it."""
    session, _ = signed_in_session(server, ROOT_USER, ROOT_PASSWORD)
    page = session.get(server.endpoint + "/console/cameras", timeout=10).text
    row = next(r for r in page.split("<tr") if f">{device}" in r)
    return re.search(r'<td class="last-recording">(.*?)</td>', row, re.S).group(1)


def tus_upload(server, filename, body):
    metadata = "filename " + base64.b64encode(filename.encode()).decode()
    created = requests.post(f"{server.endpoint}/api/storage/tus/", timeout=10, headers={
        **VAULT, "Tus-Resumable": "1.0.0", "Upload-Length": str(len(body)), "Upload-Metadata": metadata,
        "X-Kerberos-Storage-Directory": "frontdoor"})
    assert created.status_code == 201, created.text
    location = "/api/storage/tus/" + created.headers["Location"].rsplit("/", 1)[-1]
    half = len(body) // 2
    for offset, piece in ((0, body[:half]), (half, body[half:])):
        patched = requests.patch(server.endpoint + location, data=piece, timeout=30, headers={
            **VAULT, "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
        assert patched.status_code == 204, patched.text


def test_dashboard_and_last_recordings_survive_a_restart_on_the_same_data_dir(tmp_path):
    server = start(tmp_path)
    try:
        heartbeat(server, {"key": "agent-frontdoor", "cameraname": "frontdoor", "hostname": "pi-1", "version": "3.2.1"},
                  CAMERA_KEY, CAMERA_SECRET)
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="frontdoor/1764900000_a.mp4", Body=b"x" * 3000,
                      Metadata={"event-instancename": "frontdoor", "productid": "agent-frontdoor"})
        s3.put_object(Bucket="rec", Key="other/plain.bin", Body=b"y" * 1000)
        assert day_totals(server) == (4000, 2)
        assert "1764900000_a.mp4" in last_recording(server, "agent-frontdoor")
        assert server.stop() == 0
        assert os.path.exists(os.path.join(server.data_dir, "ingest-history"))
        server.start()
        assert day_totals(server) == (4000, 2)
        assert "1764900000_a.mp4" in last_recording(server, "agent-frontdoor")
        # New uploads add to what came back (a new port: a new client).
        server.client().put_object(Bucket="rec", Key="other/more.bin", Body=b"z" * 500)
        assert day_totals(server) == (4500, 3)
    finally:
        server.cleanup()


def test_multipart_and_tus_uploads_count_like_single_puts(tmp_path):
    server = start(tmp_path)
    try:
        assert day_totals(server) == (0, 0)
        s3 = server.client()
        upload = s3.create_multipart_upload(Bucket="rec", Key="frontdoor/multi.mp4",
                                            Metadata={"event-instancename": "frontdoor"})["UploadId"]
        parts = []
        for number, body in ((1, os.urandom(5 * MIB)), (2, os.urandom(1000))):
            etag = s3.upload_part(Bucket="rec", Key="frontdoor/multi.mp4", UploadId=upload, PartNumber=number,
                                  Body=body)["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        for _ in range(2):  # a repeated Complete answers the same object and counts nothing more
            s3.complete_multipart_upload(Bucket="rec", Key="frontdoor/multi.mp4", UploadId=upload,
                                         MultipartUpload={"Parts": parts})
        assert day_totals(server) == (5 * MIB + 1000, 1)
        tus_upload(server, "1764900300_6-967003_frontdoor_200-200-400-400_24_3000.mp4", os.urandom(300_000))
        assert day_totals(server) == (5 * MIB + 1000 + 300_000, 2)
    finally:
        server.cleanup()


def test_a_damaged_history_file_is_ignored_with_a_log_line(tmp_path):
    server = start(tmp_path)
    try:
        server.client().put_object(Bucket="rec", Key="a.bin", Body=b"a" * 2048)
        assert server.stop() == 0
        path = os.path.join(server.data_dir, "ingest-history")
        with open(path, "r+b") as f:
            f.seek(5)
            byte = f.read(1)
            f.seek(5)
            f.write(bytes([byte[0] ^ 0xFF]))
        server.start()
        assert day_totals(server) == (0, 0)
        assert "ignoring " + path in server.logs()
        # The next save replaces it with a good one.
        server.client().put_object(Bucket="rec", Key="b.bin", Body=b"b" * 100)
        server.restart()
        assert day_totals(server) == (100, 1)
        # An empty (truncated) file is ignored too.
        assert server.stop() == 0
        open(path, "wb").close()
        server.start()
        assert day_totals(server) == (0, 0)
    finally:
        server.cleanup()
