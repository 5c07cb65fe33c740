#!/usr/bin/python3
"""Writes two checkpoints that differ in known ways, for the `weightsonly diff` tests, with real PyTorch (1.13).

    cd loader-examples/src/test/resources/diff
    /usr/bin/python3 gen_diff.py

    before.pt, after.pt  state dicts (plain dicts of tensors) of the same names, except as listed below
    expected.json        what PyTorch says about each name: only in one file, dtype or shape change, or for equal
                         dtype and shape the number of differing elements and the largest absolute difference,
                         computed here in float64 (int64 differences in Python ints, which do not overflow)

Equality is the one `weightsonly diff` documents: NaN equals NaN and 0.0 equals -0.0 (so a file is identical to
itself); a NaN against a number makes the largest difference "nan".
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(3)

base = torch.randn(6, 5)
before = {
    "same.weight": torch.randn(4, 3),
    "same_nan_negzero": torch.tensor([float("nan"), 0.0, -1.5, float("inf")]),
    # after: the same values stored transposed (a non-contiguous view): equal element by element
    "same_as_view": base.t().contiguous(),
    "fc.weight": torch.randn(8, 16),
    "fc.bias": torch.zeros(8),
    "half.weight": torch.randn(3, 4).half(),
    "steps": torch.tensor([1, 2, 3, -(2 ** 63)], dtype=torch.int64),
    "mask": torch.tensor([True, False, True]),
    "phase": torch.tensor([1 + 2j, 3 - 4j], dtype=torch.complex64),
    "nan_appears": torch.tensor([1.0, 2.0, 3.0]),
    "retyped": torch.randn(5),
    "reshaped": torch.arange(12, dtype=torch.float32).reshape(3, 4),
    "retyped_and_reshaped": torch.ones(2, 3),
    "removed.bias": torch.randn(3),
}
after = {k: v.clone() for k, v in before.items()}
after["same_as_view"] = base.t()
after["fc.weight"][2, 5] += 0.25
after["fc.weight"][7, 0] -= 1.0
after["fc.bias"][3] = 1e-3
after["half.weight"][0, 0] += 1
after["steps"][3] = 2 ** 63 - 1                     # |a - b| = 2**64 - 1: more than a long holds
after["steps"][0] = 5
after["mask"][1] = True
after["phase"][1] = 3 + 0j                          # |(3-4j) - (3+0j)| = 4
after["nan_appears"][1] = float("nan")
after["retyped"] = before["retyped"].double()
after["reshaped"] = before["reshaped"].reshape(4, 3)
after["retyped_and_reshaped"] = torch.ones(3, 2, dtype=torch.int32)
del after["removed.bias"]
after["added.weight"] = torch.randn(2, 2)


def geometry(t):
    return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}


def value_diff(a, b):
    if a.dtype.is_complex:
        both_nan = torch.zeros(a.shape, dtype=torch.bool)
        equal = a == b
        magnitude = (a.to(torch.complex128) - b.to(torch.complex128)).abs()
    elif a.dtype.is_floating_point:
        x, y = a.double(), b.double()
        both_nan = x.isnan() & y.isnan()
        equal = (x == y) | both_nan
        magnitude = (x - y).abs()
    else:
        xs, ys = a.flatten().tolist(), b.flatten().tolist()
        diffs = [abs(int(p) - int(q)) for p, q in zip(xs, ys)]
        return {"differing": sum(d != 0 for d in diffs), "max_abs_diff": max(diffs)}
    differing = int((~equal).sum())
    unequal = magnitude[~equal]
    if unequal.numel() == 0:
        top = 0.0
    elif unequal.isnan().any():
        top = "nan"
    else:
        top = float(unequal.max())
    return {"differing": differing, "max_abs_diff": top}


expected = {"only_in_a": [], "only_in_b": [], "changed": {}, "equal": []}
for name, a in before.items():
    if name not in after:
        expected["only_in_a"].append({"name": name, **geometry(a)})
        continue
    b = after[name]
    if a.dtype != b.dtype or a.shape != b.shape:
        change = "dtype_and_shape" if a.dtype != b.dtype and a.shape != b.shape else (
            "dtype" if a.dtype != b.dtype else "shape")
        expected["changed"][name] = {"change": change, "a": geometry(a), "b": geometry(b)}
        continue
    d = value_diff(a, b)
    if d["differing"] == 0:
        expected["equal"].append(name)
    else:
        expected["changed"][name] = {"change": "values", **geometry(a), "elements": a.numel(), **d}
for name, b in after.items():
    if name not in before:
        expected["only_in_b"].append({"name": name, **geometry(b)})

torch.save(before, os.path.join(HERE, "before.pt"))
torch.save(after, os.path.join(HERE, "after.pt"))
with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
for name in ("before.pt", "after.pt", "expected.json"):
    print(name, os.path.getsize(os.path.join(HERE, name)), "bytes")
print(json.dumps(expected, indent=1, sort_keys=True))
