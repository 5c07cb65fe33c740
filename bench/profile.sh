#!/usr/bin/env bash
# Profiles mapped loads of one file with JFR (CPU samples and allocation samples) and prints where the time and
# the allocations go, by the first project frame and by the project methods that include them:
#
#   bench/profile.sh FILE [SECONDS]      (e.g. /tmp/weightsonly-bench/sd_1g.pt 30)
#
# Needs loader-bench/target/benchmarks.jar (./with-jdk25 mvn -B -o -q -pl loader-bench -am package -DskipTests).
# The recording stays in /tmp/weightsonly-profile-<file>.jfr (open it in JDK Mission Control for more).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILE=$1
SECONDS_=${2:-30}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JFR_FILE=/tmp/weightsonly-profile-$(basename "$FILE").jfr
"$JAVA_HOME/bin/java" -XX:StartFlightRecording=filename="$JFR_FILE",settings=profile \
  -cp "$ROOT/loader-bench/target/benchmarks.jar" dev.weightsonly.bench.LoadLoop "$FILE" "$SECONDS_" ${MODE:-mapped} 2>/dev/null
"$JAVA_HOME/bin/jfr" print --stack-depth 40 --events jdk.ExecutionSample "$JFR_FILE" > "$JFR_FILE.cpu.txt"
"$JAVA_HOME/bin/jfr" print --stack-depth 40 --events jdk.ObjectAllocationSample "$JFR_FILE" > "$JFR_FILE.alloc.txt"
"$JAVA_HOME/bin/jfr" summary "$JFR_FILE" | grep -E 'jdk.GarbageCollection |jdk.ExecutionSample ' || true
python3 "$ROOT/bench/jfr_top.py" "$JFR_FILE.cpu.txt" "$JFR_FILE.alloc.txt"
