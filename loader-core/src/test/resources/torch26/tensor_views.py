"""PyTorch 2.6's answer to select, narrow, reshape and item on strided views (TensorViewsTorch26Test).

Run by the test as:  tools/torch26 python3 tensor_views.py IN.json OUT.json

IN.json is a list of cases: {"shape", "strides", "offset", "capacity", "op", "args"}, a view of a float64
storage holding 0, 1, 2, ... (capacity elements), so that each value names its position. OUT.json is a list
of answers, one per case: {"error": the exception's type name} when torch refuses, else
{"shape", "strides", "offset", "view": whether the result shares the storage, "values": row-major} for the
views and {"value"} for item().
"""
import json
import sys

import torch


def answer(case):
    base = torch.arange(case["capacity"], dtype=torch.float64)
    t = base.as_strided(case["shape"], case["strides"], case["offset"])
    op, args = case["op"], case["args"]
    try:
        if op == "item":
            return {"value": t.item()}
        if op == "select":
            r = t.select(args[0], args[1])
        elif op == "narrow":
            r = t.narrow(args[0], args[1], args[2])
        elif op == "reshape":
            r = t.reshape(args)
        else:
            raise ValueError(op)
    except (IndexError, RuntimeError) as e:
        return {"error": type(e).__name__, "message": str(e)}
    return {
        "shape": list(r.shape),
        "strides": list(r.stride()),
        "offset": r.storage_offset(),
        "view": r.untyped_storage().data_ptr() == base.untyped_storage().data_ptr(),
        "values": r.flatten().tolist(),
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    out = {"torch": torch.__version__, "answers": [answer(c) for c in cases]}
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
