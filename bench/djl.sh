#!/usr/bin/env bash
# A 1 GiB state dict (256 float32 tensors of [1024, 1024]) into DJL NDArrays with DJL's real PyTorch engine:
# over the mapped file (DjlCheckpoint: alone, and with every array then read once by the engine), one copy into
# direct buffers (NDArrays.copyAll), and the usual route through Java arrays (toFloatArray + NDManager.create).
# Medians of 10 loads after 3 warm-ups, each mode in its own JVM.
#
#   bench/djl.sh [FILE]      (FILE defaults to /tmp/weightsonly-bench/sd_1g.pt, written by bench/make_files.py)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILE=${1:-/tmp/weightsonly-bench/sd_1g.pt}
cd "$ROOT"
./with-jdk25 mvn -B -q -pl loader-djl -am test-compile -DskipTests >/dev/null
CP=$(./with-jdk25 mvn -B -q -o -pl loader-djl dependency:build-classpath -Dmdep.excludeGroupIds=dev.weightsonly -Dmdep.includeScope=test \
     -Dmdep.outputFile=/dev/stdout 2>/dev/null | tail -1)
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
for mode in mapped mapped-read copy arrays; do
  "$JAVA" -Xmx4g -Dai.djl.offline=true --enable-native-access=ALL-UNNAMED \
      -cp "loader-djl/target/test-classes:loader-djl/target/classes:loader-core/target/classes:loader-tensors/target/classes:$CP" dev.weightsonly.djl.DjlImportBench "$FILE" "$mode" 10 \
      2>&1 | grep -v '^WARNING'
done
