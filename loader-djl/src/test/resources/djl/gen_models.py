"""Writes the DJL end-to-end fixtures with real PyTorch (2.6, the project's referee):

    tools/torch26 python3 gen_models.py        (from this folder)

- resnet.pt        state dict of SmallResNet (conv stem + BN, one residual block with two conv+BN, linear head),
                   after a few train-mode forward passes so BN running statistics are not trivial
- resnet_io.pt     {'input': float32 (2,3,8,8), 'output': float32 (2,10)}: the model's eval-mode output
- resnet_ts.pt     the same model as a TorchScript archive (torch.jit.script)
- encoder.pt       state dict of nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32,
                   dropout=0, batch_first=True), weights randomised
- encoder_io.pt    {'input': float32 (2,5,16), 'output': float32 (2,5,16)} in eval mode
- dtypes.pt        one small tensor per dtype DJL has; complex64.pt, float8_e4m3fn.pt, quint8.pt, uint64.pt: ones refused
- views.pt         views over one storage: contiguous slices, a transpose, an expansion, a negative-bit view
All files are written by torch.save (zip format, default protocol); outputs are computed in float32 on CPU.
"""
import torch
import torch.nn as nn

torch.manual_seed(20261206)


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(x + y)


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.layer1 = nn.Sequential(Residual(8))
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.layer1(self.stem(x))
        x = x.mean(dim=(2, 3))
        return self.fc(x)


resnet = SmallResNet()
resnet.train()
with torch.no_grad():
    for _ in range(3):
        resnet(torch.randn(4, 3, 8, 8) * 2 + 0.5)
resnet.eval()
x = torch.randn(2, 3, 8, 8)
with torch.no_grad():
    y = resnet(x)
torch.save(resnet.state_dict(), "resnet.pt")
torch.save({"input": x, "output": y}, "resnet_io.pt")
torch.jit.script(resnet).save("resnet_ts.pt")

enc = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True)
with torch.no_grad():
    for p in enc.parameters():
        p.copy_(torch.randn_like(p) * 0.3)
enc.eval()
xe = torch.randn(2, 5, 16)
with torch.no_grad():
    ye = enc(xe)
torch.save(enc.state_dict(), "encoder.pt")
torch.save({"input": xe, "output": ye}, "encoder_io.pt")

base = torch.tensor([[0, 1, 2], [3, 4, 5]])
dtypes = {}
for dt in [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int8, torch.uint8, torch.int16,
           torch.int32, torch.int64, torch.bool, torch.uint16, torch.uint32]:
    dtypes[str(dt).replace("torch.", "")] = (base % 2 == 1) if dt == torch.bool else base.to(dt) * 3 - 1 if dt.is_signed else base.to(dt) * 3
torch.save(dtypes, "dtypes.pt")
# dtypes DJL has no data type for, one file each: each must be refused by name
torch.save({"w": base.to(torch.complex64)}, "complex64.pt")
torch.save({"w": base.to(torch.uint64)}, "uint64.pt")
torch.save({"w": base.to(torch.float8_e4m3fn)}, "float8_e4m3fn.pt")
torch.save({"w": torch.quantize_per_tensor(base.float(), 0.5, 1, torch.quint8)}, "quint8.pt")
# views: contiguous slices share the mapping; a transpose, a stride-0 expansion and a lazily negated view are copied
storage = torch.arange(12, dtype=torch.float32)
views = {"whole": storage, "rows": storage[4:12].view(2, 4), "transposed": storage[:6].view(2, 3).t(),
         "expanded": storage[:3].expand(2, 3), "negated": torch.tensor([1.0, -2.0])._neg_view()}
torch.save(views, "views.pt")
print("written with PyTorch", torch.__version__)
