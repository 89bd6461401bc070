"""The server hands memory back to the kernel once a burst of work is over.

glibc keeps the heap a burst grew (32 GET streams of 32 MiB objects grow it by a few hundred
MiB) and would keep an edge box's resident size at its worst moment for good; Depot's heap
trimmer returns it within seconds. The test drives the burst with raw HTTP readers (fast enough
to make the server allocate at full speed) and reads the server's VmRSS from /proc."""
import http.client
import os
import threading
import time
import urllib.parse

MIB = 1024 * 1024


def read_all(url, sink):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.request("GET", parts.path + "?" + parts.query)
    response = connection.getresponse()
    buffer = bytearray(MIB)
    total = 0
    while True:
        n = response.readinto(buffer)
        if not n:
            break
        total += n
    connection.close()
    sink.append((response.status, total))


def test_heap_grown_by_a_read_burst_is_returned(depot, s3, bucket):
    objects = 8
    for i in range(objects):
        s3.put_object(Bucket=bucket, Key=f"clip-{i}", Body=os.urandom(32 * MIB))
    urls = [s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": f"clip-{i % objects}"})
            for i in range(32)]
    baseline = depot.rss_bytes()

    peak = [baseline]
    sampling = True

    def sample():
        while sampling:
            peak[0] = max(peak[0], depot.rss_bytes())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    results = []
    for _ in range(3):
        readers = [threading.Thread(target=read_all, args=(url, results)) for url in urls]
        for t in readers:
            t.start()
        for t in readers:
            t.join()
    sampling = False
    sampler.join()
    assert results == [(200, 32 * MIB)] * 96
    grown = peak[0] - baseline
    # The burst must have grown the heap, or there is nothing to return.
    assert grown >= 48 * MIB, f"the read burst grew RSS by only {grown // MIB} MiB"

    deadline = time.time() + 10
    while time.time() < deadline and depot.rss_bytes() > baseline + 24 * MIB:
        time.sleep(0.25)
    after = depot.rss_bytes()
    assert after <= baseline + 24 * MIB, (
        f"RSS {after // MIB} MiB ten seconds after the burst (baseline {baseline // MIB} MiB, peak {peak[0] // MIB} MiB)")
