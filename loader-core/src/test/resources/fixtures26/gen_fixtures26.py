"""Writes the PyTorch 2.6 fixtures and their reference dumps.

Run from the repository:  tools/torch26 python3 loader-core/src/test/resources/fixtures26/gen_fixtures26.py

For each fixture NAME: NAME.pt written by torch.save of PyTorch 2.6 (Debian 13's python3-torch), and
NAME.expected.json, the canonical dump (../fixtures/dump_checkpoint.py, docs/canonical-dump.md) of
torch.load(NAME.pt, weights_only=True); for a file that PyTorch 2.6's weights-only load refuses (pickle
protocols 4 and 5) the dump of a full torch.load of this file we just wrote (trusted), and index.json says so
("expected_from": "full_load", with torch's refusal in "torch_weights_only_error"). index.json lists every
fixture with what it covers. The files are not byte-reproducible (2.x writes a random .data/serialization_id
record); their dumps are (fixed seeds).
"""
import collections
import importlib.util
import io
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("dump_checkpoint", os.path.join(HERE, "..", "fixtures", "dump_checkpoint.py"))
dc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dc)

FIXTURES = []  # (name, covers, object, save kwargs)


def fixture(name, covers, **save_kwargs):
    def register(make):
        FIXTURES.append((name, covers, make, save_kwargs))
        return make
    return register


@fixture("sd_transformer26", "nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16) state dict after one forward: in_proj weight/bias, out_proj, two linears, two layer norms")
def _():
    torch.manual_seed(1)
    layer = torch.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    layer(torch.randn(1, 3, 8))
    return layer.state_dict()


@fixture("sd_conv26", "state dict of Sequential(Conv2d(2,3,3), BatchNorm2d(3), ReLU(), Conv2d(3,2,1,bias=False)) after a train-mode forward (running stats, num_batches_tracked)")
def _():
    torch.manual_seed(2)
    m = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                            torch.nn.Conv2d(3, 2, 1, bias=False))
    m.train()
    m(torch.randn(2, 2, 5, 5))
    return m.state_dict()


@fixture("train_adamw26", "2.x training checkpoint: model state dict, AdamW state after 3 steps (step tensors, exp_avg, exp_avg_sq, param_groups with 2.x keys: foreach, maximize, capturable, differentiable, fused, amsgrad), StepLR, CosineAnnealingLR and a SequentialLR of both, epoch, best loss, rng state of torch (a uint8 tensor)")
def _():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    a = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    b = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    seq = torch.optim.lr_scheduler.SequentialLR(opt, schedulers=[a, b], milestones=[2])
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(5, 4)).pow(2).mean().backward()
        opt.step()
        seq.step()
    return {"epoch": 3, "best_loss": 0.125, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": seq.state_dict(), "rng": torch.get_rng_state()[:16].clone()}


@fixture("float8_26", "the four float8 dtypes 2.6 saves (e5m2, e4m3fn, e5m2fnuz, e4m3fnuz): values including max, subnormals, zero, negative, nan where the kind has one; a non-contiguous view")
def _():
    src = torch.tensor([0.0, -0.0, 1.0, -2.5, 0.001, 448.0, 57344.0, float("nan"), 3.0e-5, 240.0])
    out = collections.OrderedDict()
    for dt in (torch.float8_e5m2, torch.float8_e4m3fn, torch.float8_e5m2fnuz, torch.float8_e4m3fnuz):
        t = src.to(dt)
        out[str(dt)[6:]] = t
        out[str(dt)[6:] + ".view"] = t.reshape(2, 5).t()
    return out


@fixture("uint26", "uint16, uint32, uint64 tensors (2.x): 0, 1, max, a 2-D transposed view")
def _():
    out = collections.OrderedDict()
    for dt, mx in ((torch.uint16, 2**16 - 1), (torch.uint32, 2**32 - 1), (torch.uint64, 2**63 - 1)):
        t = torch.tensor([0, 1, 1000, mx, 7, 8], dtype=torch.int64 if dt != torch.uint64 else torch.int64).to(dt)
        out[str(dt)[6:]] = t
        out[str(dt)[6:] + ".t"] = t.reshape(2, 3).t()
    out["uint64.max"] = torch.full((2,), 2**64 - 1, dtype=torch.uint64)
    return out


@fixture("complex32_26", "complex32 (chalf) tensors: values, a view, and complex64/complex128 next to them")
def _():
    z = torch.tensor([1 + 2j, -0.5 - 1j, 0j, 65504 + 1e-4j], dtype=torch.complex64)
    return {"c32": z.to(torch.complex32), "c32.view": z.to(torch.complex32)[1:3], "c64": z,
            "c128": z.to(torch.complex128)}


@fixture("bfloat16_26", "bfloat16 state dict (Linear(5,4).to(bfloat16)) plus bfloat16 edge values: max, subnormal, inf, nan, -0.0")
def _():
    torch.manual_seed(4)
    sd = torch.nn.Linear(5, 4).to(torch.bfloat16).state_dict()
    sd["edges"] = torch.tensor([3.3895e38, 9.2e-41, float("inf"), float("-inf"), float("nan"), -0.0],
                               dtype=torch.bfloat16)
    return sd


@fixture("sparse26", "2.x sparse layouts: COO (uncoalesced, and coalesced with a dense dim), CSR, CSC, BSR (2x2 blocks), BSC")
def _():
    dense = torch.tensor([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 4.0, 0.0], [0.0, 5.0, 0.0, 6.0]])
    coo = torch.sparse_coo_tensor(torch.tensor([[0, 2, 0], [1, 0, 1]]), torch.tensor([1.0, 3.0, 0.5]), (4, 4))
    coo_hybrid = torch.sparse_coo_tensor(torch.tensor([[0, 3]]), torch.tensor([[1, 2], [3, 4]], dtype=torch.int32),
                                         (5, 2)).coalesce()
    return collections.OrderedDict([
        ("coo", coo), ("coo_hybrid", coo_hybrid), ("csr", dense.to_sparse_csr()), ("csc", dense.to_sparse_csc()),
        ("bsr", dense.to_sparse_bsr((2, 2))), ("bsc", dense.to_sparse_bsc((2, 2))),
    ])


@fixture("sparse_batched26", "a batched CSR tensor (2 batches of 4x4; crow_indices of shape (2, 5)), which torch 2.6 saves and loads")
def _():
    dense = torch.tensor([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 4.0, 0.0], [0.0, 5.0, 0.0, 6.0]])
    return {"csr_batched": torch.stack([dense, dense * 2]).to_sparse_csr()}


@fixture("quantized26", "quantized tensors: per_tensor_affine quint8/qint8/qint32, per_channel_affine qint8 (axis 1), per_channel_affine_float_qparams quint8 (float zero points), a transposed quantized view")
def _():
    torch.manual_seed(5)
    x = torch.randn(3, 4)
    out = collections.OrderedDict()
    out["pt_quint8"] = torch.quantize_per_tensor(x, 0.05, 10, torch.quint8)
    out["pt_qint8"] = torch.quantize_per_tensor(x, 0.02, -3, torch.qint8)
    out["pt_qint32"] = torch.quantize_per_tensor(x, 0.001, 0, torch.qint32)
    out["pc_qint8"] = torch.quantize_per_channel(x, torch.tensor([0.1, 0.05, 0.02, 0.2], dtype=torch.float64),
                                                 torch.tensor([0, 1, -1, 2]), 1, torch.qint8)
    out["pc_float_qparams"] = torch.quantize_per_channel(x, torch.tensor([0.1, 0.05, 0.02]),
                                                         torch.tensor([0.5, -1.0, 2.0]), 0, torch.quint8)
    out["pt_view"] = out["pt_quint8"].t()
    return out


@fixture("conj_neg26", "tensors with the conjugate and negative bits as 2.x saves them (_rebuild_tensor_v2's 7th argument): x.conj(), torch._neg_view of a float tensor and of a complex one, a conjugated transposed view")
def _():
    z = torch.tensor([[1 + 2j, 3 - 4j], [-5 + 0.5j, 0j]], dtype=torch.complex64)
    f = torch.tensor([1.0, -2.0, 3.5])
    return collections.OrderedDict([("conj", z.conj()), ("neg", torch._neg_view(f)),
                                    ("neg_complex", torch._neg_view(z[0])), ("conj_t", z.t().conj()),
                                    ("plain", z)])


@fixture("meta26", "tensors on the meta device (shape, stride, dtype; no data): a state dict from a module built with device='meta', a meta Parameter, a transposed meta view")
def _():
    m = torch.nn.Linear(4, 3, device="meta")
    sd = m.state_dict()
    sd["param"] = torch.nn.Parameter(torch.empty(2, 5, device="meta"))
    sd["view"] = torch.empty(2, 6, device="meta", dtype=torch.float16).t()
    return sd


@fixture("params_frozen26", "nn.Parameter with requires_grad=False and with True, state_dict(keep_vars=True) of a module with a frozen layer, a Parameter view")
def _():
    torch.manual_seed(6)
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    m[0].weight.requires_grad_(False)
    sd = m.state_dict(keep_vars=True)
    sd["frozen"] = torch.nn.Parameter(torch.arange(4.0), requires_grad=False)
    sd["trainable"] = torch.nn.Parameter(torch.arange(3.0))
    return sd


def _proto_value():
    w = torch.arange(6.0).reshape(2, 3)
    return collections.OrderedDict([("w", w), ("w1", w[1]), ("meta", {"n": 3, "s": "x", "f": 0.5, "t": (1, 2),
                                                                      "l": [None, True], "b": b"xy"})])


@fixture("proto4_26", "an OrderedDict of a tensor, a view and Python values saved by 2.6 with pickle_protocol=4 (FRAME, SHORT_BINUNICODE, MEMOIZE): PyTorch 2.6's weights-only load refuses it (docs/SECURITY.md)", pickle_protocol=4)
def _():
    return _proto_value()


@fixture("proto5_26", "the same saved with pickle_protocol=5, plus a bytearray (BYTEARRAY8): refused by PyTorch 2.6's weights-only load (docs/SECURITY.md)", pickle_protocol=5)
def _():
    v = _proto_value()
    v["ba"] = bytearray(b"\x00\x01")
    return v


@fixture("legacy26", "the legacy stream format (_use_new_zipfile_serialization=False) written by 2.6: a Linear+BatchNorm state dict, a view, a bfloat16 tensor and Python values", _use_new_zipfile_serialization=False)
def _():
    torch.manual_seed(7)
    sd = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)).state_dict()
    sd["view"] = sd["0.weight"][:, 1]
    sd["bf16"] = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    sd["note"] = ("legacy", 26, 0.25)
    return sd


def main():
    index = []
    for name, covers, make, kwargs in FIXTURES:
        path = os.path.join(HERE, name + ".pt")
        obj = make()
        buf = io.BytesIO()
        torch.save(obj, buf, **kwargs)
        with open(path, "wb") as f:
            f.write(buf.getvalue())
        entry = {"name": name, "covers": covers}
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
            entry["expected_from"] = "weights_only_load"
        except Exception as e:  # only for our own file, just written: a full load is safe here
            entry["expected_from"] = "full_load"
            entry["torch_weights_only_error"] = ("%s: %s" % (type(e).__name__, e)).splitlines()[0][:300]
            loaded = torch.load(path, map_location="cpu", weights_only=False)
        with open(os.path.join(HERE, name + ".expected.json"), "w", encoding="utf-8") as f:
            f.write(dc.to_json(dc.dump(loaded)))
        entry["bytes"] = os.path.getsize(path)
        index.append(entry)
        print("%-18s %6d bytes  expected from %s" % (name, entry["bytes"], entry["expected_from"]))
    with open(os.path.join(HERE, "index.json"), "w", encoding="utf-8") as f:
        json.dump({"torch": torch.__version__, "fixtures": index}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
