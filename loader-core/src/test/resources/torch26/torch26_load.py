"""PyTorch 2.6's answer for many files, in one interpreter (run by Torch26.java through tools/torch26).

Usage:  tools/torch26 python3 torch26_load.py IN.json OUT.json

IN.json is a list of file paths. OUT.json gets one object per file, in the same order:
  {"file": F,
   "loads": true | false,                     torch.load(F, map_location="cpu", weights_only=True)
   "error": "UnpicklingError: ...",           when it raised (first 2000 characters)
   "reason": "Unsupported operand 149",       the verdict in one line: "loads" or the reason (see reason())
   "dump": {...} | null,                      the canonical dump (fixtures/dump_checkpoint.py) of what it loaded
   "dump_error": "TypeError: ...",            when the loaded value has no canonical dump (or one too large)
   "zip": true | false,                       whether torch reads F as a zip checkpoint
   "unsafe": ["builtins.eval", ...] | null,   torch.serialization.get_unsafe_globals_in_checkpoint(F), zip only
   "unsafe_error": "..."}                     when that raised

Each file is read in a forked child of this one interpreter: a crash (PyTorch 2.6 segfaults on some hostile
files), a MemoryError past MEMORY_BYTES or a hang past SECONDS_PER_FILE is that file's verdict
("Crash: ...", "Timeout: ..."; "zip" is then null). Only weights-only loads and the opcode scan of get_unsafe_globals_in_checkpoint run: never a full unpickle,
so hostile files (the adversarial corpus, malicious/ of the external corpus) are safe to give it.
TORCH26_VERBOSE=1 prints each file's time to standard error.
"""
import importlib.util
import json
import os
import re
import resource
import select
import signal
import sys
import time
import warnings

import torch

SECONDS_PER_FILE = 30
# Address space for the whole run: a decompression or allocation bomb gets MemoryError, as a verdict, instead
# of swapping the machine.
MEMORY_BYTES = 6 << 30
# Dumps past these bounds are not returned ("dump_error": "TooLarge..."/"TooDeep..."): JSON readers (Python's,
# Jackson's) refuse deeper documents, and a test compares dumps of ordinary size.
MAX_DUMP_CHARS = 4 << 20
MAX_DUMP_DEPTH = 400
_HERE = os.path.dirname(os.path.abspath(__file__))


def _dumper():
    path = os.path.join(_HERE, "..", "fixtures", "dump_checkpoint.py")
    spec = importlib.util.spec_from_file_location("dump_checkpoint", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _depth(v):
    """Nesting depth of a JSON value, without recursion."""
    deepest, todo = 0, [(v, 1)]
    while todo:
        x, d = todo.pop()
        deepest = max(deepest, d)
        if isinstance(x, dict):
            todo.extend((y, d + 1) for y in x.values())
        elif isinstance(x, list):
            todo.extend((y, d + 1) for y in x)
    return deepest


def _text(e):
    return ("%s: %s" % (type(e).__name__, e))[:2000]


def reason(path, error):
    """torch's verdict in one short line, the same on every machine: "loads", the weights-only unpickler's
    own reason ("Unsupported operand 149", "Unsupported global: GLOBAL os.system was not an allowed global by
    default. ..."), or the exception's first line, with the file's path and name taken out."""
    if error is None:
        return "loads"
    m = re.search(r"WeightsUnpickler error: (.*)", error)
    lines = [x for x in error.split("\n") if x.strip()]
    if m:
        line = m.group(1)
    elif lines[0].startswith("UnpicklingError: Weights only load failed.") and len(lines) > 1:
        line = lines[1]  # the weights-only unpickler's own reason follows its generic first line
    else:
        line = lines[0]
    line = re.split(r" In PyTorch 2\.6, we changed| Please use `torch\.serialization", line)[0]
    line = line.replace(path, "<file>").replace(os.path.basename(path), "<file>").replace("\t", " ").strip()
    return line[:160]


def answer(path, dc):
    """Runs in a forked child: PyTorch's verdict, dump and unsafe globals for one file."""
    out = {"file": path, "loads": False, "error": None, "dump": None, "dump_error": None, "zip": False,
           "unsafe": None, "unsafe_error": None}
    try:
        with open(path, "rb") as f:
            out["zip"] = torch.serialization._is_zipfile(f)
        obj = torch.load(path, map_location="cpu", weights_only=True)
        out["loads"] = True
    except BaseException as e:  # RecursionError, MemoryError, SystemError... are verdicts too
        out["error"] = _text(e)
        obj = None
    if out["loads"]:
        try:
            dump = dc.dump(obj)
            text = json.dumps(dump, ensure_ascii=False, allow_nan=False)
            if len(text) > MAX_DUMP_CHARS:
                out["dump_error"] = "TooLarge: a dump of %d characters" % len(text)
            elif _depth(dump) > MAX_DUMP_DEPTH:
                out["dump_error"] = "TooDeep: a dump nested deeper than %d" % MAX_DUMP_DEPTH
            else:
                out["dump"] = dump
        except BaseException as e:
            out["dump_error"] = _text(e)
    obj = None
    out["reason"] = reason(path, out["error"])
    if out["zip"]:
        try:
            out["unsafe"] = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
        except BaseException as e:
            out["unsafe_error"] = _text(e)
    return out


def isolated(path, dc):
    """answer() in a forked child (torch is imported once, in the parent): a file that crashes PyTorch
    (it segfaults on some hostile files), exhausts its memory or hangs is a verdict, not the end of the batch."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
            data = json.dumps(answer(path, dc), ensure_ascii=True, allow_nan=False).encode("ascii")
            with os.fdopen(write_end, "wb") as w:
                w.write(data)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_end)
    chunks = []
    deadline = time.monotonic() + SECONDS_PER_FILE
    timed_out = False
    with os.fdopen(read_end, "rb") as r:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([r], [], [], left)
            if ready:
                chunk = os.read(r.fileno(), 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not timed_out and chunks and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return json.loads(b"".join(chunks).decode("utf-8"))
    if timed_out:
        why = "Timeout: no answer within %d s" % SECONDS_PER_FILE
    elif os.WIFSIGNALED(status):
        why = "Crash: PyTorch died of signal %d" % os.WTERMSIG(status)
    else:
        why = "Crash: the child exited with status %d" % os.WEXITSTATUS(status)
    return {"file": path, "loads": False, "error": why, "reason": why, "dump": None, "dump_error": None,
            "zip": None, "unsafe": None, "unsafe_error": None}


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: torch26_load.py IN.json OUT.json\n")
        return 2
    warnings.simplefilter("ignore")
    sys.setrecursionlimit(10000)
    dc = _dumper()
    with open(argv[1], encoding="utf-8") as f:
        files = json.load(f)
    results = []
    for p in files:
        start = time.monotonic()
        results.append(isolated(p, dc))
        if os.environ.get("TORCH26_VERBOSE"):
            sys.stderr.write("%.2f s %s\n" % (time.monotonic() - start, p))
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump({"torch": torch.__version__, "results": results}, f, ensure_ascii=True, allow_nan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
