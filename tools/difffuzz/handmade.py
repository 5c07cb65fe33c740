#!/usr/bin/python3
"""Writes the regression files of loader-core/src/test/resources/difffuzz that were found by fuzzing but are
written here from scratch, so that the file says plainly what it holds (run with PyTorch 2.6: tools/torch26).

    tools/torch26 python3 tools/difffuzz/handmade.py OUT_DIR

meta_negative_stride.pt   a state dict of one meta tensor of shape (2, 3) whose stride tuple (3, 1) is
                          rewritten as (3, -1) in data.pkl: found by `difffuzz.py --seed 8`; torch 2.6 loads
                          it (a meta tensor has no bytes to check against), weightsonly refuses it under the
                          documented geometry rule (SECURITY.md, geometry-types: torch has no negative strides)

Prints torch's verdict on each file; expected.tsv records it (a file both sides load also needs torch's dump,
NAME.torch.json, from dump26.py).
"""
import io
import os
import sys
import zipfile

import torch


def rewrite_record(src, dst, suffix, change):
    """Copies the zip src to dst (stored, in the same order) with the record ending in suffix changed."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        hits = 0
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith(suffix):
                data = change(data)
                hits += 1
            zout.writestr(info.filename, data)
    if hits != 1:
        sys.exit(f"{src}: {hits} records end in {suffix}")


def meta_negative_stride(out):
    # saved under the final name in a folder of its own, so that the archive's folder is that name
    os.makedirs(os.path.join(out, "plain"), exist_ok=True)
    plain = os.path.join(out, "plain", "meta_negative_stride.pt")
    torch.save({"m": torch.empty(2, 3, device="meta")}, plain)
    # The stride tuple (3, 1): BININT1 3, BININT1 1, TUPLE2; -1 needs BININT (a 4-byte signed int).
    old = b"K\x03K\x01\x86"
    new = b"K\x03J\xff\xff\xff\xff\x86"

    def change(pickle):
        if pickle.count(old) != 1:
            sys.exit("the stride tuple (3, 1) is not in data.pkl exactly once")
        return pickle.replace(old, new)

    path = os.path.join(out, "meta_negative_stride.pt")
    rewrite_record(plain, path, "/data.pkl", change)
    os.remove(plain)
    os.rmdir(os.path.dirname(plain))
    return path


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in [meta_negative_stride(out)]:
        try:
            t = torch.load(path, weights_only=True)
            print(f"{path}: torch loads it: {t}")
        except Exception as e:  # noqa: BLE001 (any refusal is the verdict)
            print(f"{path}: torch refuses it: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
