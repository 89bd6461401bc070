"""Depot over TLS in the tests: a self-signed certificate for 127.0.0.1 (made with the openssl
command), a server configured with it, and a boto3 client that trusts it. One place, so every
TLS test starts its server the same way."""
import subprocess

import boto3
from botocore.config import Config

from conftest import ROOT_PASSWORD, ROOT_USER, DepotServer


def self_signed_certificate(directory):
    """(certificate path, key path) of a fresh certificate for 127.0.0.1 in `directory`."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


def start_tls_server(directory, extra_config=""):
    """(started server, certificate path): Depot serving HTTPS only, with `extra_config` YAML
    after the server section."""
    cert, key = self_signed_certificate(directory)
    config = directory / "depot.yaml"
    config.write_text(f"server:\n  tls: {{ certificate: {cert}, key: {key} }}\n" + extra_config)
    server = DepotServer(config=str(config)).start()
    assert server.endpoint.startswith("https://")
    return server, str(cert)


def tls_client(server, cert, **config):
    """A root boto3 client of `server` that trusts its certificate (path-style unless told)."""
    config.setdefault("s3", {"addressing_style": "path"})
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", verify=str(cert),
                        aws_access_key_id=ROOT_USER, aws_secret_access_key=ROOT_PASSWORD,
                        config=Config(retries={"max_attempts": 1}, **config))
