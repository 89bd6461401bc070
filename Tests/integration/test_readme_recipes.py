"""Issue 19 #7: the README's client recipes work literally on a fresh start. Each test starts Depot
on a new data directory as a new user would (no DEPOT_ROOT_* variables), takes the `export AWS_…`
line Depot prints once it listens, and runs a README block marked `<!-- recipe: NAME -->` word for
word in a shell where that line was pasted, so README and tests cannot drift apart. What the recipe
uploaded is then read back with boto3."""
import os
import re
import select
import shlex
import shutil
import subprocess
import tempfile
import time

import boto3
import pytest
from botocore.config import Config

from conftest import DEPOT_BIN, REPO
from waiting import stop_process

README = os.path.join(REPO, "README.md")
RECIPES = {"awscli", "s3cmd", "rclone", "mc", "minio-py", "boto3"}


def readme_recipes():
    """{name: (language, text)} of the README's recipe blocks."""
    with open(README) as f:
        text = f.read()
    found = re.findall(r"<!-- recipe: (\S+) -->\n```(\w+)\n(.*?)\n```", text, re.S)
    return {name: (language, body) for name, language, body in found}


def clean_env(home, **extra):
    """The environment of a new shell: none of this machine's AWS, rclone or root settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RCLONE_", "DEPOT_", "MC_", "S3CMD"))}
    env.update(HOME=str(home), **extra)
    return env


class FreshDepot:
    """`depot serve` on a new data directory, its first lines of stdout kept."""

    def __init__(self, data_dir, env):
        self.process = subprocess.Popen(
            [DEPOT_BIN, "serve", "--address", "127.0.0.1:0", "--data", data_dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0)
        self.lines = []

    def read_until(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.time()))
            if not ready:
                break
            # Unbuffered: readline takes bytes up to the newline only, so select sees the rest.
            line = self.process.stdout.readline().decode()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if predicate(self.lines[-1]):
                return self.lines[-1]
        return None

    def export_line(self):
        line = self.read_until(lambda l: l.startswith("export "))
        assert line, f"no export line in {self.lines}"
        return line

    def stop(self):
        stop_process(self.process, timeout=20)


def exported(line, env=None):
    """The variables an `export A=… B=…` line sets, as a shell (with `env`) would expand them."""
    done = subprocess.run(["bash", "-c", line + "\nenv -0"], capture_output=True, text=True, env=env or {}, timeout=10)
    assert done.returncode == 0, done.stderr
    pairs = [p.split("=", 1) for p in done.stdout.split("\0") if "=" in p]
    return {k: v for k, v in pairs if k.startswith("AWS_")}


def run_recipe(name, export_line, workdir, env):
    language, body = readme_recipes()[name]
    if language == "python":
        with open(os.path.join(workdir, "recipe.py"), "w") as f:
            f.write(body + "\n")
        script = export_line + "\npython3 recipe.py\n"
    else:
        assert language == "sh", language
        script = export_line + "\n" + body + "\n"
    with open(os.path.join(workdir, "recipe.sh"), "w") as f:
        f.write(script)
    return subprocess.run(["bash", "-euo", "pipefail", "recipe.sh"], cwd=workdir, capture_output=True, text=True,
                          env=env, timeout=180)


def read_back(variables, key="cam-1/clip.mp4"):
    s3 = boto3.client("s3", endpoint_url=variables["AWS_ENDPOINT_URL"], region_name=variables["AWS_DEFAULT_REGION"],
                      aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    return s3.get_object(Bucket="recordings", Key=key)["Body"].read()


def mc_is_minio_client():
    # Debian's `mc` is Midnight Commander; only MinIO's client runs the recipe.
    if shutil.which("mc") is None:
        return False
    version = subprocess.run(["mc", "--version"], capture_output=True, text=True, timeout=10).stdout
    return "minio" in version.lower() or "RELEASE." in version


def test_readme_has_a_recipe_for_every_client():
    assert set(readme_recipes()) == RECIPES


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_runs_literally_after_pasting_the_first_start_line(tmp_path, name):
    if name == "mc" and not mc_is_minio_client():
        pytest.skip("MinIO's mc is not installed here (it is no Debian or PyPI package)")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    clip = os.urandom(200_000)
    (work / "clip.mp4").write_bytes(clip)
    env = clean_env(home)
    server = FreshDepot(str(tmp_path / "data"), env)
    try:
        line = server.export_line()
        assert any(l.startswith("depot listening on ") for l in server.lines)
        variables = exported(line)
        assert set(variables) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"}
        # The printed keys are the generated ones the notice shows (and root-credentials keeps).
        assert f"  secret key: {variables['AWS_SECRET_ACCESS_KEY']}" in server.lines
        done = run_recipe(name, line, str(work), env)
        assert done.returncode == 0, f"{name} recipe failed:\n{done.stdout}\n{done.stderr}"
        assert "clip.mp4" in done.stdout, done.stdout
        assert read_back(variables) == clip
    finally:
        server.stop()


def test_configured_root_line_reads_the_password_variable_and_is_printed_on_first_start_only(tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (work / "clip.mp4").write_bytes(b"configured root")
    password = "chosen-Pa55word-for-root"
    env = clean_env(home, DEPOT_ROOT_USER="site-admin", DEPOT_ROOT_PASSWORD=password)
    data = str(tmp_path / "data")
    server = FreshDepot(data, env)
    try:
        line = server.export_line()
        assert password not in "\n".join(server.lines)
        assert 'AWS_SECRET_ACCESS_KEY="$DEPOT_ROOT_PASSWORD"' in line and "AWS_ACCESS_KEY_ID=site-admin" in line
        # Pasted into a shell that has the variable, as the operator's has.
        done = run_recipe("awscli", line, str(work), env)
        assert done.returncode == 0, done.stderr
        assert read_back(exported(line, env)) == b"configured root"
    finally:
        server.stop()
    # The second start on the same data directory prints no export line.
    again = FreshDepot(data, env)
    try:
        assert again.read_until(lambda l: l.startswith("depot listening on "))
        assert again.read_until(lambda l: l.startswith("export "), timeout=2) is None
    finally:
        again.stop()


def test_export_line_names_a_connectable_address_for_a_wildcard_listener(tmp_path):
    env = clean_env(tmp_path)
    process = subprocess.Popen([DEPOT_BIN, "serve", "--address", "0.0.0.0:0", "--data", str(tmp_path / "data")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0)
    server = FreshDepot.__new__(FreshDepot)
    server.process, server.lines = process, []
    try:
        line = server.export_line()
        assert re.search(r"AWS_ENDPOINT_URL=http://127\.0\.0\.1:\d+ ", line), line
    finally:
        server.stop()


def test_export_line_quotes_what_the_shell_would_split(tmp_path):
    # An access key with a space and a quote still pastes as one word.
    env = clean_env(tmp_path, DEPOT_ROOT_USER="o'brien site key", DEPOT_ROOT_PASSWORD="chosen-Pa55word")
    server = FreshDepot(str(tmp_path / "data"), env)
    try:
        variables = exported(server.export_line(), env)
        assert variables["AWS_ACCESS_KEY_ID"] == "o'brien site key"
        assert variables["AWS_SECRET_ACCESS_KEY"] == "chosen-Pa55word"
    finally:
        server.stop()
