#!/usr/bin/python3
"""The PyTorch reference for the benchmark: the seed's model (scripts/vae_cnn_model.py), loss and
optimizer, trained the way a plain PyTorch port does it, on the same IDX files as `vae_cnn train`.

    /usr/bin/python3 scripts/reference_train.py DATA_DIR [--epochs N] [--batch-size N] [--threads N] [--bce]
                                                         [--seed N] [--limit N] [--validate] [--device cpu|cuda]
                                                         [--init keras|torch] [--lr-warmup N] [--revive N]
                                                         [--precision fp32|bf16] [--compile]
                                                         [--checkpoint FILE]

Prints one line per epoch: "epoch E images_per_second X seconds S loss L" (training pass only,
as `vae_cnn train`'s metrics.csv counts it), and at the end, on a GPU, "peak_gpu_mib M" (the
most memory torch's allocator held for tensors); with --validate the line goes on with
"val_loss V val_reconstruction R val_kl K", the test split's mean loss terms after the epoch
(Keras' validation_data, ε sampled as in training), for comparing final test losses, and after
the last epoch a line "encoder alive A/16 z_mean_spread S": the encoder's hidden units that fire for
some test image and the largest standard deviation of a z_mean dimension over the test images,
as `vae_cnn eval` reports them (computed without gradients, drawing no random numbers).

Started with torch.distributed's environment (WORLD_SIZE above 1, RANK, MASTER_ADDR, MASTER_PORT:
torchrun sets them) it trains the way a plain PyTorch DDP port does: a Gloo process group,
DistributedDataParallel, each rank taking its rows of every global batch of --batch-size, the
same shuffled order on every rank; only rank 0 prints: images/s of the whole epoch, loss of its own rows.

--precision bf16 runs the forward pass under torch.autocast to bfloat16 and the loss in fp32, as
`vae_cnn train --precision bf16` does; --compile passes the training forward through torch.compile
(its first epoch includes the compilation).

--checkpoint FILE saves the model, Adam's state, the default generator and the step count after every
epoch (written aside, then renamed over FILE) and, when FILE exists, continues from it: the epochs
after it draw the same numbers and give the same weights as a run never stopped, so a 50-epoch run
can span sessions. An epoch ended but not yet saved is run again and printed again; its second line
is the one that counts (scripts/parity.py reads the last line of each epoch). A checkpoint of other
options is refused.
"""
import argparse
import os
import sys
import time

import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vae_cnn_model import ConvVae, find_idx, keras_init_, read_idx  # noqa: E402


def loss_terms(logits, x, z_mean, z_log_var, bce):
    """Per-image reconstruction and KL."""
    if bce:
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    else:
        reconstruction = (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)
    kl = -0.5 * (1 + z_log_var - z_mean.pow(2) - z_log_var.exp()).sum(1)
    return reconstruction, kl


def vae_loss(logits, x, z_mean, z_log_var, bce):
    reconstruction, kl = loss_terms(logits, x, z_mean, z_log_var, bce)
    return (reconstruction + kl).mean()


def forward(model, x, generator=None):
    z_mean, z_log_var = model.encoder(x)
    if generator is not None:
        epsilon = torch.randn(z_mean.shape, generator=generator).to(z_mean.device)
    else:
        epsilon = torch.randn_like(z_mean)
    z = z_mean + torch.exp(0.5 * z_log_var) * epsilon
    return model.decoder(z), z_mean, z_log_var


class TrainingForward(torch.nn.Module):
    """The training pass as one module call, the call DistributedDataParallel hooks into; its
    outputs in fp32 whatever autocast computed them in, so the loss is taken in fp32."""

    def __init__(self, model, precision="fp32"):
        super().__init__()
        self.model = model
        self.precision = precision

    def forward(self, x):
        if self.precision == "bf16":
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                outputs = forward(self.model, x)
            return tuple(output.float() for output in outputs)
        return forward(self.model, x)


@torch.no_grad()
def validate(model, images, batch_size, bce):
    """Mean loss, reconstruction and KL over `images`, with ε from a generator of its own (as
    `vae_cnn` validates), so validating leaves training's random stream as it was."""
    model.eval()
    generator = torch.Generator().manual_seed(0x5eed)
    sums = torch.zeros(2, dtype=torch.float64)
    for first in range(0, images.shape[0], batch_size):
        x = images[first:first + batch_size]
        logits, z_mean, z_log_var = forward(model, x, generator)
        reconstruction, kl = loss_terms(logits, x, z_mean, z_log_var, bce)
        sums += torch.stack([reconstruction.sum(), kl.sum()]).double()
    model.train()
    reconstruction, kl = (sums / images.shape[0]).tolist()
    return reconstruction + kl, reconstruction, kl


@torch.no_grad()
def encoder_health(model, images, batch_size):
    """(hidden units alive, hidden units, z_mean spread) on `images`, as `vae_cnn` measures them
    (src/model/encoder_health.cpp): a unit of the encoder's Dense(16) is alive when its ReLU output is
    positive for at least one image; the spread is the largest standard deviation over the images
    (n - 1 in the denominator, in float64) of one z_mean dimension. Draws no random numbers."""
    encoder = model.encoder
    was_training = model.training
    model.eval()
    peaks, means = [], []
    for first in range(0, images.shape[0], batch_size):
        x = images[first:first + batch_size]
        units = F.relu(encoder.fc(F.relu(encoder.conv2(F.relu(encoder.conv1(x)))).flatten(1)))
        peaks.append(units.max(0).values)
        means.append(encoder.z_mean(units))
    model.train(was_training)
    peak = torch.stack(peaks).max(0).values
    z_mean = torch.cat(means).double()
    spread = z_mean.var(0, unbiased=True).max().sqrt().item()
    return int((peak > 0).sum().item()), peak.shape[0], spread


REVIVAL_PROBE_IMAGES = 4096
DRAWS_PER_UNIT = 8


@torch.no_grad()
def revive_dead_hidden_units(model, optimizer, probe, batch_size):
    """As `vae_cnn train --revive` does after an epoch (src/train/unit_revival.cpp), drawing the
    same numbers from the default generator: every unit of the encoder's Dense(16) that is positive
    for no probe image gets a new glorot_uniform row, a zero bias and zero outgoing weights in both
    heads, and its Adam moments are cleared. Returns how many units."""
    encoder = model.encoder
    was_training = model.training
    model.eval()
    features = torch.cat([F.relu(encoder.conv2(F.relu(encoder.conv1(probe[i:i + batch_size])))).flatten(1)
                          for i in range(0, probe.shape[0], batch_size)])
    model.train(was_training)
    weight, bias = encoder.fc.weight, encoder.fc.bias
    dead = [unit for unit, peak in enumerate(torch.addmm(bias, features, weight.t()).max(0).values.tolist())
            if peak <= 0]
    if not dead:
        return 0
    bound = (6.0 / (weight.shape[0] + weight.shape[1])) ** 0.5
    for unit in dead:
        for _ in range(DRAWS_PER_UNIT):
            row = torch.empty(weight.shape[1]).uniform_(-bound, bound).to(weight.device)
            if (features @ row).max().item() > 0:
                break
        weight[unit] = row
    bias[dead] = 0
    encoder.z_mean.weight[:, dead] = 0
    encoder.z_log_var.weight[:, dead] = 0
    for tensor, index in ((weight, dead), (bias, dead), (encoder.z_mean.weight, (slice(None), dead)),
                          (encoder.z_log_var.weight, (slice(None), dead))):
        state = optimizer.state.get(tensor, {})
        for moment in ("exp_avg", "exp_avg_sq"):
            if moment in state:
                state[moment][index] = 0
    return len(dead)


def checkpoint_options(args):
    """The options a checkpoint must have been made with to continue this run."""
    keep = ("data_dir", "batch_size", "limit", "bce", "seed", "validate", "init", "lr_warmup", "revive",
            "precision")
    return {name: getattr(args, name) for name in keep}


def load_checkpoint(path, args, model, optimizer):
    """(epochs done, steps taken) from `path`, restoring the model, Adam and the default generator;
    (0, 0) when there is none. Exits with one line when it was made with other options."""
    if not path or not os.path.exists(path):
        return 0, 0
    saved = torch.load(path)
    expected = checkpoint_options(args)
    differing = [f"{name} {saved['options'].get(name)!r}, not {value!r}" for name, value in expected.items()
                 if saved["options"].get(name) != value]
    if differing:
        sys.exit(f"reference_train: {path}: made with other options: {'; '.join(differing)}")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    torch.set_rng_state(saved["rng"])
    return saved["epoch"], saved["steps_taken"]


def save_checkpoint(path, args, model, optimizer, epoch, steps_taken):
    aside = path + ".writing"
    torch.save({"options": checkpoint_options(args), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "rng": torch.get_rng_state(), "epoch": epoch, "steps_taken": steps_taken}, aside)
    os.replace(aside, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--bce", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validate", action="store_true", help="evaluate the test split after every epoch")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N: the whole data set lives there")
    parser.add_argument("--init", choices=["keras", "torch"], default="keras",
                        help="initial weights, as vae_cnn train --init")
    parser.add_argument("--lr-warmup", type=int, default=100,
                        help="optimizer steps over which the learning rate rises linearly to 1e-3, as vae_cnn train")
    parser.add_argument("--revive", type=int, default=10,
                        help="restart the encoder's dead hidden units after each of the first N epochs, as vae_cnn train")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                        help="bf16: the forward pass under autocast to bfloat16, as vae_cnn train --precision")
    parser.add_argument("--compile", action="store_true", help="the training forward through torch.compile")
    parser.add_argument("--checkpoint", help="save after every epoch; continue from it when it exists (CPU, one rank)")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = read_idx(find_idx(args.data_dir, "train-images-idx3-ubyte"), 0x803).float().div(255).unsqueeze(1)
    if args.limit:
        images = images[:args.limit]
    test_images = None
    if args.validate:
        test_images = read_idx(find_idx(args.data_dir, "t10k-images-idx3-ubyte"), 0x803).float().div(255).unsqueeze(1)
        test_images = test_images.to(device)
    images = images.to(device)
    model = ConvVae(2)
    if args.init == "keras":
        keras_init_(model)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    step = TrainingForward(model, args.precision)
    if args.compile:
        step = torch.compile(step)
    if world_size > 1:
        torch.distributed.init_process_group("gloo")
        step = torch.nn.parallel.DistributedDataParallel(step)
    if args.checkpoint and (world_size > 1 or device.type != "cpu"):
        sys.exit("reference_train: --checkpoint saves only the CPU generator: one process on the CPU")
    n = images.shape[0]
    epochs_done, steps_taken = load_checkpoint(args.checkpoint, args, model, optimizer)
    for epoch in range(epochs_done + 1, args.epochs + 1):
        order = torch.randperm(n).to(device)
        total = 0.0
        start = time.perf_counter()
        for first in range(0, n, args.batch_size):
            batch = order[first:first + args.batch_size]
            own = batch[len(batch) * rank // world_size:len(batch) * (rank + 1) // world_size]
            x = images[own]
            logits, z_mean, z_log_var = step(x)
            loss = vae_loss(logits, x, z_mean, z_log_var, args.bce)
            optimizer.zero_grad()
            loss.backward()
            steps_taken += 1
            if args.lr_warmup > 0:
                for group in optimizer.param_groups:
                    group["lr"] = 1e-3 * min(1.0, steps_taken / args.lr_warmup)
            optimizer.step()
            total += loss.item() * x.shape[0]
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        line = f"epoch {epoch} images_per_second {n / seconds:.1f} seconds {seconds:.3f} loss {total / n:.4f}"
        if test_images is not None:
            val_loss, val_reconstruction, val_kl = validate(model, test_images, args.batch_size, args.bce)
            line += f" val_loss {val_loss:.6f} val_reconstruction {val_reconstruction:.6f} val_kl {val_kl:.6f}"
        if epoch <= args.revive:
            revived = revive_dead_hidden_units(model, optimizer, images[:REVIVAL_PROBE_IMAGES], args.batch_size)
            line += f" revived {revived}"
        if rank == 0:
            print(line, flush=True)
        if args.checkpoint:
            save_checkpoint(args.checkpoint, args, model, optimizer, epoch, steps_taken)
    if test_images is not None and rank == 0:
        # After the last epoch (its restarts included), as `vae_cnn eval` measures the saved weights.
        alive, units, spread = encoder_health(model, test_images, args.batch_size)
        print(f"encoder alive {alive}/{units} z_mean_spread {spread:.6g}", flush=True)
    if device.type == "cuda" and rank == 0:
        print(f"peak_gpu_mib {torch.cuda.max_memory_allocated(device) / 2**20:.1f}", flush=True)


if __name__ == "__main__":
    main()
