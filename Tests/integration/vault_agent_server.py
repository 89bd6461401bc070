"""A depot server with one Vault agent account (AGENTKEY) that may read, write, delete and list
one bucket (`rec` unless told), its recordings in any directory: for tests that need both front doors."""
from conftest import DepotServer

ACCESS_KEY = "AGENTKEY"
SECRET_KEY = "agent-secret-1234"
VAULT_HEADERS = {"X-Kerberos-Storage-AccessKey": ACCESS_KEY, "X-Kerberos-Storage-SecretAccessKey": SECRET_KEY}


def start_with_agent(tmp_path, bucket="rec", secret=SECRET_KEY, more_accounts=""):
    """The server; `more_accounts` is YAML of further `accounts:` entries (indented by two)."""
    config = tmp_path / "depot.yaml"
    config.write_text(f"""buckets: [{bucket}]
accounts:
  - name: agents
    accessKey: {ACCESS_KEY}
    secretKey: "{secret}"
    allow: [{{ bucket: {bucket}, actions: [read, write, delete, list] }}]
    vault: {{ directory: "*", bucket: {bucket} }}
{more_accounts}""")
    return DepotServer(config=str(config)).start()
