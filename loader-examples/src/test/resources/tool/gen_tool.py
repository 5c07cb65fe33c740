"""Writes the fixtures of the tool's hostile-input tests (run with PyTorch 2.6 from this folder:
../shared/tools/torch26 python3 gen_tool.py). Every file is small and legal: torch.load(weights_only=True)
loads each one except hostile_global.pt, which names os.system."""
import io
import zipfile

import torch

# Class 7: an expanded view of 10**12 elements over one 4-byte storage (a few hundred bytes on disk).
torch.save({"x": torch.zeros(1).expand(10**6, 10**6)}, "expanded_zeros.pt")
torch.save({"x": torch.ones(1).expand(10**6, 10**6)}, "expanded_ones.pt")
# The same geometry but materialised along one dimension: compared with the above, only a walk would tell.
torch.save({"x": torch.zeros(10**3).unsqueeze(0).expand(10**9, 10**3)}, "expanded_rows.pt")

# Class 8: a bare storage as the root, in both formats; and a storage beside a view of it.
torch.save(torch.FloatStorage([1.5, 2.0, 3.0]), "storage_legacy.pt", _use_new_zipfile_serialization=False)
torch.save(torch.FloatStorage([1.5, 2.0, 3.0]), "storage_zip.pt")
t = torch.tensor([1.0, 2.0, 3.0, 4.0])
torch.save({"s": t.storage(), "t": t[1:]}, "storage_and_view.pt", _use_new_zipfile_serialization=False)

# Class 11: names that are terminal control sequences.
names = {
    "clear\x1b[2J\x1b[H": torch.ones(2),
    "title\x1b]0;pwned\x07": torch.ones(3),
    "up\x1b[1A\x1b[2K\rallowed": torch.ones(4),
    "cr\rforged": torch.ones(5),
    "bidi\u202eoverride\u2066": torch.ones(6),
    "c1\u009b2J": torch.ones(7),
}
torch.save(names, "escape_names.pt")
torch.save({k: v + 1 for k, v in names.items()}, "escape_names_changed.pt")


def zip_checkpoint(path, pickle_bytes, extra=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/version", "3\n")
        for name, data in extra:
            z.writestr(name, data)


# A global whose name moves the cursor up and rewrites the line before it as "allowed".
zip_checkpoint("escape_global.pt",
               b"\x80\x02cos\nsystem\x1b[1A\x1b[2K\r  allowed  collections.OrderedDict\nq\x00)\x85R.")

# Class 15: sparse tensors that differ only in their values, or in their indices; CSR too.
i = torch.tensor([[0, 1, 2], [2, 0, 1]])
torch.save({"d": torch.ones(2), "s": torch.sparse_coo_tensor(i, torch.tensor([1.0, 2.0, 3.0]), (3, 3))},
           "sparse_a.pt")
torch.save({"d": torch.ones(2), "s": torch.sparse_coo_tensor(i, torch.tensor([1.0, 2.5, 3.0]), (3, 3))},
           "sparse_b.pt")
torch.save({"d": torch.ones(2), "s": torch.sparse_coo_tensor(i.flip(1), torch.tensor([1.0, 2.0, 3.0]), (3, 3))},
           "sparse_indices.pt")
csr = torch.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse_csr()
torch.save({"c": csr}, "sparse_csr.pt")

# Class 7: two views of 2**32 elements over 511 stored values each, repeating along different dimensions:
# no dimension repeats in both, so comparing them means reading every element.
torch.save({"x": torch.zeros(511).as_strided((256, 256, 256, 256), (0, 1, 0, 1))}, "strided_a.pt")
torch.save({"x": torch.zeros(511).as_strided((256, 256, 256, 256), (1, 0, 1, 0))}, "strided_b.pt")
