#!/usr/bin/python3
"""The vae_cnn model in PyTorch, with a loader for the C++ tool's weights files.

The layers and tensor names are those of the C++ ConvVae (docs/DESIGN.md), so the `state_dict` inside a
`vae_cnn.<data set>.pt` file loads into `ConvVae` unchanged:

    from vae_cnn_model import load_weights
    model, meta = load_weights("vae_cnn_weights/vae_cnn.mnist.pt")
    z_mean, z_log_var = model.encoder(images)          # images: [N,C,H,W] in [0,1], C,H,W = meta["image_shape"]

The layers are sized from the image shape as the seed's recipe does (two stride-2 convolutions, Dense(16),
the latent; the decoder mirrors it into C channels): 134,165 parameters at the default 1×28×28.

Run as a script it encodes a split like `vae_cnn encode` (used by the test suite to check that
Python and C++ agree):

    /usr/bin/python3 scripts/vae_cnn_model.py encode WEIGHTS DATA_DIR [--split test|train]
"""
import argparse
import importlib
import gzip
import os
import struct
import sys

import torch
from torch import nn
from torch.nn import functional as F


class Encoder(nn.Module):
    def __init__(self, latent_dim=2, image_shape=(1, 28, 28)):
        super().__init__()
        channels, height, width = image_shape
        self.conv1 = nn.Conv2d(channels, 32, 3, stride=2, padding=1)  # 32x14x14 for 1x28x28
        self.conv2 = nn.Conv2d(32, 64, 3, stride=2, padding=1)        # 64x7x7
        self.fc = nn.Linear(64 * (height // 4) * (width // 4), 16)
        self.z_mean = nn.Linear(16, latent_dim)
        self.z_log_var = nn.Linear(16, latent_dim)

    def forward(self, x):
        h = F.relu(self.fc(F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(1)))
        return self.z_mean(h), self.z_log_var(h)


class Decoder(nn.Module):
    def __init__(self, latent_dim=2, image_shape=(1, 28, 28)):
        super().__init__()
        channels, height, width = image_shape
        self.feature_shape = (64, height // 4, width // 4)
        self.fc = nn.Linear(latent_dim, 64 * (height // 4) * (width // 4))
        self.deconv1 = nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1)  # 64x14x14
        self.deconv2 = nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1)  # 32x28x28
        self.deconv3 = nn.ConvTranspose2d(32, channels, 3, stride=1, padding=1)              # 1x28x28

    def forward(self, z):
        """Logits of the pixels; torch.sigmoid gives the image."""
        h = F.relu(self.fc(z)).view(-1, *self.feature_shape)
        return self.deconv3(F.relu(self.deconv2(F.relu(self.deconv1(h)))))


def keras_init_(model):
    """Keras' initialisation, as `vae_cnn train --init keras` does it: glorot_uniform kernels (for
    Dense, Conv2D and Conv2DTranspose Keras' fans sum to what xavier_uniform_ computes from PyTorch's
    weight layouts) and zero biases, in parameter order so that a seed gives the C++ tool's weights."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith(".bias"):
                nn.init.zeros_(parameter)
            else:
                nn.init.xavier_uniform_(parameter)
    return model


class ConvVae(nn.Module):
    def __init__(self, latent_dim=2, image_shape=(1, 28, 28)):
        super().__init__()
        self.encoder = Encoder(latent_dim, image_shape)
        self.decoder = Decoder(latent_dim, image_shape)

    def forward(self, x):
        z_mean, z_log_var = self.encoder(x)
        z = z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)
        return torch.sigmoid(self.decoder(z)), z_mean, z_log_var, z


def load_weights(path):
    """Returns (model in eval mode, metadata dict) from a vae_cnn weights file."""
    # vae_cnn writes its dicts with LibTorch's pickler, which rebuilds typed lists and tags typed
    # containers through the small helpers of torch.jit._pickle; PyTorch 2.6 on loads with
    # weights_only=True, so those helpers are allowed by name (1.13 has no such switch, needs none).
    if hasattr(torch.serialization, "safe_globals"):
        helpers = importlib.import_module("torch.jit._pickle")
        allowed = [getattr(helpers, name) for name in dir(helpers)
                   if name == "restore_type_tag" or name.startswith("build_")]
        with torch.serialization.safe_globals(allowed):
            data = torch.load(path, map_location="cpu", weights_only=True)
    else:
        data = torch.load(path, map_location="cpu")
    if not isinstance(data, dict) or data.get("format") != "vae_cnn.weights":
        raise ValueError(f"{path}: not a vae_cnn weights file")
    model = ConvVae(data["latent_dim"], tuple(data.get("image_shape", (1, 28, 28))))
    model.load_state_dict(data["state_dict"])
    model.eval()
    return model, {k: v for k, v in data.items() if k != "state_dict"}


def read_idx(path, magic):
    """A strict-enough IDX reader for this script's own use (the C++ reader is the strict one)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    found, = struct.unpack(">I", raw[:4])
    if found != magic:
        raise ValueError(f"{path}: bad magic {found:#010x}")
    dims = struct.unpack(">" + "I" * (magic & 0xFF), raw[4:4 + 4 * (magic & 0xFF)])
    return torch.frombuffer(bytearray(raw[4 + 4 * len(dims):]), dtype=torch.uint8).view(*dims)


def find_idx(directory, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    raise FileNotFoundError(os.path.join(directory, stem))


def csv_field(text):
    """A field as RFC 4180 writes it, as `vae_cnn encode` does."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def encode(weights, data_dir, split):
    model, meta = load_weights(weights)
    names = [csv_field(name) for name in meta.get("class_names", [str(d) for d in range(10)])]
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(find_idx(data_dir, prefix + "-images-idx3-ubyte"), 0x803).float().div(255).unsqueeze(1)
    labels = read_idx(find_idx(data_dir, prefix + "-labels-idx1-ubyte"), 0x801)
    with torch.no_grad():
        z_mean, z_log_var = model.encoder(images)
    latent = z_mean.shape[1]
    out = ["index,label,class," + ",".join([f"z_mean_{d}" for d in range(latent)] +
                                     [f"z_log_var_{d}" for d in range(latent)])]
    for i in range(len(labels)):
        values = [f"{v:.9g}" for v in z_mean[i].tolist() + z_log_var[i].tolist()]
        label = int(labels[i])
        out.append(f"{i},{label},{names[label] if 0 <= label < len(names) else ''}," + ",".join(values))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    enc = sub.add_parser("encode", help="latent means and log-variances of a split as CSV")
    enc.add_argument("weights")
    enc.add_argument("data_dir")
    enc.add_argument("--split", choices=["test", "train"], default="test")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sys.stdout.write(encode(args.weights, args.data_dir, args.split))


if __name__ == "__main__":
    main()
