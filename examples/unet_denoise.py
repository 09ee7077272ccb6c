"""A U-Net that learns to remove noise from the MNIST digits shipped with dlcore.

Clean 28x28 images get Gaussian noise (sigma 0.4); the U-Net (two levels, transposed
convolutions up, skip concatenations) learns to predict the clean image with an MSE loss.
Prints the PSNR of the noisy and the denoised test images and writes
``unet_denoise.png``: rows of noisy inputs, U-Net outputs and the clean images.

    python examples/unet_denoise.py [--epochs 4] [--out DIR]
"""
import argparse
import math
import os

import numpy as np

import dlcore as dl
from dlcore import nn, optim
from dlcore.utils.data import DataLoader, TensorDataset
from dlcore.utils.image import grid, save_png
from dlcore.utils.progress import progress
from dlcore.vision.models import UNet

parser = argparse.ArgumentParser(description="U-Net denoising on shipped MNIST digits")
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--train", type=int, default=2000, help="training images")
parser.add_argument("--sigma", type=float, default=0.4)
parser.add_argument("--out", default=".")
args = parser.parse_args()
dl.manual_seed(0)

(x_train, _), (x_test, _) = dl.datasets.load_mnist_5k(split=True, flatten=False)
x_train, x_test = x_train[:args.train], x_test[:256]
noise = np.random.default_rng(0)


def noisy(x):
    return x + dl.from_numpy(noise.normal(0.0, args.sigma, tuple(x.shape)).astype(np.float32))


def psnr(a, b):
    mse = ((a - b) ** 2).mean().item()
    return 10 * math.log10(1.0 / mse)


model = UNet(in_channels=1, out_channels=1, base=16, depth=2)
opt = optim.Adam(model.parameters(), lr=2e-3)
loader = DataLoader(TensorDataset(x_train), batch_size=32, shuffle=True)
x_test_noisy = noisy(x_test)
print(f"U-Net with {sum(p.numel() for p in model.parameters()):,} parameters; "
      f"noisy test PSNR {psnr(x_test_noisy.clamp(0, 1), x_test):.2f} dB")
for epoch in range(1, args.epochs + 1):
    bar = progress(loader, desc=f"epoch {epoch}")
    for (clean,) in bar:
        loss = nn.functional.mse_loss(model(noisy(clean)), clean)
        opt.zero_grad()
        loss.backward()
        opt.step()
        bar.set_postfix(loss=loss.item())
    model.eval()
    with dl.no_grad():
        denoised = model(x_test_noisy).clamp(0, 1)
    model.train()
    print(f"epoch {epoch}: denoised test PSNR {psnr(denoised, x_test):.2f} dB")

rows = dl.cat([x_test_noisy[:8].clamp(0, 1), denoised[:8], x_test[:8]], 0)
path = os.path.join(args.out, "unet_denoise.png")
save_png(path, grid(rows, cols=8))
print(f"before/after images written to {path} (rows: noisy, denoised, clean)")
