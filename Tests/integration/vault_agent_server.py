"""A depot server with one Vault agent account (AGENTKEY) that may read, write, delete and list
one bucket (`rec` unless told), its recordings in any directory: for tests that need both front doors."""
from conftest import DepotServer

ACCESS_KEY = "AGENTKEY"
SECRET_KEY = "agent-secret-1234"
VAULT_HEADERS = {"X-Kerberos-Storage-AccessKey": ACCESS_KEY, "X-Kerberos-Storage-SecretAccessKey": SECRET_KEY}


def start_with_agent(tmp_path, bucket="rec"):
    config = tmp_path / "depot.yaml"
    config.write_text(f"""buckets: [{bucket}]
accounts:
  - name: agents
    accessKey: {ACCESS_KEY}
    secretKey: {SECRET_KEY}
    allow: [{{ bucket: {bucket}, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: {bucket} }}
""")
    return DepotServer(config=str(config)).start()
