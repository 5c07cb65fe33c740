#!/usr/bin/env python3
"""Differential fuzzing of weightsonly against PyTorch 2.6's torch.load(weights_only=True).

Mutates real checkpoints (the committed fixtures and the adversarial corpus), gives every mutant to PyTorch 2.6
(one Python process in the torch26 chroot, tools/difffuzz/dump26.py --batch) and to weightsonly (one JVM,
dev.weightsonly.examples.BatchDump), and reports every input where the verdicts (load or refuse) or the
canonical dumps differ and the difference is not on the allowlist of documented deliberate differences
(tools/difffuzz/allowlist.json, mirroring docs/SECURITY.md). Runs on the host's python3, standard library only;
nothing is ever unpickled here (torch loads with weights_only=True only).

    tools/difffuzz/difffuzz.py --inputs 3000 --seed 1           # what .ci/run does
    tools/difffuzz/difffuzz.py --inputs 100000 --seed 7 --out /tmp/difffuzz-run
    tools/difffuzz/difffuzz.py --replay loader-core/src/test/resources/difffuzz   # regression files

Exit 0 when no undocumented disagreement was found, 1 otherwise (each saved under --out with a report line),
2 on a usage or setup error. The same --seed and --inputs give the same mutants.
"""
import argparse
import glob
import hashlib
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import mutate  # noqa: E402

SEED_GLOBS = ["loader-core/src/test/resources/fixtures/**/*.pt", "loader-core/src/test/resources/fixtures/**/*.pth",
              "loader-core/src/test/resources/fixtures/**/*.bin", "loader-core/src/test/resources/adversarial/*.pt",
              ]  # not the regression files of difffuzz/: they are replayed, and their mutants repeat their classes


def torch26_command():
    """tools/torch26 (the project's copy), else ../shared/tools/torch26 until that copy exists."""
    for p in (os.path.join(ROOT, "tools", "torch26"), os.path.join(os.path.dirname(ROOT), "shared", "tools", "torch26")):
        if os.path.isfile(p):
            return p
    raise SystemExit("difffuzz: no tools/torch26 (nor ../shared/tools/torch26)")


# ------------------------------------------------------------------------------------------- workers

class Worker:
    """A long-lived process that reads one path per line and answers one JSON line per path. A file that
    makes it hang past the timeout, or die, is answered for it ("timeout", "died") and the process restarted."""

    def __init__(self, name, argv, timeout):
        self.name, self.argv, self.timeout = name, argv, timeout
        self.proc = None
        self.restarts = 0
        self.closed = False

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     cwd=ROOT, start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self.lines), daemon=True).start()

    @staticmethod
    def _pump(proc, q):
        for line in proc.stdout:
            q.put(line)
        q.put(None)

    def close(self):
        """Stops the process for good: a batch still running gives up instead of restarting it."""
        self.closed = True
        self.stop()

    def stop(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.proc = None

    def run(self, paths, first_timeout):
        """{path: result} for paths, in order."""
        out = {}
        todo = list(paths)
        while todo:
            if self.closed:
                raise SystemExit("difffuzz: stopped")
            if self.proc is None:
                self.start()
                self.restarts += 1
            writer = threading.Thread(target=self._write, args=(self.proc, todo), daemon=True)
            writer.start()
            limit = first_timeout
            while todo:
                try:
                    line = self.lines.get(timeout=limit)
                except queue.Empty:
                    out[todo.pop(0)] = {"verdict": "timeout"}
                    self.stop()
                    break
                limit = self.timeout
                if line is None:
                    out[todo.pop(0)] = {"verdict": "died"}
                    self.stop()
                    break
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # a stray line (a warning printed to stdout)
                except RecursionError:
                    r = {"path": todo[0], "verdict": "unparsable", "error": "the driver could not parse this line"}
                if r.get("path") != todo[0]:
                    continue
                out[todo.pop(0)] = r
            first_timeout = max(self.timeout, 120)  # a restart pays the start-up again
        return out

    @staticmethod
    def _write(proc, paths):
        try:
            proc.stdin.write("".join(p + "\n" for p in paths).encode("utf-8", "surrogateescape"))
            proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass


def _jar_is_stale(jar):
    """Whether any main source or pom of the project is newer than the tool's jar: a run must judge the code
    in the checkout, not an earlier build of it."""
    if not os.path.isfile(jar):
        return True
    built = os.path.getmtime(jar)
    for module in glob.glob(os.path.join(ROOT, "loader-*")):
        for top, _, files in os.walk(os.path.join(module, "src", "main")):
            if any(os.path.getmtime(os.path.join(top, f)) > built for f in files):
                return True
    return any(os.path.getmtime(p) > built for p in glob.glob(os.path.join(ROOT, "*", "pom.xml")) + [
        os.path.join(ROOT, "pom.xml")])


def java_worker(timeout):
    jar = os.path.join(ROOT, "loader-examples", "target", "weightsonly.jar")
    if _jar_is_stale(jar):
        print("difffuzz: building the tool (its jar is missing or older than the sources)", file=sys.stderr)
        subprocess.run([os.path.join(ROOT, "with-jdk25"), "mvn", "-B", "-q", "-o", "-DskipTests", "package",
                        "-pl", "loader-examples", "-am"], cwd=ROOT, check=True, stdout=sys.stderr)
    # the heap the default LoadLimits allow (maxObjects: about 1.2 GB, LoadLimits): with 1 GiB, files the limits
    # stop (adversarial C19c: OrderedDict() copying a 20,000-entry dict 1,000 times) ran out of memory first
    return Worker("weightsonly", [os.path.join(ROOT, "with-jdk25"), "java", "-Xmx2g", "-Xss8m", "-cp", jar,
                                  "dev.weightsonly.examples.BatchDump"], timeout)


def torch_fresh(path, timeout):
    """torch's answer for one file from a new process. The batch worker serves file after file from one forked
    child, and a hostile file can leave that child's memory corrupted without crashing it (torch 2.6 reads and
    writes past short records, CVE-2026-24747): a disagreement is judged on this answer, not on that one."""
    try:
        r = subprocess.run([torch26_command(), "python3", "-W", "ignore", os.path.join(HERE, "dump26.py"),
                            "--batch"], input=(path + "\n").encode("utf-8", "surrogateescape"),
                           capture_output=True, timeout=timeout + 60)
        return json.loads(r.stdout.decode("utf-8", "surrogatepass").strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return None


def torch_worker(timeout):
    return Worker("torch", [torch26_command(), "python3", "-W", "ignore", os.path.join(HERE, "dump26.py"), "--batch"],
                  timeout)


# ------------------------------------------------------------------------------------------- comparison

def normalize(v):
    """The dump as a value where an int and a float stay different (1 vs 1.0) and floats compare by value."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return ("i", v)
    if isinstance(v, float):
        return ("f", v)
    if isinstance(v, list):
        return [normalize(x) for x in v]
    if isinstance(v, dict):
        return {k: normalize(x) for k, x in v.items()}
    return v


def first_difference(a, b, path="root"):
    if type(a) is not type(b):
        return "%s: %s vs %s" % (path, _short(a), _short(b))
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s: member %r only on one side" % (path, k)
            d = first_difference(a[k], b[k], path + "." + k)
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: length %d vs %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %s vs %s" % (path, _short(a), _short(b))


def _short(v):
    s = json.dumps(v, default=str)
    return s if len(s) < 120 else s[:117] + "..."


class Allowlist:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.rules = json.load(f)["rules"]
        for r in self.rules:
            for k in ("our_error", "torch_error", "mutation", "difference"):
                if k in r:
                    r[k + "_re"] = re.compile(r[k], re.S)

    def match(self, ours, theirs, desc, difference="", cls=None):
        for r in self.rules:
            if r.get("class") != cls:  # rules for the scanner's property name its class; the others, none
                continue
            if r.get("ours", ours["verdict"]) != ours["verdict"] or r.get("torch", theirs["verdict"]) != theirs["verdict"]:
                continue
            if "our_error_re" in r and not r["our_error_re"].search(ours.get("error", "") + ours.get("dump_error", "")):
                continue
            if "torch_error_re" in r and not r["torch_error_re"].search(theirs.get("error", "") + theirs.get("dump_error", "")):
                continue
            if "mutation_re" in r and not r["mutation_re"].search(desc or ""):
                continue
            if "difference_re" in r and not r["difference_re"].search(difference or ""):
                continue
            return ("open:" if r.get("open") else "") + r["id"]
        return None


def compare(ours, theirs, desc, allow):
    """(class, detail) of a disagreement, ('allowed:<id>', ...) for a documented one, or None when they agree."""
    ov, tv = ours["verdict"], theirs["verdict"]
    if ov in ("crash", "timeout", "died"):
        return "weightsonly-" + ov, ours.get("error", "")[:300]
    if tv in ("timeout", "died"):
        return None  # torch hung or crashed (a torch bug, not a disagreement we can judge); counted apart
    scan = ours.get("scan", "")
    if ov == "refuse" and scan == "clean" and ours.get("error", "").startswith("UnsupportedGlobalException"):
        # the scanner passed a file the loader refuses for a global (issue 12, class 2)
        rule = allow.match(ours, theirs, desc, cls="scan-clean-but-global-refused")
        return ("allowed:" + rule if rule else "scan-clean-but-global-refused"), ours.get("error", "")[:300]
    if scan.startswith("crash"):
        return "scanner-crash", scan
    if ov == tv == "refuse":
        return None
    if ov == tv == "load":
        if "dump" in ours and "dump" in theirs:
            d = first_difference(normalize(ours["dump"]), normalize(theirs["dump"]))
            if d is None:
                return None
            rule = allow.match(ours, theirs, desc, d)
            return ("allowed:" + rule if rule else "dump-differs"), d
        if "dump" in ours or "dump" in theirs:
            rule = allow.match(ours, theirs, desc)
            detail = "ours: %s | torch: %s" % (ours.get("dump_error", "dumped"), theirs.get("dump_error", "dumped"))
            return ("allowed:" + rule if rule else "dump-one-side"), detail[:400]
        return None
    rule = allow.match(ours, theirs, desc)
    cls = "we-load-torch-refuses" if ov == "load" else "we-refuse-torch-loads"
    detail = "ours: %s | torch: %s" % (ours.get("error", "load")[:300], _torch_reason(theirs.get("error", "load")))
    return ("allowed:" + rule if rule else cls), detail


def _torch_reason(err):
    i = err.find("WeightsUnpickler error:")
    if i >= 0:
        return err[i:i + 300].split("\n\n")[0]
    return err[:300]


# ------------------------------------------------------------------------------------------- seeds

class Seed:
    def __init__(self, path, data):
        self.path, self.data = path, data
        self.zip = mutate.read_zip(data) if data[:2] == b"PK" else None
        self.legacy = mutate.read_legacy(data) if self.zip is None else None
        self.tar = mutate.read_tar(data) if self.zip is None and self.legacy is None and len(data) > 1024 else None
        self.pickle_name = None
        self.ops = None
        if self.zip:
            for name, payload, _ in self.zip:
                if name.endswith("/data.pkl"):
                    try:
                        self.ops, _ = mutate.parse_pickle(payload)
                        self.pickle_name = name
                    except Exception:
                        pass
                    break
        elif self.legacy:
            self.ops = self.legacy[0][3]
        self.strings = mutate.strings_of(self.ops) if self.ops else []


def load_seeds():
    paths = []
    for g in SEED_GLOBS:
        paths += glob.glob(os.path.join(ROOT, g), recursive=True)
    seeds = []
    for p in sorted(set(paths)):
        with open(p, "rb") as f:
            data = f.read()
        if len(data) > 1 << 20:  # big fixtures make every mutant slow to write, load and hash
            continue
        seeds.append(Seed(os.path.relpath(p, ROOT), data))
    return seeds


def make_mutant(seed, rng, donors):
    """(bytes, description) of one mutant of seed."""
    r = rng.random()
    if r < 0.08:
        data, d = mutate.mutate_bytes(seed.data, rng)
        return data, "bytes: " + d
    if seed.zip is not None:
        entries = list(seed.zip)
        desc = []
        if seed.ops is not None and r < 0.65:
            ops, d = mutate.mutate_pickle_ops(seed.ops, rng, seed.strings + rng.choice(donors).strings)
            pk = mutate.encode_pickle(ops)
            entries = [(n, pk if n == seed.pickle_name else p, m) for n, p, m in entries]
            desc.append("pickle: " + d)
        if r >= 0.5 or not desc:
            entries, d = mutate.mutate_zip(entries, rng, [mutate.encode_pickle(x.ops) for x in (rng.choice(donors),) if x.ops])
            desc.append("zip: " + d)
        return mutate.write_zip(entries, align=64 if rng.random() < 0.9 else 0), "; ".join(desc)
    if seed.legacy is not None:
        pickles, tail = seed.legacy
        return mutate.mutate_legacy(pickles, tail, rng, seed.strings)
    if seed.tar is not None:
        members, d = mutate.mutate_tar(seed.tar, rng, seed.strings)
        return mutate.write_tar(members), d
    data, d = mutate.mutate_bytes(seed.data, rng)
    return data, "bytes: " + d


# ------------------------------------------------------------------------------------------- main

def run_batch(paths, java, torch, timeouts):
    results = {}

    def go(worker, key):
        try:
            results[key] = worker.run(paths, timeouts[key])
        except BaseException as e:  # noqa: B902 (reported by the main thread)
            results[key] = e

    threads = [threading.Thread(target=go, args=(java, "java"), daemon=True),
               threading.Thread(target=go, args=(torch, "torch"), daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for key in ("java", "torch"):
        if isinstance(results.get(key), BaseException):
            raise RuntimeError("difffuzz: the %s worker failed: %r" % (key, results[key]))
    return results["java"], results["torch"]


def signature(cls, ours, theirs):
    """A coarse key of a disagreement, so that one class is saved a few times, not thousands."""
    def shape(msg):
        msg = re.sub(r"^\S+?: ", "", msg or "")
        msg = re.sub(r"/\S+", "", msg)
        msg = re.sub(r"\d+", "N", msg)
        return msg[:60]
    return "%s | %s | %s" % (cls, shape(ours.get("error", ours.get("dump_error", ""))),
                             shape(_torch_reason(theirs.get("error", theirs.get("dump_error", "")))))


def main(argv):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))  # so that the workers are stopped on the way out
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1, help="random seed (the same seed gives the same mutants)")
    ap.add_argument("--inputs", type=int, default=0, help="stop after this many mutants (0: no count bound)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after about this many seconds (0: no time bound)")
    ap.add_argument("--batch", type=int, default=400, help="mutants per batch")
    ap.add_argument("--out", default=None, help="folder for findings and the report (default: a new temp folder)")
    ap.add_argument("--keep", type=int, default=5, help="inputs saved per disagreement signature")
    ap.add_argument("--timeout", type=float, default=30, help="seconds one input may take on either side")
    ap.add_argument("--replay", default=None, help="check the regression files of this folder (expected.tsv) instead")
    ap.add_argument("--seeds", action="store_true", help="first compare the unmutated seeds too (the parity tests"
                    " already give every fixture and corpus file to torch)")
    args = ap.parse_args(argv)
    if args.replay:
        return replay(args)
    if not args.inputs and not args.seconds:
        ap.error("give --inputs or --seconds")
    allow = Allowlist(os.path.join(HERE, "allowlist.json"))
    out = args.out or tempfile.mkdtemp(prefix="difffuzz-")
    os.makedirs(os.path.join(out, "findings"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="difffuzz-work-")
    seeds = load_seeds()
    fixtures = [s for s in seeds if "/fixtures/" in s.path] or seeds
    rng = random.Random(args.seed)
    java, torch = java_worker(args.timeout), torch_worker(args.timeout)
    timeouts = {"java": 180, "torch": 180}
    counts, saved, undocumented = {}, {}, 0
    report = open(os.path.join(out, "report.jsonl"), "w", encoding="utf-8")
    start = time.time()
    done = 0
    batch_no = 0
    print("difffuzz: %d seeds, seed %d, output %s" % (len(seeds), args.seed, out), file=sys.stderr)
    try:
        while True:
            if args.inputs and done >= args.inputs or args.seconds and time.time() - start >= args.seconds:
                break
            items = []
            if batch_no == 0 and args.seeds:
                items = [(s.path if os.path.isabs(s.path) else os.path.join(ROOT, s.path), "seed " + s.path) for s in seeds]
            else:
                n = args.batch if not args.inputs else min(args.batch, args.inputs - done)
                for k in range(n):
                    # real checkpoints (the fixtures) more often than the hostile corpus: their mutants reach
                    # the most code on both sides
                    s = rng.choice(fixtures if rng.random() < 0.6 else seeds)
                    try:
                        data, desc = make_mutant(s, rng, seeds)
                    except Exception as e:  # a mutator bug must not stop the run
                        data, desc = mutate.mutate_bytes(s.data, rng)
                        desc = "bytes (mutator failed: %s): %s" % (type(e).__name__, desc[1])
                    p = os.path.join(work, "m%06d.pt" % k)
                    with open(p, "wb") as f:
                        f.write(data)
                    items.append((p, "%s <- %s" % (desc, s.path)))
            jr, tr = run_batch([p for p, _ in items], java, torch, timeouts)
            timeouts = {"java": args.timeout, "torch": args.timeout}
            for p, desc in items:
                ours, theirs = jr[p], tr[p]
                if theirs["verdict"] in ("timeout", "died"):
                    counts["torch-" + theirs["verdict"]] = counts.get("torch-" + theirs["verdict"], 0) + 1
                c = compare(ours, theirs, desc, allow)
                if c is None:
                    counts["agree"] = counts.get("agree", 0) + 1
                    continue
                cls, detail = c
                counts[cls] = counts.get(cls, 0) + 1
                if cls.startswith("allowed:open:"):
                    cls = cls[len("allowed:"):]  # a known open disagreement: counted and listed, not failing
                    counts[cls] = counts.get(cls, 0) + 1
                    counts["allowed:" + cls] -= 1
                    if not counts["allowed:" + cls]:
                        del counts["allowed:" + cls]
                    continue
                if cls.startswith("allowed:"):
                    continue
                fresh = torch_fresh(p, args.timeout)
                if fresh is not None and (fresh.get("verdict"), fresh.get("dump")) != (theirs.get("verdict"),
                                                                                        theirs.get("dump")):
                    # the batch worker's answer was not torch's: judged again on the fresh one
                    counts["torch-unstable"] = counts.get("torch-unstable", 0) + 1
                    counts[cls] -= 1
                    if not counts[cls]:
                        del counts[cls]
                    theirs = fresh
                    c = compare(ours, theirs, desc, allow)
                    cls = "agree" if c is None else c[0]
                    counts[cls] = counts.get(cls, 0) + 1
                    if c is None or cls.startswith("allowed:"):
                        continue
                    detail = c[1]
                undocumented += 1
                sig = signature(cls, ours, theirs)
                n = saved.get(sig, 0)
                saved[sig] = n + 1
                rec = {"class": cls, "signature": sig, "detail": detail, "mutation": desc,
                       "ours": {k: v for k, v in ours.items() if k != "dump"},
                       "torch": {k: (v if k != "error" else _torch_reason(v)) for k, v in theirs.items() if k != "dump"}}
                if n < args.keep:
                    data = open(p, "rb").read()
                    name = "%s-%s.pt" % (cls, hashlib.sha256(data).hexdigest()[:12])
                    with open(os.path.join(out, "findings", name), "wb") as f:
                        f.write(data)
                    rec["file"] = name
                    report.write(json.dumps(rec, ensure_ascii=False) + "\n")
                    report.flush()
            if batch_no > 0 or not args.seeds:
                done += len(items)
            batch_no += 1
            el = time.time() - start
            print("difffuzz: %d inputs, %.0f s, %.1f inputs/s, %s" % (done, el, done / el if el else 0,
                  ", ".join("%s=%d" % kv for kv in sorted(counts.items()))), file=sys.stderr)
    finally:
        java.close()
        torch.close()
        report.close()
        shutil.rmtree(work, ignore_errors=True)
    el = time.time() - start
    summary = {"inputs": done, "seconds": round(el, 1), "rate": round(done / el, 1) if el else 0, "seed": args.seed,
               "counts": counts, "undocumented": undocumented, "signatures": saved,
               "restarts": {"java": java.restarts - 1, "torch": torch.restarts - 1}}
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))
    print("difffuzz: %s (%s)" % ("no undocumented disagreement" if not undocumented else
                                 "%d undocumented disagreements, see %s/report.jsonl" % (undocumented, out), out),
          file=sys.stderr)
    return 1 if undocumented else 0


def replay(args):
    """Every regression file gives the verdicts expected.tsv records, on both sides."""
    folder = args.replay
    rows = []
    with open(os.path.join(folder, "expected.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            rows.append(cols)
    paths = [os.path.abspath(os.path.join(folder, r[0])) for r in rows]
    java, torch = java_worker(args.timeout), torch_worker(args.timeout)
    try:
        jr, tr = run_batch(paths, java, torch, {"java": 180, "torch": 180})
    finally:
        java.close()
        torch.close()
    bad = 0
    for r, p in zip(rows, paths):
        name, ours_expected, torch_expected, status = r[0], r[1], r[2], r[4]
        if status.startswith("pending:") and r[3] != "scan-property":  # the old verdict until the fix is merged
            ours_expected = "refuse" if ours_expected == "load" else "load"
        got = (jr[p]["verdict"], tr[p]["verdict"])
        if got != (ours_expected, torch_expected):
            bad += 1
            print("difffuzz replay: %s: expected weightsonly %s, torch %s; got %s, %s (%s | %s)" % (
                name, ours_expected, torch_expected, got[0], got[1], jr[p].get("error", ""),
                _torch_reason(tr[p].get("error", ""))), file=sys.stderr)
    print("difffuzz replay: %d files, %d as recorded" % (len(rows), len(rows) - bad), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    # dumps nest as deep as the loaders allow (1,000 levels, two JSON levels each): parse and compare them
    sys.setrecursionlimit(100000)
    threading.stack_size(512 << 20)
    sys.exit(main(sys.argv[1:]))
