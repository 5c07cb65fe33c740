#!/usr/bin/env bash
# Lists the large arrays a load allocates, by class and allocation site: every allocation outside a TLAB of at
# least MIN bytes (default 512 KiB, half of G1's smallest region: what G1 may allocate as a humongous object),
# over loads of FILE in a loop (bench/profile.sh's LoadLoop), with JFR's jdk.ObjectAllocationOutsideTLAB events.
#
#   bench/big_allocations.sh FILE [SECONDS] [MIN_BYTES]      (MODE=mapped|stream|bytes|buffered, default mapped)
#
# Needs loader-bench/target/benchmarks.jar. A load should make none but the result's own (a dict of 100,000 keys
# has a 1 MiB hash table): docs/BENCHMARKS.md, "Fifth pass".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILE=$1
SECONDS_=${2:-6}
MIN=${3:-524288}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/big.jfc" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0">
  <event name="jdk.ObjectAllocationOutsideTLAB"><setting name="enabled">true</setting><setting name="stackTrace">true</setting></event>
</configuration>
XML
"$JAVA_HOME/bin/java" -XX:StartFlightRecording=filename="$WORK/big.jfr",settings="$WORK/big.jfc" \
  -cp "$ROOT/loader-bench/target/benchmarks.jar" dev.weightsonly.bench.LoadLoop "$FILE" "$SECONDS_" "${MODE:-mapped}" \
  2>/dev/null | tail -1
"$JAVA_HOME/bin/jfr" print --stack-depth 4 --events jdk.ObjectAllocationOutsideTLAB "$WORK/big.jfr" > "$WORK/big.txt"
python3 - "$WORK/big.txt" "$MIN" <<'PY'
import collections, re, sys
text, minimum = open(sys.argv[1]).read(), int(sys.argv[2])
units = {"bytes": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
count, largest = collections.Counter(), {}
for event in text.split("jdk.ObjectAllocationOutsideTLAB {")[1:]:
    size = re.search(r"allocationSize = ([\d.,]+) (\w+)", event)
    size = float(size.group(1).replace(",", "")) * units.get(size.group(2), 1)
    if size < minimum:
        continue
    cls = re.search(r"objectClass = (\S+)", event).group(1)
    frames = re.findall(r"^\s+(\S.*?) line:", event, re.M)
    site = next((f for f in frames if "dev.weightsonly" in f), frames[0] if frames else "?")
    key = (cls, site)
    count[key] += 1
    largest[key] = max(largest.get(key, 0), size)
if not count:
    print(f"no allocation of {minimum:,} bytes or more")
for (cls, site), n in count.most_common():
    print(f"{n:5d} x up to {largest[(cls, site)] / (1 << 20):6.1f} MiB  {cls}  at {site}")
PY
