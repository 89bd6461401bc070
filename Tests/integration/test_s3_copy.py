"""CopyObject and UploadPartCopy with boto3: the copy is byte-identical and every ETag is the MD5
of the bytes it names. UploadPartCopy with a range reads the source back and feeds it through
the upload path in 1 MiB pieces, the path whose MD5 runs on its own thread with a bounded window."""
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

MIB = 1024 * 1024


def test_copy_object_shares_bytes_and_etag(s3, bucket):
    body = os.urandom(5 * MIB + 123)
    s3.put_object(Bucket=bucket, Key="source.mp4", Body=body, Metadata={"camera": "front"})
    answer = s3.copy_object(Bucket=bucket, Key="copy.mp4", CopySource={"Bucket": bucket, "Key": "source.mp4"})
    assert answer["CopyObjectResult"]["ETag"].strip('"') == hashlib.md5(body).hexdigest()
    copied = s3.get_object(Bucket=bucket, Key="copy.mp4")
    assert copied["Body"].read() == body
    assert copied["Metadata"] == {"camera": "front"}


def test_upload_part_copy_with_ranges(s3, bucket):
    body = os.urandom(23 * MIB + 4567)
    s3.put_object(Bucket=bucket, Key="long.mp4", Body=body)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="stitched.mp4")["UploadId"]
    ranges = [(0, 12 * MIB - 1), (12 * MIB, len(body) - 1)]
    parts = []
    for number, (first, last) in enumerate(ranges, start=1):
        answer = s3.upload_part_copy(
            Bucket=bucket, Key="stitched.mp4", UploadId=upload, PartNumber=number,
            CopySource={"Bucket": bucket, "Key": "long.mp4"}, CopySourceRange=f"bytes={first}-{last}")
        etag = answer["CopyPartResult"]["ETag"]
        assert etag.strip('"') == hashlib.md5(body[first:last + 1]).hexdigest()
        parts.append({"PartNumber": number, "ETag": etag})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="stitched.mp4", UploadId=upload,
                                        MultipartUpload={"Parts": parts})
    part_md5s = b"".join(hashlib.md5(body[a:b + 1]).digest() for a, b in ranges)
    assert done["ETag"].strip('"') == f"{hashlib.md5(part_md5s).hexdigest()}-2"
    assert s3.get_object(Bucket=bucket, Key="stitched.mp4")["Body"].read() == body


@pytest.mark.parametrize("text, code, message", [
    ("bytes=500-2000", "InvalidRange", "Range specified is not valid for source object of size: 1000"),
    ("bytes=1000-1000", "InvalidRange", "Range specified is not valid for source object of size: 1000"),
    ("bytes=500-", "InvalidArgument", "must be of the form bytes=first-last"),
    ("bytes=-100", "InvalidArgument", "must be of the form bytes=first-last"),
    ("0-100", "InvalidArgument", "must be of the form bytes=first-last"),
    ("bytes=10-5", "InvalidArgument", "must be of the form bytes=first-last"),
])
def test_upload_part_copy_bad_range_is_refused(s3, bucket, text, code, message):
    """400, never a part clamped to the source's end: InvalidArgument for a malformed range (as AWS answers),
    InvalidRange for one past the source's end (as s3-tests test_multipart_copy_invalid_range expects)."""
    s3.put_object(Bucket=bucket, Key="short.mp4", Body=b"x" * 1000)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="bad.mp4")["UploadId"]
    with pytest.raises(ClientError) as caught:
        s3.upload_part_copy(Bucket=bucket, Key="bad.mp4", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "short.mp4"}, CopySourceRange=text)
    error = caught.value.response
    assert error["Error"]["Code"] == code
    assert message in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3.list_parts(Bucket=bucket, Key="bad.mp4", UploadId=upload).get("Parts", []) == []
