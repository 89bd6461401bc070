"""OpenStack Swift with s3api and tempauth, as Debian packages it: proxy, object, container and
account servers plus memcached, one replica on one plain-directory device (shared/notes/peers.md).

The servers read /etc/swift/swift.conf (Debian's file, unmodified); rings, configuration, the
device and the logs live in the peer's work folder. No replicator, auditor or updater runs.
"""
import os

from peer_process import START_TIMEOUT, Peer, PeerUnavailable, debian_version, ensure_installed, free_port, \
    listening, wait_for

PACKAGES = ["swift", "swift-proxy", "swift-object", "swift-container", "swift-account", "memcached"]
SERVERS = ("object", "container", "account")
# The proxy's middleware, in the order the s3api documentation gives: s3api before tempauth,
# tempauth before the Swift features s3api maps onto (copy, slo for multipart, versioning).
PIPELINE = ("catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo "
            "versioned_writes symlink proxy-logging proxy-server")


class SwiftS3(Peer):
    name = "swift"
    keys = ("test:tester", "testing")  # tempauth's user_test_tester, as s3api sees it

    def start(self):
        ensure_installed(["swift-proxy-server", "swift-object-server", "swift-container-server",
                          "swift-account-server", "swift-ring-builder", "memcached"], PACKAGES)
        self.version = debian_version("swift")
        ports = {server: free_port() for server in ("proxy", "memcached", *SERVERS)}
        for folder in ("devices/d1", "recon"):
            os.makedirs(self.path(folder), exist_ok=True)
        for server in SERVERS:
            self.make_ring(server, ports[server])
            self.write(f"{server}-server.conf", self.storage_conf(server, ports[server]))
        self.write("proxy-server.conf", self.proxy_conf(ports["proxy"], ports["memcached"]))
        # memcached refuses to run as root unless told which user to stay.
        self.spawn("memcached", ["memcached", "-l", "127.0.0.1", "-p", str(ports["memcached"]), "-U", "0", "-u", "root",
                                 "-m", "64"])
        for server in SERVERS:
            # -v: log to the console (here, the log file); there is no syslog daemon to log to.
            self.spawn(f"{server}-server", [f"swift-{server}-server", self.path(f"{server}-server.conf"), "-v"])
        self.spawn("proxy-server", ["swift-proxy-server", self.path("proxy-server.conf"), "-v"])
        for server, port in ports.items():
            wait_for(lambda port=port: self.check_running() or listening(port), f"swift {server}", START_TIMEOUT)
        self.endpoint = f"http://127.0.0.1:{ports['proxy']}"
        self.create_bucket()

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)

    def make_ring(self, server, port):
        builder = self.path(f"{server}.builder")
        self.run(["swift-ring-builder", builder, "create", "10", "1", "1"])
        self.run(["swift-ring-builder", builder, "add", f"r1z1-127.0.0.1:{port}/d1", "100"])
        # rebalance exits 1 for a warning (one device is below the replica count's ideal), 2 for an error.
        out = self.run(["swift-ring-builder", builder, "rebalance"], check=False)
        if not os.path.exists(self.path(f"{server}.ring.gz")):
            raise PeerUnavailable(f"swift-ring-builder {server} rebalance made no ring: {out.strip()[-200:]}")

    def common(self, port, workers):
        # log_level WARNING: with -v every access line would go to the log, CPU that the
        # benchmark would count against Swift.
        return f"""[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = {workers}
user = root
swift_dir = {self.workdir}
devices = {self.path("devices")}
mount_check = false
disable_fallocate = true
log_level = WARNING
"""

    def storage_conf(self, server, port):
        # Two object-server workers, one per core, as the proxy has; container and account
        # servers only take the listing updates.
        return self.common(port, 2 if server == "object" else 1) + f"""
[pipeline:main]
pipeline = healthcheck recon {server}-server

[app:{server}-server]
use = egg:swift#{server}

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:recon]
use = egg:swift#recon
recon_cache_path = {self.path("recon")}
"""

    def proxy_conf(self, port, memcached_port):
        filters = sorted(set(PIPELINE.split()) - {"proxy-server", "s3api", "tempauth", "cache"})
        sections = "".join(f"\n[filter:{name}]\nuse = egg:swift#{name.replace('-', '_')}\n" for name in filters)
        return self.common(port, 2) + f"""
[pipeline:main]
pipeline = {PIPELINE}

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
allow_multipart_uploads = true
s3_acl = false
check_bucket_owner = false

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{memcached_port}
""" + sections
