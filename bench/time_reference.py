#!/usr/bin/python3
"""Times the references for one benchmark file, printing one JSON line per measurement:

    /usr/bin/python3 bench/time_reference.py FILE [--repeat N] [--warmup W]

- cat:        `cat FILE > /dev/null`, the file from the page cache (a fresh process each time)
- read:       the file read from the page cache through one reused 128 KiB buffer and nothing written: what
              `cat` costs when /dev/null is the null device (on some sandboxes /dev/null is a regular file,
              and then writing to it dominates cat's time; see "devnull" in the output)
- torch:      torch.load(FILE, weights_only=True) in this process, steady state (after W warm-up loads);
              the result is dropped and collected before the next load
- torch_mmap: torch.load(FILE, mmap=True, weights_only=True) where this PyTorch has it (2.1 and later);
              otherwise a line saying it is not available

With --torch-only, only the torch lines (bench/run.sh times cat and read once, with the system's Python, and
torch.load again with PyTorch 2.6 in its chroot).

Each line: {"file", "what", "times_s": [...]} or {"file", "what", "unavailable": reason}.
"""
import argparse
import gc
import inspect
import json
import os
import stat
import subprocess
import sys
import time


def emit(record):
    print(json.dumps(record), flush=True)


def timed(fn, repeat, warmup=0):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def read_floor(path):
    buf = bytearray(128 << 10)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buf):
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--torch-repeat", type=int, default=None, help="repeats of torch.load (default --repeat)")
    parser.add_argument("--torch-only", action="store_true", help="time torch.load only (not cat and read)")
    args = parser.parse_args()
    path = args.file
    name = os.path.basename(path)
    torch_repeat = args.torch_repeat or args.repeat

    read_floor(path)  # into the page cache
    emit({"file": name, "what": "size_bytes", "value": os.path.getsize(path)})
    if not args.torch_only:
        measure_reads(path, name, args.repeat)
    torch_loads(path, name, torch_repeat, args.warmup)
    return 0


def measure_reads(path, name, repeat):
    null = os.stat("/dev/null")
    emit({"file": name, "what": "devnull", "value": "character device" if stat.S_ISCHR(null.st_mode)
          else "not a character device (a regular file?): writes to it cost time"})
    emit({"file": name, "what": "cat", "times_s": timed(
        lambda: subprocess.run(["sh", "-c", 'cat "$1" > /dev/null', "sh", path], check=True), repeat, 1)})
    emit({"file": name, "what": "read", "times_s": timed(lambda: read_floor(path), repeat, 1)})


def torch_loads(path, name, torch_repeat, warmup):
    import torch
    emit({"file": name, "what": "torch_version", "value": torch.__version__})

    def load(**kwargs):
        result = torch.load(path, weights_only=True, **kwargs)
        del result
        gc.collect()

    try:
        emit({"file": name, "what": "torch", "times_s": timed(load, torch_repeat, warmup)})
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        emit({"file": name, "what": "torch", "unavailable": f"{type(e).__name__}: {str(e)[:300]}"})
    if "mmap" in inspect.signature(torch.load).parameters:
        emit({"file": name, "what": "torch_mmap", "times_s": timed(lambda: load(mmap=True), torch_repeat,
                                                                   warmup)})
    else:
        emit({"file": name, "what": "torch_mmap", "unavailable":
              f"torch {torch.__version__} has no mmap= in torch.load (added in PyTorch 2.1)"})


if __name__ == "__main__":
    sys.exit(main())
