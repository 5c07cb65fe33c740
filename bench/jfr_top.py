#!/usr/bin/python3
"""Summarises `jfr print` output of CPU samples (and, optionally, allocation samples): the share of samples by
leaf frame, by first project frame (dev.weightsonly.*) and by project method including its callees; allocations
by first project frame, weighted by the bytes JFR attributes to each sample.

    python3 bench/jfr_top.py CPU.txt [ALLOC.txt]
"""
import collections
import re
import sys


def stacks(path):
    text = open(path).read()
    for event in re.split(r"\n(?=jdk\.)", text):
        m = re.search(r"stackTrace = \[\n(.*?)\n\s*\]", event, re.S)
        if not m:
            continue
        frames = [re.sub(r"\s+line:.*", "", line.strip()) for line in m.group(1).split("\n")
                  if line.strip() and line.strip() != "..."]
        w = re.search(r"weight = ([\d.]+) (bytes|kB|MB|GB)", event)
        weight = 1.0
        if w:
            weight = float(w.group(1)) * {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[w.group(2)]
        yield frames, weight


def first_project(frames):
    return next((f for f in frames if f.startswith("dev.weightsonly")), frames[0] if frames else "?")


def show(title, counter, total, n=15):
    print(f"-- {title}")
    for k, v in counter.most_common(n):
        print(f"{100 * v / total:5.1f}%  {k}")


def main():
    leaf, own, incl = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for frames, _ in stacks(sys.argv[1]):
        total += 1
        leaf[frames[0]] += 1
        own[first_project(frames)] += 1
        for f in set(frames):
            if f.startswith("dev.weightsonly"):
                incl[f] += 1
    print(f"{total} CPU samples")
    show("leaf frame", leaf, total)
    show("first project frame", own, total)
    show("project method, callees included", incl, total, 25)
    if len(sys.argv) > 2:
        alloc = collections.Counter()
        bytes_ = 0.0
        for frames, weight in stacks(sys.argv[2]):
            alloc[first_project(frames)] += weight
            bytes_ += weight
        show(f"allocation by first project frame ({bytes_ / 1e6:,.0f} MB sampled)", alloc, bytes_ or 1)


if __name__ == "__main__":
    main()
