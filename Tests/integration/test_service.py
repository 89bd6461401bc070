"""Issue 19 #6: Depot as a systemd service. Config/depot.service passes `systemd-analyze verify`
(in an alternate root holding the binary where the unit runs it, so the check is the unit's own,
not this machine's), and Depot speaks systemd's readiness protocol for its `Type=notify`: with
NOTIFY_SOCKET set it sends READY=1 once it listens and STOPPING=1 when a stop begins, each a
datagram on that unix socket (received here by a Python socket, as systemd would)."""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import DEPOT_BIN, REPO, DepotServer

UNIT = os.path.join(REPO, "Config", "depot.service")


def verify(root, unit_text, name="depot.service"):
    """systemd-analyze verify of `unit_text` installed in `root`; (returncode, output)."""
    path = os.path.join(root, "etc", "systemd", "system", name)
    with open(path, "w") as f:
        f.write(unit_text)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", path],
                          capture_output=True, text=True, timeout=60)
    return done.returncode, (done.stdout + done.stderr).strip()


@pytest.fixture
def unit_root(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is not installed (apt package systemd; .ci/run installs it)")
    root = tmp_path / "root"
    (root / "etc" / "systemd" / "system").mkdir(parents=True)
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    (root / "bin").mkdir()
    # The units the service depends on (multi-user.target, network-online.target, sysinit.target).
    shutil.copytree("/usr/lib/systemd/system", root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    try:
        os.link(DEPOT_BIN, root / "usr" / "local" / "bin" / "depot")
    except OSError:
        shutil.copy(DEPOT_BIN, root / "usr" / "local" / "bin" / "depot")
    shutil.copy("/bin/kill", root / "bin" / "kill")
    return str(root)


def test_unit_passes_systemd_analyze_verify(unit_root):
    text = open(UNIT).read()
    for line in ["Type=notify", "LimitNOFILE=", "ProtectSystem=strict", "ReadWritePaths=/var/lib/depot",
                 "NoNewPrivileges=yes", "Restart=on-failure"]:
        assert line in text, line
    code, output = verify(unit_root, text)
    assert code == 0 and output == "", output
    # The check can fail: a misspelt key and a bad limit are reported.
    code, output = verify(unit_root, text.replace("ProtectSystem=", "ProtectSytem=").replace(
        "LimitNOFILE=65536", "LimitNOFILE=lots"), name="broken.service")
    assert "Unknown key 'ProtectSytem'" in output and "lots" in output, output


def notify_socket(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    return sock


@pytest.mark.parametrize("abstract", [False, True])
def test_ready_and_stopping_reach_notify_socket(tmp_path, abstract):
    if abstract:
        name = f"depot-notify-{os.getpid()}-{time.time_ns()}"
        sock, variable = notify_socket("\0" + name), "@" + name
    else:
        path = str(tmp_path / "notify.sock")
        sock, variable = notify_socket(path), path
    server = DepotServer(extra_env={"NOTIFY_SOCKET": variable}).start()
    try:
        ready = sock.recv(4096).decode()
        assert ready.splitlines()[0] == "READY=1", ready
        assert f"STATUS=listening on {server.endpoint}" in ready.splitlines()
        # Ready means it answers: the port takes requests now.
        s3 = server.client()
        s3.create_bucket(Bucket="rec")
        server.process.send_signal(signal.SIGTERM)
        assert sock.recv(4096).decode() == "STOPPING=1"
        assert server.process.wait(timeout=30) == 0
    finally:
        sock.close()
        server.cleanup()

