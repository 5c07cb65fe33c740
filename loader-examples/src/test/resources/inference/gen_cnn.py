#!/usr/bin/python3
"""Trains the small CNN of the CnnInference and WeightsService examples, with real PyTorch (1.13).

    cd loader-examples/src/test/resources/inference
    /usr/bin/python3 gen_cnn.py

The task is synthetic and tiny on purpose: 8x8 single-channel images holding one noisy stroke, to be
classified as horizontal (0), vertical (1) or diagonal (2). The network is

    conv  Conv2d(1, 4, 3)   8x8 -> 4x6x6
    relu1 ReLU
    pool  MaxPool2d(2)      -> 4x3x3
    flatten                 -> 36
    fc1   Linear(36, 16)
    relu2 ReLU
    fc2   Linear(16, 3)     -> logits

written as an nn.Sequential of named layers, so that the state dict keys read conv.weight, fc1.bias, ...
This writes

    cnn.pt            torch.save(model.state_dict()): what the Java examples load
    cnn_reference.pt  {'inputs': float32 [16, 1, 8, 8], 'logits': float32 [16, 3] (PyTorch's outputs in eval
                      mode), 'classes': int64 [16] (argmax of the logits), 'labels': int64 [16] (the truth)}

Both are weights-only checkpoints (a dict of tensors), so the Java tests read the reference with the
library under test too. Everything is seeded and single-threaded: running this again rewrites the same
values.
"""
import collections
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
SIDE = 8
CLASSES = 3
MAX_FILE_BYTES = 100 * 1024
EPOCHS = 8


def model():
    return nn.Sequential(collections.OrderedDict([
        ("conv", nn.Conv2d(1, 4, 3)),
        ("relu1", nn.ReLU()),
        ("pool", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(36, 16)),
        ("relu2", nn.ReLU()),
        ("fc2", nn.Linear(16, CLASSES)),
    ]))


def strokes(n, generator, balanced=False):
    """n images of one stroke each, with Gaussian noise, and their labels (cycling 0, 1, 2 if balanced)."""
    images = torch.randn(n, 1, SIDE, SIDE, generator=generator) * 0.15
    labels = torch.arange(n) % CLASSES if balanced else torch.randint(0, CLASSES, (n,), generator=generator)
    for i in range(n):
        at = int(torch.randint(1, SIDE - 1, (1,), generator=generator))
        if labels[i] == 0:
            images[i, 0, at, :] += 1.0
        elif labels[i] == 1:
            images[i, 0, :, at] += 1.0
        else:
            cells = torch.arange(SIDE)
            anti = bool(torch.randint(0, 2, (1,), generator=generator))
            images[i, 0, cells, SIDE - 1 - cells if anti else cells] += 1.0
    return images, labels


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(7)
    train_x, train_y = strokes(300, generator)
    net = model()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        net.train()
        for start in range(0, len(train_x), 50):
            optimizer.zero_grad()
            loss = loss_fn(net(train_x[start:start + 50]), train_y[start:start + 50])
            loss.backward()
            optimizer.step()
    net.eval()
    test_x, test_y = strokes(16, generator, balanced=True)
    with torch.no_grad():
        logits = net(test_x)
    classes = logits.argmax(dim=1)
    accuracy = (classes == test_y).float().mean().item()
    print(f"last training loss {loss.item():.4f}, reference accuracy {accuracy:.3f}")
    if accuracy < 0.9:
        sys.exit(f"the network did not learn the task (accuracy {accuracy})")

    state = net.state_dict()
    torch.save(state, os.path.join(HERE, "cnn.pt"))
    torch.save({"inputs": test_x.contiguous(), "logits": logits.contiguous(), "classes": classes,
                "labels": test_y}, os.path.join(HERE, "cnn_reference.pt"))
    for name in ("cnn.pt", "cnn_reference.pt"):
        size = os.path.getsize(os.path.join(HERE, name))
        print(f"{name}: {size} bytes")
        if size > MAX_FILE_BYTES:
            sys.exit(f"{name} is larger than {MAX_FILE_BYTES} bytes")
    for key, value in state.items():
        print(f"  {key} {tuple(value.shape)}")


if __name__ == "__main__":
    main()
