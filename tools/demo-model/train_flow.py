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
import functools
import random
import time

import numpy as np
import torch

import model
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
parser.add_argument('--total-minutes', type=float, default=None,
                    help='length of the whole (possibly resumed) run: the learning rate decays over its last 40 %%;'
                         ' default: this invocation alone')
parser.add_argument('--warmup', type=int, default=50, help='learning-rate warm-up steps')
parser.add_argument('--device', default='auto', help="'auto' (CUDA when present), 'cpu' or 'cuda'")
args = parser.parse_args()

device = model.pick_device(args.device)
torch.manual_seed(0)
rng = random.Random(0)
stats = json.load(open('work/latent_stats.txt'))
latents = torch.from_numpy(np.load('work/latents.npz')['train'])
x0_all = pack((latents - stats['shiftFactor']) * stats['scalingFactor']).to(device)
attrs = np.load('work/data.npz')['train_attrs']
scenes = [scene_from_ids(a) for a in attrs]

text_encoder, transformer = TextEncoder(len(VOCAB)).to(device), FlowTransformer().to(device)
params = list(text_encoder.parameters()) + list(transformer.parameters())
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
step, trained_s = 0, 0.0
# The optimizer state lives beside the weights (args.out + '.opt'), so the weights file stays small to move.
if args.resume and os.path.exists(args.out):
    ck = torch.load(args.out, map_location=device)
    text_encoder.load_state_dict(ck['text_encoder'])
    transformer.load_state_dict(ck['transformer'])
    if 'opt' in ck:
        opt.load_state_dict(ck['opt'])
    elif os.path.exists(args.out + '.opt'):
        opt.load_state_dict(torch.load(args.out + '.opt', map_location=device))
    step, trained_s = ck['step'], ck['seconds']
ema = {'text_encoder': copy.deepcopy(text_encoder), 'transformer': copy.deepcopy(transformer)}
if args.resume and os.path.exists(args.out):
    ema['text_encoder'].load_state_dict(ck['ema_text_encoder'])
    ema['transformer'].load_state_dict(ck['ema_transformer'])
for m in ema.values():
    m.requires_grad_(False)
img_ids = image_ids(8, 8).to(device)


def random_caption(scene):
    if rng.random() < 0.1:
        return ''
    return caption(scene, drop_size=rng.random() < 0.1, drop_background=rng.random() < 0.1,
                   drop_position=rng.random() < 0.1)


@functools.lru_cache(maxsize=None)
def encoded_prompt(prompt):
    return encode_prompt(prompt)


def text_batch(prompts):
    encoded = [encoded_prompt(p) for p in prompts]
    length = max(len(ids) for ids, _ in encoded)
    ids = torch.zeros(len(prompts), length, dtype=torch.int64)
    mask = torch.zeros(len(prompts), length, dtype=torch.int64)
    txt_mask = torch.zeros(len(prompts), length)
    for i, (tok, m) in enumerate(encoded):
        ids[i, :len(tok)] = torch.tensor(tok)
        mask[i, :len(m)] = torch.tensor(m)
        txt_mask[i, :len(tok)] = 1
    return ids.to(device), mask.to(device), txt_mask.to(device)


def to_cpu(value):
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_cpu(v) for v in value]
    return value


def save():
    ck = {'text_encoder': text_encoder.state_dict(), 'transformer': transformer.state_dict(),
          'ema_text_encoder': ema['text_encoder'].state_dict(), 'ema_transformer': ema['transformer'].state_dict(),
          'step': step, 'seconds': trained_s}
    torch.save(to_cpu(ck), args.out + '.tmp')
    torch.save(to_cpu(opt.state_dict()), args.out + '.opt.tmp')
    os.replace(args.out + '.tmp', args.out)
    os.replace(args.out + '.opt.tmp', args.out + '.opt')


budget = args.minutes * 60
t0, last_save, losses = time.time(), time.time(), []
start_s = trained_s
# Fraction of the schedule done: of this invocation, or of the whole run when --total-minutes is given.
schedule_start, schedule_len = (0.0, args.total_minutes * 60) if args.total_minutes else (start_s, budget)
while time.time() - t0 < budget:
    frac = min(1.0, (start_s + time.time() - t0 - schedule_start) / schedule_len)
    lr = args.lr * min(1.0, (step + 1) / args.warmup) * (1.0 if frac < 0.6 else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (frac - 0.6) / 0.4)))
    for g in opt.param_groups:
        g['lr'] = lr
    idx = torch.randint(0, len(x0_all), (args.batch,))
    x0 = x0_all[idx.to(device)]
    ids, mask, txt_mask = text_batch([random_caption(scenes[i]) for i in idx.tolist()])
    sigma = torch.sigmoid(torch.randn(args.batch))
    sigma = args.sigma_shift * sigma / (1 + (args.sigma_shift - 1) * sigma)  # more weight where the layout forms
    uniform = torch.rand(args.batch) < args.uniform
    sigma = torch.where(uniform, torch.rand(args.batch), sigma).to(device)
    noise = torch.randn_like(x0)
    s = sigma[:, None, None]
    xt = (1 - s) * x0 + s * noise
    hidden = text_encoder(ids, mask)
    v = transformer(xt, hidden, sigma, img_ids, torch.zeros(ids.shape[1], 3, device=device), txt_mask)
    loss = (v - (noise - x0)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    step += 1
    decay = min(0.999, (1 + step) / (10 + step))
    with torch.no_grad():
        for name, live in (('text_encoder', text_encoder), ('transformer', transformer)):
            shadow, weights = list(ema[name].parameters()), [p.detach() for p in live.parameters()]
            torch._foreach_mul_(shadow, decay)  # one fused launch per list on the GPU
            torch._foreach_add_(shadow, weights, alpha=1 - decay)
    losses.append(loss.detach())
    trained_s = start_s + time.time() - t0
    if step % 100 == 0:
        recent = torch.stack(losses[-100:]).mean().item()
        print(f'step {step} t {trained_s:.0f}s lr {lr:.2e} loss {recent:.4f}', flush=True)
        losses = losses[-100:]
    if time.time() - last_save > 120:
        save()
        last_save = time.time()
save()
print('done', step, 'steps', round(trained_s), 's', flush=True)
