#!/usr/bin/env python3
"""The canonical dump (docs/canonical-dump.md) of torch.load(FILE, weights_only=True), for PyTorch 2.x.

Self-contained (standard library and torch only), safe on hostile files: it never unpickles with
weights_only=False, and it bounds its own walk (depth, values, bytes to hash) like weightsonly's dump.

    tools/torch26 python3 tools/difffuzz/dump26.py FILE
        prints the dump as indented JSON; exit 0, or 1 with torch's error on stderr if torch refuses it
    tools/torch26 python3 tools/difffuzz/dump26.py --batch
        reads paths from stdin, one a line; prints one compact JSON line per path, flushed at once
        (each file is loaded in a forked child: "died" if torch crashes, "timeout" after 30 s or --batch N):
        {"path": P, "verdict": "load", "dump": {...}} or {"path": P, "verdict": "load", "dump_error": "..."}
        or {"path": P, "verdict": "refuse", "error": "<ExceptionType>: <first lines of torch's message>"}

Forms beyond dump_checkpoint.py (the 1.13 reference printer), matching weightsonly's own forms: meta tensors
({"meta": ...}), layouts and qschemes. A value with no canonical form, nesting past 1,000, more than 10^7
values, or tensors whose hashing would touch more than 1 GiB plus four times their storages' bytes give
"dump_error" (weightsonly refuses to dump these too; the fuzzer then compares verdicts only).
"""
import collections
import hashlib
import json
import math
import sys
import time

import torch

if sys.byteorder != "little":  # the hash is defined over little-endian element bytes
    raise SystemExit("dump26.py assumes a little-endian host")

_DICT_TYPES = (dict, collections.OrderedDict, collections.Counter)
MAX_DEPTH = 1000
MAX_NODES = 10_000_000
FREE_HASH_BYTES = 1 << 30


class DumpError(Exception):
    pass


def _dtype_name(dtype):
    s = str(dtype)
    if not s.startswith("torch."):
        raise DumpError("unexpected dtype %r" % (dtype,))
    return s[len("torch."):]


def _float(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _element_bytes(t):
    """Little-endian bytes of t's logical elements, row-major, at the dtype's natural size."""
    t = t.detach().resolve_conj().resolve_neg()
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    # a fresh row-major copy: contiguous() keeps a stride-0 dimension of size 1, which view() then refuses
    t = t.reshape(-1).clone(memory_format=torch.contiguous_format)
    data = bytes(t.view(torch.uint8).numpy().tobytes()) if t.numel() else b""
    if len(data) != t.numel() * t.element_size():
        raise AssertionError("hashed %d bytes, expected %d" % (len(data), t.numel() * t.element_size()))
    return data


class _Walker:
    def __init__(self):
        self.storages = {}  # storage data address -> number
        self.keep = []  # every tensor stays alive, so that no address is reused during the walk
        self.nodes = 0
        self.on_path = set()
        self.storage_bytes = 0
        self.hashed = 0

    def storage_number(self, t):
        self.keep.append(t)
        st = t.untyped_storage()
        ptr = st.data_ptr()
        if ptr not in self.storages:
            self.storages[ptr] = len(self.storages)
            self.storage_bytes += st.nbytes()
        return self.storages[ptr]

    def sha256(self, t):
        n = t.numel() * t.element_size()
        self.hashed += n
        if self.hashed > FREE_HASH_BYTES + 4 * self.storage_bytes:
            raise DumpError("the checkpoint's tensors hold too many bytes to hash")
        return hashlib.sha256(_element_bytes(t)).hexdigest()

    def storage(self, s):
        """A bare storage (docs/canonical-dump.md): viewed whole by a 1-d tensor, which gives its number and bytes."""
        untyped = isinstance(s, torch.UntypedStorage)
        dtype = torch.uint8 if untyped else s.dtype
        t = torch.empty(0, dtype=dtype).set_(s if untyped else s._untyped_storage)
        return {"dtype": _dtype_name(dtype), "size": t.numel(), "untyped": bool(untyped),
                "storage": self.storage_number(t), "sha256": self.sha256(t)}

    def tensor(self, t):
        if t.layout != torch.strided:
            return {"sparse": self.sparse(t)}
        if type(t) not in (torch.Tensor, torch.nn.Parameter):
            raise DumpError("tensor subclass %s.%s has no canonical form"
                            % (type(t).__module__, type(t).__qualname__))
        if t.device.type != "cpu":
            raise DumpError("tensor on device %s has no canonical form" % t.device)
        out = {
            "dtype": _dtype_name(t.dtype),
            "shape": list(t.shape),
            "stride": list(t.stride()),
            "storage_offset": t.storage_offset(),
            "storage": self.storage_number(t),
            "requires_grad": bool(t.requires_grad),
        }
        if t.is_quantized:
            out["sha256"] = self.sha256(t.int_repr())
            scheme = t.qscheme()
            if scheme == torch.per_tensor_affine:
                out["quantizer"] = {"scheme": "per_tensor_affine", "scale": _float(float(t.q_scale())),
                                    "zero_point": int(t.q_zero_point())}
            elif scheme in (torch.per_channel_affine, torch.per_channel_affine_float_qparams):
                out["quantizer"] = {"scheme": "per_channel_affine",
                                    "scales": self.value(t.q_per_channel_scales(), 1),
                                    "zero_points": self.value(t.q_per_channel_zero_points(), 1),
                                    "axis": int(t.q_per_channel_axis())}
            else:
                raise DumpError("quantization scheme %s has no canonical form" % scheme)
        else:
            out["sha256"] = self.sha256(t)
        return out

    def sparse(self, t):
        layout = str(t.layout)[len("torch."):]
        out = {"layout": layout, "size": list(t.shape)}
        if t.layout == torch.sparse_coo:
            out["indices"] = self.value(t._indices(), 1)
            out["values"] = self.value(t._values(), 1)
        elif t.layout in (torch.sparse_csr, torch.sparse_bsr):
            out["crow_indices"] = self.value(t.crow_indices(), 1)
            out["col_indices"] = self.value(t.col_indices(), 1)
            out["values"] = self.value(t.values(), 1)
        elif t.layout in (torch.sparse_csc, torch.sparse_bsc):
            out["ccol_indices"] = self.value(t.ccol_indices(), 1)
            out["row_indices"] = self.value(t.row_indices(), 1)
            out["values"] = self.value(t.values(), 1)
        else:
            raise DumpError("tensor layout %s has no canonical form" % t.layout)
        return out

    def value(self, x, depth=0):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise DumpError("the checkpoint expands to more than %d values" % MAX_NODES)
        if depth > MAX_DEPTH:
            raise DumpError("values nested more than %d deep" % MAX_DEPTH)
        tp = type(x)
        if x is None or tp is bool or tp is int or tp is str:
            return x
        if tp is float:
            return _float(x)
        if tp in (bytes, bytearray):
            return {"bytes": bytes(x).hex()}
        if tp is complex:
            return {"complex": [_float(x.real), _float(x.imag)]}
        if tp is torch.Size:
            return {"size": [int(n) for n in x]}
        if tp is torch.dtype:
            return {"dtype": _dtype_name(x)}
        if tp is torch.device:
            return {"device": str(x)}
        if tp is torch.layout:
            return {"layout": str(x)}
        if tp is torch.qscheme:
            return {"qscheme": str(x)[len("torch."):]}
        if isinstance(x, torch.Tensor):
            if x.device.type == "meta" and x.layout == torch.strided:  # weightsonly's own form, not a "tensor"
                return {"meta": {"dtype": _dtype_name(x.dtype), "shape": list(x.shape), "stride": list(x.stride()),
                                 "requires_grad": bool(x.requires_grad)}}
            return {"tensor": self.tensor(x)}
        if isinstance(x, (torch.storage.TypedStorage, torch.UntypedStorage)):
            return {"storage": self.storage(x)}
        if tp in (list, tuple, set, frozenset) or tp in _DICT_TYPES:
            if id(x) in self.on_path:
                raise DumpError("the checkpoint contains a reference cycle")
            self.on_path.add(id(x))
            try:
                return self.container(x, tp, depth + 1)
            finally:
                self.on_path.discard(id(x))
        raise DumpError("no canonical form for a value of type %s.%s" % (tp.__module__, tp.__qualname__))

    def container(self, x, tp, depth):
        if tp is list:
            return [self.value(v, depth) for v in x]
        if tp is tuple:
            return {"tuple": [self.value(v, depth) for v in x]}
        if tp in (set, frozenset):
            items = [self.value(v, depth) for v in x]
            items.sort(key=lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                                allow_nan=False))
            return {"set": items}
        pairs = []
        # the class's own items(), not x.items(): BUILD can set an instance attribute 'items' on an OrderedDict
        items = collections.OrderedDict.items if isinstance(x, collections.OrderedDict) else dict.items
        for k, v in items(x):
            kk = self.value(k, depth)  # keys are walked before their values
            pairs.append([kk, self.value(v, depth)])
        return {"dict": pairs}


def dump(obj):
    """The canonical dump of an in-memory object: {"root": VALUE}; raises DumpError if it has none."""
    return {"root": _Walker().value(obj)}


def load(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def _message(e):
    text = "%s: %s" % (type(e).__name__, e)
    return text[:2000]


def one(path):
    """The result for one file, as a dict (the --batch line)."""
    # torch keeps sparse tensors to validate in a process-wide list that a failed load leaves filled: the next
    # load would validate (and refuse for) another file's tensors (GHSA-pxpx-v6rm-5jqf). One file, one verdict.
    getattr(torch._utils, "_sparse_tensors_to_validate", []).clear()
    try:
        obj = load(path)
    except Exception as e:  # torch's refusal: any exception out of torch.load
        return {"path": path, "verdict": "refuse", "error": _message(e)}
    try:
        return {"path": path, "verdict": "load", "dump": dump(obj)}
    except (DumpError, RecursionError) as e:
        return {"path": path, "verdict": "load", "dump_error": _message(e)}
    except Exception as e:  # torch loaded a value it cannot then read (e.g. a tensor it cannot hash)
        return {"path": path, "verdict": "load", "dump_error": "while dumping: " + _message(e)}


def _line(result):
    return json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def batch(timeout):
    """One result line per path read from stdin. Files are loaded by a child forked from this process (torch
    imported once), which serves path after path; when a file crashes torch (a segmentation fault: torch 2.6
    reads past a record shorter than its storage, CVE-2026-24747) or makes it hang past timeout seconds, that
    file is answered "died" or "timeout" and a new child is forked for the next one, at the cost of a fork
    rather than of importing torch again."""
    import os
    import select
    import signal
    torch.set_num_threads(1)
    child = None
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        if child is None:
            child = _fork_server()
        pid, to_child, from_child = child
        os.write(to_child, (path + "\n").encode("utf-8", "surrogateescape"))
        buf = b""
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready = select.select([from_child], [], [], max(left, 0))[0] if left > 0 else []
            chunk = os.read(from_child, 1 << 20) if ready else None
            if not chunk:
                if chunk is None:
                    os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                os.close(to_child)
                os.close(from_child)
                child = None
                verdict = "timeout" if chunk is None else "died"
                buf = _line({"path": path, "verdict": verdict, "error": "wait status %d" % status}).encode()
                break
            buf += chunk
        sys.stdout.write(buf.decode("utf-8", "surrogatepass"))
        sys.stdout.flush()
    return 0


def _fork_server():
    """(pid, write end, read end) of a child that answers one line per path line."""
    import os
    p_r, p_w = os.pipe()
    c_r, c_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(p_r)
        os.close(c_w)
        return pid, p_w, c_r
    os.close(p_w)
    os.close(c_r)
    with os.fdopen(p_r, "r", encoding="utf-8", errors="surrogateescape") as paths:
        for line in paths:
            path = line.rstrip("\n")
            try:
                text = _line(one(path))
            except BaseException as e:  # noqa: B902 (the parent must get a line whatever happened)
                text = _line({"path": path, "verdict": "load", "dump_error": "dumper failed: " + _message(e)})
            data = text.encode("utf-8", "surrogatepass")
            while data:
                data = data[os.write(c_w, data):]
    os._exit(0)


def main(argv):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * MAX_DEPTH))
    if argv[1:2] == ["--batch"]:
        return batch(int(argv[2]) if len(argv) > 2 else 30)
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    result = one(argv[1])
    if result["verdict"] != "load":
        sys.stderr.write(result["error"] + "\n")
        return 1
    if "dump_error" in result:
        sys.stderr.write(result["dump_error"] + "\n")
        return 1
    sys.stdout.buffer.write((json.dumps(result["dump"], ensure_ascii=False, indent=1, allow_nan=False)
                             + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
