"""Prints one line per file: NAME<TAB>loads|refused<TAB>detail, from PyTorch's torch.load(weights_only=True).

Run inside the project's PyTorch 2.6 chroot (tools/torch26 python3 torch_verdicts.py FILE...). Only the
restricted loader ever reads the files: nothing in them can run.
"""
import sys

import torch

for path in sys.argv[1:]:
    try:
        torch.load(path, weights_only=True, map_location="cpu")
        print("%s\tloads\t" % path)
    except Exception as e:  # noqa: BLE001 - any refusal is the verdict
        print("%s\trefused\t%s" % (path, (type(e).__name__ + ": " + str(e)).replace("\n", " ")[:4000]))
print("torch", torch.__version__, file=sys.stderr)
