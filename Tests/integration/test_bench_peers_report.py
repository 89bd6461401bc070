"""`make bench-peers` writes its table into its own section of Benchmarks/RESULTS.md: this checks
the table's figures (ratio to the best peer, CPU per GiB against RGW, a peer that could not start)
and that a later run replaces only that section. No peer is started here: `make test` and CI
never install or run them."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Benchmarks"))
import peers_report  # noqa: E402

MiB = 1 << 20


def result(mb, ops, cpu_per_gib, errors=0):
    return {"megabytesPerSecond": mb, "operationsPerSecond": ops, "p99Milliseconds": 12.5,
            "cpuSecondsPerGiB": cpu_per_gib, "errors": errors}


def run(depot_put_mb=300.0):
    return {"started": "2026-12-05T07:00:00+00:00", "seconds": 5.0, "streams": 8, "loadBefore": [1.0, 0, 0],
            "loadAfter": [2.0, 0, 0],
            "limits": {"fdatasync": 900, "fdatasyncAfter": 800, "sha256": 1500, "md5": 700,
                       "directRead": {"device": "/dev/vda", "megabytesPerSecond": 1600}},
            "servers": {
                "depot": {"version": "abc1234", "figures": {f"put {32 * MiB}": result(depot_put_mb, 9, 2.0),
                                                            f"get {32 * MiB}": result(800, 24, 1.0)}},
                "rgw": {"version": "16.2.15", "figures": {f"put {32 * MiB}": result(200, 6, 4.0),
                                                          f"get {32 * MiB}": result(640, 19, 2.0)}},
                "swift": {"version": "", "unavailable": "swift-proxy-server not ready after 180 s"},
                "moto": {"version": "5.2.1", "figures": {f"put {32 * MiB}": result(250, 7, 8.0),
                                                         f"get {32 * MiB}": {"failed": "HTTP 500, wanted 200"}}}}}


def rows(text):
    return {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in text.splitlines()
            if line.startswith("| 32 MiB")}


def test_table_compares_with_the_best_peer_and_reports_what_did_not_run():
    text = peers_report.section(run())
    table = rows(text.split("p99 latency")[0])
    put, get = table["32 MiB PUT, MB/s"], table["32 MiB GET, MB/s"]
    # Depot 300 MB/s against moto's 250 (the best peer for PUT): 1.20x; its 2 CPU-s/GiB against RGW's 4.
    assert put[1:6] == ["300", "200", "unavailable", "250", "1.20x (moto)"]
    assert put[6:10] == ["2.0", "4.0", "unavailable", "8.0"] and put[10].strip(" |") == "0.50x"
    # moto's failed GET is no best peer: RGW is.
    assert get[4] == "failed" and get[5] == "1.25x (RGW)"
    assert "Swift could not start: swift-proxy-server not ready after 180 s" in text
    assert "moto, GET 32 MiB: HTTP 500, wanted 200" in text
    assert "0.50 of the direct-read limit" in text


def test_a_later_run_replaces_only_its_own_section(tmp_path, monkeypatch):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Depot benchmark results\n\n## Limits (same run)\n\nlimits\n\n## Depot and the peer\n\nmatrix\n")
    monkeypatch.setattr(peers_report, "RESULTS", str(results))
    peers_report.write_section(run(300.0))
    first = results.read_text()
    assert first.index("## Limits") < first.index(peers_report.BEGIN) < first.index("## Depot and the peer")
    peers_report.write_section(run(450.0))
    second = results.read_text()
    assert second.count(peers_report.BEGIN) == 1 and "| 450 |" in second and "| 300 |" not in second
    assert second.split(peers_report.BEGIN)[0] == first.split(peers_report.BEGIN)[0]
    assert second.split(peers_report.END)[1] == first.split(peers_report.END)[1]


def test_the_disk_rate_get_has_its_own_row_and_is_compared_with_the_direct_read_limit():
    raw = run()
    raw["servers"]["depot"]["figures"][f"get-cold {32 * MiB}"] = result(1200, 36, 0.6)
    raw["servers"]["rgw"]["figures"][f"get-cold {32 * MiB}"] = result(600, 18, 2.5)
    raw["servers"]["moto"]["figures"][f"get-cold {32 * MiB}"] = {"failed": "dropping the page cache needs root"}
    text = peers_report.section(raw)
    cold = rows(text.split("p99 latency")[0])["32 MiB GET from disk (page cache dropped), MB/s"]
    assert cold[1:6] == ["1,200", "600", "unavailable", "failed", "2.00x (RGW)"]
    # 1,200 of the 1,600 MB/s dd iflag=direct read.
    assert "Depot at 1,200 MB/s is 0.75 of the direct-read limit" in text
    assert "moto, GET-COLD 32 MiB: dropping the page cache needs root" in text


def test_the_disk_rate_get_is_compared_with_the_direct_reads_taken_right_after_it():
    # One dd reading swings by half between runs here, so the limit is a median of several, and the
    # cold GET is set against the readings taken just after it rather than those at the start.
    raw = run()
    raw["limits"]["directRead"] = {"device": "/dev/vda", "megabytesPerSecond": 1600, "readings": [1500, 1600, 2000]}
    raw["limits"]["directReadAfter"] = {"device": "/dev/vda", "megabytesPerSecond": 1400, "readings": [1400, 1450]}
    raw["servers"]["depot"]["figures"][f"get-cold {32 * MiB}"] = dict(
        result(1200, 36, 0.6), directRead={"device": "/dev/vda", "megabytesPerSecond": 1000, "readings": [900, 1000, 1300]})
    text = peers_report.section(raw)
    assert "median of the readings before the servers of 1,500, 1,600 and 2,000 MB/s; after them 1,400" in text
    assert "| 1,600 |" in text
    assert ("Depot at 1,200 MB/s is 1.20 of the direct-read limit read right after the phase "
            "(1,000 MB/s, median of 900, 1,000 and 1,300 MB/s)") in text
