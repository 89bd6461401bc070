"""Each connection's request handling runs on its channel's event loop (ConnectionsOnTheirLoops,
`DEPOT_CONNECTION_EXECUTOR`): the server's CPU for requests is then spent on NIO's threads, not on
Swift's cooperative pool; with the switch off the pool does most of it (so the check can fail)."""
import os
import socket
import time

import pytest

from conftest import DepotServer

PIPELINED = 1500
MIN_TICKS = 30
REQUEST = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"


def cpu_ticks_by_thread_kind(pid):
    """User + system ticks of the process's threads: those of NIO's event loops, and the others."""
    ticks = {"nio": 0, "other": 0}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ticks["nio" if name.startswith("NIO-") else "other"] += int(fields[11]) + int(fields[12])
    return ticks


def pipelined_health_requests(port, count):
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(REQUEST * count)
        received = b""
        deadline = time.monotonic() + 120
        while received.count(b"HTTP/1.1 200") < count and time.monotonic() < deadline:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            received += chunk
        return received.count(b"HTTP/1.1 200")


def share_off_the_loops(switch):
    server = DepotServer(extra_env={"DEPOT_CONNECTION_EXECUTOR": switch}).start()
    try:
        pipelined_health_requests(server.port, 200)  # warm-up: first-use allocations, lazy setup
        before = cpu_ticks_by_thread_kind(server.pid)
        # Batches until the server has spent enough CPU to judge: a release build answers 1,500
        # pipelined probes in about 3 ticks (CI failed on a single batch), a debug build in 40.
        deadline = time.monotonic() + 60
        while True:
            assert pipelined_health_requests(server.port, PIPELINED) == PIPELINED
            after = cpu_ticks_by_thread_kind(server.pid)
            nio, other = after["nio"] - before["nio"], after["other"] - before["other"]
            if nio + other >= MIN_TICKS or time.monotonic() > deadline:
                break
    finally:
        server.stop()
    assert nio + other >= MIN_TICKS, f"too little CPU to judge in 60 s: {nio} + {other} ticks"
    return other / (nio + other)


def test_requests_run_on_the_connections_event_loop_and_off_the_cooperative_pool():
    on = share_off_the_loops("1")
    off = share_off_the_loops("0")
    assert on < 0.15, f"with the connection executor, {on:.0%} of the request CPU was off NIO's threads"
    assert off > 0.3, f"without it, only {off:.0%} was off NIO's threads: the check cannot tell them apart"
