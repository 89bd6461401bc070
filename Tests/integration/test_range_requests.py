"""Range requests on both front doors, which read the header with one parser. Two requests used
to stop the whole server (an unsigned integer underflow traps): a Vault blob GET with a suffix
range of an empty recording, and an S3 GET of an empty object with ?partNumber=1 and a Range."""
import requests
from botocore.exceptions import ClientError

from vault_agent_server import VAULT_HEADERS, start_with_agent


def blob(server, key, range_header):
    return requests.get(server.endpoint + "/api/storage/blob",
                        headers=dict(VAULT_HEADERS, **{"X-Kerberos-Storage-FileName": key, "Range": range_header}), timeout=10)


def test_vault_blob_ranges_read_as_s3_reads_them(tmp_path):
    server = start_with_agent(tmp_path)
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="cam/empty.mp4", Body=b"")
        s3.put_object(Bucket="rec", Key="cam/clip.mp4", Body=bytes(range(100)))
        for header in ["bytes=-5", "bytes=0-", "bytes=0-0"]:
            answer = blob(server, "cam/empty.mp4", header)
            assert answer.status_code == 416, (header, answer.status_code, answer.text)
        assert server.process.poll() is None, server.logs()
        answer = blob(server, "cam/clip.mp4", "bytes=-10")
        assert answer.status_code == 206 and answer.content == bytes(range(90, 100))
        assert answer.headers["Content-Range"] == "bytes 90-99/100"
        assert blob(server, "cam/clip.mp4", "bytes=95-500").content == bytes(range(95, 100))
        # Bad syntax and several ranges send the whole recording, as S3 does (it was a 416).
        for header in ["bytes=5-3", "bytes=abc-", "bytes=0-1,5-6"]:
            answer = blob(server, "cam/clip.mp4", header)
            assert answer.status_code == 200 and answer.content == bytes(range(100)), header
            s3_answer = s3.get_object(Bucket="rec", Key="cam/clip.mp4", Range=header)
            assert s3_answer["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert blob(server, "cam/clip.mp4", "bytes=100-").status_code == 416
    finally:
        server.cleanup()


def test_part_number_of_an_empty_object_with_a_range(tmp_path):
    server = start_with_agent(tmp_path)
    try:
        s3 = server.client()
        s3.put_object(Bucket="rec", Key="empty", Body=b"")
        got = s3.get_object(Bucket="rec", Key="empty", PartNumber=1, Range="bytes=0-")
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 200 and got["Body"].read() == b""
        assert "ContentRange" not in got
        try:
            s3.get_object(Bucket="rec", Key="empty", Range="bytes=0-")
            raise AssertionError("a range of an empty object is unsatisfiable")
        except ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidRange"
        assert server.process.poll() is None, server.logs()
        assert s3.head_object(Bucket="rec", Key="empty")["ContentLength"] == 0
    finally:
        server.cleanup()
