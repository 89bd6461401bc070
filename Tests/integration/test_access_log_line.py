"""The access line's whole text, as log readers parse it (issue 19): the time, the level, the
fields sorted by name, the client's words escaped, then `[DepotServer] request`. The server renders
it straight from the request's record (AccessLine.swift), so these pin that text as a whole."""
import re

from test_access_log import field, request_lines
from test_access_log_fields import camera, refused, start

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (?P<level>info|debug) depot: "
    r"access_key=CAM7KEY account=camera7 api=s3 bucket=rec bytes_in=(?P<bytes_in>\d+) bytes_out=\d+ "
    r"client=127\.0\.0\.1 duration_ms=\d+\.\d{1,3} (?:error_code=(?P<error>\w+) )?key=(?P<key>.*?) method=(?P<method>[A-Z]+) "
    r"operation=(?P<operation>\w+) path=/rec/\S+ request_id=[0-9A-F]+ status=(?P<status>\d+) "
    r"user_agent=.*camera-7-firmware/1\.2.* \[DepotServer\] request$")


def test_the_line_has_every_field_in_name_order_and_escapes_control_characters(tmp_path):
    server = start(tmp_path)
    try:
        camera(server).put_object(Bucket="rec", Key="cam7/caméra\n☃\x7f.mp4", Body=b"abc")
        lines = request_lines(server, 1)
        put = [line for line in lines if field(line, "operation") == "PutObject"]
        assert len(put) == 1, lines
        match = LINE.match(put[0])
        assert match, put[0]
        assert match["level"] == "info" and match["status"] == "200" and match["bytes_in"] == "3", put[0]
        # The newline and DEL are escaped, so the key cannot forge a line; unicode stays as it is.
        assert match["key"] == "cam7/caméra\\u000a☃\\u007f.mp4", put[0]
    finally:
        server.cleanup()


def test_errors_only_keeps_successes_at_debug(tmp_path):
    server = start(tmp_path, extra="server: { accessLog: errors }\n", extra_env={"DEPOT_LOG_LEVEL": "debug"})
    try:
        camera(server).put_object(Bucket="rec", Key="cam7/ok.mp4", Body=b"x")
        refused(lambda: camera(server).put_object(Bucket="rec", Key="cam8/no.mp4", Body=b"x"), "AccessDenied")
        lines = [line for line in request_lines(server, 2) if field(line, "bucket") == "rec"]
        matches = [LINE.match(line) for line in lines]
        assert all(matches), lines
        by_status = {m["status"]: m for m in matches}
        assert by_status["200"]["level"] == "debug" and by_status["200"]["key"] == "cam7/ok.mp4", lines
        assert by_status["403"]["level"] == "info" and by_status["403"]["error"] == "AccessDenied", lines
    finally:
        server.cleanup()
