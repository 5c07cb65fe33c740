"""Python's repr of values inside a checkpoint, as PyTorch 2.6's weights-only load gives them (PythonValuesTest).

Run by the test as:  tools/torch26 python3 value_repr.py IN.json OUT.json

IN.json: {"file": a checkpoint, "paths": [[key or index, ...], ...]}; each path is followed from the root, a
str by dict key and an int by list or tuple index or int dict key. OUT.json: {"torch": version, "reprs": [the
repr of the value at each path]}.
"""
import json
import sys

import torch


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    root = torch.load(request["file"], weights_only=True)
    reprs = []
    for path in request["paths"]:
        value = root
        for key in path:
            value = value[key]
        reprs.append(repr(value))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"torch": torch.__version__, "reprs": reprs}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
