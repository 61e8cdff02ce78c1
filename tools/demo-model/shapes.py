"""Pigment shapes: the scene vocabulary, the drawing code and the captions.

One 64x64 RGB scene = one shape (circle, square, triangle, star) in a named colour on a named
background colour, with a size (small, large) and a position (5 places). Everything is deterministic
from a seed. The TypeScript checker (checker.ts) reads the same palette, so keep them in sync.
"""

import random

import numpy as np
from PIL import Image, ImageDraw

SIZE = 64
SUPERSAMPLE = 4

# name -> sRGB; kept far apart so a nearest-colour checker is unambiguous (also in checker.ts)
PALETTE = {
    'red': (220, 30, 30),
    'green': (30, 160, 50),
    'blue': (30, 70, 220),
    'yellow': (245, 220, 40),
    'orange': (245, 135, 20),
    'purple': (135, 50, 175),
    'white': (245, 245, 245),
    'black': (20, 20, 20),
}
COLORS = list(PALETTE)
SHAPES = ['circle', 'square', 'triangle', 'star']
SIZES = ['small', 'large']
POSITIONS = ['top left', 'top right', 'center', 'bottom left', 'bottom right']

# colour+shape pairs never shown in training (generalisation test)
HELD_OUT = {('green', 'star'), ('purple', 'triangle'), ('orange', 'circle'), ('blue', 'square'),
            ('white', 'star')}

# half-extent of the shape in pixels and the centre offset of the corner positions, per size
EXTENT = {'small': 10.5, 'large': 14.5}
CORNER_OFFSET = {'small': 14.0, 'large': 13.0}

VOCAB = ['<pad>', '</s>', '<unk>', 'a', 'an', 'on', 'background', ',', 'top', 'bottom', 'left', 'right',
         'center', *SIZES, *COLORS, *SHAPES]


def article(word):
    return 'an' if word[0] in 'aeiou' else 'a'


def caption(scene, drop_size=False, drop_background=False, drop_position=False):
    """'a large red circle on a blue background, top left' (parts can be left out)."""
    words = [] if drop_size else [scene['size']]
    words += [scene['color'], scene['shape']]
    text = f"{article(words[0])} {' '.join(words)}"
    if not drop_background:
        text += f" on {article(scene['background'])} {scene['background']} background"
    if not drop_position:
        text += f", {scene['position']}"
    return text


def centre(scene, jitter=(0.0, 0.0)):
    pos, off = scene['position'], CORNER_OFFSET[scene['size']]
    dx = -off if 'left' in pos else off if 'right' in pos else 0.0
    dy = -off if 'top' in pos else off if 'bottom' in pos else 0.0
    return SIZE / 2 + dx + jitter[0], SIZE / 2 + dy + jitter[1]


def shape_polygon(shape, cx, cy, s):
    """Outline points (None for the circle) in pixel units, axis-aligned, point up."""
    if shape == 'square':
        h = 0.86 * s
        return [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
    if shape == 'triangle':
        return [(cx, cy - s), (cx + s, cy + 0.8 * s), (cx - s, cy + 0.8 * s)]
    if shape == 'star':
        outer, inner = 1.08 * s, 0.46 * 1.08 * s
        # the star's bounding box spans outer*(1 + cos 36deg) vertically: centre it
        oy = cy + outer * (1 - np.cos(np.pi / 5)) / 2
        pts = []
        for k in range(10):
            r = outer if k % 2 == 0 else inner
            a = -np.pi / 2 + k * np.pi / 5
            pts.append((cx + r * np.cos(a), oy + r * np.sin(a)))
        return pts
    return None


def draw(scene, jitter=(0.0, 0.0), scale=1.0):
    """Render a scene to a uint8 array [64, 64, 3] (anti-aliased by 4x supersampling)."""
    k = SUPERSAMPLE
    img = Image.new('RGB', (SIZE * k, SIZE * k), PALETTE[scene['background']])
    d = ImageDraw.Draw(img)
    cx, cy = centre(scene, jitter)
    s = EXTENT[scene['size']] * scale
    fill = PALETTE[scene['color']]
    poly = shape_polygon(scene['shape'], cx, cy, s)
    if poly is None:
        d.ellipse([(cx - s) * k, (cy - s) * k, (cx + s) * k, (cy + s) * k], fill=fill)
    else:
        d.polygon([(x * k, y * k) for x, y in poly], fill=fill)
    img = img.resize((SIZE, SIZE), Image.BOX)
    return np.asarray(img, dtype=np.uint8)


def all_scenes():
    for shape in SHAPES:
        for color in COLORS:
            for background in COLORS:
                if background == color:
                    continue
                for size in SIZES:
                    for position in POSITIONS:
                        yield {'shape': shape, 'color': color, 'background': background, 'size': size,
                               'position': position}


def is_held_out(scene):
    return (scene['color'], scene['shape']) in HELD_OUT


def sample_jitter(rng):
    return (rng.uniform(-2, 2), rng.uniform(-2, 2)), rng.uniform(0.9, 1.1)


def make_dataset(split, variants, seed):
    """All scenes of a split ('train' or 'held_out'), `variants` jittered renderings each."""
    rng = random.Random(seed)
    scenes, images = [], []
    for scene in all_scenes():
        if is_held_out(scene) != (split == 'held_out'):
            continue
        for _ in range(variants):
            jitter, scale = sample_jitter(rng)
            scenes.append(scene)
            images.append(draw(scene, jitter, scale))
    return scenes, np.stack(images)


def attribute_ids(scenes):
    """[N, 5] int64 indices: shape, color, background, size, position."""
    return np.array([[SHAPES.index(s['shape']), COLORS.index(s['color']), COLORS.index(s['background']),
                      SIZES.index(s['size']), POSITIONS.index(s['position'])] for s in scenes], dtype=np.int64)


def scene_from_ids(ids):
    return {'shape': SHAPES[ids[0]], 'color': COLORS[ids[1]], 'background': COLORS[ids[2]],
            'size': SIZES[ids[3]], 'position': POSITIONS[ids[4]]}


TOKEN_PATTERN = r"\w+|[^\w\s]+"  # the tokenizer.json Whitespace pre-tokenizer
PAD_ID, EOS_ID, UNK_ID = 0, 1, 2


def tokenize(text):
    """Word ids as tokenizer.json produces them (lowercase, Whitespace split, WordLevel), no EOS."""
    import re

    index = {w: i for i, w in enumerate(VOCAB)}
    return [index.get(w, UNK_ID) for w in re.findall(TOKEN_PATTERN, text.lower())]


def encode_prompt(text):
    """The Chroma rule: tokens + EOS + one PAD, mask 1...1 1 0."""
    ids = tokenize(text) + [EOS_ID, PAD_ID]
    return ids, [1] * (len(ids) - 1) + [0]
