#!/usr/bin/env python3
"""Writes the seed corpus of the Jazzer targets in dev.weightsonly.fuzz.LoaderFuzzTest (one folder per target,
LoaderFuzzTestInputs/<target>/, Jazzer's convention) from committed fixtures: real checkpoints of each container,
the pickles inside them, and hostile files of the adversarial corpus. Every build replays these seeds; inputs
that fuzzing found failing are added to the folders by hand (name them crash-<what>) and stay.
Python standard library only. Run from anywhere: python3 gen_fuzz_seeds.py
"""
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FIX = os.path.join(RES, "fixtures")
ADV = os.path.join(RES, "adversarial")
OUT = os.path.join(HERE, "LoaderFuzzTestInputs")

# Seeds stay small: fuzzing mutates them thousands of times a second.
MAX_SEED = 12 * 1024


def read(path):
    with open(path, "rb") as f:
        return f.read()


def pickle_of(path, record="data.pkl"):
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith("/" + record):
                return z.read(name)
    raise SystemExit("no %s in %s" % (record, path))


SEEDS = {
    "unpickler": {},
    "checkpoint": {},
    "legacyAndTar": {},
    "scanner": {},
}
for f in ["sd_linear", "views", "proto0", "proto1", "proto3", "proto4", "proto5_bytearray", "python_values", "sparse",
          "quantized", "shared_refs", "conj_neg_meta", "frozenset_value", "fairseq_dictionary", "empty_bytes"]:
    SEEDS["unpickler"][f + ".pkl"] = pickle_of(os.path.join(FIX, f + ".pt"))
for f in ["A03_stack_global_exec", "A06c_newobj_ex_ordereddict", "B03a_setitems_on_tensor", "B12_sparse_index_outside",
          "B14_qtensor_bad_axis", "C08c_memo_laughs_ordereddict", "D14c_v3_reinterpret", "D22c_transposed",
          "E10_ADDITEMS", "E10_MEMOIZE", "F02_dangerous_looking_data", "F04d_protocol4"]:
    SEEDS["unpickler"][f + ".pkl"] = pickle_of(os.path.join(ADV, f + ".pt"))
for f in ["sd_linear", "views", "proto4", "conj_neg_meta", "sparse", "quantized", "python_values"]:
    SEEDS["checkpoint"][f + ".pt"] = read(os.path.join(FIX, f + ".pt"))
SEEDS["checkpoint"]["ts_module.pt"] = read(os.path.join(FIX, "torchscript", "ts_module.pt"))
for f in ["D22a_tied_views", "D18_626967", "E24_deflate", "F04a_torch_like_zip", "F04e_rezipped_deflated",
          "C13b_entry_inside_another", "B01_torchscript_archive", "B12_sparse_index_outside",
          "E27_align_zero", "D12a_record_shorter"]:
    SEEDS["checkpoint"][f + ".pt"] = read(os.path.join(ADV, f + ".pt"))
for f in ["legacy_state_dict", "legacy_views", "legacy_train_checkpoint"]:
    SEEDS["legacyAndTar"][f + ".pt"] = read(os.path.join(FIX, f + ".pt"))
SEEDS["legacyAndTar"]["tar_checkpoint.pt"] = read(os.path.join(FIX, "tar", "tar_checkpoint.pt"))
for f in ["F04b_legacy_stream", "F04c_tar", "D21a_legacy_view_beyond_root", "D24b_tar_view_past_end",
          "B02b_tar_module_pid"]:
    SEEDS["legacyAndTar"][f + ".pt"] = read(os.path.join(ADV, f + ".pt"))
for f in ["posix_system", "stack_global_exec", "computed_stack_global", "extension_code", "inst_exec",
          "broken_after_payload"]:
    SEEDS["scanner"][f + ".pt"] = read(os.path.join(FIX, "malicious", f + ".pt"))
for f in ["sd_linear", "proto4", "legacy_state_dict"]:
    SEEDS["scanner"][f + ".pt"] = read(os.path.join(FIX, f + ".pt"))
for f in ["F04c_tar", "E06a_second_pickle", "E04c_decoy_pkl", "A05b_obj_pop_smtp", "A17_injected_mid_stream"]:
    SEEDS["scanner"][f + ".pt"] = read(os.path.join(ADV, f + ".pt"))
SEEDS["scanner"]["bare_pickle.pkl"] = pickle_of(os.path.join(ADV, "A09_computed_names.pt"))


def main():
    total = 0
    for target, seeds in SEEDS.items():
        folder = os.path.join(OUT, target)
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if not name.startswith("crash-") and name not in seeds:
                os.remove(os.path.join(folder, name))
        for name, data in seeds.items():
            assert len(data) <= MAX_SEED, (target, name, len(data))
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
            total += 1
    print("%d seeds" % total)


if __name__ == "__main__":
    main()
