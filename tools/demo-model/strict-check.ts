/**
 * The stricter scene check of issue #13, on top of `checkImage`: an image passes when it has the asked
 * background, exactly one 4-connected component of the asked colour (no specks, no fragments), the asked
 * shape class, and that component's mask overlaps the best-fitting ideal shape (the outline `shapes.py` draws,
 * scaled and moved to fit) with IoU ≥ 0.8. Works at any image size (a 256² image is judged like a 64² one).
 * @module
 */
import { COLORS, type ColorName, checkImage, classifyPixels, type ShapeName } from './checker.js'

export const MIN_IOU = 0.8

export interface StrictWant {
  readonly shapeColor: ColorName
  readonly backgroundColor: ColorName
  readonly shape: ShapeName
}

export interface StrictResult {
  readonly pass: boolean
  /** 4-connected components of the asked colour. */
  readonly components: number
  /** IoU of the (largest) component with the best-fitting ideal shape; 0 when there is none. */
  readonly iou: number
  /** `checkImage` agreed on both colours and the shape class. */
  readonly classified: boolean
}

type Point = readonly [number, number]

/** Outline of the ideal shape at centre (0, 0), half-extent 1, as `shapes.py` `shape_polygon` draws it. */
function idealOutline(shape: ShapeName): Point[] | 'circle' {
  if (shape === 'circle') return 'circle'
  if (shape === 'square') {
    const h = 0.86
    return [
      [-h, -h],
      [h, -h],
      [h, h],
      [-h, h],
    ]
  }
  if (shape === 'triangle') {
    return [
      [0, -1],
      [1, 0.8],
      [-1, 0.8],
    ]
  }
  const outer = 1.08
  const inner = 0.46 * outer
  const oy = (outer * (1 - Math.cos(Math.PI / 5))) / 2
  return Array.from({ length: 10 }, (_, k) => {
    const r = k % 2 === 0 ? outer : inner
    const a = -Math.PI / 2 + (k * Math.PI) / 5
    return [r * Math.cos(a), oy + r * Math.sin(a)] as const
  })
}

function inside(polygon: readonly Point[], x: number, y: number): boolean {
  let hit = false
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]
    const [xj, yj] = polygon[j]
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit
  }
  return hit
}

interface Box {
  minX: number
  maxX: number
  minY: number
  maxY: number
}

function boundsOf(points: readonly Point[]): Box {
  const xs = points.map((p) => p[0])
  const ys = points.map((p) => p[1])
  return { minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys) }
}

/** All 4-connected components of a mask, as pixel index lists. */
function components(mask: Uint8Array, width: number, height: number): number[][] {
  const seen = new Uint8Array(mask.length)
  const found: number[][] = []
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue
    const stack = [start]
    const part: number[] = []
    seen[start] = 1
    while (stack.length > 0) {
      const p = stack.pop()!
      part.push(p)
      const x = p % width
      const y = (p - x) / width
      for (const q of [y > 0 ? p - width : -1, y < height - 1 ? p + width : -1, x > 0 ? p - 1 : -1]) {
        if (q >= 0 && mask[q] && !seen[q]) {
          seen[q] = 1
          stack.push(q)
        }
      }
      const right = x < width - 1 ? p + 1 : -1
      if (right >= 0 && mask[right] && !seen[right]) {
        seen[right] = 1
        stack.push(right)
      }
    }
    found.push(part)
  }
  return found
}

/**
 * Best IoU of a component with the ideal shape: the outline is first scaled and centred onto the component's
 * bounding box, then scale (±12 %) and position (±1.5 % of the image side) are searched around that fit.
 */
export function bestIoU(part: readonly number[], width: number, height: number, shape: ShapeName): number {
  const own = new Uint8Array(width * height)
  for (const p of part) own[p] = 1
  const box: Box = { minX: width, maxX: -1, minY: height, maxY: -1 }
  for (const p of part) {
    const x = p % width
    const y = (p - x) / width
    box.minX = Math.min(box.minX, x)
    box.maxX = Math.max(box.maxX, x + 1)
    box.minY = Math.min(box.minY, y)
    box.maxY = Math.max(box.maxY, y + 1)
  }
  const outline = idealOutline(shape)
  const unit: Box = outline === 'circle' ? { minX: -1, maxX: 1, minY: -1, maxY: 1 } : boundsOf(outline)
  const fitScale =
    ((box.maxX - box.minX) / (unit.maxX - unit.minX) + (box.maxY - box.minY) / (unit.maxY - unit.minY)) / 2
  const fitX = (box.minX + box.maxX) / 2 - ((unit.minX + unit.maxX) / 2) * fitScale
  const fitY = (box.minY + box.maxY) / 2 - ((unit.minY + unit.maxY) / 2) * fitScale
  const step = Math.max(width, height) * 0.0075
  let best = 0
  for (const ds of [0.88, 0.94, 1, 1.06, 1.12]) {
    for (const dx of [-2, -1, 0, 1, 2]) {
      for (const dy of [-2, -1, 0, 1, 2]) {
        const s = fitScale * ds
        const cx = fitX + dx * step
        const cy = fitY + dy * step
        const contains =
          outline === 'circle'
            ? (x: number, y: number) => (x - cx) ** 2 + (y - cy) ** 2 <= s * s
            : (x: number, y: number) => inside(outline, (x - cx) / s, (y - cy) / s)
        const margin = 1.2 * s
        const x0 = Math.max(0, Math.floor(cx - margin))
        const x1 = Math.min(width - 1, Math.ceil(cx + margin))
        const y0 = Math.max(0, Math.floor(cy - margin))
        const y1 = Math.min(height - 1, Math.ceil(cy + margin))
        let both = 0
        let ideal = 0
        for (let y = y0; y <= y1; y++) {
          for (let x = x0; x <= x1; x++) {
            if (!contains(x + 0.5, y + 0.5)) continue
            ideal++
            both += own[y * width + x]
          }
        }
        const iou = both / (ideal + part.length - both)
        if (iou > best) best = iou
      }
    }
  }
  return best
}

export function strictCheck(rgb: Uint8Array, width: number, height: number, want: StrictWant): StrictResult {
  const got = checkImage(rgb, width, height)
  const classified =
    got.shapeColor === want.shapeColor &&
    got.backgroundColor === want.backgroundColor &&
    got.shape === want.shape
  const cls = classifyPixels(rgb, width * height)
  const colour = COLORS.indexOf(want.shapeColor)
  const mask = new Uint8Array(cls.length)
  for (let p = 0; p < cls.length; p++) mask[p] = cls[p] === colour ? 1 : 0
  const parts = components(mask, width, height)
  if (parts.length === 0) return { pass: false, components: 0, iou: 0, classified }
  const largest = parts.reduce((a, b) => (b.length > a.length ? b : a))
  const iou = bestIoU(largest, width, height, want.shape)
  return {
    pass: classified && parts.length === 1 && iou >= MIN_IOU,
    components: parts.length,
    iou,
    classified,
  }
}
