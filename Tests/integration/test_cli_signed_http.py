"""The admin commands reach the server through DepotSignedHTTP (the one signed outbound client)."""
from conftest import DepotServer, run_depot


def test_admin_commands_accept_an_endpoint_with_a_trailing_slash(tmp_path):
    """`DEPOT_ENDPOINT=http://host:port/` (as copied from a browser) works: the request line is
    `/admin/...`, the path that was signed. The CLI used to send `//admin/...` while signing
    `/admin/...`, which the server refused."""
    server = DepotServer().start()
    try:
        status = run_depot("status", "--json", env={"DEPOT_ENDPOINT": server.endpoint + "/"})
        assert status.returncode == 0, status.stderr
        assert '"buckets"' in status.stdout
    finally:
        server.cleanup()

