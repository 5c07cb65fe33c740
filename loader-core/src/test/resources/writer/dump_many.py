#!/usr/bin/python3
"""Loads many files with real PyTorch in one interpreter and prints each one's canonical dump.

Usage:  /usr/bin/python3 dump_many.py PATH/TO/dump_checkpoint.py FILE [FILE ...]

For each FILE, one line of JSON: {"file": FILE, "ok": true, "dump": DUMP} with DUMP exactly what
`dump_checkpoint.py FILE` prints (torch.load(FILE, map_location="cpu"), a full load: trusted files only), or
{"file": FILE, "ok": false, "error": "TypeError: ..."} when torch.load or the dump raises.
"""
import importlib.util
import json
import sys


def main(argv):
    spec = importlib.util.spec_from_file_location("dump_checkpoint", argv[1])
    dc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dc)
    for path in argv[2:]:
        try:
            text = dc.to_json(dc.dump(dc.load(path)))
            line = '{"file": %s, "ok": true, "dump": %s}' % (json.dumps(path), text.strip().replace("\n", " "))
        except Exception as e:  # reported, not hidden: the Java test decides what is expected
            line = json.dumps({"file": path, "ok": False, "error": "%s: %s" % (type(e).__name__, e)})
        sys.stdout.buffer.write((line + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
