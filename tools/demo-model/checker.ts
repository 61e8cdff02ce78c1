/**
 * Deterministic scene checker for the pigment-shapes demo model: background colour, shape colour and
 * shape class of an RGB image. Mirror of `checker.py` (same palette, steps and thresholds).
 *
 * 1. every pixel → nearest palette colour (squared RGB distance, ties → lower palette index);
 * 2. background = most frequent class on the 1-pixel border;
 * 3. shape colour = most frequent class among the other pixels;
 * 4. mask = pixels nearer the shape colour than the background colour; keep the largest 4-connected part;
 * 5. shape from solidity (area / convex hull area: stars are concave), the height of the centroid in the
 *    bounding box (`drop`: a point-up triangle has its mass low, ~0.67 vs 0.5 for a circle or square and 0.55 for
 *    a star) and the fill ratio (area / bounding box: square 1, circle 0.79, star ~0.45).
 *
 * @module
 */

export const PALETTE = {
  red: [220, 30, 30],
  green: [30, 160, 50],
  blue: [30, 70, 220],
  yellow: [245, 220, 40],
  orange: [245, 135, 20],
  purple: [135, 50, 175],
  white: [245, 245, 245],
  black: [20, 20, 20],
} as const satisfies Record<string, readonly [number, number, number]>

export type ColorName = keyof typeof PALETTE
export const COLORS = Object.keys(PALETTE) as ColorName[]
export const SHAPES = ['circle', 'square', 'triangle', 'star'] as const
export type ShapeName = (typeof SHAPES)[number]
export const SIZES = ['small', 'large'] as const
export const POSITIONS = ['top left', 'top right', 'center', 'bottom left', 'bottom right'] as const

export interface ShapeFeatures {
  area: number
  fill: number
  solidity: number
  drop: number
}

export interface CheckResult {
  shapeColor: ColorName | 'none'
  backgroundColor: ColorName
  shape: ShapeName | 'none'
  features?: ShapeFeatures
}

export interface ExpectedScene {
  shapeColor: ColorName | null
  backgroundColor: ColorName | null
  shape: ShapeName | null
  size: (typeof SIZES)[number] | null
  position: (typeof POSITIONS)[number] | null
}

const MIN_AREA = 12
const STAR_SOLIDITY = 0.77
const TRIANGLE_DROP = 0.6
const SQUARE_FILL = 0.9
const CIRCLE_FILL = 0.645
const RGB = COLORS.map((name) => PALETTE[name])

/** Squared distance of every pixel to every palette colour, [pixel * colours + colour]. */
function paletteDistances(rgb: Uint8Array, pixels: number): Float64Array {
  const out = new Float64Array(pixels * RGB.length)
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < RGB.length; c++) {
      const dr = rgb[3 * p] - RGB[c][0]
      const dg = rgb[3 * p + 1] - RGB[c][1]
      const db = rgb[3 * p + 2] - RGB[c][2]
      out[p * RGB.length + c] = dr * dr + dg * dg + db * db
    }
  }
  return out
}

function nearest(dist: Float64Array, p: number): number {
  let best = 0
  for (let c = 1; c < RGB.length; c++) if (dist[p * RGB.length + c] < dist[p * RGB.length + best]) best = c
  return best
}

/** Most frequent value; ties go to the lowest index (numpy argmax of bincount). */
function mode(values: Iterable<number>): number {
  const counts = new Array<number>(RGB.length).fill(0)
  for (const v of values) counts[v]++
  let best = 0
  for (let c = 1; c < counts.length; c++) if (counts[c] > counts[best]) best = c
  return best
}

/** Pixel indices of the largest 4-connected component (first found wins ties, scanning row-major). */
function largestComponent(mask: Uint8Array, width: number, height: number): number[] {
  const seen = new Uint8Array(mask.length)
  let best: number[] = []
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue
    const stack = [start]
    const comp: number[] = []
    seen[start] = 1
    while (stack.length > 0) {
      const p = stack.pop()!
      comp.push(p)
      const x = p % width
      const y = (p - x) / width
      const next = [y > 0 ? p - width : -1, y < height - 1 ? p + width : -1, x > 0 ? p - 1 : -1]
      next.push(x < width - 1 ? p + 1 : -1)
      for (const q of next) {
        if (q >= 0 && mask[q] && !seen[q]) {
          seen[q] = 1
          stack.push(q)
        }
      }
    }
    if (comp.length > best.length) best = comp
  }
  return best
}

/** Area of the convex hull of the pixels' unit squares (Andrew's monotone chain, shoelace). */
export function hullArea(pixels: readonly number[], width: number): number {
  const keys = new Set<number>()
  const stride = width + 2
  for (const p of pixels) {
    const x = p % width
    const y = (p - x) / width
    for (const [dx, dy] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ])
      keys.add((x + dx) * stride + (y + dy))
  }
  const pts = [...keys].sort((a, b) => a - b).map((k) => [Math.floor(k / stride), k % stride] as const)
  const cross = (o: readonly number[], a: readonly number[], b: readonly number[]) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
  const lower: (readonly number[])[] = []
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop()
    lower.push(p)
  }
  const upper: (readonly number[])[] = []
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop()
    upper.push(p)
  }
  const hull = [...lower.slice(0, -1), ...upper.slice(0, -1)]
  let twice = 0
  for (let i = 0; i < hull.length; i++) {
    const [x1, y1] = hull[i]
    const [x2, y2] = hull[(i + 1) % hull.length]
    twice += x1 * y2 - x2 * y1
  }
  return Math.abs(twice) / 2
}

function classifyShape(
  pixels: number[],
  width: number,
): { shape: ShapeName | 'none'; features?: ShapeFeatures } {
  if (pixels.length < MIN_AREA) return { shape: 'none' }
  let minX = Number.POSITIVE_INFINITY
  let maxX = -1
  let minY = Number.POSITIVE_INFINITY
  let maxY = -1
  let sumY = 0
  for (const p of pixels) {
    const x = p % width
    const y = (p - x) / width
    minX = Math.min(minX, x)
    maxX = Math.max(maxX, x)
    minY = Math.min(minY, y)
    maxY = Math.max(maxY, y)
    sumY += y
  }
  const height = maxY - minY + 1
  const fill = pixels.length / ((maxX - minX + 1) * height)
  const solidity = pixels.length / hullArea(pixels, width)
  const drop = (sumY / pixels.length + 0.5 - minY) / height
  const features = { area: pixels.length, fill, solidity, drop }
  if (solidity < STAR_SOLIDITY) return { shape: 'star', features }
  if (drop >= TRIANGLE_DROP) return { shape: 'triangle', features }
  if (fill >= SQUARE_FILL) return { shape: 'square', features }
  if (fill >= CIRCLE_FILL) return { shape: 'circle', features }
  return { shape: 'star', features }
}

/** Nearest palette colour (index into COLORS) of every pixel. */
export function classifyPixels(rgb: Uint8Array, pixels: number): Uint8Array {
  const dist = paletteDistances(rgb, pixels)
  const cls = new Uint8Array(pixels)
  for (let p = 0; p < pixels; p++) cls[p] = nearest(dist, p)
  return cls
}

/** Check an interleaved RGB image (`rgb.length === width * height * 3`). */
export function checkImage(rgb: Uint8Array, width: number, height: number): CheckResult {
  const pixels = width * height
  if (rgb.length !== pixels * 3) throw new RangeError(`expected ${pixels * 3} RGB bytes, got ${rgb.length}`)
  const dist = paletteDistances(rgb, pixels)
  const cls = new Uint8Array(pixels)
  for (let p = 0; p < pixels; p++) cls[p] = nearest(dist, p)
  const border: number[] = []
  for (let x = 0; x < width; x++) border.push(cls[x])
  for (let x = 0; x < width; x++) border.push(cls[(height - 1) * width + x])
  for (let y = 1; y < height - 1; y++) border.push(cls[y * width])
  for (let y = 1; y < height - 1; y++) border.push(cls[y * width + width - 1])
  const bg = mode(border)
  const others = [...cls].filter((c) => c !== bg)
  if (others.length === 0) return { shapeColor: 'none', backgroundColor: COLORS[bg], shape: 'none' }
  const fg = mode(others)
  const mask = new Uint8Array(pixels)
  for (let p = 0; p < pixels; p++) mask[p] = dist[p * RGB.length + fg] < dist[p * RGB.length + bg] ? 1 : 0
  const { shape, features } = classifyShape(largestComponent(mask, width, height), width)
  return { shapeColor: COLORS[fg], backgroundColor: COLORS[bg], shape, ...(features ? { features } : {}) }
}

/** Expected attributes of a caption: the colour before "background" is the background, the first other one the shape's. */
export function parseCaption(caption: string): ExpectedScene {
  const words = caption.toLowerCase().match(/\w+/g) ?? []
  const out: ExpectedScene = {
    shapeColor: null,
    backgroundColor: null,
    shape: null,
    size: null,
    position: null,
  }
  words.forEach((w, i) => {
    if (w in PALETTE) {
      if (words[i + 1] === 'background') out.backgroundColor = w as ColorName
      else if (out.shapeColor === null) out.shapeColor = w as ColorName
    } else if ((SHAPES as readonly string[]).includes(w) && out.shape === null) out.shape = w as ShapeName
    else if ((SIZES as readonly string[]).includes(w)) out.size = w as ExpectedScene['size']
  })
  const joined = words.join(' ')
  for (const p of POSITIONS) if (joined.includes(p)) out.position = p
  return out
}
