"""Ceph RADOS Gateway (Debian's radosgw 16.2), on a one-OSD cluster made in the peer's work folder:
one monitor, one manager, one BlueStore OSD on a sparse file, pools of one replica, no cephx
(shared/notes/peers.md has the recipe and its pitfalls).

Every daemon runs in the foreground (-f), so the PIDs the bench holds are the daemons themselves.
"""
import os
import uuid

from peer_process import START_TIMEOUT, Peer, PeerUnavailable, debian_version, ensure_installed, free_port, \
    listening, wait_for

PACKAGES = ["radosgw", "ceph-mon", "ceph-osd", "ceph-mgr", "ceph-common"]


class CephRGW(Peer):
    name = "rgw"
    keys = ("bench-rgw-key", "bench-rgw-secret")

    def start(self):
        ensure_installed(["radosgw", "radosgw-admin", "ceph-mon", "ceph-osd", "ceph-mgr", "ceph", "monmaptool",
                          "ceph-authtool"], PACKAGES)
        self.version = debian_version("radosgw")
        self.conf = self.path("ceph.conf")
        fsid = str(uuid.uuid4())
        mon_v2, mon_v1, rgw_port = free_port(), free_port(), free_port()
        for folder in ("run", "log", "mon/ceph-a", "mgr/ceph-x", "osd/ceph-0", "rgw"):
            os.makedirs(self.path(folder), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(self.ceph_conf(fsid, mon_v2, mon_v1, rgw_port))

        keyring, monmap = self.path("keyring"), self.path("monmap")
        self.run(["ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"])
        self.run(["monmaptool", "--create", "--fsid", fsid, "--addv", "a",
                  f"[v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]", monmap])
        self.run(["ceph-mon", "-c", self.conf, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", keyring])
        self.spawn("ceph-mon", ["ceph-mon", "-c", self.conf, "-f", "-i", "a"])
        wait_for(lambda: self.check_running() or listening(mon_v1), "ceph-mon", START_TIMEOUT)
        self.spawn("ceph-mgr", ["ceph-mgr", "-c", self.conf, "-f", "-i", "x"])

        osd_uuid = str(uuid.uuid4())
        osd_id = self.ceph("osd", "new", osd_uuid).strip()
        if osd_id != "0":
            raise PeerUnavailable(f"ceph osd new gave id {osd_id!r}, wanted 0")
        self.run(["ceph-osd", "-c", self.conf, "-i", "0", "--mkfs", "--osd-uuid", osd_uuid], timeout=300)
        self.ceph("osd", "crush", "add-bucket", "localhost", "host")
        self.ceph("osd", "crush", "move", "localhost", "root=default")
        self.ceph("osd", "crush", "add", "osd.0", "1.0", "host=localhost")
        self.spawn("ceph-osd", ["ceph-osd", "-c", self.conf, "-f", "-i", "0"])

        def osd_up():
            self.check_running()
            return '"num_up_osds":1' in self.ceph("osd", "stat", "--format", "json").replace(" ", "")
        wait_for(osd_up, "ceph-osd", START_TIMEOUT)

        # radosgw creates its pools on first start; the user needs them, so it comes after.
        self.spawn("radosgw", ["radosgw", "-c", self.conf, "-f", "-n", "client.rgw.a"])
        wait_for(lambda: self.check_running() or listening(rgw_port), "radosgw", START_TIMEOUT)
        self.run(["radosgw-admin", "-c", self.conf, "user", "create", "--uid=bench", "--display-name=bench",
                  f"--access-key={self.keys[0]}", f"--secret={self.keys[1]}"], timeout=120)
        self.endpoint = f"http://127.0.0.1:{rgw_port}"
        self.create_bucket(timeout=START_TIMEOUT)

    def ceph(self, *args):
        return self.run(["ceph", "-c", self.conf, "--connect-timeout", "60", *args], timeout=90)

    def ceph_conf(self, fsid, mon_v2, mon_v1, rgw_port):
        w = self.workdir
        return f"""[global]
fsid = {fsid}
mon initial members = a
mon host = v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 42949672960
osd max object size = 134217728
run dir = {w}/run
admin socket = {w}/run/$cluster-$name.asok
pid file = {w}/run/$cluster-$name.pid
log file = {w}/log/$cluster-$name.log
mon data = {w}/mon/$cluster-$id
mgr data = {w}/mgr/$cluster-$id
osd data = {w}/osd/$cluster-$id
keyring = {w}/keyring
crash dir = {w}/crash

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port} tcp_nodelay=1
rgw data = {w}/rgw
ms mon client mode = crc
auth client required = none
"""
