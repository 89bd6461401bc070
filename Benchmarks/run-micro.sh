#!/usr/bin/env bash
# Runs the storage micro-benchmarks (release build) and, in the same run, this machine's own
# limits: `openssl speed` for SHA-256 and MD5 and a dd write with fdatasync on the data disk.
# Writes MICRO-RESULTS.md with each figure and its ratio to its limit.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp)
swift package --allow-writing-to-package-directory benchmark --no-progress | tee "$out"
sha=$(openssl speed -bytes 1048576 -seconds 3 -evp sha256 2>/dev/null | awk '/^sha256/ {print $2}')
md5=$(openssl speed -bytes 1048576 -seconds 3 -evp md5 2>/dev/null | awk '/^md5/ {print $2}')
ddfile=$(mktemp -p ..)
dd_out=$(dd if=/dev/zero of="$ddfile" bs=1M count=512 conv=fdatasync 2>&1 | tail -1)
rm -f "$ddfile"
python3 - "$out" "$sha" "$md5" "$dd_out" <<'PY' > MICRO-RESULTS.md
import re, sys, subprocess, datetime, platform
text = open(sys.argv[1]).read()
sha_limit = float(sys.argv[2].rstrip("k")) * 1000 / 1e6   # MB/s
md5_limit = float(sys.argv[3].rstrip("k")) * 1000 / 1e6
m = re.search(r"([\d.]+) ([MG])B/s", sys.argv[4])
dd_limit = float(m.group(1)) * (1000 if m.group(2) == "G" else 1) if m else float("nan")
def p50(name):
    block = text.split(name, 1)[1]
    row = next(line for line in block.splitlines() if line.startswith("│ Time (wall clock)"))
    cells = [c.strip() for c in row.split("│")[2:-1]]
    unit = re.search(r"\((\w+)\)", row.split("│")[1]).group(1)
    scale = {"ms": 1e-3, "μs": 1e-6, "us": 1e-6, "ns": 1e-9, "s": 1}[unit]
    return float(cells[2]) * scale
mib64 = 64 * 1048576 / 1e6
rows = []
cdc = mib64 / p50("FastCDC chunking 64 MiB")
rows.append(("FastCDC chunking (1 core)", cdc, "2000 MB/s target", cdc / 2000))
sha = mib64 / p50("SHA-256 64 MiB")
rows.append(("SHA-256, OpenSSL EVP from Swift", sha, f"openssl speed {sha_limit:.0f} MB/s", sha / sha_limit))
md5 = mib64 / p50("MD5 64 MiB")
rows.append(("MD5, OpenSSL EVP from Swift", md5, f"openssl speed {md5_limit:.0f} MB/s", md5 / md5_limit))
crc = mib64 / p50("CRC32C 64 MiB")
rows.append(("CRC32C (SSE4.2)", crc, "-", float("nan")))
seg = 1.048576 / p50("Segment append 1 MiB records")
rows.append(("Segment append + fdatasync every 8 MiB", seg, f"dd conv=fdatasync {dd_limit:.0f} MB/s", seg / dd_limit))
lmdb = 100 / p50("LMDB batched commit")
rows.append(("LMDB durable commits of 100 puts (puts/s)", lmdb, "-", float("nan")))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print("# Storage micro-benchmarks\n")
print(f"Machine: {platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
      f"date {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; commit {commit}. Release build, one core per benchmark, p50 of the run.\n")
print("| figure | MB/s (or /s) | limit measured in the same run | ratio |")
print("|---|---:|---|---:|")
for name, value, limit, ratio in rows:
    print(f"| {name} | {value:,.0f} | {limit} | {'' if ratio != ratio else f'{ratio:.2f}'} |")
print("\nTargets (issue 2): chunker at least 2 GB/s on one core; hashing within 5% of `openssl speed`.")
PY
cat MICRO-RESULTS.md
