"""Quick evaluation with the Python reference sampler: generate the prompts.json captions and score them
with checker.py. Usage: evaluate.py [--n 40] [--steps 16] [--cfg 4] [--shift 1] [--grid out.png]"""
import argparse
import json

import numpy as np
import torch
from PIL import Image

import model
from checker import check_image, parse_caption
from model import Decoder, FlowTransformer, TextEncoder
from sample import generate
from shapes import VOCAB

parser = argparse.ArgumentParser()
parser.add_argument('--ckpt', default='work/flow.pt')
parser.add_argument('--n', type=int, default=40)
parser.add_argument('--steps', type=int, default=16)
parser.add_argument('--cfg', type=float, default=4.0)
parser.add_argument('--shift', type=float, default=1.0)
parser.add_argument('--live', action='store_true', help='use the live weights instead of the EMA')
parser.add_argument('--grid', default=None)
parser.add_argument('--device', default='auto', help="'auto' (CUDA when present), 'cpu' or 'cuda'")
args = parser.parse_args()

device = model.pick_device(args.device)
model.FAST_LINEAR = False
ck = torch.load(args.ckpt, map_location='cpu')
text_encoder, transformer, decoder = TextEncoder(len(VOCAB)), FlowTransformer(), Decoder()
prefix = '' if args.live else 'ema_'
text_encoder.load_state_dict(ck[prefix + 'text_encoder'])
transformer.load_state_dict(ck[prefix + 'transformer'])
decoder.load_state_dict(torch.load('work/vae_final.pt', map_location='cpu')['decoder'])
for m in (text_encoder, transformer, decoder):
    m.eval().to(device)
norm = json.load(open('work/latent_stats.txt'))
prompts = json.load(open('prompts.json'))
print(f"step {ck['step']} ({ck['seconds'] / 60:.0f} min), steps {args.steps} cfg {args.cfg} shift {args.shift}")
grid = []
for split in ('seen', 'heldOut'):
    items = prompts[split][:args.n]
    images = generate(text_encoder, transformer, decoder, norm, [p['prompt'] for p in items],
                      [p['seed'] for p in items], args.steps, args.cfg, args.shift)
    grid.append(np.concatenate(list(images[:16]), axis=1))
    hits = {'shapeColor': 0, 'backgroundColor': 0, 'shape': 0, 'all': 0}
    for item, img in zip(items, images):
        got, want = check_image(img), parse_caption(item['prompt'])
        ok = {k: got[k] == want[k] for k in ('shapeColor', 'backgroundColor', 'shape')}
        for k, v in ok.items():
            hits[k] += v
        hits['all'] += all(ok.values())
    print(split.ljust(8), ' '.join(f'{k} {100 * v / len(items):.0f}%' for k, v in hits.items()), flush=True)
if args.grid:
    Image.fromarray(np.concatenate(grid, axis=0)).resize((16 * 128, 2 * 128), Image.NEAREST).save(args.grid)
