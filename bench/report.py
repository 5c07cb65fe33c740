#!/usr/bin/python3
"""Prints the benchmark table (Markdown) from the results bench/run.sh wrote, and draws the picture:

    /usr/bin/python3 bench/report.py RESULTS_DIR [--plot docs/bench-scaling.png]

Times are medians of the repetitions (torch, cat, read, cold start) or JMH averages (Java, with their 99.9%
error; the 100,000-tensor files: the median of JMH's samples). A ratio "x faster" is reference time / Java time. The references: PyTorch 2.6 (reference-2.6.jsonl,
torch.load with and without mmap=True) and PyTorch 1.13 (reference.jsonl, no mmap=).
"""
import argparse
import json
import os
import statistics
import sys

FILES = ["sd_1g.pt", "sd_4g.pt", "single_3g.pt", "llm_bf16.pt", "small_3000.pt", "optim_100k.pt", "sd_1g_legacy.pt"]
COUNTS = [10, 100, 1000, 10000, 100000, 300000]
# the size series: file, bytes of tensor data (256 float32 tensors each)
SIZES = [("size_1m.pt", 1 << 20), ("size_16m.pt", 16 << 20), ("size_256m.pt", 256 << 20), ("sd_1g.pt", 1 << 30),
         ("sd_4g.pt", 4 << 30)]
DESCRIPTION = {
    "sd_1g.pt": "1 GiB state dict, 256 float32 tensors",
    "sd_4g.pt": "4 GiB state dict, 256 float32 tensors",
    "single_3g.pt": "one 3 GiB float32 tensor",
    "llm_bf16.pt": "LLM-shaped bf16 state dict, 291 tensors, 0.79 GiB",
    "small_3000.pt": "3,000 small tensors",
    "optim_100k.pt": "training checkpoint, optimizer state of 100,000 entries (300,037 tensors)",
    "sd_1g_legacy.pt": "the 1 GiB state dict, legacy stream",
}


def read_reference(path):
    ref = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                ref.setdefault(r["file"], {})[r["what"]] = r
    return ref


def load_results(out):
    ref = read_reference(os.path.join(out, "reference.jsonl"))
    ref26 = read_reference(os.path.join(out, "reference-2.6.jsonl"))
    jmh = {}
    for name in os.listdir(out):
        if name.startswith("jmh-") and name.endswith(".json"):
            with open(os.path.join(out, name)) as f:
                try:
                    entries = json.load(f)
                except json.JSONDecodeError:
                    continue
            for e in entries:
                bench = e["benchmark"].rsplit(".", 2)
                suffix = ".parallelgc" if "parallelgc" in name else ""
                if bench[-2] == "ConcurrentLoadBenchmark":
                    suffix = f".t{e['threads']}"
                key = (bench[-2] + "." + bench[-1] + suffix,
                       e["params"].get("file") or e["params"].get("elements") or e["params"].get("files"))
                jmh[key] = e
    scaling = []
    if os.path.exists(os.path.join(out, "scaling.jsonl")):
        with open(os.path.join(out, "scaling.jsonl")) as f:
            scaling = [json.loads(line) for line in f if line.strip()]
    cold = {}
    if os.path.exists(os.path.join(out, "coldstart.jsonl")):
        with open(os.path.join(out, "coldstart.jsonl")) as f:
            for line in f:
                r = json.loads(line)
                key = os.path.basename(r["file"]) + (" (AOT cache)" if r.get("aot_cache") else "")
                cold.setdefault(key, []).append(r)
    heap = {}
    if os.path.exists(os.path.join(out, "heap.jsonl")):
        with open(os.path.join(out, "heap.jsonl")) as f:
            for line in f:
                r = json.loads(line)
                heap[os.path.basename(r["file"])] = r
    scan = read_reference(os.path.join(out, "scan.jsonl")).get("scan_1000", {})
    machine = open(os.path.join(out, "machine.txt")).read() if os.path.exists(os.path.join(out, "machine.txt")) else ""
    notes = open(os.path.join(out, "notes.txt")).read() if os.path.exists(os.path.join(out, "notes.txt")) else ""
    return ref, ref26, jmh, cold, heap, scan, machine, notes, scaling


def median_s(ref, file, what):
    r = ref.get(file, {}).get(what)
    if not r or "times_s" not in r:
        return None
    return statistics.median(r["times_s"])


def ms(seconds):
    if seconds is None:
        return "n/a"
    v = seconds * 1000
    return f"{v:,.0f} ms" if v >= 100 else f"{v:.1f} ms" if v >= 1 else f"{v:.3f} ms"


def java_s(jmh, bench, file):
    e = jmh.get((bench, file))
    if not e:
        return None, None
    m = e["primaryMetric"]
    scale = {"ms/op": 1e-3, "us/op": 1e-6, "s/op": 1.0, "ns/op": 1e-9}[m["scoreUnit"]]
    if e.get("mode") == "sample" and "50.0" in m.get("scorePercentiles", {}):
        # The slow rows are sampled load by load (run.sh, JMH_SLOW): their median, as PyTorch's side gives.
        return m["scorePercentiles"]["50.0"] * scale, None
    error = m.get("scoreError")
    err = error * scale if isinstance(error, (int, float)) and error == error else None  # "NaN" for 1 iteration
    return m["score"] * scale, err


def java_cell(jmh, bench, file):
    t, err = java_s(jmh, bench, file)
    if t is None:
        return "n/a"
    if jmh.get((bench, file), {}).get("mode") == "sample":
        return ms(t) + " (median)"
    return ms(t) + (f" ± {ms(err)}" if err else "")


def kib(metric):
    return f"{metric['score'] / 1024:,.0f} KiB" if metric else "n/a"


def ratio(a, b, digits=1):
    return f"{a / b:,.{digits}f}x" if a and b else "n/a"


def plot(path, ref, ref26, jmh):
    """Load time against tensor count and against file size, log axes: weightsonly and PyTorch 2.6."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    series = [("weightsonly mapped", lambda f: java_s(jmh, "MappedLoadBenchmark.mappedLoad", f)[0], "o-"),
              ("PyTorch 2.6 mmap=True", lambda f: median_s(ref26, f, "torch_mmap"), "s-"),
              ("PyTorch 2.6 (no mmap)", lambda f: median_s(ref26, f, "torch"), "^--"),
              ("PyTorch 1.13", lambda f: median_s(ref, f, "torch"), "v:")]
    for ax, points, label in ((axes[0], [(f"count_{n}.pt", n) for n in COUNTS], "tensors (4x4 float32 each)"),
                              (axes[1], [(f, b / (1 << 20)) for f, b in SIZES], "MiB of tensor data (256 tensors)")):
        for name, get, style in series:
            xy = [(x, get(f)) for f, x in points if get(f)]
            if xy:
                ax.plot([x for x, _ in xy], [y * 1000 for _, y in xy], style, label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("load time, ms (median / JMH average)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_title("load time against tensor count")
    axes[1].set_title("load time against file size")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--plot", help="where to draw the picture (PNG)")
    args = parser.parse_args()
    out = args.results
    ref, ref26, jmh, cold, heap, scan, machine, notes, scaling = load_results(out)
    lines = []
    p = lines.append
    if machine:
        p("Machine and versions:\n")
        for m in machine.strip().splitlines():
            p(f"- {m}")
        p("")
    devnull = next((r["devnull"]["value"] for r in ref.values() if "devnull" in r), "?")
    p(f"/dev/null here: {devnull}.\n")
    for note in notes.strip().splitlines():
        p(f"Note: {note}\n")

    p("### Mapped loads against PyTorch 2.6 `torch.load(f, mmap=True, weights_only=True)`, steady state\n")
    p("weightsonly: `Checkpoint.load(Path)` (JMH average; for the files of 100,000 tensors or more, the median of"
      " JMH's load-by-load samples after 15 s of warm-up); PyTorch: medians in a warm process. x: PyTorch time /"
      " weightsonly time. Allocation per load from JMH's GC profiler (bytes per tensor in brackets). The GC's"
      " share of the time is measured with bench/profile.sh (JFR pauses), not here: JMH's gc.time counts G1's"
      " concurrent work too.\n")
    p("| file | weightsonly mapped | 2.6 mmap=True | **x vs 2.6 mmap** | 2.6 no mmap | x | 1.13 | x"
      " | allocated per load (per tensor) |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    series = ["sd_1g.pt", "sd_4g.pt", "small_3000.pt", "optim_100k.pt"] + [f"count_{n}.pt" for n in COUNTS] \
        + [f for f, _ in SIZES[:3]] + [f for f in FILES if f not in ("sd_1g.pt", "sd_4g.pt", "small_3000.pt",
                                                                   "optim_100k.pt")]
    for f in series:
        mapped, _ = java_s(jmh, "MappedLoadBenchmark.mappedLoad", f)
        if mapped is None:
            continue
        e = jmh.get(("MappedLoadBenchmark.mappedLoad", f), {})
        alloc = e.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        tensors = next((r.get("tensors") for r in cold.get(f, [])), None)
        per = ""
        if alloc and f.startswith("count_"):
            tensors = int(f[6:-3])
        if alloc and tensors:
            per = f" ({alloc['score'] / tensors:,.0f} B)"
        t26m, t26, t113 = median_s(ref26, f, "torch_mmap"), median_s(ref26, f, "torch"), median_s(ref, f, "torch")
        p(f"| {f} ({DESCRIPTION.get(f, 'series point')}) | {java_cell(jmh, 'MappedLoadBenchmark.mappedLoad', f)}"
          f" | {ms(t26m)} | **{ratio(t26m, mapped)}** | {ms(t26)} | {ratio(t26, mapped)} | {ms(t113)}"
          f" | {ratio(t113, mapped)} | {kib(alloc)}{per} |")
    p("")

    p("### Copying loads against `torch.load(f, weights_only=True)` without mmap\n")
    p("weightsonly: the median of JMH's load-by-load samples (run.sh, JMH_COPY); PyTorch: medians in a warm"
      " process.\n")
    p("| file | weightsonly | time | x vs 2.6 | x vs 1.13 | `cat > /dev/null` | plain read |")
    p("| --- | --- | --- | --- | --- | --- | --- |")
    for f in FILES:
        t26, t113 = median_s(ref26, f, "torch"), median_s(ref, f, "torch")
        for bench, label in (("CopyingLoadBenchmark.streamLoad", "FileInputStream"),
                             ("CopyingLoadBenchmark.byteArrayLoad", "byte array"),
                             ("CopyingLoadBenchmark.filesStreamLoad", "Files.newInputStream")):
            c, _ = java_s(jmh, bench, f)
            if c:
                p(f"| {f} | {label} | {java_cell(jmh, bench, f)} | {ratio(t26, c, 2)} | {ratio(t113, c, 2)}"
                  f" | {ms(median_s(ref, f, 'cat'))} | {ms(median_s(ref, f, 'read'))} |")
    p("")

    p("### Two threads loading different checkpoints\n")
    p("Mapped loads, one thread loading both files in turn against two threads loading one file each, in phases of"
      " a few seconds that alternate in one JVM (`ScalingLoop`): median loads per second, and the median of each"
      " round's ratio of two threads to one (its two phases seconds apart).\n")
    p("| files | 1 thread | 2 threads | scaling | rounds |")
    p("| --- | --- | --- | --- | --- |")
    for r in scaling:
        p(f"| {r['files']} | {r['one']:,.1f} loads/s | {r['two']:,.1f} loads/s | {r['scaling']:.2f}x | {r['rounds']} |")
    p("")

    scan_java, _ = java_s(jmh, "ScanBenchmark.scanFolder", None)
    scan_torch = median_s({"s": scan}, "s", "scan_in_process")
    scan_tool = median_s({"s": scan}, "s", "weightsonly_scan_process")
    scan_py = median_s({"s": scan}, "s", "scan_process")
    if scan_java or scan_tool:
        files = scan.get("scan_in_process", {}).get("files", 1000)
        p("### Scanning a folder of small checkpoints (`scan_1000/`)\n")
        p(f"{files} small checkpoints. In process: `GlobalScanner.scan(file, name -> false)` for every file (JMH"
          " samples' median; a clean file is also loaded, from the same bytes, as the scan confirms its verdict) against PyTorch 2.6's"
          " `torch.serialization.get_unsafe_globals_in_checkpoint(file)` for every file in a warm process (median)."
          " Whole processes: `./weightsonly scan DIR` (the launcher, with its AOT cache when built) against one"
          " `python3 -c \"import torch; ...\"` process scanning the same files (medians).\n")
        p("| what | weightsonly | PyTorch 2.6 | x |")
        p("| --- | --- | --- | --- |")
        p(f"| in process | {java_cell(jmh, 'ScanBenchmark.scanFolder', None)} | {ms(scan_torch)}"
          f" | {ratio(scan_torch, scan_java)} |")
        p(f"| whole process | {ms(scan_tool)} | {ms(scan_py)} | {ratio(scan_py, scan_tool)} |")
        floor, _ = java_s(jmh, "ScanBenchmark.openReadAndDirectory", None)
        if floor and scan_java:
            p(f"| the floor: open, read and zip directory of every file, nothing else (`openReadAndDirectory`) |"
              f" {java_cell(jmh, 'ScanBenchmark.openReadAndDirectory', None)} | | the scan takes"
              f" {scan_java / floor:.1f}x the floor |")
        p("")

    p("### Targets\n")
    p("| target | measured | met |")
    p("| --- | --- | --- |")
    m1, _ = java_s(jmh, "MappedLoadBenchmark.mappedLoad", "sd_1g.pt")
    m4, _ = java_s(jmh, "MappedLoadBenchmark.mappedLoad", "sd_4g.pt")
    for f, label, goal in (("sd_1g.pt", "1 GiB", 10), ("sd_4g.pt", "4 GiB", 10), ("small_3000.pt", "3,000 tensors", 30),
                           ("optim_100k.pt", "300,000-tensor optimizer checkpoint", 40)):
        t, m = median_s(ref26, f, "torch_mmap"), java_s(jmh, "MappedLoadBenchmark.mappedLoad", f)[0]
        if t and m:
            p(f"| mapped load, {label}: >= {goal}x faster than 2.6 mmap=True | {t / m:,.1f}x ({ms(m)} vs {ms(t)})"
              f" | {verdict(t / m >= goal)} |")
    t1 = median_s(ref26, "sd_1g.pt", "torch")
    c1, _ = java_s(jmh, "CopyingLoadBenchmark.streamLoad", "sd_1g.pt")
    b1, _ = java_s(jmh, "CopyingLoadBenchmark.byteArrayLoad", "sd_1g.pt")
    f1, _ = java_s(jmh, "CopyingLoadBenchmark.filesStreamLoad", "sd_1g.pt")
    for label, c, goal in (("FileInputStream", c1, 1.2), ("byte array", b1, 1.2), ("Files.newInputStream", f1, 1.0)):
        if c and t1:
            p(f"| copying load of the 1 GiB file ({label}) >= {goal}x 2.6 without mmap | {t1 / c:.2f}x ({ms(c)} vs"
              f" {ms(t1)}) | {verdict(t1 / c >= goal)} |")
    for r in scaling:
        p(f"| two threads loading different checkpoints ({r['files']}) >= 1.7x one | {r['scaling']:.2f}x"
          f" | {verdict(r['scaling'] >= 1.7)} |")
    if scan_java and scan_torch:
        r = scan_torch / scan_java
        p(f"| scan of 1,000 small checkpoints in process >= 3x 2.6's get_unsafe_globals_in_checkpoint | {r:.2f}x"
          f" ({ms(scan_java)} vs {ms(scan_torch)}) | {verdict(r >= 3)} |")
    if scan_tool and scan_py:
        r = scan_py / scan_tool
        p(f"| `weightsonly scan` of the folder as a process >= 4x one PyTorch 2.6 process | {r:.2f}x"
          f" ({ms(scan_tool)} vs {ms(scan_py)}) | {verdict(r >= 4)} |")
    g1 = jmh.get(("MappedLoadBenchmark.mappedLoad", "sd_1g.pt"), {}).get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
    g4 = jmh.get(("MappedLoadBenchmark.mappedLoad", "sd_4g.pt"), {}).get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
    h1, h4 = heap.get("sd_1g.pt"), heap.get("sd_4g.pt")
    if g1 and g4:
        detail = f"allocated per load {g1['score'] / 1024:,.0f} KiB (1 GiB) vs {g4['score'] / 1024:,.0f} KiB (4 GiB)"
        if h1 and h4:
            detail += (f"; retained {h1['retained_bytes'] / 1024:,.0f} KiB vs {h4['retained_bytes'] / 1024:,.0f} KiB;"
                       f" both load in a {h1['max_heap_bytes'] >> 20} MiB heap")
        p(f"| peak heap of a mapped load independent of file size | {detail} |"
          f" {verdict(g4['score'] <= 1.1 * g1['score'])} |")
    for dtype in ("bf16", "f16"):
        e = jmh.get((f"ConversionBenchmark.{dtype}Into", "16777216"))
        e2 = jmh.get((f"ConversionBenchmark.{dtype}Into", "65536"))
        a = jmh.get((f"ConversionBenchmark.{dtype}ToFloatArray", "16777216"))
        if e:
            gbs = lambda entry, n: 4 * n / (entry["primaryMetric"]["score"] * 1e-6) / 1e9  # noqa: E731
            extra = f"; {gbs(e2, 65536):.1f} GB/s in cache" if e2 else ""
            extra += f"; {gbs(a, 16777216):.1f} GB/s through toFloatArray() (allocating)" if a else ""
            p(f"| {dtype} -> f32 >= 2 GB/s of output on one core | {gbs(e, 16777216):.1f} GB/s (16M elements){extra}"
              f" | {verdict(gbs(e, 16777216) >= 2)} |")
    p("")

    p("### Cold start (first load in a fresh JVM) beside steady state\n")
    p("| file | process (JVM start to exit) | first load, in the JVM | steady-state mapped load |")
    p("| --- | --- | --- | --- |")
    for f in FILES + ["sd_1g.pt (AOT cache)"]:
        runs = cold.get(f)
        if not runs:
            continue
        proc = statistics.median(r["process_ms"] for r in runs) / 1000
        first = statistics.median(r["first_load_ms"] for r in runs) / 1000
        steady = java_cell(jmh, "MappedLoadBenchmark.mappedLoad", f.split(" ")[0])
        p(f"| {f} | {ms(proc)} | {ms(first)} | {steady} |")
    p("")
    print("\n".join(lines))
    if args.plot:
        plot(args.plot, ref, ref26, jmh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
