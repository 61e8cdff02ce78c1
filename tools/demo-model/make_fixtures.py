"""Write a few ground-truth renderings to fixtures/ for checker.test.ts (file name = caption)."""
import os
import random

from PIL import Image

from shapes import COLORS, POSITIONS, SHAPES, SIZES, caption, draw, sample_jitter

rng = random.Random(11)
os.makedirs('fixtures', exist_ok=True)
for i in range(16):
    color = COLORS[i % len(COLORS)]
    background = rng.choice([c for c in COLORS if c != color])
    scene = {'shape': SHAPES[i % len(SHAPES)], 'color': color, 'background': background,
             'size': SIZES[(i // 4) % 2], 'position': POSITIONS[i % len(POSITIONS)]}
    jitter, scale = sample_jitter(rng)
    name = caption(scene).replace(',', '').replace(' ', '-')
    Image.fromarray(draw(scene, jitter, scale)).save(f'fixtures/{name}.png', optimize=True)

# the Python checker's answers, so checker.test.ts can hold the TypeScript port to the same numbers
import glob
import json

import numpy as np

from checker import check_image

expected = {}
for path in sorted(glob.glob('fixtures/*.png')):
    r = check_image(np.asarray(Image.open(path).convert('RGB')))
    r['features'] = {k: round(float(v), 6) for k, v in r['features'].items()}
    expected[os.path.basename(path)] = r
json.dump(expected, open('fixtures/expected.json', 'w'), indent=1)
