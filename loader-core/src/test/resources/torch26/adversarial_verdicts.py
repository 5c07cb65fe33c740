"""Writes torch26/adversarial-torch26.tsv: PyTorch 2.6's verdict on every file of the adversarial corpus.

Run from the repository:  tools/torch26 python3 loader-core/src/test/resources/torch26/adversarial_verdicts.py

One row per file of adversarial/expected.tsv: the file and torch.load(f, weights_only=True)'s verdict in one
line ("loads", or torch26_load.reason()). weightsonly's own verdict is the same row of expected.tsv;
TorchParityTest computes torch's again at test time and fails when this table is stale, and checks each
difference between the two against the documented list (docs/SECURITY.md).
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("torch26_load", os.path.join(HERE, "torch26_load.py"))
t26 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(t26)


def main():
    corpus = os.path.join(HERE, "..", "adversarial")
    with open(os.path.join(corpus, "expected.tsv"), encoding="utf-8") as f:
        names = [line.split("\t")[0] for line in f.read().splitlines()[1:]]
    dc = t26._dumper()
    rows = ["file\ttorch26"]
    for name in names:
        path = os.path.abspath(os.path.join(corpus, name))
        rows.append("%s\t%s" % (name, t26.isolated(path, dc)["reason"]))
    with open(os.path.join(HERE, "adversarial-torch26.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
