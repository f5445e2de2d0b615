#!/usr/bin/python3
"""Where one training step of the PyTorch reference goes, cut the way vae_cnn_step_profile cuts
vae_cnn's: the batch, each layer's forward pass, the loss, each layer's backward pass (where autograd
hands the layer's input its gradient), Adam. The same model, loss and batch as
scripts/reference_train.py; run it with the PyTorch to profile (today's: .venv-libtorch/bin/python).

    .venv-libtorch/bin/python scripts/step_profile.py [--data data/mnist-sample] [--threads 2] [--steps 60]
                                                      [--precision fp32|bf16]

Prints each phase's median in ms and its share, and a whole step without hooks beside them.
"""
import argparse
import os
import statistics
import sys
import time

import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_train import forward, vae_loss  # noqa: E402
from vae_cnn_model import ConvVae, find_idx, keras_init_, read_idx  # noqa: E402


class PhaseClock:
    def __init__(self):
        self.samples, self.last = {}, None

    def start(self):
        self.last = time.perf_counter()

    def mark(self, phase, now=None):
        now = time.perf_counter() if now is None else now
        self.samples.setdefault(phase, []).append(1000.0 * (now - self.last))
        self.last = now


def timed_forward(model, x, clock):
    """The reference's forward pass (vae_cnn_model.py), layer by layer."""
    encoder, decoder = model.encoder, model.decoder
    h1 = F.relu(encoder.conv1(x))
    clock.mark("forward conv1")
    h2 = F.relu(encoder.conv2(h1))
    clock.mark("forward conv2")
    units = F.relu(encoder.fc(h2.flatten(1)))
    z_mean, z_log_var = encoder.z_mean(units), encoder.z_log_var(units)
    clock.mark("forward encoder dense layers")
    z = z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)
    clock.mark("forward sampler")
    features = F.relu(decoder.fc(z)).view(-1, *decoder.feature_shape)
    clock.mark("forward decoder dense layer")
    d1 = F.relu(decoder.deconv1(features))
    clock.mark("forward deconv1")
    d2 = F.relu(decoder.deconv2(d1))
    clock.mark("forward deconv2")
    logits = decoder.deconv3(d2)
    clock.mark("forward deconv3")
    return dict(h1=h1, h2=h2, z_log_var=z_log_var, z=z, features=features, d1=d1, d2=d2, logits=logits,
                z_mean=z_mean)


CUTS = [("backward loss", "logits"), ("backward deconv3", "d2"), ("backward deconv2", "d1"),
        ("backward deconv1", "features"), ("backward decoder dense layer", "z"), ("backward sampler", "z_log_var"),
        ("backward encoder dense layers", "h2"), ("backward conv2", "h1")]


def profiled_step(model, optimizer, images, args, clock):
    clock.start()
    x = images[torch.randint(images.shape[0], (args.batch_size,))]
    clock.mark("batch: gather")
    optimizer.zero_grad()
    clock.mark("zero_grad")
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
        tensors = timed_forward(model, x, clock)
    for name in ("logits", "z_mean", "z_log_var"):
        tensors[name] = tensors[name].float()
    loss = vae_loss(tensors["logits"], x, tensors["z_mean"], tensors["z_log_var"], False)
    clock.mark("loss (MSE + KL)")
    arrivals = {}
    for phase, name in CUTS:
        tensors[name].register_hook(lambda grad, phase=phase: arrivals.__setitem__(phase, time.perf_counter()))
    loss.backward()
    done = time.perf_counter()
    for at, phase in sorted((at, phase) for phase, at in arrivals.items()):
        clock.mark(phase, at)
    clock.mark("backward conv1", done)
    optimizer.step()
    clock.mark("optimizer (Adam)")


def whole_step_ms(model, optimizer, images, args):
    samples = []
    for i in range(args.steps + 5):
        x = images[torch.randint(images.shape[0], (args.batch_size,))]
        start = time.perf_counter()
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            logits, z_mean, z_log_var = forward(model, x)
        vae_loss(logits.float(), x, z_mean.float(), z_log_var.float(), False).backward()
        optimizer.step()
        if i >= 5:
            samples.append(1000.0 * (time.perf_counter() - start))
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                       "data", "mnist-sample"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    images = read_idx(find_idx(args.data, "train-images-idx3-ubyte"), 0x803).float().div(255).unsqueeze(1)
    model = ConvVae(2)
    keras_init_(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    clock = PhaseClock()
    for _ in range(5):
        profiled_step(model, optimizer, images, args, clock)
    clock.samples.clear()  # the first steps choose kernels and touch fresh memory
    for _ in range(args.steps):
        profiled_step(model, optimizer, images, args, clock)
    whole = whole_step_ms(model, optimizer, images, args)
    medians = {phase: statistics.median(values) for phase, values in clock.samples.items()}
    total = sum(medians.values())
    print(f"PyTorch {torch.__version__}, batch {args.batch_size}, {args.threads} threads, {args.precision}, "
          f"{args.steps} steps; median ms per phase")
    for phase, value in medians.items():
        print(f"  {phase:<34} {value:8.2f}  {100.0 * value / total:5.1f} %")
    print(f"  {'sum of the phases medians':<34} {total:8.2f}")
    print(f"  {'whole step':<34} {whole:8.2f}  (no hooks: {1000.0 * args.batch_size / whole:.0f} images/s)")


if __name__ == "__main__":
    main()
