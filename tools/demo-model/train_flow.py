"""Train the text encoder + flow transformer on the autoencoder's normalised latents (rectified flow).

x_sigma = (1 - sigma) x0 + sigma n, target n - x0, sigma ~ logit-normal(0, 1) time-shifted by 3 (30 % uniform;
the first 1,700 steps used no shift and 10 % uniform, which left sigma near 1 (where the layout is decided)
under-trained: samples came out as scattered blobs); the caption
drops its size / background / position phrase 10 % of the time each and is replaced by the empty prompt
(EOS + PAD) 10 % of the time, so classifier-free guidance works. Time-budgeted; keeps an EMA copy.
"""
import argparse
import copy
import json
import math
import os
import random
import time

import numpy as np
import torch

from model import FlowTransformer, TextEncoder, image_ids, pack
from shapes import VOCAB, caption, encode_prompt, scene_from_ids

parser = argparse.ArgumentParser()
parser.add_argument('--minutes', type=float, default=60)
parser.add_argument('--batch', type=int, default=96)
parser.add_argument('--lr', type=float, default=6e-4)
parser.add_argument('--resume', action='store_true')
parser.add_argument('--sigma-shift', type=float, default=3.0, help='time shift applied to the training sigmas')
parser.add_argument('--uniform', type=float, default=0.3, help='share of uniformly drawn sigmas')
parser.add_argument('--out', default='work/flow.pt')
args = parser.parse_args()

torch.set_num_threads(1)
torch.manual_seed(0)
rng = random.Random(0)
stats = json.load(open('work/latent_stats.txt'))
latents = torch.from_numpy(np.load('work/latents.npz')['train'])
x0_all = pack((latents - stats['shiftFactor']) * stats['scalingFactor'])
attrs = np.load('work/data.npz')['train_attrs']
scenes = [scene_from_ids(a) for a in attrs]

text_encoder, transformer = TextEncoder(len(VOCAB)), FlowTransformer()
params = list(text_encoder.parameters()) + list(transformer.parameters())
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
step, trained_s = 0, 0.0
if args.resume and os.path.exists(args.out):
    ck = torch.load(args.out)
    text_encoder.load_state_dict(ck['text_encoder'])
    transformer.load_state_dict(ck['transformer'])
    opt.load_state_dict(ck['opt'])
    step, trained_s = ck['step'], ck['seconds']
ema = {'text_encoder': copy.deepcopy(text_encoder), 'transformer': copy.deepcopy(transformer)}
if args.resume and os.path.exists(args.out):
    ema['text_encoder'].load_state_dict(ck['ema_text_encoder'])
    ema['transformer'].load_state_dict(ck['ema_transformer'])
for m in ema.values():
    m.requires_grad_(False)
img_ids = image_ids(8, 8)


def random_caption(scene):
    if rng.random() < 0.1:
        return ''
    return caption(scene, drop_size=rng.random() < 0.1, drop_background=rng.random() < 0.1,
                   drop_position=rng.random() < 0.1)


def text_batch(prompts):
    encoded = [encode_prompt(p) for p in prompts]
    length = max(len(ids) for ids, _ in encoded)
    ids = torch.zeros(len(prompts), length, dtype=torch.int64)
    mask = torch.zeros(len(prompts), length, dtype=torch.int64)
    txt_mask = torch.zeros(len(prompts), length)
    for i, (tok, m) in enumerate(encoded):
        ids[i, :len(tok)] = torch.tensor(tok)
        mask[i, :len(m)] = torch.tensor(m)
        txt_mask[i, :len(tok)] = 1
    return ids, mask, txt_mask


def save():
    ck = {'text_encoder': text_encoder.state_dict(), 'transformer': transformer.state_dict(),
          'ema_text_encoder': ema['text_encoder'].state_dict(), 'ema_transformer': ema['transformer'].state_dict(),
          'opt': opt.state_dict(), 'step': step, 'seconds': trained_s}
    torch.save(ck, args.out + '.tmp')
    os.replace(args.out + '.tmp', args.out)


budget = args.minutes * 60
t0, last_save, losses = time.time(), time.time(), []
start_s = trained_s
while time.time() - t0 < budget:
    frac = (time.time() - t0) / budget
    lr = args.lr * min(1.0, (step + 1) / 50) * (1.0 if frac < 0.6 else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (frac - 0.6) / 0.4)))
    for g in opt.param_groups:
        g['lr'] = lr
    idx = torch.randint(0, len(x0_all), (args.batch,))
    x0 = x0_all[idx]
    ids, mask, txt_mask = text_batch([random_caption(scenes[i]) for i in idx.tolist()])
    sigma = torch.sigmoid(torch.randn(args.batch))
    sigma = args.sigma_shift * sigma / (1 + (args.sigma_shift - 1) * sigma)  # more weight where the layout forms
    uniform = torch.rand(args.batch) < args.uniform
    sigma = torch.where(uniform, torch.rand(args.batch), sigma)
    noise = torch.randn_like(x0)
    s = sigma[:, None, None]
    xt = (1 - s) * x0 + s * noise
    hidden = text_encoder(ids, mask)
    v = transformer(xt, hidden, sigma, img_ids, torch.zeros(ids.shape[1], 3), txt_mask)
    loss = (v - (noise - x0)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    step += 1
    decay = min(0.999, (1 + step) / (10 + step))
    with torch.no_grad():
        for name, live in (('text_encoder', text_encoder), ('transformer', transformer)):
            for pe, p in zip(ema[name].parameters(), live.parameters()):
                pe.mul_(decay).add_(p.detach(), alpha=1 - decay)
    losses.append(loss.item())
    trained_s = start_s + time.time() - t0
    if step % 25 == 0:
        print(f'step {step} t {trained_s:.0f}s lr {lr:.2e} loss {np.mean(losses[-25:]):.4f}', flush=True)
    if time.time() - last_save > 120:
        save()
        last_save = time.time()
save()
print('done', step, 'steps', round(trained_s), 's', flush=True)
