#!/usr/bin/env bash
# Start-up of a whole `weightsonly inspect` process on a small checkpoint, against PyTorch loading the same file
# in a fresh Python process: medians of N runs (default 15) after 2 warm-ups, one variant after the other.
#
#   bench/startup.sh [N]
#
# Variants: java -jar (no options); the ./weightsonly launcher (C1 only, serial GC, the AOT cache the build makes);
# the launcher's options without the AOT cache; python3 -c "import torch; torch.load(...)" with PyTorch 2.6
# (tools/torch26) and 1.13 (/usr/bin/python3) where present.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-15}
FILE=$ROOT/loader-core/src/test/resources/fixtures/sd_conv_bn.pt
JAR=$ROOT/loader-examples/target/weightsonly.jar
AOT=$ROOT/loader-examples/target/weightsonly.aot
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
[ -f "$JAR" ] && [ -f "$AOT" ] || (cd "$ROOT" && ./with-jdk25 mvn -B -q -pl loader-examples -am package -DskipTests)
TORCH26=$ROOT/tools/torch26
[ -x "$TORCH26" ] || TORCH26=$ROOT/../shared/tools/torch26

median_ms() {   # runs "$@" N times after 2 warm-ups; prints the median wall time in ms
  local times=()
  for i in 1 2; do "$@" >/dev/null 2>&1; done
  for ((i = 0; i < N; i++)); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (N + 1) / 2 ))p"
}

printf '%-58s %s\n' "variant" "median ms"
printf '%-58s %s\n' "java -jar weightsonly.jar inspect" "$(median_ms "$JAVA" -jar "$JAR" inspect "$FILE")"
printf '%-58s %s\n' "java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC (no cache)" \
  "$(median_ms "$JAVA" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$JAR" inspect "$FILE")"
printf '%-58s %s\n' "java ... -XX:AOTCache" \
  "$(median_ms "$JAVA" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:AOTCache="$AOT" -jar "$JAR" inspect "$FILE")"
printf '%-58s %s\n' "java ... -XX:AOTCache, C1 sooner, no perf data (./weightsonly)" \
  "$(median_ms "$JAVA" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CompileThresholdScaling=0.3 -XX:-UsePerfData \
     -XX:AOTCache="$AOT" -jar "$JAR" inspect "$FILE")"
printf '%-58s %s\n' "./weightsonly inspect (launcher scripts included)" "$(median_ms "$ROOT/weightsonly" inspect "$FILE")"
if [ -x "$TORCH26" ] && "$TORCH26" python3 -c 'import torch' >/dev/null 2>&1; then
  printf '%-58s %s\n' "PyTorch 2.6: python3 -c 'import torch; torch.load(f)'" \
    "$(median_ms "$TORCH26" python3 -c "import torch; torch.load('$FILE')")"
fi
if /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  printf '%-58s %s\n' "PyTorch 1.13: python3 -c 'import torch; torch.load(f)'" \
    "$(median_ms /usr/bin/python3 -c "import torch; torch.load('$FILE')")"
fi
