#!/usr/bin/env bash
# Benchmarks weightsonly against PyTorch 2.6 (torch.load with and without mmap=True, tools/torch26) and
# PyTorch 1.13 (/usr/bin/python3), in one run on one machine, and prints the table of docs/BENCHMARKS.md and
# draws docs/bench-scaling.png. Takes about 15 minutes (plus about 10 to write the files the first time), and the
# scan rows (a folder of 1,000 small checkpoints: PyTorch 2.6's get_unsafe_globals_in_checkpoint against
# GlobalScanner.scan in process, and one Python process against `./weightsonly scan` as whole processes).
#
#   bench/run.sh [--dir DIR] [--no-build] [--quick] [--clean]
#
#   --dir DIR    where the benchmark files are written and read (default /tmp/weightsonly-bench; about
#                10 GB; never inside the repository)
#   --no-build   use loader-bench/target/benchmarks.jar as it is
#   --quick      fewer repetitions and shorter JMH iterations (a smoke run, not for the table)
#   --clean      delete DIR (the benchmark files) when done; the results are kept
#
# ONLY="sd_1g.pt small_3000.pt" bench/run.sh measures those files only.
# Per file, in this order so that the file is in the page cache while it is measured: `cat FILE > /dev/null`,
# a plain read of the file, torch.load(FILE, weights_only=True) with PyTorch 1.13, then with PyTorch 2.6 with
# and without mmap=True, then the Java loader (JMH: mapped load, copying loads), then (some files) the first
# load in a fresh JVM. Then two threads against one (ConcurrentLoadBenchmark), the heap of mapped loads and
# (unless SKIP_CONVERSION=1) the float16/bfloat16 conversions. Results go to DIR-results/<time>/ (RESULTS=...
# to choose); bench/report.py prints the table from them and draws the picture (PLOT=... to choose where).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=/tmp/weightsonly-bench
BUILD=1
QUICK=0
CLEAN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --quick) QUICK=1; shift ;;
    --clean) CLEAN=1; shift ;;
    *) echo "usage: bench/run.sh [--dir DIR] [--no-build] [--quick] [--clean]" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3
# PyTorch 2.6: the project's tools/torch26 chroot, or the shared one beside the checkout.
TORCH26=$ROOT/tools/torch26
[ -x "$TORCH26" ] || TORCH26=$ROOT/../shared/tools/torch26
PY26=("$TORCH26" python3)
PLOT=${PLOT:-$ROOT/docs/bench-scaling.png}
# A JDK 25: $JAVA_HOME if it is one, else the one the toolchain notes name.
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
JAR="$ROOT/loader-bench/target/benchmarks.jar"
OUT="${RESULTS:-$DIR-results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [ "$BUILD" = 1 ]; then
  log "building loader-bench and the weightsonly tool (mvn package -DskipTests)"
  (cd "$ROOT" && ./with-jdk25 mvn -B -q -o package -DskipTests -pl loader-bench,loader-examples -am) \
    2>&1 | grep -v -E 'WARNING|^\[0m' >&2 || true
fi
[ -f "$JAR" ] || { echo "no $JAR: build failed" >&2; exit 1; }

log "writing the benchmark files with PyTorch ($PY) into $DIR"
"$PY" "$ROOT/bench/make_files.py" --dir "$DIR" >&2

if [ "$QUICK" = 1 ]; then
  REPEAT=2; JMH_MAPPED=(-wi 1 -i 2 -w 1s -r 1s); JMH_COPY=(-wi 1 -i 2 -w 1s -r 1s); JMH_CONV=(-wi 1 -i 2 -w 1s -r 1s)
  JMH_BIG=(-wi 1 -i 1 -w 1s -r 1s); JMH_SLOW=("${JMH_MAPPED[@]}")
  COLD=2
else
  REPEAT=5; JMH_MAPPED=(-wi 2 -i 4 -w 1s -r 1s); JMH_CONV=(-wi 3 -i 5 -w 1s -r 1s)
  # Copying loads and scans sampled load by load, their median reported as PyTorch's side is: a copying load of
  # 1 GiB faults in fresh memory, and on this VM one load in ten or twenty can take seconds (the host's paging),
  # which moved a 3-iteration average by half.
  JMH_COPY=(-wi 2 -i 3 -w 2s -r 2s -bm sample)
  # A load of 100,000 tensors or more takes most of a second: 1 s iterations hold one or two loads, and four of them
  # end before the JIT and the heap have settled (the optimizer row's iterations fell from 1,224 to 915 ms).
  # Sampled load by load, so that the table gives their median (as PyTorch's side does) and not a mean that moves
  # with the collector's old-generation cycles.
  JMH_SLOW=(-wi 5 -i 5 -w 3s -r 3s -bm sample)
  JMH_BIG=(-wi 1 -i 3 -w 1s -r 1s)
  COLD=5
fi
# Different files for the threads of ConcurrentLoadBenchmark: copies, so that they are other files.
for f in small_3000.pt sd_1g.pt; do
  if [ -f "$DIR/$f" ] && [ ! -f "$DIR/${f%.pt}_copy.pt" ]; then cp "$DIR/$f" "$DIR/${f%.pt}_copy.pt"; fi
done

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
  echo "kernel: $(uname -r)"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "python: $("$PY" --version 2>&1), torch $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
  echo "python (PyTorch 2.6 chroot): $("${PY26[@]}" -c 'import sys, torch; print("Python", sys.version.split()[0] + ", torch", torch.__version__)' 2>&1 | tail -1)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the machine disturb the numbers)"
  echo "git: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

jmh() { # jmh NAME ARGS...: one JMH run, JSON results in $OUT/jmh-NAME.json
  local name=$1; shift
  "$JAVA" -jar "$JAR" "$@" -p dir="$DIR" -rf json -rff "$OUT/jmh-$name.json" > "$OUT/jmh-$name.log" 2>&1 \
    || { echo "JMH $name failed, see $OUT/jmh-$name.log" >&2; tail -5 "$OUT/jmh-$name.log" >&2; }
}

# file, torch repeats, torch warm-up loads, copying loads (all: FileInputStream, byte array and
# Files.newInputStream; stream: FileInputStream only; big: FileInputStream, fewer iterations; none), whether to
# time the first load in a fresh JVM, maxMemoEntries for the Java loads (0: the default limits). The count_ and
# size_ files are the points of the picture. A torch.load of 300,000 tensors takes about 15 s with mmap=True:
# one warm-up would add a minute per file for nothing, so those are timed twice with no warm-up.
FILES=(
  "sd_1g.pt $REPEAT 1 all yes 0"
  "small_3000.pt $REPEAT 1 stream yes 0"
  "optim_100k.pt 2 0 stream yes 0"
  "sd_4g.pt 3 1 big no 0"
  "count_10.pt $REPEAT 1 none no 0"
  "count_100.pt $REPEAT 1 none no 0"
  "count_1000.pt $REPEAT 1 none no 0"
  "count_10000.pt $REPEAT 1 none no 0"
  "count_100000.pt 2 0 none no 0"
  "count_300000.pt 2 0 none no 0"
  "size_1m.pt $REPEAT 1 none no 0"
  "size_16m.pt $REPEAT 1 none no 0"
  "size_256m.pt $REPEAT 1 none no 0"
)
if [ "${ALL_FILES:-0}" = 1 ]; then  # the files of the earlier tables too
  FILES+=("sd_1g_legacy.pt $REPEAT 1 stream yes 0" "llm_bf16.pt $REPEAT 1 stream yes 0" "single_3g.pt 3 1 big yes 0")
fi
for entry in "${FILES[@]}"; do
  read -r file torch_repeat torch_warmup copying cold memo <<< "$entry"
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $file "* ]]; then continue; fi
  path="$DIR/$file"
  [ "$QUICK" = 1 ] && torch_repeat=1
  if [ "$memo" != 0 ]; then
    # Say what the default limits make of the file, and that the Java loads below raise maxMemoEntries.
    verdict=$("$JAVA" -cp "$JAR" dev.weightsonly.bench.ColdStart "$path" 2>&1 | grep -m1 -E 'Exception|first_load' || true)
    echo "$file: with the default LoadLimits: ${verdict:-loads}. The Java loads below use maxMemoEntries = $memo." \
      >> "$OUT/notes.txt"
  fi
  [ -f "$path" ] || { echo "$file: missing (bench/make_files.py writes it), skipped" >&2; continue; }
  log "$file: cat, read, torch.load (PyTorch 1.13)"
  "$PY" "$ROOT/bench/time_reference.py" "$path" --repeat "$REPEAT" --torch-repeat "$torch_repeat" \
    --warmup "$torch_warmup" >> "$OUT/reference.jsonl"
  log "$file: torch.load with and without mmap=True (PyTorch 2.6)"
  (cd "$ROOT" && "${PY26[@]}" "$ROOT/bench/time_reference.py" "$path" --repeat "$REPEAT" \
    --torch-repeat "$torch_repeat" --warmup "$torch_warmup" --torch-only) >> "$OUT/reference-2.6.jsonl" \
    || echo "$file: PyTorch 2.6 failed ($TORCH26)" >&2
  log "$file: Java mapped load (JMH, with the GC profiler)"
  case "$file" in
    optim_100k.pt|count_100000.pt|count_300000.pt) jmh_mapped=("${JMH_SLOW[@]}") ;;
    *) jmh_mapped=("${JMH_MAPPED[@]}") ;;
  esac
  jmh "mapped-$file" MappedLoadBenchmark -p file="$file" -p maxMemoEntries="$memo" "${jmh_mapped[@]}" -prof gc
  case "$copying" in
    all) log "$file: Java copying loads (JMH)"
      jmh "copy-$file" 'CopyingLoadBenchmark|ReadBaselineBenchmark' -p file="$file" -p maxMemoEntries="$memo" "${JMH_COPY[@]}" ;;
    big) log "$file: Java copying load from a FileInputStream (JMH)"
      jmh "copy-$file" 'CopyingLoadBenchmark.streamLoad' -p file="$file" -p maxMemoEntries="$memo" "${JMH_BIG[@]}" ;;
    stream) log "$file: Java copying load from a FileInputStream (JMH)"
      jmh "copy-$file" 'CopyingLoadBenchmark.streamLoad' -p file="$file" -p maxMemoEntries="$memo" "${JMH_COPY[@]}" ;;
  esac
  if [ "$file" = optim_100k.pt ]; then
    log "$file: Java mapped load with the parallel collector instead of G1 (JMH)"
    jmh "mapped-parallelgc-$file" MappedLoadBenchmark -p file="$file" -p maxMemoEntries="$memo" "${jmh_mapped[@]}" \
      -jvmArgsAppend -XX:+UseParallelGC
  fi
  [ "$cold" = yes ] || continue
  log "$file: first load in a fresh JVM, $COLD times"
  for _ in $(seq "$COLD"); do
    start=$(date +%s%N)
    if line=$("$JAVA" -cp "$JAR" dev.weightsonly.bench.ColdStart --max-memo "$memo" "$path" 2>> "$OUT/coldstart.err"); then
      end=$(date +%s%N)
      echo "${line%\}}, \"process_ms\": $(( (end - start) / 1000000 ))}" >> "$OUT/coldstart.jsonl"
    else
      echo "cold start of $file failed, see $OUT/coldstart.err" >&2
    fi
  done
done

if [ -f "$DIR/sd_1g.pt" ]; then
  log "sd_1g.pt: first load in a fresh JVM with an AOT cache (JDK 25, JEP 514), $COLD times"
  "$JAVA" -XX:AOTCacheOutput="$OUT/coldstart.aot" -cp "$JAR" dev.weightsonly.bench.ColdStart "$DIR/sd_1g.pt" \
    > /dev/null 2> "$OUT/coldstart-aot.log" || true
  if [ -f "$OUT/coldstart.aot" ]; then
    for _ in $(seq "$COLD"); do
      start=$(date +%s%N)
      line=$("$JAVA" -XX:AOTCache="$OUT/coldstart.aot" -cp "$JAR" dev.weightsonly.bench.ColdStart "$DIR/sd_1g.pt")
      end=$(date +%s%N)
      echo "${line%\}}, \"process_ms\": $(( (end - start) / 1000000 )), \"aot_cache\": true}" >> "$OUT/coldstart.jsonl"
    done
    rm -f "$OUT/coldstart.aot"
  fi
fi

log "heap of a mapped load, 1 and 4 GiB, in a 32 MiB heap"
for file in sd_1g.pt sd_4g.pt; do
  [ -f "$DIR/$file" ] || continue
  "$JAVA" -Xmx32m -cp "$JAR" dev.weightsonly.bench.ColdStart --heap "$DIR/$file" >> "$OUT/heap.jsonl"
done

# The scan rows: a folder of 1,000 small checkpoints, scanned in process and as whole processes.
if [ -d "$DIR/scan_1000" ] && { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" scan_1000 "* ]]; }; then
  log "scan_1000/: PyTorch 2.6 get_unsafe_globals_in_checkpoint, in a warm process and as whole processes"
  (cd "$ROOT" && "${PY26[@]}" "$ROOT/bench/time_scan.py" "$DIR/scan_1000" --repeat "$REPEAT") >> "$OUT/scan.jsonl" \
    || echo "scan_1000: PyTorch 2.6 failed ($TORCH26)" >&2
  log "scan_1000/: Java GlobalScanner.scan in process (JMH)"
  jmh scan ScanBenchmark -p folder=scan_1000 "${JMH_COPY[@]}"
  if [ -f "$ROOT/loader-examples/target/weightsonly.jar" ]; then
    log "scan_1000/: the whole ./weightsonly scan process, $REPEAT times after one warm-up"
    "$ROOT/weightsonly" scan "$DIR/scan_1000" > /dev/null 2>&1 || true
    times=()
    for _ in $(seq "$REPEAT"); do
      start=$(date +%s%N)
      "$ROOT/weightsonly" scan "$DIR/scan_1000" > /dev/null 2>> "$OUT/scan.err" || echo "weightsonly scan: exit $?" >> "$OUT/scan.err"
      end=$(date +%s%N)
      times+=("$(awk -v ns=$((end - start)) 'BEGIN { printf "%.6f", ns / 1e9 }')")
    done
    echo "{\"file\": \"scan_1000\", \"what\": \"weightsonly_scan_process\", \"times_s\": [$(IFS=,; echo "${times[*]}")]}" \
      >> "$OUT/scan.jsonl"
  fi
fi

# Two threads against one, interleaved in one JVM (ScalingLoop: phases of 3 s, one thread then two, alternating, 7
# rounds after a warm-up; the median of the rounds' ratios). Separate JMH runs of -t 1 and -t 2 (ConcurrentLoadBenchmark, still
# there to run by hand) measured minutes apart, and this machine's load from elsewhere drifts in minutes.
for pair in small_3000.pt+small_3000_copy.pt sd_1g.pt+sd_1g_copy.pt; do
  [ -f "$DIR/${pair%%+*}" ] && [ -f "$DIR/${pair##*+}" ] || continue
  log "two different checkpoints ($pair), mapped loads from one thread and from two, interleaved"
  "$JAVA" -cp "$JAR" dev.weightsonly.bench.ScalingLoop "$DIR/${pair%%+*}" "$DIR/${pair##*+}" \
    "$([ "$QUICK" = 1 ] && echo 1 || echo 3)" "$([ "$QUICK" = 1 ] && echo 3 || echo 7)" > "$OUT/scaling-${pair%%+*}.log" 2>&1
  grep '^{' "$OUT/scaling-${pair%%+*}.log" >> "$OUT/scaling.jsonl" || echo "ScalingLoop $pair failed" >&2
done

if [ "${SKIP_CONVERSION:-0}" != 1 ]; then
  log "float16/bfloat16 to float32 (JMH, one thread)"
  jmh conversion ConversionBenchmark "${JMH_CONV[@]}"
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
"$PY" "$ROOT/bench/report.py" "$OUT" --plot "$PLOT" | tee "$OUT/table.md"
log "results in $OUT"
if [ "$CLEAN" = 1 ]; then
  log "deleting $DIR"
  rm -rf "$DIR"
fi
