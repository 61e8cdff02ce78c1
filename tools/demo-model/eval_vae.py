"""Checker accuracy on autoencoder reconstructions of the held-out images (should be ~100 %)."""
import numpy as np
import torch
from PIL import Image

import model
from checker import check_image
from model import Decoder, Encoder
from shapes import scene_from_ids

torch.set_num_threads(1)
model.FAST_LINEAR = False
ck = torch.load('work/vae_final.pt')
enc, dec = Encoder(), Decoder()
enc.load_state_dict(ck['encoder'])
dec.load_state_dict(ck['decoder'])
data = np.load('work/data.npz')
images, attrs = data['held_images'][::4], data['held_attrs'][::4]
with torch.no_grad():
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    y = dec(enc(x))
rec = ((y.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
ok = {'shapeColor': 0, 'backgroundColor': 0, 'shape': 0}
for img, a in zip(rec, attrs):
    s, r = scene_from_ids(a), check_image(img)
    ok['shapeColor'] += r['shapeColor'] == s['color']
    ok['backgroundColor'] += r['backgroundColor'] == s['background']
    ok['shape'] += r['shape'] == s['shape']
print('n', len(rec), {k: f'{100 * v / len(rec):.1f}%' for k, v in ok.items()},
      'mae', float((y - x).abs().mean()) * 127.5)
Image.fromarray(np.concatenate([np.concatenate(list(images[:12]), 1), np.concatenate(list(rec[:12]), 1)], 0)).resize((12 * 128, 256), Image.NEAREST).save('work/vae_recon.png')
