"""Deterministic scene checker: background colour, shape colour and shape class of a 64x64 image.

Mirror of checker.ts (same steps, same thresholds); keep the two in sync.
1. every pixel -> nearest palette colour (squared RGB distance, ties -> lower palette index);
2. background = most frequent class on the 1-pixel border;
3. shape colour = most frequent class among the other pixels;
4. mask = pixels nearer the shape colour than the background colour; keep the largest 4-connected part;
5. shape from solidity (area / convex hull area: stars are concave), the height of the centroid in the
   bounding box (a point-up triangle has its mass low: ~0.67 vs 0.5 for a circle or square, 0.55 for a star) and
   the fill ratio (area / bounding box: square 1, circle 0.79, star ~0.45).
"""

import numpy as np

from shapes import COLORS, PALETTE

PALETTE_RGB = np.array([PALETTE[c] for c in COLORS], dtype=np.int64)
MIN_AREA = 12
STAR_SOLIDITY = 0.77
TRIANGLE_DROP = 0.6
SQUARE_FILL = 0.9
CIRCLE_FILL = 0.645


def nearest_colors(rgb):
    d = ((rgb[:, :, None, :].astype(np.int64) - PALETTE_RGB[None, None]) ** 2).sum(-1)
    return d.argmin(-1), d


def mode(values, n):
    counts = np.bincount(values.ravel(), minlength=n)
    return int(counts.argmax())  # argmax picks the lowest index on ties


def largest_component(mask):
    h, w = mask.shape
    seen = np.zeros_like(mask, dtype=bool)
    best = []
    for y0 in range(h):
        for x0 in range(w):
            if not mask[y0, x0] or seen[y0, x0]:
                continue
            stack, comp = [(y0, x0)], []
            seen[y0, x0] = True
            while stack:
                y, x = stack.pop()
                comp.append((y, x))
                for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                    if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
            if len(comp) > len(best):
                best = comp
    return best


def hull_area(pixels):
    """Area of the convex hull of the pixels' unit squares (monotone chain + shoelace)."""
    pts = sorted({(x + dx, y + dy) for y, x in pixels for dx in (0, 1) for dy in (0, 1)})

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    s = 0
    for i in range(len(hull)):
        x1, y1 = hull[i]
        x2, y2 = hull[(i + 1) % len(hull)]
        s += x1 * y2 - x2 * y1
    return abs(s) / 2


def classify_shape(pixels):
    if len(pixels) < MIN_AREA:
        return 'none', {}
    ys = [p[0] for p in pixels]
    xs = [p[1] for p in pixels]
    height = max(ys) - min(ys) + 1
    fill = len(pixels) / ((max(xs) - min(xs) + 1) * height)
    solidity = len(pixels) / hull_area(pixels)
    drop = (sum(ys) / len(ys) + 0.5 - min(ys)) / height
    features = {'area': len(pixels), 'fill': fill, 'solidity': solidity, 'drop': drop}
    if solidity < STAR_SOLIDITY:
        return 'star', features
    if drop >= TRIANGLE_DROP:
        return 'triangle', features
    if fill >= SQUARE_FILL:
        return 'square', features
    if fill >= CIRCLE_FILL:
        return 'circle', features
    return 'star', features


def check_image(rgb):
    """rgb: uint8 [H, W, 3] -> {'shapeColor', 'backgroundColor', 'shape'} (+ 'features')."""
    cls, dist = nearest_colors(rgb)
    n = len(COLORS)
    border = np.concatenate([cls[0], cls[-1], cls[1:-1, 0], cls[1:-1, -1]])
    bg = mode(border, n)
    others = cls[cls != bg]
    if others.size == 0:
        return {'shapeColor': 'none', 'backgroundColor': COLORS[bg], 'shape': 'none', 'features': {}}
    fg = mode(others, n)
    mask = dist[:, :, fg] < dist[:, :, bg]
    shape, features = classify_shape(largest_component(mask))
    return {'shapeColor': COLORS[fg], 'backgroundColor': COLORS[bg], 'shape': shape, 'features': features}


def parse_caption(text):
    """Expected attributes from a caption: first colour = shape colour, colour before 'background'."""
    import re

    from shapes import POSITIONS, SHAPES, SIZES

    words = re.findall(r"\w+", text.lower())
    out = {'shapeColor': None, 'backgroundColor': None, 'shape': None, 'size': None, 'position': None}
    for i, w in enumerate(words):
        if w in PALETTE:
            if i + 1 < len(words) and words[i + 1] == 'background':
                out['backgroundColor'] = w
            elif out['shapeColor'] is None:
                out['shapeColor'] = w
        elif w in SHAPES and out['shape'] is None:
            out['shape'] = w
        elif w in SIZES:
            out['size'] = w
    joined = ' '.join(words)
    for p in POSITIONS:
        if p in joined:
            out['position'] = p
    return out
