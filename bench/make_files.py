#!/usr/bin/python3
"""Writes the benchmark checkpoints with real PyTorch (run with /usr/bin/python3, PyTorch 1.13 here).

    /usr/bin/python3 bench/make_files.py [--dir /tmp/weightsonly-bench] [--force] [NAME...]

Existing files are kept unless --force; a NAME limits the run to those files. The files are large (about
10 GB in all), so they belong in a scratch folder, never in the repository.

    sd_1g.pt          1 GiB state dict: 256 float32 tensors of [1024, 1024]
    sd_4g.pt          4 GiB state dict: 256 float32 tensors of [2048, 2048] (same tensor count)
    single_3g.pt      one float32 tensor of 3 GiB ([786432, 1024]): no 2 GiB limit anywhere
    llm_bf16.pt       an LLM-shaped bfloat16 state dict: 32 decoder layers (attention with grouped-query
                      k/v, a gated MLP, two norms) plus embeddings, final norm and an untied head,
                      291 tensors from 2 KiB to 62.5 MiB, 0.79 GiB in all
    small_3000.pt     3,000 small float32 tensors ([64], [8, 8] and [4, 4, 4] in turn)
    optim_100k.pt     a training checkpoint: a small model state dict, and an Adam-style optimizer state of
                      100,000 entries (each {'step': 0-dim tensor, 'exp_avg': [4], 'exp_avg_sq': [4]},
                      the form torch.optim.Adam has saved since 1.12) with param_groups; it holds no
                      Python float, so that PyTorch 1.13's weights_only=True (which has no BINFLOAT) can
                      load it: the hyperparameters are 0-dim float32 tensors, the epoch an int
    sd_1g_legacy.pt   sd_1g.pt's tensors saved with _use_new_zipfile_serialization=False (the legacy stream)

The scan rows (issue 13: scanning a folder of small checkpoints, as a CI gate does):

    scan_1000/        1,000 small checkpoints (a conv + batch-norm state dict of 6 tensors each, 1 to 4 KB)

The two series of the picture (load time against tensor count and against file size):

    count_N.pt        N float32 tensors of [4, 4] in a flat state dict, N = 10, 100, 1000, 10000, 100000, 300000
    size_M.pt         256 float32 tensors making M = 1m, 16m, 256m (sd_1g.pt and sd_4g.pt are the 1 GiB and
                      4 GiB points: the same 256 tensors, only larger)
"""
import argparse
import collections
import os
import sys
import time

import torch

GIB = 1 << 30


def state_dict(count, rows, cols, seed):
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    for i in range(count):
        sd[f"layers.{i}.weight"] = torch.empty(rows, cols).uniform_(-1, 1, generator=g)
    return sd


def llm_bf16():
    # Shaped like a small Llama: hidden 1024, 16 query heads and 4 key/value heads of 64, MLP 2816,
    # vocabulary 32000, 32 layers. Values are random; only sizes and dtypes matter for loading.
    hidden, kv, mlp, vocab, layers = 1024, 256, 2816, 32000, 32
    g = torch.Generator().manual_seed(7)

    def w(*shape):
        return torch.empty(*shape).normal_(0, 0.02, generator=g).to(torch.bfloat16)

    sd = collections.OrderedDict()
    sd["model.embed_tokens.weight"] = w(vocab, hidden)
    for i in range(layers):
        p = f"model.layers.{i}."
        sd[p + "self_attn.q_proj.weight"] = w(hidden, hidden)
        sd[p + "self_attn.k_proj.weight"] = w(kv, hidden)
        sd[p + "self_attn.v_proj.weight"] = w(kv, hidden)
        sd[p + "self_attn.o_proj.weight"] = w(hidden, hidden)
        sd[p + "mlp.gate_proj.weight"] = w(mlp, hidden)
        sd[p + "mlp.up_proj.weight"] = w(mlp, hidden)
        sd[p + "mlp.down_proj.weight"] = w(hidden, mlp)
        sd[p + "input_layernorm.weight"] = torch.ones(hidden, dtype=torch.bfloat16)
        sd[p + "post_attention_layernorm.weight"] = torch.ones(hidden, dtype=torch.bfloat16)
    sd["model.norm.weight"] = torch.ones(hidden, dtype=torch.bfloat16)
    sd["lm_head.weight"] = w(vocab, hidden)
    return sd


def small_3000():
    shapes = [(64,), (8, 8), (4, 4, 4)]
    sd = collections.OrderedDict()
    for i in range(3000):
        sd[f"blocks.{i // 3}.p{i % 3}"] = torch.full(shapes[i % 3], float(i))
    return sd


def count(n):
    sd = collections.OrderedDict()
    for i in range(n):
        sd[f"p.{i}"] = torch.full((4, 4), float(i % 1000))
    return sd


COUNTS = [10, 100, 1000, 10000, 100000, 300000]
# name -> (rows, cols) of each of 256 float32 tensors
SIZES = {"size_1m.pt": (32, 32), "size_16m.pt": (128, 128), "size_256m.pt": (512, 512)}


def optim_100k():
    entries = 100_000
    model = collections.OrderedDict()
    for i in range(16):
        model[f"fc{i}.weight"] = torch.full((64, 64), float(i))
        model[f"fc{i}.bias"] = torch.zeros(64)
    state = {}
    for i in range(entries):
        state[i] = {
            "step": torch.tensor(float(i % 1000)),
            "exp_avg": torch.full((4,), 0.5),
            "exp_avg_sq": torch.full((4,), 0.25),
        }
    group = {
        "lr": torch.tensor(1e-3),
        "betas": (torch.tensor(0.9), torch.tensor(0.999)),
        "eps": torch.tensor(1e-8),
        "weight_decay": torch.tensor(0.0),
        "amsgrad": False,
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "params": list(range(entries)),
    }
    return {"model": model, "optimizer": {"state": state, "param_groups": [group]}, "epoch": 3}


def scan_folder(path, files=1000):
    """The folder of small checkpoints the scan rows read; written file by file (each a few KB)."""
    os.makedirs(path, exist_ok=True)
    for i in range(files):
        f = os.path.join(path, f"ckpt_{i:04d}.pt")
        if os.path.exists(f):
            continue
        sd = collections.OrderedDict()
        c = 4 + i % 5
        sd["conv.weight"] = torch.full((c, 3, 3, 3), float(i))
        sd["conv.bias"] = torch.zeros(c)
        sd["bn.weight"] = torch.ones(c)
        sd["bn.bias"] = torch.zeros(c)
        sd["bn.running_mean"] = torch.zeros(c)
        sd["bn.running_var"] = torch.ones(c)
        save(sd, f)


def save(obj, path, **kwargs):
    tmp = path + ".tmp"
    torch.save(obj, tmp, **kwargs)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="/tmp/weightsonly-bench")
    parser.add_argument("--force", action="store_true", help="rewrite files that exist")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)

    builders = [
        ("sd_1g.pt", lambda: state_dict(256, 1024, 1024, 1), {}),
        ("sd_1g_legacy.pt", lambda: state_dict(256, 1024, 1024, 1), {"_use_new_zipfile_serialization": False}),
        ("sd_4g.pt", lambda: state_dict(256, 2048, 2048, 4), {}),
        ("single_3g.pt", lambda: {"weight": torch.empty(786432, 1024).uniform_(-1, 1)}, {}),
        ("llm_bf16.pt", llm_bf16, {}),
        ("small_3000.pt", small_3000, {}),
        ("optim_100k.pt", optim_100k, {}),
        ("scan_1000", None, {}),
    ] + [(f"count_{n}.pt", (lambda n=n: count(n)), {}) for n in COUNTS] \
      + [(name, (lambda rc=rc: state_dict(256, rc[0], rc[1], 9)), {}) for name, rc in SIZES.items()]
    unknown = set(args.names) - {name for name, _, _ in builders}
    if unknown:
        parser.error("unknown file names: " + ", ".join(sorted(unknown)))
    print(f"torch {torch.__version__}, writing to {args.dir}", flush=True)
    for name, build, kwargs in builders:
        if args.names and name not in args.names:
            continue
        path = os.path.join(args.dir, name)
        if build is None:  # the scan folder: its files are kept or written one by one
            start = time.perf_counter()
            scan_folder(path)
            print(f"  {name}/: {len(os.listdir(path))} files in {time.perf_counter() - start:.1f} s", flush=True)
            continue
        if os.path.exists(path) and not args.force:
            print(f"  {name}: exists ({os.path.getsize(path) / GIB:.2f} GiB), kept", flush=True)
            continue
        start = time.perf_counter()
        obj = build()
        save(obj, path, **kwargs)
        del obj
        print(f"  {name}: {os.path.getsize(path) / GIB:.2f} GiB in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
