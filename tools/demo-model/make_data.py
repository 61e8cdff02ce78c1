"""Render the training set and the held-out set to work/data.npz (deterministic from the seed)."""
import argparse
import os
import time

import numpy as np

from shapes import attribute_ids, make_dataset

SEED = 7
parser = argparse.ArgumentParser()
parser.add_argument('--variants', type=int, default=6, help='jittered renderings of each seen scene')
args = parser.parse_args()
os.makedirs('work', exist_ok=True)
t0 = time.time()
train_scenes, train_images = make_dataset('train', variants=args.variants, seed=SEED)
held_scenes, held_images = make_dataset('held_out', variants=2, seed=SEED + 1)
np.savez_compressed('work/data.npz', train_images=train_images, train_attrs=attribute_ids(train_scenes),
                    held_images=held_images, held_attrs=attribute_ids(held_scenes))
print(f'train {len(train_scenes)} held-out {len(held_scenes)} in {time.time() - t0:.0f}s')
