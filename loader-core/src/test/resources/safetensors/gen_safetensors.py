#!/usr/bin/env python3
"""Safetensors files written to the format's definition with the standard library only (the `safetensors`
package is not installed here), and a strict validator of safetensors files.

  python3 gen_safetensors.py            writes the cases below as *.safetensors and index.json beside this file
  python3 gen_safetensors.py validate F [F ...]
                                        checks each file against the format and against how the reference
                                        writer lays files out; prints one JSON object per file on a line:
                                        {"file", "ok", "error"?, "tensors": [{"name", "dtype", "shape",
                                        "sha256"}], "metadata"}

The reference implementation is huggingface/safetensors (tensor.rs, SafeTensors::read_metadata): every case
in index.json records what it does with the file ("expect": "ok" or "error" with the name of its error) and,
where weightsonly deliberately differs, why ("java"). The validator is independent of the Java reader.
"""
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# code -> (bits, alignment rank = the reference's declaration order)
DTYPES = {
    "BOOL": (8, 0), "F4": (4, 1), "F6_E2M3": (6, 2), "F6_E3M2": (6, 3), "U8": (8, 4), "I8": (8, 5),
    "F8_E5M2": (8, 6), "F8_E4M3": (8, 7), "F8_E8M0": (8, 8), "F8_E4M3FNUZ": (8, 9), "F8_E5M2FNUZ": (8, 10),
    "I16": (16, 11), "U16": (16, 12), "F16": (16, 13), "BF16": (16, 14), "I32": (32, 15), "U32": (32, 16),
    "F32": (32, 17), "C64": (64, 18), "F64": (64, 19), "I64": (64, 20), "U64": (64, 21),
}
MAX_HEADER = 100_000_000
U64_MAX = 2 ** 64 - 1


# ---- writing ------------------------------------------------------------------------------------------

def header_json(entries, metadata=None, order=None):
    """entries: list of (name, dtype, shape, data bytes). Offsets in the order given; header keys in `order`."""
    info = {}
    offset = 0
    for name, dtype, shape, data in entries:
        info[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    obj = {}
    if metadata is not None:
        obj["__metadata__"] = metadata
    for name in (order or [e[0] for e in entries]):
        obj[name] = info[name]
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def pad8(text_bytes, fill=b" "):
    return text_bytes + fill * ((8 - len(text_bytes) % 8) % 8)


def assemble(header_bytes, data, declared=None):
    n = len(header_bytes) if declared is None else declared
    return struct.pack("<Q", n) + header_bytes + data


def file_of(entries, metadata=None, order=None):
    h = pad8(header_json(entries, metadata, order).encode())
    return assemble(h, b"".join(e[3] for e in entries))


def raw(text):
    """A header given as text (padded), no data."""
    return assemble(pad8(text.encode()), b"")


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def i64(*v):
    return struct.pack("<%dq" % len(v), *v)


def cases():
    c = []

    def ok(name, data, tensors, metadata=None, note=""):
        c.append({"name": name, "bytes": data, "expect": "ok", "tensors": tensors, "metadata": metadata or {},
                  "note": note})

    def err(name, data, error, tensor=None, note="", java=None):
        d = {"name": name, "bytes": data, "expect": "error", "error": error, "note": note}
        if tensor is not None:
            d["tensor"] = tensor
        if java is not None:
            d["java"] = java
        c.append(d)

    # -- files the reference reads -------------------------------------------------------------------
    basic = [
        ("weight", "F32", [2, 3], f32(1.0, -2.5, 3.25, 0.0, -0.0, 1e-3)),
        ("bias", "F32", [3], f32(0.5, 0.25, -1.0)),
        ("step", "I64", [], i64(7)),
        ("mask", "BOOL", [4], bytes([1, 0, 0, 1])),
        ("half", "F16", [2], struct.pack("<2e", 1.5, -2.0)),
        ("bf", "BF16", [2], bytes([0x80, 0x3F, 0x00, 0xC0])),  # 1.0, -2.0
        ("empty", "U8", [0, 5], b""),
    ]
    data = file_of(basic, {"format": "pt", "note": "written by gen_safetensors.py"})
    ok("basic", data, describe(basic), {"format": "pt", "note": "written by gen_safetensors.py"},
       "several dtypes, a scalar, an empty tensor, metadata")

    all_codes = []
    for code in ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16",
                 "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]:
        bits = DTYPES[code][0]
        n = 6
        payload = bytes((i * 37 + len(code) * 11) % 251 for i in range(n * bits // 8))
        if code == "BOOL":
            payload = bytes(i % 2 for i in range(n))
        all_codes.append(("t_" + code.lower(), code, [2, 3], payload))
    ok("all_dtypes", file_of(all_codes), describe(all_codes), None, "every code with a torch dtype")

    unordered = [("a", "F32", [1], f32(1.0)), ("b", "I64", [1], i64(2)), ("c", "U8", [3], b"xyz")]
    ok("header_order_differs", file_of(unordered, None, order=["c", "a", "b"]), describe(unordered), None,
       "header keys in another order than the data: readers sort by offsets")

    extra = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":{"nested":[1,2.5e-3,{"a":null}],"t":true}}}'
    ok("unknown_fields", assemble(pad8(extra.encode()), f32(2.0)),
       [{"name": "w", "dtype": "F32", "shape": [1], "hex": f32(2.0).hex()}], None,
       "serde ignores unknown fields of a tensor's info")

    spaced = ' \n\t{ "w" : { "shape" : [ 2 ] , "dtype" : "I64" , "data_offsets" : [ 0 , 16 ] } }\r\n'
    ok("whitespace", assemble(pad8(spaced.encode()), i64(1, -1)),
       [{"name": "w", "dtype": "I64", "shape": [2], "hex": i64(1, -1).hex()}], None, "JSON whitespace anywhere")

    ok("metadata_null", assemble(pad8(b'{"__metadata__":null,"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'),
                                 b"\x05"),
       [{"name": "x", "dtype": "U8", "shape": [1], "hex": "05"}], None, "__metadata__: null means none")

    ok("no_tensors", raw("{}"), [], None, "an empty header and no data")

    esc_name = "a\"b\\c\u00e9\U0001F600/\t"
    escaped = [(esc_name, "U8", [2], b"\x01\x02")]
    h = json.dumps({esc_name: {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}, ensure_ascii=True)
    ok("escaped_name", assemble(pad8(h.encode()), b"\x01\x02"), describe(escaped), None,
       "a name with escapes and a surrogate pair written as \\u escapes")

    two_empty = [("e1", "F32", [0], b""), ("e2", "I64", [2, 0], b""), ("x", "U8", [1], b"\x09")]
    ok("empty_tensors_share_offset", file_of(two_empty), describe(two_empty), None,
       "empty tensors at one offset tile the data (their spans are empty)")

    deep_ok = '{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":' + "[" * 125 + "]" * 125 + "}}"
    ok("nesting_127", assemble(pad8(deep_ok.encode()), b"\x01"),
       [{"name": "w", "dtype": "U8", "shape": [1], "hex": "01"}], None,
       "127 nested containers: serde_json's recursion limit (128) allows it")

    # -- files the reference refuses -----------------------------------------------------------------
    err("too_small", b"\x01\x00\x00\x00\x00", "HeaderTooSmall", note="fewer than 8 bytes")
    err("header_too_large", struct.pack("<Q", MAX_HEADER + 1) + b"{}" + b" " * 6, "HeaderTooLarge")
    err("header_length_huge", struct.pack("<Q", 2 ** 63 + 5) + b"{}      ", "HeaderTooLarge",
        note="a header length with the top bit set")
    err("header_past_end", struct.pack("<Q", 1000) + b"{}      ", "InvalidHeaderLength")
    err("not_utf8", assemble(pad8(b'{"w\xff":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'), b"\x00"),
        "InvalidHeader")
    err("overlong_utf8", assemble(pad8(b'{"w\xc0\xaf":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'), b"\x00"),
        "InvalidHeader", note="an overlong encoding of '/'")
    err("bad_json_truncated", assemble(pad8(b'{"w":{"dtype":"U8","shape":[1],'), b""),
        "InvalidHeaderDeserialization")
    err("bad_json_trailing_comma", assemble(pad8(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},}'), b"\x00"),
        "InvalidHeaderDeserialization")
    err("nul_padding", assemble(pad8(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x00"), b"\x00"),
        "InvalidHeaderDeserialization", note="padding must be spaces: NUL bytes are trailing characters")
    err("trailing_garbage_in_header",
        assemble(pad8(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}} x'), b"\x00"),
        "InvalidHeaderDeserialization")
    err("header_not_object", raw("[]"), "InvalidHeaderDeserialization")
    err("unknown_dtype", assemble(pad8(b'{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}'), b"\x00" * 16),
        "InvalidHeaderDeserialization", "w")
    err("dtype_wrong_case", assemble(pad8(b'{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}'), b"\x00" * 4),
        "InvalidHeaderDeserialization", "w")
    err("negative_shape", assemble(pad8(b'{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}'), b""),
        "InvalidHeaderDeserialization", "w")
    err("float_shape", assemble(pad8(b'{"w":{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}}'), b"\x00\x00"),
        "InvalidHeaderDeserialization", "w")
    err("leading_zero", assemble(pad8(b'{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,02]}}'), b"\x00\x00"),
        "InvalidHeaderDeserialization", "w")
    err("offset_above_u64", assemble(pad8(b'{"w":{"dtype":"U8","shape":[0],"data_offsets":[0,18446744073709551616]}}'),
                                     b""), "InvalidHeaderDeserialization", "w")
    err("missing_offsets", assemble(pad8(b'{"w":{"dtype":"U8","shape":[1]}}'), b"\x00"),
        "InvalidHeaderDeserialization", "w")
    err("three_offsets", assemble(pad8(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}}'), b"\x00"),
        "InvalidHeaderDeserialization", "w")
    err("duplicate_field", assemble(pad8(b'{"w":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}'),
                                    b"\x00"), "InvalidHeaderDeserialization", "w", note="serde refuses a repeated field")
    err("metadata_int_value", assemble(pad8(b'{"__metadata__":{"a":1}}'), b""), "InvalidHeaderDeserialization")
    err("metadata_nested", assemble(pad8(b'{"__metadata__":{"a":{"b":"c"}}}'), b""), "InvalidHeaderDeserialization")
    err("metadata_list", assemble(pad8(b'{"__metadata__":["a","b"]}'), b""), "InvalidHeaderDeserialization")
    err("lone_surrogate_escape", assemble(pad8(b'{"w\\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'),
                                          b"\x00"), "InvalidHeaderDeserialization")
    err("control_char_in_name", assemble(pad8(b'{"w\n":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'), b"\x00"),
        "InvalidHeaderDeserialization")
    err("nan_literal", assemble(pad8(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":NaN}}'), b"\x00"),
        "InvalidHeaderDeserialization")
    deep = '{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":' + "[" * 126 + "]" * 126 + "}}"
    err("nesting_128", assemble(pad8(deep.encode()), b"\x01"), "InvalidHeaderDeserialization",
        note="128 nested containers exceed serde_json's recursion limit")

    overlap = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}'
    err("overlapping_offsets", assemble(pad8(overlap.encode()), b"\x00" * 12), "InvalidOffset", "b")
    same = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    err("same_offsets", assemble(pad8(same.encode()), b"\x00" * 8), "InvalidOffset", None,
        note="two tensors over the same bytes; which name the reference reports depends on its hash map")
    gap = '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}'
    err("gap", assemble(pad8(gap.encode()), b"\x00" * 6), "InvalidOffset", "b")
    late = '{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}'
    err("not_from_zero", assemble(pad8(late.encode()), b"\x00" * 4), "InvalidOffset", "a")
    backwards = '{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},' \
                '"c":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}'
    err("end_before_begin", assemble(pad8(backwards.encode()), b"\x00"), "InvalidOffset", "c")
    mismatch = '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}'
    err("shape_offsets_mismatch", assemble(pad8(mismatch.encode()), b"\x00" * 12), "TensorInvalidInfo", "w")
    overflow = '{"w":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}}'
    err("element_count_overflow", assemble(pad8(overflow.encode()), b""), "ValidationOverflow", "w")
    fold = '{"w":{"dtype":"U8","shape":[8589934592,8589934592,0],"data_offsets":[0,0]}}'
    err("overflow_before_zero", assemble(pad8(fold.encode()), b""), "ValidationOverflow", "w",
        note="the reference multiplies left to right with checks, so it overflows before it reaches the 0")
    bits = '{"w":{"dtype":"U64","shape":[2305843009213693952],"data_offsets":[0,0]}}'
    err("bit_count_overflow", assemble(pad8(bits.encode()), b""), "ValidationOverflow", "w")
    odd = '{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}'
    err("f4_half_byte", assemble(pad8(odd.encode()), b"\x00"), "MisalignedSlice", "w")
    trailing = file_of([("w", "U8", [2], b"\x01\x02")]) + b"\x00\x00\x00"
    err("trailing_bytes", trailing, "MetadataIncompleteBuffer")
    short = file_of([("w", "F32", [2], f32(1.0, 2.0))])[:-3]
    err("truncated_data", short, "MetadataIncompleteBuffer")

    # -- valid for the reference; weightsonly refuses on purpose (see "java") ------------------------------
    dup = '{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
    err("duplicate_tensor_name", assemble(pad8(dup.encode()), b"\x00"), "accepted (serde keeps the last)", "w",
        java={"refusal": "malformed", "message": "duplicate key 'w'",
             "why": "two readers could see different tensors"})
    dupm = '{"__metadata__":{"k":"a","k":"b"}}'
    err("duplicate_metadata_key", assemble(pad8(dupm.encode()), b""), "accepted (serde keeps the last)",
        java={"refusal": "malformed", "message": "duplicate key 'k'", "why": "as for tensor names"})
    f4 = '{"w":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}'
    err("f4", assemble(pad8(f4.encode()), b"\x12\x34"), "accepted", "w",
        java={"refusal": "unsupported", "message": "dtype F4",
             "why": "no torch dtype matches F4 value for value (float4_e2m1fn_x2 counts packed pairs)"})
    f6 = '{"w":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}'
    err("f6", assemble(pad8(f6.encode()), b"\x00\x00\x00"), "accepted", "w", java={"refusal": "unsupported", "message": "dtype F6_E2M3", "why": "no torch dtype"})
    huge_dim = '{"w":{"dtype":"U8","shape":[0,18446744073709551615],"data_offsets":[0,0]}}'
    err("dimension_above_2_63", assemble(pad8(huge_dim.encode()), b""), "accepted", "w",
        java={"refusal": "unsupported", "message": "2^63 or more", "why": "Java sizes are longs"})
    positional = '{"w":["U8",[1],[0,1]]}'
    err("tensor_info_as_array", assemble(pad8(positional.encode()), b"\x07"), "accepted (serde structs read sequences)",
        "w", java={"refusal": "malformed", "message": "must be an object",
             "why": "no writer produces the positional form; strict readers should not guess"})
    return c


def describe(entries):
    return [{"name": n, "dtype": d, "shape": s, "hex": b.hex()} for n, d, s, b in entries]


def generate():
    index = []
    for case in cases():
        path = case["name"] + ".safetensors"
        with open(os.path.join(HERE, path), "wb") as f:
            f.write(case["bytes"])
        entry = {k: v for k, v in case.items() if k != "bytes"}
        entry["file"] = path
        # the validator must agree with every case it is not told to disagree with
        verdict = validate(case["bytes"], check_writer_layout=False)
        if case["expect"] == "ok":
            assert verdict["ok"], (case["name"], verdict)
        elif "java" not in entry:
            assert not verdict["ok"], (case["name"], verdict)
        index.append(entry)
    with open(os.path.join(HERE, "index.json"), "w") as f:
        json.dump({"generator": "gen_safetensors.py", "reference": "huggingface/safetensors tensor.rs",
                   "cases": index}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    lines = ["# Safetensors cases", "",
             "Written by `gen_safetensors.py` (Python standard library only; run it with `python3 gen_safetensors.py`",
             "in this folder). `index.json` says what the reference reader (huggingface/safetensors) does with each",
             "file, and where weightsonly deliberately differs, what it does instead and why. SafetensorsReaderTest",
             "reads every file; `gen_safetensors.py validate FILE...` is the independent validator the writer tests",
             "run on every file Java writes.", "",
             "| file | reference reader | weightsonly, where it differs | note |", "| --- | --- | --- | --- |"]
    for e in index:
        ref = "reads it" if e["expect"] == "ok" else e["error"]
        java = ""
        if "java" in e:
            java = "%s (%s): %s" % (e["java"]["refusal"], e["java"]["message"].replace("|", "\\|"), e["java"]["why"])
        lines.append("| `%s` | %s | %s | %s |" % (e["file"], ref, java, e.get("note", "")))
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---- validating -----------------------------------------------------------------------------------------

class Invalid(Exception):
    pass


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise Invalid("duplicate key %r" % k)
        out[k] = v
    return out


def _no_constants(name):
    raise Invalid("non-JSON constant " + name)


def _check_strings(value):
    if isinstance(value, str):
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            raise Invalid("lone surrogate in a string")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k)
            _check_strings(v)
    elif isinstance(value, list):
        for v in value:
            _check_strings(v)


def _depth(value):
    """Nested containers, counted iteratively (serde_json allows 127)."""
    deepest = 0
    todo = [(value, 1)]
    while todo:
        v, d = todo.pop()
        if isinstance(v, dict):
            deepest = max(deepest, d)
            todo.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            deepest = max(deepest, d)
            todo.extend((x, d + 1) for x in v)
    return deepest


def _usize(v, what):
    if type(v) is not int or v < 0 or v > U64_MAX:
        raise Invalid("%s must be a non-negative integer, got %r" % (what, v))
    return v


def validate(data, check_writer_layout=True):
    """Checks one file; with check_writer_layout also that it is laid out as the reference writer lays it out."""
    result = {"ok": False}
    try:
        if len(data) < 8:
            raise Invalid("HeaderTooSmall")
        n = struct.unpack("<Q", data[:8])[0]
        if n > MAX_HEADER:
            raise Invalid("HeaderTooLarge")
        if 8 + n > len(data):
            raise Invalid("InvalidHeaderLength")
        try:
            text = data[8:8 + n].decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise Invalid("InvalidHeader")
        try:
            header = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
        except ValueError as e:
            raise Invalid("InvalidHeaderDeserialization: %s" % e)
        _check_strings(header)
        if _depth(header) > 127:
            raise Invalid("InvalidHeaderDeserialization: containers nested more than 127 deep")
        if not isinstance(header, dict):
            raise Invalid("InvalidHeaderDeserialization: not an object")
        metadata = header.pop("__metadata__", None)
        if metadata is not None:
            if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
                raise Invalid("InvalidHeaderDeserialization: __metadata__ must map strings to strings")
        tensors = []
        for name, info in header.items():
            if not isinstance(info, dict):
                raise Invalid("InvalidHeaderDeserialization: %r is not an object" % name)
            for field in ("dtype", "shape", "data_offsets"):
                if field not in info:
                    raise Invalid("InvalidHeaderDeserialization: %r has no %s" % (name, field))
            if info["dtype"] not in DTYPES:
                raise Invalid("InvalidHeaderDeserialization: unknown dtype %r" % info["dtype"])
            if not isinstance(info["shape"], list) or not isinstance(info["data_offsets"], list) \
                    or len(info["data_offsets"]) != 2:
                raise Invalid("InvalidHeaderDeserialization: bad shape or data_offsets of %r" % name)
            shape = [_usize(d, "shape") for d in info["shape"]]
            begin, end = (_usize(o, "data_offsets") for o in info["data_offsets"])
            tensors.append((name, info["dtype"], shape, begin, end))
        start = 0
        for name, dtype, shape, begin, end in sorted(tensors, key=lambda t: (t[3], t[4])):
            if begin != start or end < begin:
                raise Invalid("InvalidOffset(%s)" % name)
            start = end
            count = 1
            for d in shape:
                count *= d
                if count > U64_MAX:
                    raise Invalid("ValidationOverflow")
            nbits = count * DTYPES[dtype][0]
            if nbits > U64_MAX:
                raise Invalid("ValidationOverflow")
            if nbits % 8:
                raise Invalid("MisalignedSlice")
            if end - begin != nbits // 8:
                raise Invalid("TensorInvalidInfo")
        if start + 8 + n != len(data):
            raise Invalid("MetadataIncompleteBuffer")
        if check_writer_layout:
            padding = len(text) - len(text.rstrip(" "))
            if n % 8 or padding >= 8 or not text.startswith("{") or not text.rstrip(" ").endswith("}"):
                raise Invalid("writer layout: the header must be compact JSON padded with fewer than 8 spaces"
                              " to a multiple of 8 bytes")
            by_offset = [t[0] for t in sorted(tensors, key=lambda t: (t[3], t[4]))]
            expected = [t[0] for t in sorted(tensors, key=lambda t: (-DTYPES[t[1]][1], t[0].encode("utf-8")))]
            if by_offset != expected:
                raise Invalid("writer layout: the data must be sorted by descending alignment, then name: %s"
                              % expected[:8])
            if [t[0] for t in tensors] != expected:
                raise Invalid("writer layout: header keys must follow the data order")
            if metadata is not None and list(json.loads(text)).index("__metadata__") != 0:
                raise Invalid("writer layout: __metadata__ comes first")
        base = 8 + n
        result["tensors"] = [{"name": name, "dtype": dtype, "shape": shape,
                              "sha256": hashlib.sha256(data[base + begin:base + end]).hexdigest()}
                             for name, dtype, shape, begin, end in sorted(tensors, key=lambda t: (t[3], t[4]))]
        result["metadata"] = metadata or {}
        result["ok"] = True
    except Invalid as e:
        result["error"] = str(e)
    return result


def main(argv):
    if len(argv) >= 2 and argv[1] == "validate":
        for path in argv[2:]:
            with open(path, "rb") as f:
                verdict = validate(f.read())
            verdict["file"] = path
            sys.stdout.write(json.dumps(verdict, ensure_ascii=False) + "\n")
        return 0
    if len(argv) == 1:
        generate()
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
