"""Progress of long commands (fsck, fsck --rebuild-index, gc, replicate --wait): on a terminal one
line redrawn with \\r (driven here in a real pseudo-terminal), elsewhere plain periodic lines;
each with the count, bytes, rate and time left."""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

from backends import free_port
from conftest import DEPOT_BIN, ROOT_PASSWORD, ROOT_USER, DepotServer

LINE = r"\d+ (of \d+ )?(records|objects|segments)"
FIGURES = re.compile(LINE + r".*, [\d.]+ (B|KiB|MiB|GiB)( of [\d.]+ (B|KiB|MiB|GiB) \(\d+%\))?, .*/s, ETA (\d+:\d\d|\?)")


def env(**extra):
    base = {k: v for k, v in os.environ.items() if k not in ("DEPOT_ENDPOINT", "DEPOT_PROGRESS_INTERVAL")}
    base.update(DEPOT_ROOT_USER=ROOT_USER, DEPOT_ROOT_PASSWORD=ROOT_PASSWORD, **extra)
    return base


def in_terminal(*args, environment=None, timeout=120, columns=200):
    """Runs depot with stderr on a pseudo-terminal `columns` wide; returns (exit code, stdout,
    what the terminal got)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([DEPOT_BIN, *args], stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL,
                               env=environment or env())
    os.close(terminal)
    screen = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                break
            if not chunk:
                break
            screen += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    out = process.stdout.read().decode()
    return process.wait(timeout=30), out, screen.decode(errors="replace")


def filled_data_dir(tmp_path, objects=24, size=1 << 20):
    """A stopped server's data directory with a few MiB in 1 MiB segments, most of it deleted
    (so gc has segments to compact)."""
    config = tmp_path / "depot.yaml"
    config.write_text("storage:\n  segmentSize: 1MiB\nbuckets: [rec]\n")
    server = DepotServer(data_dir=str(tmp_path / "data"), config=str(config)).start()
    s3 = server.client()
    for i in range(objects):
        s3.put_object(Bucket="rec", Key=f"cam/{i}.mp4", Body=os.urandom(size))
    for i in range(0, objects, 4):
        for j in range(i, min(i + 3, objects)):
            s3.delete_object(Bucket="rec", Key=f"cam/{j}.mp4")
    server.stop()
    if server.log and not server.log.closed:
        server.log.close()
    return str(config), str(tmp_path / "data")


def test_fsck_rebuild_and_gc_draw_one_line_on_a_terminal(tmp_path):
    config, data = filled_data_dir(tmp_path)
    for task, args in [("fsck", ["fsck"]), ("fsck --rebuild-index", ["fsck", "--rebuild-index"]), ("gc", ["gc"])]:
        code, out, screen = in_terminal(*args, "--config", config, "--data", data)
        assert code == 0, out + screen
        # Redrawn in place: each state after \r and erase-line, and one newline when done.
        drawn = re.findall("\r\x1b\\[K(" + re.escape(task) + ": [^\r\n]*)", screen)
        assert drawn, repr(screen)
        assert all(FIGURES.search(line) for line in drawn), drawn
        progress_lines = [line for line in screen.replace("\r\n", "\n").split("\n") if task + ": " in line]
        # The progress line never took a line per update: what went to separate lines is notes.
        assert len(progress_lines) <= 2 + screen.count("segment "), repr(screen)
        # Results stay on stdout, free of terminal controls.
        assert "\x1b" not in out and "\r" not in out
    # The final state of a scan: everything read.
    code, out, screen = in_terminal("fsck", "--config", config, "--data", data)
    last = re.findall("\r\x1b\\[K(fsck: verifying segments: [^\r\n]*)", screen)
    assert last and "(100%)" in last[-1], last
    # A narrow terminal: the line is cut to fit, so it still redraws in place instead of wrapping.
    code, out, screen = in_terminal("fsck", "--config", config, "--data", data, columns=50)
    narrow = re.findall("\r\x1b\\[K(fsck: [^\r\n]*)", screen)
    assert code == 0 and narrow and all(len(line) <= 49 for line in narrow), narrow


def test_plain_lines_when_not_on_a_terminal(tmp_path):
    config, data = filled_data_dir(tmp_path)
    often = subprocess.run([DEPOT_BIN, "fsck", "--config", config, "--data", data], capture_output=True, text=True,
                           timeout=120, env=env(DEPOT_PROGRESS_INTERVAL="0.001"))
    assert often.returncode == 0, often.stderr
    assert "\r" not in often.stderr and "\x1b" not in often.stderr
    lines = [line for line in often.stderr.splitlines() if line.startswith("fsck: verifying segments: ")]
    assert len(lines) >= 2, often.stderr
    assert all(FIGURES.search(line) for line in lines), lines
    counts = [int(line.split(": ")[2].split()[0]) for line in lines]
    assert counts == sorted(counts) and "(100%)" in lines[-1]
    # At the default interval (5 s) a short run writes its final state once.
    quiet = subprocess.run([DEPOT_BIN, "gc", "--config", config, "--data", data], capture_output=True, text=True,
                           timeout=120, env=env())
    assert quiet.returncode == 0, quiet.stderr
    assert len([line for line in quiet.stderr.splitlines() if line.startswith("gc: compacting segments: ")]) == 1, quiet.stderr
    assert "gc: compacted" in quiet.stdout


def test_replicate_wait_shows_progress_and_final_counts(tmp_path):
    nas = tmp_path / "nas"
    nas.mkdir()
    port = free_port()
    config = tmp_path / "depot.yaml"
    config.write_text(f"""
server: {{ address: 127.0.0.1:{port} }}
buckets: [rec]
tiers: [{{ name: nas, type: filesystem, path: "{nas}" }}]
policies: [{{ name: later, match: {{ bucket: rec }}, replicate: {{ to: [nas], mode: on-demand }} }}]
""")
    server = DepotServer(config=str(config), address=f"127.0.0.1:{port}").start()
    try:
        s3 = server.client()
        for i in range(6):
            s3.put_object(Bucket="rec", Key=f"old/{i}.mp4", Body=os.urandom(100_000))
        code, out, screen = in_terminal("replicate", "rec", "--policy", "later", "--existing", "--tier", "nas", "--wait",
                                        "--config", str(config))
        assert code == 0, out + screen
        assert "queued 6 objects for nas" in out and "6 completed, 0 pending, 0 failed" in out, out
        drawn = re.findall("\r\x1b\\[K(replicate: job [0-9a-f]+ to nas: [^\r\n]*)", screen)
        assert drawn and "6 of 6 objects" in drawn[-1] and FIGURES.search(drawn[-1]), repr(screen)
        # Not on a terminal: plain lines, the same figures.
        plain = subprocess.run([DEPOT_BIN, "replicate", "rec", "old/0.mp4", "--tier", "nas", "--wait", "--config", str(config)],
                               capture_output=True, text=True, timeout=120, env=env())
        assert plain.returncode == 0 and "\r" not in plain.stderr, plain.stderr
        assert "queued 0 objects for nas (1 already replicated)" in plain.stdout, plain.stdout
        assert re.search(r"^replicate: job [0-9a-f]+ to nas: 1 of 1 objects", plain.stderr, re.M), plain.stderr
    finally:
        server.cleanup()
