"""Structure-aware mutators of PyTorch checkpoints (standard library only; never unpickles anything).

Each mutator takes a seed (its bytes and what was parsed of it) and a random.Random, and returns the bytes of
one mutant and a short description of what it changed. Formats: the zip archive (records, names and their
case, sizes, compression), the pickle (opcodes and arguments, GLOBAL names, the arguments of the tensor
rebuild functions), the legacy stream (its five pickles and storage blocks) and the 0.1.x tar.
"""
import io
import pickletools
import struct
import tarfile
import zipfile
import zlib

# ---------------------------------------------------------------------------------------------- pickle codec

OPS = {op.name: op for op in pickletools.opcodes}
NOARG = [op.name for op in pickletools.opcodes if op.arg is None and op.name not in ("STOP",)]


MAX_OPS = 20000  # flood seeds (a million MARKs) are mutated as bytes only: their op lists are too slow


def parse_pickle(data, start=0):
    """[(opname, arg)] of the pickle at data[start:], and the offset just past its STOP; FRAMEs are dropped
    (their lengths are recomputed by nobody: a mutant is written unframed unless a FRAME is inserted)."""
    ops = []
    end = None
    stream = io.BytesIO(data)
    stream.seek(start)
    for op, arg, pos in pickletools.genops(stream):
        if op.name == "FRAME":
            continue
        ops.append((op.name, arg))
        if len(ops) > MAX_OPS:
            raise ValueError("too many opcodes to mutate structurally")
        if op.name == "STOP":
            end = stream.tell()
    if end is None:
        raise ValueError("no STOP")
    return ops, end


def _text_int(v):
    return str(int(v)).encode()


def _long_bytes(v):
    if v == 0:
        return b""
    n = (v.bit_length() + 8) // 8
    b = v.to_bytes(n, "little", signed=True)
    # shortest two's complement
    while len(b) > 1 and ((b[-1] == 0 and b[-2] < 0x80) or (b[-1] == 0xFF and b[-2] >= 0x80)):
        b = b[:-1]
    return b


def encode_op(name, arg):
    code = OPS[name].code.encode("latin-1")
    if name in ("INT",):
        if arg is True:
            return code + b"01\n"
        if arg is False:
            return code + b"00\n"
        return code + _text_int(arg) + b"\n"
    if name == "LONG":
        return code + _text_int(arg) + b"L\n"
    if name == "BININT":
        return code + struct.pack("<i", arg)
    if name == "BININT1":
        return code + struct.pack("<B", arg)
    if name == "BININT2":
        return code + struct.pack("<H", arg)
    if name == "LONG1":
        b = _long_bytes(arg)
        return code + struct.pack("<B", len(b)) + b
    if name == "LONG4":
        b = _long_bytes(arg)
        return code + struct.pack("<i", len(b)) + b
    if name == "STRING":
        return code + repr(arg if isinstance(arg, str) else arg.decode("latin-1")).encode("latin-1", "replace") + b"\n"
    if name in ("BINSTRING", "SHORT_BINSTRING"):
        b = arg.encode("latin-1", "replace") if isinstance(arg, str) else bytes(arg)
        return code + (struct.pack("<i", len(b)) if name == "BINSTRING" else struct.pack("<B", len(b) & 0xFF)) + b
    if name in ("BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
        b = bytes(arg)
        fmt = {"BINBYTES": "<I", "SHORT_BINBYTES": "<B", "BINBYTES8": "<Q", "BYTEARRAY8": "<Q"}[name]
        return code + struct.pack(fmt, len(b) if fmt != "<B" else len(b) & 0xFF) + b
    if name == "UNICODE":
        return code + arg.encode("raw-unicode-escape") + b"\n"
    if name in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"):
        b = arg.encode("utf-8", "surrogatepass")
        fmt = {"BINUNICODE": "<I", "SHORT_BINUNICODE": "<B", "BINUNICODE8": "<Q"}[name]
        return code + struct.pack(fmt, len(b) if fmt != "<B" else len(b) & 0xFF) + b
    if name == "FLOAT":
        return code + repr(float(arg)).encode() + b"\n"
    if name == "BINFLOAT":
        return code + struct.pack(">d", arg)
    if name in ("GLOBAL", "INST"):
        module, _, qual = arg.partition(" ")
        return code + module.encode("utf-8") + b"\n" + qual.encode("utf-8") + b"\n"
    if name in ("PUT", "GET"):
        return code + _text_int(arg) + b"\n"
    if name in ("BINPUT", "BINGET"):
        return code + struct.pack("<B", arg & 0xFF)
    if name in ("LONG_BINPUT", "LONG_BINGET"):
        return code + struct.pack("<I", arg & 0xFFFFFFFF)
    if name == "EXT1":
        return code + struct.pack("<B", arg & 0xFF)
    if name == "EXT2":
        return code + struct.pack("<H", arg & 0xFFFF)
    if name == "EXT4":
        return code + struct.pack("<i", arg)
    if name == "PERSID":
        return code + str(arg).encode("utf-8") + b"\n"
    if name == "PROTO":
        return code + struct.pack("<B", arg & 0xFF)
    if name == "FRAME":
        return code + struct.pack("<Q", arg)
    if OPS[name].arg is None:
        return code
    raise ValueError("cannot encode " + name)


def encode_pickle(ops):
    return b"".join(encode_op(n, a) for n, a in ops)


def int_op(v, rng=None):
    """An opcode pushing the integer v, in the encoding torch's pickler would choose (sometimes another)."""
    if rng is not None and rng.random() < 0.15:
        return ("INT", v) if -2**63 <= v < 2**63 and rng.random() < 0.5 else ("LONG1", v)
    if 0 <= v < 256:
        return ("BININT1", v)
    if 0 <= v < 65536:
        return ("BININT2", v)
    if -2**31 <= v < 2**31:
        return ("BININT", v)
    return ("LONG1", v)


INT_OPS = {"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "LONG"}
STR_OPS = {"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING"}


def interesting_int(rng, old=None):
    base = [0, 1, -1, 2, 3, 4, 7, 8, 16, 255, 256, -2, 65535, 65536, 2**31 - 1, 2**31, -2**31, -2**31 - 1,
            2**32, 2**32 + 1, 2**40, 2**53, 2**61, 2**62, 2**63 - 1, 2**63, -2**63, 2**64, 2**64 + 1]
    if old is not None and not isinstance(old, bool):
        base += [old + 1, old - 1, old * 2, old // 2, -old, old + 2**32, old * 4, old * 8, old + 7]
    return rng.choice(base)


ALLOWED_GLOBALS = [
    "torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_tensor", "torch._utils _rebuild_tensor_v3",
    "torch._utils _rebuild_parameter", "torch._utils _rebuild_parameter_with_state", "torch._utils _rebuild_qtensor",
    "torch._utils _rebuild_sparse_tensor", "torch._utils _rebuild_meta_tensor_no_storage",
    "torch._utils _rebuild_wrapper_subclass", "torch._utils _rebuild_device_tensor_from_numpy",
    "torch._utils _rebuild_device_tensor_from_cpu_tensor", "torch._utils _rebuild_nested_tensor",
    "torch._tensor _rebuild_from_type_v2", "torch.nn.parameter Parameter", "torch Tensor", "torch Size",
    "torch device", "torch.storage UntypedStorage", "torch.storage TypedStorage",
    "collections OrderedDict", "collections Counter", "builtins set", "builtins complex", "builtins bytearray",
    "_codecs encode", "torch.serialization _get_layout", "torch float32", "torch bfloat16", "torch int64",
    "torch per_tensor_affine", "torch per_channel_affine", "torch per_channel_affine_float_qparams",
    "torch FloatStorage", "torch HalfStorage", "torch LongStorage", "torch BoolStorage", "torch QUInt8Storage",
    "torch.cuda FloatStorage", "torch FloatTensor", "torch.sparse FloatTensor", "torch quint4x2", "torch uint16",
    "torch float8_e4m3fn", "torch complex32", "torch uint4", "torch int4", "torch uint1", "torch float8_e8m0fnu",
    "torch bits8", "torch float8_e5m2fnuz",
]
UNALLOWED_GLOBALS = [
    "builtins eval", "builtins exec", "builtins getattr", "builtins frozenset", "builtins bytes",
    "builtins slice", "builtins range", "builtins print", "builtins list", "builtins dict", "builtins tuple",
    "__builtin__ set", "__builtin__ frozenset", "__builtin__ eval", "copy_reg _reconstructor",
    "copyreg _reconstructor", "os system", "posix system", "nt system", "subprocess Popen",
    "collections defaultdict", "collections deque", "collections OrderedDict ", "Collections OrderedDict",
    "collections ordereddict", "torch load", "torch.serialization load", "torch.storage _load_from_bytes",
    "torch._utils _rebuild_sparse_csr_tensor", "torch._utils _rebuild_xla_tensor", "torch._utils _rebuild_mps_tensor",
    "torch._utils  _rebuild_tensor_v2", "torch._utils _Rebuild_tensor_v2", "torch._utils _rebuild_tensor_v2.__globals__",
    "torch.nn.modules.linear Linear", "numpy.core.multiarray _reconstruct", "numpy dtype", "numpy ndarray",
    "torch.nn.parameter Buffer", "torch.nn.parameter UninitializedParameter", "torch.cuda.amp GradScaler",
    "fairseq.data.dictionary Dictionary", "argparse Namespace", "pathlib PosixPath", "torch.utils.data Dataset",
    "torch Storage", "torch.storage _StorageBase", "torch ByteStorage.__init__", "torch.testing._internal x",
    "builtins __import__", "torch.fx.graph_module reduce_graph_module", "torch float4", "torch layout",
]
STORAGE_CLASSES = ["Double", "Float", "Half", "Long", "Int", "Short", "Char", "Byte", "Bool", "BFloat16",
                   "ComplexDouble", "ComplexFloat", "QUInt8", "QInt8", "QInt32", "QUInt4x2", "QUInt2x4"]
INTERESTING_STRINGS = ["", "cpu", "cuda", "cuda:0", "meta", "mps", "CPU", "cpu:0", "xla", "storage", "Storage",
                       "module", "0", "1", "00", "-1", "../0", "0/", "data.pkl", "DATA.PKL", "version", "x" * 300,
                       "\u00e9", "\x1b[2J", "weight", "bias", "\ud800"]


def _window(ops, i, n=60):
    return range(i, min(len(ops), i + n))


def mutate_pickle_ops(ops, rng, strings=(), tensor_focus=0.5):
    """Applies one to three edits to an op list (a copy); returns (ops, description)."""
    ops = list(ops)
    desc = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        d = _edit(ops, rng, strings, tensor_focus)
        if d:
            desc.append(d)
    return ops, "; ".join(desc) or "no-op"


def _edit(ops, rng, strings, tensor_focus):
    if len(ops) < 2:
        return None
    rebuilds = [i for i, (n, a) in enumerate(ops) if n == "GLOBAL" and isinstance(a, str) and "_rebuild" in a]
    body = range(0, len(ops) - 1)  # never the final STOP, unless an edit says so
    if rebuilds and rng.random() < tensor_focus:
        return _tensor_edit(ops, rng, rng.choice(rebuilds))
    kind = rng.randrange(12)
    i = rng.choice(body)
    name, arg = ops[i]
    if kind == 0:  # delete an opcode
        del ops[i]
        return "delete op %d %s" % (i, name)
    if kind == 1:  # insert a no-argument opcode
        op = rng.choice(NOARG)
        ops.insert(i, (op, None))
        return "insert %s at %d" % (op, i)
    if kind == 2:  # insert an argument opcode
        op = rng.choice([int_op(interesting_int(rng), rng), ("BINUNICODE", rng.choice(INTERESTING_STRINGS)),
                         ("GLOBAL", rng.choice(ALLOWED_GLOBALS + UNALLOWED_GLOBALS)), ("BINGET", rng.randrange(8)),
                         ("BINPUT", rng.randrange(8)), ("BINFLOAT", rng.choice([0.0, -0.0, 1.0, float("nan")])),
                         ("PROTO", rng.choice([2, 3, 4, 5, 6])), ("FRAME", rng.choice([0, 8, 2**40])),
                         ("BINPERSID", None), ("PERSID", "0"), ("BINBYTES", b"\x00" * rng.choice([0, 4, 8]))])
        ops.insert(i, op)
        return "insert %s at %d" % (op[0], i)
    if kind == 3:  # replace an integer argument
        idx = [j for j, (n, a) in enumerate(ops) if n in INT_OPS or n == "INT"]
        if not idx:
            return None
        j = rng.choice(idx)
        old = ops[j][1]
        v = interesting_int(rng, old if isinstance(old, int) else None)
        ops[j] = int_op(v, rng)
        return "int op %d %r -> %r" % (j, old, v)
    if kind == 4:  # replace a string argument
        idx = [j for j, (n, a) in enumerate(ops) if n in STR_OPS]
        if not idx:
            return None
        j = rng.choice(idx)
        old = ops[j][1]
        if isinstance(old, bytes):
            old = old.decode("latin-1")
        choice = rng.random()
        if choice < 0.3:
            new = old.upper() if old != old.upper() else old.lower()
        elif choice < 0.6 and strings:
            new = rng.choice(strings)
        else:
            new = rng.choice(INTERESTING_STRINGS)
        ops[j] = ("BINUNICODE", new) if ops[j][0] in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8") else (ops[j][0], new)
        return "string op %d %r -> %r" % (j, old[:40], new[:40])
    if kind == 5:  # replace a GLOBAL's name
        idx = [j for j, (n, a) in enumerate(ops) if n in ("GLOBAL", "INST")]
        if not idx:
            return None
        j = rng.choice(idx)
        new = rng.choice(ALLOWED_GLOBALS if rng.random() < 0.6 else UNALLOWED_GLOBALS)
        old = ops[j][1]
        ops[j] = (ops[j][0], new)
        return "global %r -> %r" % (old, new)
    if kind == 6:  # replace an opcode by another of no argument
        op = rng.choice(NOARG)
        ops[i] = (op, None)
        return "replace op %d %s -> %s" % (i, name, op)
    if kind == 7:  # duplicate an opcode
        ops.insert(i, ops[i])
        return "duplicate op %d %s" % (i, name)
    if kind == 8:  # swap two neighbours
        if i + 1 < len(ops) - 1:
            ops[i], ops[i + 1] = ops[i + 1], ops[i]
            return "swap ops %d,%d" % (i, i + 1)
        return None
    if kind == 9:  # GLOBAL -> STACK_GLOBAL (or back)
        idx = [j for j, (n, a) in enumerate(ops) if n == "GLOBAL"]
        if not idx:
            return None
        j = rng.choice(idx)
        module, _, qual = ops[j][1].partition(" ")
        ops[j:j + 1] = [("BINUNICODE", module), ("BINUNICODE", qual), ("STACK_GLOBAL", None)]
        return "GLOBAL %r as STACK_GLOBAL" % ops[j + 1][1]
    if kind == 10:  # a memo index
        idx = [j for j, (n, a) in enumerate(ops) if n in ("BINGET", "LONG_BINGET", "BINPUT", "LONG_BINPUT")]
        if not idx:
            return None
        j = rng.choice(idx)
        v = rng.choice([0, 1, 2, 3, 255, 256, 2**31, ops[j][1] + 1, ops[j][1] - 1])
        ops[j] = (("LONG_" if v > 255 or v < 0 else "") + ops[j][0].replace("LONG_", ""), v)
        return "memo op %d -> %d" % (j, v)
    # kind 11: move a slice of ops elsewhere (a subtree reused)
    j = rng.choice(body)
    a, b = sorted((i, j))
    chunk = ops[a:b + 1][:20]
    k = rng.choice(body)
    ops[k:k] = chunk
    return "copy ops %d..%d to %d" % (a, a + len(chunk), k)


REBUILDS = ["torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_tensor", "torch._utils _rebuild_tensor_v3",
            "torch._utils _rebuild_parameter", "torch._utils _rebuild_qtensor", "torch._utils _rebuild_sparse_tensor",
            "torch._utils _rebuild_meta_tensor_no_storage", "torch._utils _rebuild_wrapper_subclass",
            "torch._utils _rebuild_device_tensor_from_numpy", "torch._utils _rebuild_sparse_csr_tensor",
            "torch._utils _rebuild_nested_tensor", "torch._utils _rebuild_parameter_with_state"]


def _tensor_edit(ops, rng, g):
    """An edit of the arguments of one tensor rebuild: storage class, key, location, numel, offset, sizes,
    strides, requires_grad, or the rebuild function itself."""
    win = list(_window(ops, g))
    kind = rng.randrange(8)
    if kind == 0:
        old = ops[g][1]
        ops[g] = ("GLOBAL", rng.choice(REBUILDS))
        return "rebuild %r -> %r" % (old, ops[g][1])
    if kind in (1, 2):  # an integer: numel, offset, a size or a stride
        idx = [j for j in win if ops[j][0] in INT_OPS or ops[j][0] == "INT" and not isinstance(ops[j][1], bool)]
        if not idx:
            return None
        j = rng.choice(idx)
        old = ops[j][1]
        v = interesting_int(rng, old)
        ops[j] = int_op(v, rng)
        return "tensor int op %d %r -> %r" % (j, old, v)
    if kind == 3:  # the storage class (the dtype)
        idx = [j for j in win if ops[j][0] == "GLOBAL" and ops[j][1].endswith("Storage")]
        if not idx:
            return None
        j = rng.choice(idx)
        old = ops[j][1]
        cls = rng.choice(STORAGE_CLASSES) + "Storage"
        mod = rng.choice(["torch"] * 8 + ["torch.cuda", "torch.storage", "Torch"])
        ops[j] = ("GLOBAL", mod + " " + (cls if rng.random() < 0.9 else cls.lower()))
        return "storage class %r -> %r" % (old, ops[j][1])
    if kind == 4:  # the rank: an element more or fewer in a size or stride tuple
        idx = [j for j in win if ops[j][0] in ("TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_TUPLE")]
        if not idx:
            return None
        j = rng.choice(idx)
        old = ops[j][0]
        order = ["EMPTY_TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"]
        k = order.index(old)
        if k > 0 and (k == 3 or rng.random() < 0.5):
            del ops[j - 1]
            ops[j - 1] = (order[k - 1], None)
        else:
            ops.insert(j, int_op(interesting_int(rng), rng))
            ops[j + 1] = (order[k + 1], None)
        return "tuple at %d %s -> %s" % (j, old, ops[j][0] if ops[j][0].startswith("TUPLE") or ops[j][0] == "EMPTY_TUPLE" else ops[j - 1][0])
    if kind == 5:  # requires_grad and the other booleans
        idx = [j for j in win if ops[j][0] in ("NEWTRUE", "NEWFALSE") or (ops[j][0] == "INT" and isinstance(ops[j][1], bool))]
        if not idx:
            return None
        j = rng.choice(idx)
        new = rng.choice([("NEWTRUE", None), ("NEWFALSE", None), ("NONE", None), ("BININT1", 2), ("BININT1", 1),
                          ("BINFLOAT", 1.0), ("EMPTY_TUPLE", None)])
        old = ops[j]
        ops[j] = new
        return "tensor bool %r -> %r" % (old, new)
    if kind == 6:  # the persistent id's strings: 'storage', key, location
        idx = [j for j in win if ops[j][0] in STR_OPS]
        if not idx:
            return None
        j = rng.choice(idx)
        old = ops[j][1]
        old = old.decode("latin-1") if isinstance(old, bytes) else old
        new = rng.choice(INTERESTING_STRINGS + [old.upper(), old + "0", str(rng.randrange(4))])
        ops[j] = ("BINUNICODE", new)
        return "tensor string %r -> %r" % (old[:40], new[:40])
    # kind 7: an int becomes another type (bool, float, None, negative zero)
    idx = [j for j in win if ops[j][0] in INT_OPS]
    if not idx:
        return None
    j = rng.choice(idx)
    old = ops[j]
    ops[j] = rng.choice([("NEWTRUE", None), ("NEWFALSE", None), ("BINFLOAT", float(old[1] if isinstance(old[1], int) else 0)),
                         ("NONE", None), ("BINUNICODE", "1"), ("LONG1", old[1] if isinstance(old[1], int) else 0)])
    return "tensor int %r -> %r" % (old, ops[j])


def strings_of(ops):
    out = []
    for n, a in ops:
        if n in STR_OPS:
            out.append(a.decode("latin-1") if isinstance(a, bytes) else a)
    return out[:200]


# ---------------------------------------------------------------------------------------------- zip

def read_zip(data):
    """[(name, bytes, method)] of a zip, in directory order; None if zipfile cannot read it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > 16 << 20:  # a zip bomb: mutated as bytes only
                return None
            return [(i.filename, z.read(i), i.compress_type) for i in z.infolist()]
    except Exception:
        return None


def write_zip(entries, align=64):
    """A zip of (name, bytes, method) entries, STORED payloads aligned like torch's writer aligns them."""
    out = bytearray()
    central = bytearray()
    for name, payload, method in entries:
        nb = name.encode("utf-8", "surrogatepass")
        crc = zlib.crc32(payload) & 0xFFFFFFFF
        if method == zipfile.ZIP_DEFLATED:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            body = c.compress(payload) + c.flush()
        else:
            method, body = 0, payload
        offset = len(out)
        pad = 0
        if method == 0 and align:
            pad = (-(offset + 30 + len(nb) + 4)) % align
        extra = (struct.pack("<HH", 0x4246, pad) + b"Z" * pad) if method == 0 and align else b""
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(body), len(payload),
                           len(nb), len(extra)) + nb + extra + body
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(body),
                               len(payload), len(nb), 0, 0, 0, 0, 0, offset) + nb
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), cd_offset, 0)
    return bytes(out)


def _case_variant(name, rng):
    r = rng.random()
    if r < 0.3:
        return name.upper()
    if r < 0.5:
        parts = name.split("/")
        k = rng.randrange(len(parts))
        parts[k] = parts[k].upper() if parts[k] != parts[k].upper() else parts[k].lower()
        return "/".join(parts)
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if not letters:
        return name + "X"
    i = rng.choice(letters)
    return name[:i] + name[i].swapcase() + name[i + 1:]


def mutate_zip(entries, rng, donor_pickles=()):
    """One or two structural edits of a zip's entries; returns (entries, description)."""
    entries = list(entries)
    desc = []
    for _ in range(rng.choice((1, 1, 2))):
        if not entries:
            break
        kind = rng.randrange(13)
        i = rng.randrange(len(entries))
        name, data, method = entries[i]
        if kind == 0:  # rename with another case
            new = _case_variant(name, rng)
            entries[i] = (new, data, method)
            desc.append("rename %r -> %r" % (name, new))
        elif kind == 1:  # a second record whose name differs only by case, before or after the first
            new = _case_variant(name, rng)
            other = data
            if name.endswith(".pkl") and donor_pickles and rng.random() < 0.7:
                other = rng.choice(donor_pickles)
            elif rng.random() < 0.5:
                other = bytes(reversed(data))
            pos = i + 1 if rng.random() < 0.5 else i
            entries.insert(pos, (new, other, method))
            desc.append("case twin %r of %r (%s)" % (new, name, "before" if pos == i else "after"))
        elif kind == 2:
            del entries[i]
            desc.append("delete %r" % name)
        elif kind == 3:  # exact duplicate name with other bytes
            entries.insert(rng.randrange(len(entries) + 1), (name, bytes(reversed(data)), method))
            desc.append("duplicate %r" % name)
        elif kind == 4:  # swap contents
            j = rng.randrange(len(entries))
            entries[i], entries[j] = (name, entries[j][1], method), (entries[j][0], data, entries[j][2])
            desc.append("swap contents %r <-> %r" % (name, entries[i][0]))
        elif kind == 5:  # the archive folder
            prefix = name.split("/")[0]
            new = rng.choice(["", "archive", "Archive", "x", "a/b", prefix.upper(), "..", ".", prefix + "/sub"])
            entries = [((new + "/" + n.split("/", 1)[1]) if "/" in n and rng.random() < 0.8 else n, d, m)
                       for n, d, m in entries]
            desc.append("folder %r -> %r" % (prefix, new))
        elif kind == 6:  # the version record
            vs = [j for j, e in enumerate(entries) if e[0].endswith("/version") or e[0].endswith("/.data/version")]
            if vs:
                j = rng.choice(vs)
                v = rng.choice([b"1\n", b"2\n", b"3\n", b"4\n", b"10\n", b"-1\n", b"", b"3", b"abc\n", b"0\n", b"3\n\n", b"03\n"])
                entries[j] = (entries[j][0], v, entries[j][2])
                desc.append("version -> %r" % v)
        elif kind == 7:  # byteorder record
            bo = [j for j, e in enumerate(entries) if e[0].endswith("/byteorder")]
            v = rng.choice([b"big", b"little", b"", b"BIG", b"little\n", b"middle"])
            if bo:
                j = bo[0]
                entries[j] = (entries[j][0], v, entries[j][2])
            else:
                prefix = entries[0][0].split("/")[0]
                entries.insert(1, (prefix + "/byteorder", v, 0))
            desc.append("byteorder -> %r" % v)
        elif kind == 8:  # a data record's length
            ds = [j for j, e in enumerate(entries) if "/data/" in e[0]]
            if ds:
                j = rng.choice(ds)
                n, d, m = entries[j]
                k = rng.choice([0, 1, 2, 4, 8, len(d) // 2, len(d) + 1, len(d) + 8, 2 * len(d)])
                d2 = (d * 3)[:k] if k > len(d) else d[:k]
                entries[j] = (n, d2, m)
                desc.append("data %r %d -> %d bytes" % (n, len(d), len(d2)))
        elif kind == 9:  # DEFLATE a record
            entries[i] = (name, data, zipfile.ZIP_DEFLATED)
            desc.append("deflate %r" % name)
        elif kind == 10:  # an extra record
            prefix = name.split("/")[0]
            extra = rng.choice(["constants.pkl", "data/99", "DATA.pkl", "data.pkl", "code/x.py", "extra/a",
                                ".data/serialization_id", "data/0", "Data/0", "version", "VERSION"])
            entries.insert(rng.randrange(len(entries) + 1), (prefix + "/" + extra, data, 0))
            desc.append("add %r" % (prefix + "/" + extra))
        elif kind == 11:  # reorder
            rng.shuffle(entries)
            desc.append("shuffle records")
        else:  # a data record renamed to another key (what the pickle names)
            ds = [j for j, e in enumerate(entries) if "/data/" in e[0]]
            if ds:
                j = rng.choice(ds)
                n, d, m = entries[j]
                base, _, key = n.rpartition("/")
                new = base + "/" + rng.choice([key + "0", "0" + key, str(rng.randrange(5)), key.upper() + "x", " " + key])
                entries[j] = (new, d, m)
                desc.append("data key %r -> %r" % (n, new))
    return entries, "; ".join(desc)


# ---------------------------------------------------------------------------------------------- legacy stream

def read_legacy(data):
    """([ops of the five pickles], tail bytes) of a legacy stream, or None."""
    if not data.startswith(b"\x80\x02") and not data.startswith(b"\x80"):
        return None
    try:
        pickles = []
        pos = 0
        for _ in range(5):
            ops, pos = parse_pickle(data, pos)
            pickles.append(ops)
        return pickles, data[pos:]
    except Exception:
        return None


def mutate_legacy(pickles, tail, rng, strings=()):
    pickles = [list(p) for p in pickles]
    kind = rng.randrange(10)
    if kind < 5:  # mostly the main pickle, sometimes the others
        k = rng.choice([3, 3, 3, 4, 4, 0, 1, 2])
        pickles[k], d = mutate_pickle_ops(pickles[k], rng, strings)
        return encode_pickle_list(pickles) + tail, "legacy pickle %d: %s" % (k, d)
    if kind == 5:  # the magic number's encoding or value
        magic = rng.choice([("LONG1", 0x1950A86A20F9469CFC6C), ("LONG", 0x1950A86A20F9469CFC6C),
                            ("INT", 0x1950A86A20F9469CFC6C), ("LONG1", 0x1950A86A20F9469CFC6D),
                            ("LONG4", 0x1950A86A20F9469CFC6C)])
        proto = rng.choice([None, ("PROTO", 1), ("PROTO", 3), ("PROTO", 4), ("PROTO", 5)])
        p0 = [op for op in pickles[0] if op[0] not in INT_OPS and op[0] not in ("INT", "PROTO")]
        p0 = ([proto] if proto else []) + [magic] + p0
        pickles[0] = p0
        return encode_pickle_list(pickles) + tail, "legacy magic %r proto %r" % (magic[0], proto)
    if kind == 6:  # protocol version
        pickles[1] = [("PROTO", 2), int_op(rng.choice([1000, 1001, 1002, 0, -1, 2**64])), ("STOP", None)]
        return encode_pickle_list(pickles) + tail, "legacy protocol version %r" % (pickles[1][1],)
    if kind == 7:  # a storage block's declared element count
        t = bytearray(tail)
        if len(t) >= 8:
            v = interesting_int(rng, struct.unpack_from("<q", t, 0)[0])
            struct.pack_into("<Q", t, 0, v & 0xFFFFFFFFFFFFFFFF)
            return encode_pickle_list(pickles) + bytes(t), "legacy first block count -> %d" % v
    if kind == 8:  # the tail cut or extended
        k = rng.choice([0, 1, 7, 8, len(tail) - 1, len(tail) + 8])
        t = tail[:k] if k <= len(tail) else tail + b"\0" * (k - len(tail))
        return encode_pickle_list(pickles) + t, "legacy tail %d -> %d" % (len(tail), len(t))
    # kind 9: the storage-key list reordered / a key repeated
    keys = pickles[4]
    pickles[4], d = mutate_pickle_ops(keys, rng, strings, tensor_focus=0)
    return encode_pickle_list(pickles) + tail, "legacy keys: " + d


def encode_pickle_list(pickles):
    return b"".join(encode_pickle(p) for p in pickles)


# ---------------------------------------------------------------------------------------------- tar

def read_tar(data):
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            return [(m.name, t.extractfile(m).read() if m.isfile() else b"") for m in t.getmembers()]
    except Exception:
        return None


def write_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def mutate_tar(members, rng, strings=()):
    members = list(members)
    i = rng.randrange(len(members))
    name, data = members[i]
    kind = rng.randrange(6)
    if kind == 0:
        new = _case_variant(name, rng)
        members[i] = (new, data)
        return members, "tar rename %r -> %r" % (name, new)
    if kind == 1:
        members.insert(rng.randrange(len(members) + 1), (_case_variant(name, rng) if rng.random() < 0.5 else name, data))
        return members, "tar twin of %r" % name
    if kind == 2:
        del members[i]
        return members, "tar delete %r" % name
    # a member's pickle
    try:
        ops, end = parse_pickle(data)
    except Exception:
        members[i] = (name, data[: len(data) // 2])
        return members, "tar cut %r" % name
    ops, d = mutate_pickle_ops(ops, rng, strings)
    members[i] = (name, encode_pickle(ops) + data[end:])
    return members, "tar %r: %s" % (name, d)


# ---------------------------------------------------------------------------------------------- bytes

def mutate_bytes(data, rng):
    b = bytearray(data)
    kind = rng.randrange(5)
    if not b:
        return bytes([rng.randrange(256)]), "one byte"
    i = rng.randrange(len(b))
    if kind == 0:
        b[i] ^= 1 << rng.randrange(8)
        return bytes(b), "bit flip at %d" % i
    if kind == 1:
        b[i] = rng.choice([0, 0xFF, 0x7F, 0x80, ord("."), ord("q")])
        return bytes(b), "byte at %d" % i
    if kind == 2:
        return bytes(b[:i]), "truncate at %d" % i
    if kind == 3:
        j = min(len(b), i + rng.randrange(1, 64))
        return bytes(b[:j] + b[i:j] + b[j:]), "duplicate %d..%d" % (i, j)
    return bytes(b) + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16))), "append bytes"
