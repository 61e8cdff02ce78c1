"""Run the checker on ground-truth renderings: it should be ~100 % on clean data."""
import random
import sys
from collections import Counter

import numpy as np

from checker import check_image
from shapes import all_scenes, draw, sample_jitter

rng = random.Random(1)
scenes = list(all_scenes())
n = int(sys.argv[1]) if len(sys.argv) > 1 else len(scenes)
picked = rng.sample(scenes, n)
errors = Counter()
feats = {}
for scene in picked:
    jitter, scale = sample_jitter(rng)
    r = check_image(draw(scene, jitter, scale))
    feats.setdefault(scene['shape'], []).append((r['features'].get('fill', 0), r['features'].get('solidity', 0), r['features'].get('drop', 0)))
    for key, truth in (('shapeColor', scene['color']), ('backgroundColor', scene['background']), ('shape', scene['shape'])):
        if r[key] != truth:
            errors[key] += 1
            print('MISS', key, scene, r)
print('n', n, 'errors', dict(errors))
for s, f in feats.items():
    f = np.array(f).round(3)
    print(s.ljust(8), 'fill', f[:, 0].min(), f[:, 0].max(), 'solidity', f[:, 1].min(), f[:, 1].max(), 'drop', f[:, 2].min(), f[:, 2].max())
