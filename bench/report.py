#!/usr/bin/python3
"""Prints the benchmark table (Markdown) from the results bench/run.sh wrote:

    /usr/bin/python3 bench/report.py RESULTS_DIR

Times are medians of the repetitions (torch, cat, read, cold start) or JMH averages (Java, with their 99.9%
error). A ratio "x faster" is reference time / Java time.
"""
import json
import os
import statistics
import sys

FILES = ["sd_1g.pt", "sd_4g.pt", "single_3g.pt", "llm_bf16.pt", "small_3000.pt", "optim_100k.pt", "sd_1g_legacy.pt"]
DESCRIPTION = {
    "sd_1g.pt": "1 GiB state dict, 256 float32 tensors",
    "sd_4g.pt": "4 GiB state dict, 256 float32 tensors",
    "single_3g.pt": "one 3 GiB float32 tensor",
    "llm_bf16.pt": "LLM-shaped bf16 state dict, 291 tensors, 0.79 GiB",
    "small_3000.pt": "3,000 small tensors",
    "optim_100k.pt": "training checkpoint, optimizer state of 100,000 entries (300,037 tensors)",
    "sd_1g_legacy.pt": "the 1 GiB state dict, legacy stream",
}


def load_results(out):
    ref = {}
    with open(os.path.join(out, "reference.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            ref.setdefault(r["file"], {})[r["what"]] = r
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
                key = (bench[-2] + "." + bench[-1] + suffix, e["params"].get("file") or e["params"].get("elements"))
                jmh[key] = e
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
    machine = open(os.path.join(out, "machine.txt")).read() if os.path.exists(os.path.join(out, "machine.txt")) else ""
    notes = open(os.path.join(out, "notes.txt")).read() if os.path.exists(os.path.join(out, "notes.txt")) else ""
    return ref, jmh, cold, heap, machine, notes


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
    error = m.get("scoreError")
    err = error * scale if isinstance(error, (int, float)) and error == error else None  # "NaN" for 1 iteration
    return m["score"] * scale, err


def java_cell(jmh, bench, file):
    t, err = java_s(jmh, bench, file)
    if t is None:
        return "n/a"
    return ms(t) + (f" ± {ms(err)}" if err else "")


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def main():
    out = sys.argv[1]
    ref, jmh, cold, heap, machine, notes = load_results(out)
    lines = []
    p = lines.append
    if machine:
        p("Machine and versions:\n")
        for m in machine.strip().splitlines():
            p(f"- {m}")
        p("")
    torch_version = next((r["torch_version"]["value"] for r in ref.values() if "torch_version" in r), "?")
    mmap = next((r["torch_mmap"] for r in ref.values() if "torch_mmap" in r), None)
    devnull = next((r["devnull"]["value"] for r in ref.values() if "devnull" in r), "?")
    if mmap and "unavailable" in mmap:
        p(f"`torch.load(mmap=True)`: {mmap['unavailable']}; not measured.\n")
    p(f"/dev/null here: {devnull}.\n")
    for note in notes.strip().splitlines():
        p(f"Note: {note}\n")

    p("### Loads against torch.load(weights_only=True), steady state\n")
    p("| file | Java mapped load | Java copying load (FileInputStream) | torch.load | mapped: x faster | copying: x faster"
      " | `cat > /dev/null` | plain read |")
    p("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for f in FILES:
        t = median_s(ref, f, "torch")
        tu = ref.get(f, {}).get("torch", {}).get("unavailable")
        mapped, _ = java_s(jmh, "MappedLoadBenchmark.mappedLoad", f)
        copy, _ = java_s(jmh, "CopyingLoadBenchmark.streamLoad", f)
        p(f"| {f} ({DESCRIPTION[f]}) | {java_cell(jmh, 'MappedLoadBenchmark.mappedLoad', f)}"
          f" | {java_cell(jmh, 'CopyingLoadBenchmark.streamLoad', f)} | {ms(t) if t else ('refused: ' + tu if tu else 'n/a')}"
          f" | {f'{t / mapped:,.0f}x' if t and mapped else 'n/a'} | {f'{t / copy:.2f}x' if t and copy else 'n/a'}"
          f" | {ms(median_s(ref, f, 'cat'))} | {ms(median_s(ref, f, 'read'))} |")
    p("")

    p("### Targets\n")
    p("| target | measured | met |")
    p("| --- | --- | --- |")
    t1 = median_s(ref, "sd_1g.pt", "torch")
    m1, _ = java_s(jmh, "MappedLoadBenchmark.mappedLoad", "sd_1g.pt")
    m4, _ = java_s(jmh, "MappedLoadBenchmark.mappedLoad", "sd_4g.pt")
    if t1 and m1:
        p(f"| mapped load of the 1 GiB file >= 50x faster than torch.load | {t1 / m1:,.0f}x ({ms(m1)} vs {ms(t1)})"
          f" | {verdict(t1 / m1 >= 50)} |")
    if m1 and m4:
        p(f"| 4 GiB mapped load within 1.2x the 1 GiB one | {m4 / m1:.2f}x ({ms(m4)} vs {ms(m1)}) | {verdict(m4 / m1 <= 1.2)} |")
    c1, _ = java_s(jmh, "CopyingLoadBenchmark.streamLoad", "sd_1g.pt")
    b1, _ = java_s(jmh, "CopyingLoadBenchmark.byteArrayLoad", "sd_1g.pt")
    cat1 = median_s(ref, "sd_1g.pt", "cat")
    read1 = median_s(ref, "sd_1g.pt", "read")
    jcat, _ = java_s(jmh, "ReadBaselineBenchmark.catToDevNull", "sd_1g.pt")
    f1, _ = java_s(jmh, "CopyingLoadBenchmark.filesStreamLoad", "sd_1g.pt")
    for label, c in (("FileInputStream", c1), ("Files.newInputStream", f1), ("byte array", b1)):
        if c and t1:
            p(f"| copying load ({label}) >= 2x faster than torch.load | {t1 / c:.2f}x ({ms(c)} vs {ms(t1)})"
              f" | {verdict(t1 / c >= 2)} |")
        if c and cat1:
            p(f"| copying load ({label}) within 1.5x `cat FILE > /dev/null` | {c / cat1:.2f}x of cat ({ms(cat1)});"
              f" {c / read1:.2f}x of a plain read ({ms(read1)}) | {verdict(c / cat1 <= 1.5)} against cat,"
              f" {verdict(c / read1 <= 1.5)} against the plain read |")
    if jcat:
        p(f"| (reference) the same read from Java, 128 KiB buffer | {ms(jcat)} | |")
    for f, label in (("small_3000.pt", "3,000-tensor file"), ("optim_100k.pt", "100,000-entry optimizer state")):
        t = median_s(ref, f, "torch")
        m, _ = java_s(jmh, "MappedLoadBenchmark.mappedLoad", f)
        c, _ = java_s(jmh, "CopyingLoadBenchmark.streamLoad", f)
        pg, _ = java_s(jmh, "MappedLoadBenchmark.mappedLoad.parallelgc", f)
        if t and m:
            p(f"| {label} >= 10x faster than torch.load | mapped {t / m:,.0f}x ({ms(m)} vs {ms(t)})"
              + (f"; copying {t / c:,.1f}x ({ms(c)})" if c else "")
              + (f"; mapped with -XX:+UseParallelGC {t / pg:,.0f}x ({ms(pg)})" if pg else "")
              + f" | {verdict(t / m >= 10)}" + (f" (with the parallel collector: {verdict(t / pg >= 10)})" if pg else "")
              + " |")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
