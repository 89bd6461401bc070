"""The depot process as an operator meets it: a busy port, a wrong --config path, half-set root
credentials, SIGTERM while an event sink is down after a reload, and the admin commands against
a server in another region. Each must end within seconds with a message that says what is wrong."""
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from backends import free_port
from conftest import DEPOT_BIN, ROOT_PASSWORD, ROOT_USER, DepotServer, run_depot
from event_receiver import Receiver


def serve(args, env_overrides=None, timeout=15, data=None):
    """Runs `depot serve` expecting it to stop on its own; returns (CompletedProcess, seconds)."""
    data = data or tempfile.mkdtemp(prefix="depot-data-")
    env = dict(os.environ, DEPOT_ROOT_USER=ROOT_USER, DEPOT_ROOT_PASSWORD=ROOT_PASSWORD)
    for name, value in (env_overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    started = time.monotonic()
    process = subprocess.Popen([DEPOT_BIN, "serve", "--data", data, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"depot serve {' '.join(args)} was still running after {timeout} s")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err), time.monotonic() - started


def test_busy_port_is_named_and_exits_at_once():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    address = f"127.0.0.1:{taken.getsockname()[1]}"
    try:
        result, seconds = serve(["--address", address])
    finally:
        taken.close()
    assert result.returncode != 0
    assert f"address {address} is already in use" in result.stderr, result.stderr
    assert seconds < 5
    assert "Fatal error" not in result.stderr


def test_config_path_that_is_a_directory_or_missing_is_refused(tmp_path):
    result, _ = serve(["--address", "127.0.0.1:0", "--config", str(tmp_path)])
    assert result.returncode != 0 and "depot listening" not in result.stdout
    assert f"configuration file {tmp_path} is a directory" in result.stderr, result.stderr
    missing = tmp_path / "nope.yaml"
    result, _ = serve(["--address", "127.0.0.1:0", "--config", str(missing)])
    assert result.returncode != 0
    assert f"configuration file {missing} not found" in result.stderr, result.stderr
    check = run_depot("config", "check", str(tmp_path))
    assert check.returncode != 0 and "is a directory" in check.stderr


def test_unreadable_config_says_permission_denied(tmp_path):
    # Root reads any file, so the check runs as `nobody` (setpriv drops to it).
    if not shutil_which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    os.chmod(tmp_path, 0o755)
    config = tmp_path / "depot.yaml"
    config.write_text("buckets: [a]\n")
    os.chmod(config, 0o600)
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DEPOT_BIN, "--help"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"the depot binary cannot run as nobody here: {probe.stderr.strip()[:200]}")
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DEPOT_BIN,
                             "config", "check", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f"configuration file {config}: permission denied" in result.stderr, result.stderr


def shutil_which(name):
    import shutil
    return shutil.which(name)


@pytest.mark.parametrize("overrides, message", [
    ({"DEPOT_ROOT_PASSWORD": None}, "DEPOT_ROOT_USER is set but DEPOT_ROOT_PASSWORD is not"),
    ({"DEPOT_ROOT_USER": None}, "DEPOT_ROOT_PASSWORD is set but DEPOT_ROOT_USER is not"),
    ({"DEPOT_ROOT_PASSWORD": "short"}, "DEPOT_ROOT_PASSWORD must be at least 8 characters"),
    ({"DEPOT_ROOT_USER": "ab"}, "DEPOT_ROOT_USER must be at least 3 characters"),
])
def test_root_credentials_half_set_or_too_short_are_refused(overrides, message):
    result, seconds = serve(["--address", "127.0.0.1:0"], env_overrides=overrides)
    assert result.returncode != 0 and "depot listening" not in result.stdout
    assert message in result.stderr, result.stderr
    assert "Fatal error" not in result.stderr
    assert seconds < 10


def test_short_account_secret_and_access_key_are_refused(tmp_path):
    server = DepotServer().start()
    try:
        env = {"DEPOT_ENDPOINT": server.endpoint}
        short = run_depot("account", "add", "--name", "cam", "--secret-key", "seven77", env=env)
        assert short.returncode != 0 and "secretKey" in short.stderr and "at least 8" in short.stderr, short.stderr
        key = run_depot("account", "add", "--name", "cam", "--access-key", "ab", "--secret-key", "long-enough", env=env)
        assert key.returncode != 0 and "accessKey" in key.stderr and "at least 3" in key.stderr, key.stderr
        ok = run_depot("account", "add", "--name", "cam", "--access-key", "abc", "--secret-key", "long-enough", env=env)
        assert ok.returncode == 0, ok.stderr
    finally:
        server.cleanup()
    offline = run_depot("account", "add", "--data", str(tmp_path), "--name", "cam", "--access-key", "ab",
                        "--secret-key", "long-enough")
    assert offline.returncode != 0 and "at least 3" in offline.stderr


def stop_within_bound(server, bound=12):
    """SIGTERM, then the process must exit 0 within `bound` seconds (the server's own 10 s stop
    bound plus slack); returns the seconds it took."""
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=bound + 3)
    except subprocess.TimeoutExpired:
        pytest.fail(f"depot did not stop within {bound + 3} s of SIGTERM: {server.logs()}")
    seconds = time.monotonic() - started
    assert seconds <= bound, seconds
    assert code == 0, server.logs()
    return seconds


def webhook_config(path, url, bucket="rec", timeout="60s"):
    path.write_text(f"""
buckets: [{bucket}]
events:
  sinks:
    - {{ name: hook, type: webhook, url: "{url}", timeout: {timeout}, match: {{ events: [created] }} }}
""")


def test_sigterm_with_dead_sink_after_reload_stops_in_bounded_time_and_keeps_events(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/hook"
    config = tmp_path / "depot.yaml"
    webhook_config(config, dead)
    data = tempfile.mkdtemp(prefix="depot-data-")
    server = DepotServer(data_dir=data, config=str(config)).start()
    try:
        s3 = server.client()
        for i in range(3):
            s3.put_object(Bucket="rec", Key=f"clip-{i}.mp4", Body=b"x" * 1000)
        time.sleep(1.5)  # the sink's loop is now trying the dead port
        # A run-time change: the old configuration's loop is still in its delivery attempt.
        webhook_config(config, dead, bucket="rec2")
        server.process.send_signal(signal.SIGHUP)
        time.sleep(3)
        s3.put_object(Bucket="rec", Key="clip-3.mp4", Body=b"y" * 1000)
        print(f"stopped {stop_within_bound(server):.1f} s after SIGTERM")
        # Nothing was delivered: all four events are still pending, and go out once a receiver is up.
        receiver = Receiver().start()
        try:
            webhook_config(config, receiver.url + "/hook", bucket="rec2")
            server.start()
            deadline = time.time() + 30
            while time.time() < deadline and len(receiver.bodies("/hook")) < 4:
                time.sleep(0.2)
            keys = sorted(b["Records"][0]["s3"]["object"]["key"] for b in receiver.bodies("/hook"))
            assert keys == [f"clip-{i}.mp4" for i in range(4)], keys
        finally:
            receiver.stop()
    finally:
        server.cleanup()


def test_admin_commands_find_a_server_in_another_region(tmp_path):
    config = tmp_path / "depot.yaml"
    config.write_text("server:\n  region: eu-central-1\nbuckets: [regional]\n")
    server = DepotServer(config=str(config)).start()
    try:
        env = {"DEPOT_ENDPOINT": server.endpoint}
        status = run_depot("status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        assert '"buckets"' in status.stdout
        chosen = run_depot("status", "--region", "eu-central-1", env=env)
        assert chosen.returncode == 0, chosen.stderr
        # A region given on purpose is used as given: the wrong one fails and says so.
        wrong = run_depot("status", "--region", "us-west-2", env=env)
        assert wrong.returncode != 0 and "region" in wrong.stderr.lower(), wrong.stderr
        listed = run_depot("account", "list", env=dict(env, DEPOT_REGION="eu-central-1"))
        assert listed.returncode == 0, listed.stderr
    finally:
        server.cleanup()


def test_sigterm_during_a_stalled_upload_stops_within_the_bound():
    """A client that sends half a body and goes quiet holds a request open; SIGTERM waits for it
    at most the 10 s bound, then cancels it (nothing is stored) and exits 0."""
    server = DepotServer().start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="stalled")
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "stalled", "Key": "half"}, ExpiresIn=300)
        parsed = urllib.parse.urlsplit(url)
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(f"PUT {parsed.path}?{parsed.query} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
                         f"Content-Length: 1000000\r\n\r\n".encode() + b"x" * 1000)
            time.sleep(0.5)
            stop_within_bound(server)
        server.start()
        with pytest.raises(Exception):
            server.client().head_object(Bucket="stalled", Key="half")
    finally:
        server.cleanup()


def test_address_not_on_this_machine_is_named():
    # Binding sends nothing: 192.0.2.1 (TEST-NET-1) is simply not an address of this host.
    result, seconds = serve(["--address", "192.0.2.1:9000"])
    assert result.returncode != 0
    assert "address 192.0.2.1:9000 is not an address of this machine" in result.stderr, result.stderr
    assert seconds < 5


def test_sigterm_with_a_kafka_broker_down_stops_in_bounded_time(tmp_path):
    """librdkafka blocks a thread until its delivery timeout (60 s here), which task cancellation does
    not reach: the stop must not wait for it."""
    config = tmp_path / "depot.yaml"
    config.write_text("buckets: [rec]\nevents:\n  sinks:\n"
                      f'    - {{ name: kafka, type: kafka, brokers: ["127.0.0.1:{free_port()}"], topic: t, timeout: 60s }}\n')
    server = DepotServer(config=str(config)).start()
    try:
        s3 = server.client()
        for i in range(3):
            s3.put_object(Bucket="rec", Key=f"clip-{i}.mp4", Body=b"k" * 100)
        time.sleep(2)  # the delivery attempt is under way
        stop_within_bound(server)
    finally:
        server.cleanup()
