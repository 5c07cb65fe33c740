#!/usr/bin/python3
"""Times PyTorch 2.6's scan of a folder of checkpoints, printing one JSON line per measurement (run it with
PyTorch 2.6: tools/torch26 python3 bench/time_scan.py DIR):

    python3 bench/time_scan.py DIR [--repeat N] [--warmup W]

- scan_in_process:  torch.serialization.get_unsafe_globals_in_checkpoint(f) for every file of DIR, in this
                    warm process (the opcode scan of each checkpoint's data.pkl; nothing is unpickled), after W
                    warm-up passes; one time per pass over the folder
- scan_process:     the same in a fresh `python3 -c "import torch; ..."` process per pass (interpreter start and
                    `import torch` included), what a CI step running one Python scan of the folder costs

Each line: {"file": DIR's name, "what", "times_s": [...], "files": N}.
"""
import argparse
import json
import os
import subprocess
import sys
import time

SCAN = ("import os, sys, torch\n"
        "d = sys.argv[1]\n"
        "for n in sorted(os.listdir(d)):\n"
        "    torch.serialization.get_unsafe_globals_in_checkpoint(os.path.join(d, n))\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    import torch
    files = [os.path.join(args.dir, n) for n in sorted(os.listdir(args.dir))]
    name = os.path.basename(os.path.normpath(args.dir))
    for f in files:  # into the page cache
        with open(f, "rb") as fh:
            fh.read()

    def scan():
        for f in files:
            torch.serialization.get_unsafe_globals_in_checkpoint(f)

    for _ in range(args.warmup):
        scan()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        scan()
        times.append(time.perf_counter() - start)
    print(json.dumps({"file": name, "what": "scan_in_process", "times_s": times, "files": len(files),
                      "torch_version": torch.__version__}), flush=True)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", SCAN, args.dir], check=True)
        times.append(time.perf_counter() - start)
    print(json.dumps({"file": name, "what": "scan_process", "times_s": times, "files": len(files)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
