"""The side-by-side section of Benchmarks/RESULTS.md: Depot against its peers, from one
`bench_peers.py` run's figures. The section sits between two markers, so that `make bench` (which
writes the rest of the file) keeps it and `make bench-peers` replaces only it.
"""
import datetime
import os

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
BEGIN, END = "<!-- bench-peers: written by Benchmarks/bench_peers.py -->", "<!-- /bench-peers -->"
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
NAMES = {"depot": "Depot", "rgw": "RGW", "swift": "Swift", "moto": "moto"}
# Column heads: the peer's name and version as measured, in the table's words.
HEADS = {"depot": "Depot ({})", "rgw": "Ceph RGW {} (BlueStore)", "swift": "Swift {} s3api", "moto": "moto {} (RAM)"}
PEER_ORDER = ("rgw", "swift", "moto")


def human(size):
    return f"{size // MiB} MiB" if size >= MiB else f"{size // KiB} KiB"


def workloads(raw):
    """(key, label, metric) per row, in the order the run measured them."""
    seen = []
    for server in raw["servers"].values():
        for key in server.get("figures", {}):
            if key not in seen:
                seen.append(key)
    rows = []
    for key in seen:
        op, size = key.split()
        small = int(size) < MiB
        name = "GET from disk (page cache dropped)" if op == "get-cold" else op.upper()
        rows.append((key, f"{human(int(size))} {name}, {'ops/s' if small else 'MB/s'}",
                     "operationsPerSecond" if small else "megabytesPerSecond"))
    return rows


def figure(raw, server, key):
    """The server's result for a workload, or None when it did not run or failed."""
    entry = raw["servers"].get(server, {})
    result = entry.get("figures", {}).get(key)
    return None if result is None or "failed" in result else result


def cell(raw, server, key, value, digits=0):
    entry = raw["servers"].get(server)
    if entry is None:
        return "not run"
    if "unavailable" in entry:
        return "unavailable"
    result = entry.get("figures", {}).get(key)
    if result is None or "failed" in result:
        return "failed"
    number = value(result)
    if number is None:
        return ""
    text = f"{number:,.{digits}f}"
    return text + (f" ({result['errors']} errors)" if result.get("errors") else "")


def readings(direct):
    """The direct-read readings behind a median, as text: " of 1,235, 1,408 and 2,009 MB/s"."""
    found = [f"{r:,.0f}" for r in direct.get("readings", [])]
    if len(found) < 2:
        return ""
    return f" of {', '.join(found[:-1])} and {found[-1]} MB/s"


def section(raw):
    servers = [s for s in ("depot",) + PEER_ORDER if s in raw["servers"]]
    started = datetime.datetime.fromisoformat(raw["started"])
    limits = raw["limits"]
    direct = limits.get("directRead", {})
    direct_after = limits.get("directReadAfter", {})
    after = (f"; after them {direct_after['megabytesPerSecond']:,.0f}{readings(direct_after)}"
             if direct_after.get("megabytesPerSecond") else "")
    names = {s: HEADS[s].format(raw["servers"][s].get("version") or "?").replace(" ? ", " ") for s in servers}
    lines = [
        BEGIN, "## Depot beside Ceph RGW, OpenStack Swift and moto (same run)", "",
        f"Measured {started:%Y-%m-%d %H:%M UTC} by `make bench-peers` (`Benchmarks/bench_peers.py`): each server "
        f"started by the bench, one at a time ({', '.join(raw['servers'])}), driven by `depot-load` at "
        f"{raw['streams']} streams for {raw['seconds']:g} s per phase (SigV4 with UNSIGNED-PAYLOAD; every PUT sends "
        "bytes no other object has). Client and server share the machine. Load average at start "
        f"{raw['loadBefore'][0]:.2f}, at end {raw['loadAfter'][0]:.2f}. Server CPU is user + system seconds of all "
        "the server's processes (Depot: one; RGW: mon, mgr, osd, radosgw; Swift: proxy, object, container and "
        "account servers with their workers, memcached; moto: one), from /proc just before and after the timed "
        "part, over the GiB the phase moved.", "",
        "| Limit (same run) | MB/s |", "|---|---:|",
        f"| Durable sequential write, 4 MiB writes with fdatasync every 32 MiB (before the servers / after) | "
        f"{limits['fdatasync']:,.0f} / {limits.get('fdatasyncAfter', 0):,.0f} |",
        f"| OpenSSL SHA-256, one core | {limits['sha256']:,.0f} |",
        f"| OpenSSL MD5, one core | {limits['md5']:,.0f} |",
        f"| `dd iflag=direct` sequential read (the GET limit), of {direct.get('device', '?')}: median of "
        f"the readings before the servers{readings(direct)}{after} | {direct['megabytesPerSecond']:,.0f} |"
        if direct.get("megabytesPerSecond") else
        f"| `dd iflag=direct` read: {direct.get('error', 'not measured')} | |", "",
        f"| workload ({raw['streams']} streams) | " + " | ".join(names[s] for s in servers) +
        " | Depot / best peer | " + " | ".join(f"CPU-s/GiB {NAMES[s]}" for s in servers) +
        " | CPU Depot / RGW |",
        "|---|" + "---:|" * (len(servers) * 2 + 2),
    ]
    for key, label, metric in workloads(raw):
        row = [label] + [cell(raw, s, key, lambda r: r[metric]) for s in servers]
        depot = figure(raw, "depot", key)
        peers = [(figure(raw, p, key)[metric], p) for p in servers[1:] if figure(raw, p, key)]
        best = max(peers, default=None)
        row.append(f"{depot[metric] / best[0]:.2f}x ({NAMES[best[1]]})" if depot and best and best[0] > 0 else "")
        row += [cell(raw, s, key, lambda r: r.get("cpuSecondsPerGiB"), 1) for s in servers]
        rgw = figure(raw, "rgw", key)
        row.append(f"{depot['cpuSecondsPerGiB'] / rgw['cpuSecondsPerGiB']:.2f}x"
                   if depot and rgw and depot.get("cpuSecondsPerGiB") and rgw.get("cpuSecondsPerGiB") else "")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "p99 latency of one request, ms:", "",
              "| workload | " + " | ".join(names[s] for s in servers) + " |", "|---|" + "---:|" * len(servers)]
    for key, label, _ in workloads(raw):
        lines.append(f"| {label.split(',')[0]} | " +
                     " | ".join(cell(raw, s, key, lambda r: r["p99Milliseconds"], 1) for s in servers) + " |")
    lines.append("")
    if raw["seconds"] < 20:
        lines.append(f"Phases of {raw['seconds']:g} s: a check that the bench works, not the comparison; the issue's "
                     "figures come from `make bench-peers` (20 s phases) on an otherwise quiet machine.")
    depot_get = figure(raw, "depot", f"get {32 * MiB}")
    if depot_get and direct.get("megabytesPerSecond"):
        lines.append(f"32 MiB GET: Depot at {depot_get['megabytesPerSecond']:,.0f} MB/s is "
                     f"{depot_get['megabytesPerSecond'] / direct['megabytesPerSecond']:.2f} of the direct-read limit. "
                     "GET phases read, in turn, the 16 objects depot-load wrote just before the clock started (512 MiB "
                     "at 32 MiB), which the page cache holds on every server, so a GET figure can pass the disk's limit.")
    depot_cold = figure(raw, "depot", f"get-cold {32 * MiB}")
    # The limit next to the phase (readings right after it) where the bench took them: the disk's
    # rate moves within a run.
    beside = (depot_cold or {}).get("directRead") or {}
    limit = beside if beside.get("megabytesPerSecond") else direct
    if depot_cold and limit.get("megabytesPerSecond"):
        lines.append(f"32 MiB GET from disk: with the page cache dropped after the 32 MiB PUT phase, each object that phase "
                     f"wrote is read once; Depot at {depot_cold['megabytesPerSecond']:,.0f} MB/s is "
                     f"{depot_cold['megabytesPerSecond'] / limit['megabytesPerSecond']:.2f} of the direct-read limit"
                     + (f" read right after the phase ({limit['megabytesPerSecond']:,.0f} MB/s, median"
                        f"{readings(limit)})." if limit is beside else "."))
    for server in servers:
        entry = raw["servers"][server]
        if "unavailable" in entry:
            lines.append(f"{NAMES[server]} could not start: {entry['unavailable']}")
        for key, result in entry.get("figures", {}).items():
            if "failed" in result:
                lines.append(f"{NAMES[server]}, {key.split()[0].upper()} {human(int(key.split()[1]))}: {result['failed']}")
            elif result.get("firstError"):
                lines.append(f"{NAMES[server]}, {key.split()[0].upper()} {human(int(key.split()[1]))}: first error "
                             f"{result['firstError'][:200]}")
    if lines[-1]:
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def kept_section():
    """The side-by-side section of the current RESULTS.md, for `make bench` to keep; "" if none."""
    try:
        with open(RESULTS) as f:
            text = f.read()
    except OSError:
        return ""
    if BEGIN not in text or END not in text:
        return ""
    return text[text.index(BEGIN):text.index(END) + len(END)]


def write_section(raw):
    """Puts the section into RESULTS.md: in place of the last one, else before the main bench's
    Depot table, else at the end. Returns the section's text."""
    new = section(raw)
    try:
        with open(RESULTS) as f:
            text = f.read()
    except OSError:
        text = "# Depot benchmark results\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + new + text[text.index(END) + len(END):]
    elif "\n## Depot and the peer\n" in text:
        at = text.index("\n## Depot and the peer\n") + 1
        text = text[:at] + new + "\n\n" + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    with open(RESULTS, "w") as f:
        f.write(text)
    return new
