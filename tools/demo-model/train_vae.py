"""Fit the autoencoder (64x64x3 <-> 16x8x8) on the training images; write work/vae.pt and work/latents.npz.

The encoder is linear and fixed: PCA of the 8x8 patches (16 components keep ~99 % of the variance). The decoder
starts as the exact PCA inverse and learns a residual that sharpens edges; it is trained on latents with
Gaussian noise added (5 % of the latent std), so it stays smooth around the data. Latent statistics give
latent.shiftFactor and latent.scalingFactor (computed by encode_latents.py; the pipeline decodes z/scalingFactor + shiftFactor).
(A fully learned conv autoencoder was tried first and was too slow to train on the shared 2-core CPU.)
"""
import argparse
import math
import time

import numpy as np
import torch

import model
from model import Decoder, Encoder

parser = argparse.ArgumentParser()
parser.add_argument('--minutes', type=float, default=9)
parser.add_argument('--batch', type=int, default=32)
parser.add_argument('--lr', type=float, default=1e-3)
parser.add_argument('--resume', action='store_true')
parser.add_argument('--device', default='auto', help="'auto' (CUDA when present), 'cpu' or 'cuda'")
args = parser.parse_args()

device = model.pick_device(args.device)
torch.manual_seed(0)
data = np.load('work/data.npz')
images = (torch.from_numpy(data['train_images']).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1)
enc, dec = Encoder().to(device), Decoder().to(device)
with torch.no_grad():
    mean, comps, explained = enc.fit(images[::2])
dec.init_linear(mean, comps)
print(f'PCA: 16 components explain {100 * explained:.2f} % of the patch variance', flush=True)
if not args.resume:  # the encoder is final now (encode_latents.py can run while the decoder trains)
    torch.save({'encoder': {k: v.cpu() for k, v in enc.state_dict().items()},
                'decoder': {k: v.cpu() for k, v in dec.state_dict().items()}}, 'work/vae.pt')
with torch.no_grad():
    noise_std = 0.05 * torch.cat([enc(images[i:i + 512]) for i in range(0, len(images), 512)]).std().item()
if args.resume:
    ck = torch.load('work/vae.pt', map_location=device)
    enc.load_state_dict(ck['encoder'])
    dec.load_state_dict(ck['decoder'])


def save():
    cpu = lambda m: {k: v.cpu() for k, v in m.state_dict().items()}  # noqa: E731
    torch.save({'encoder': cpu(enc), 'decoder': cpu(dec)}, 'work/vae.pt')


params = list(dec.parameters())
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
budget = args.minutes * 60
t0, step = time.time(), 0
gen = torch.Generator(device=device).manual_seed(1)
while True:
    elapsed = time.time() - t0
    if elapsed > budget:
        break
    frac = elapsed / budget
    for g in opt.param_groups:
        g['lr'] = args.lr * (1.0 if args.resume else min(1.0, (step + 1) / 50)) * (0.5 * (1 + math.cos(math.pi * frac)) * 0.95 + 0.05)
    idx = torch.randint(0, len(images), (args.batch,), generator=gen, device=device)
    x = images[idx]
    with torch.no_grad():
        z = enc(x)
    y = dec(z + noise_std * torch.randn_like(z))
    rec = (y - x).pow(2).mean() + 0.5 * (y - x).abs().mean()
    loss = rec
    opt.zero_grad()
    loss.backward()
    opt.step()
    step += 1
    if step % 50 == 0:
        print(f'step {step} t {elapsed:.0f}s rec {rec.item():.5f} zstd {z.std().item():.3f}', flush=True)
    if step % 200 == 0:
        save()

save()
print('done', step, 'steps in', round(time.time() - t0), 's; next: encode_latents.py', flush=True)
