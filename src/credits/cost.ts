/**
 * What a generation costs, in credits. One function, used to reserve credits at submit, to settle them when
 * the job ends, and to answer Scenario's `dryRun`:
 *
 *     credits = ceil( width × height / 2^20  ×  steps  ×  images  ×  modelFactor  /  10 , to 0.001 )
 *
 * so one credit buys ten megapixel-steps: a 1024×1024 image at 30 steps costs 3 credits, a 512×512 image at
 * 20 steps 0.5. `modelFactor` comes from the configuration (`credits.modelFactors`, default 1) so a larger
 * model can cost more per step. Amounts are integer milli-credits inside Pigment, so reservations,
 * settlements and refunds add up exactly; the API shows credits (milli / 1000).
 * @module
 */

/** The parts of a request that decide its cost. */
export interface CostedSettings {
  readonly model: string
  readonly width: number
  readonly height: number
  readonly steps: number
  /** Images in the request (or, at settlement, images actually made). */
  readonly n: number
}

export type ModelFactors = Readonly<Record<string, number>>

const PIXELS_PER_MEGAPIXEL = 2 ** 20
const MEGAPIXEL_STEPS_PER_CREDIT = 10
const MILLI = 1000

/** width × height × steps × images: the work a request asks for, also what usage reports count. */
export function pixelSteps(settings: Omit<CostedSettings, 'model'>): number {
  return settings.width * settings.height * settings.steps * settings.n
}

/** The cost in milli-credits (an integer, rounded up). */
export function costMilli(settings: CostedSettings, factors: ModelFactors = {}): number {
  const factor = factors[settings.model] ?? 1
  const megapixelSteps = pixelSteps(settings) / PIXELS_PER_MEGAPIXEL
  // the epsilon absorbs float error, so an exact product (e.g. 3000) is not pushed up to 3001
  return Math.ceil((megapixelSteps * factor * MILLI) / MEGAPIXEL_STEPS_PER_CREDIT - 1e-9)
}

/** The cost in credits, as the API shows it. */
export function costCredits(settings: CostedSettings, factors: ModelFactors = {}): number {
  return costMilli(settings, factors) / MILLI
}

/** Megapixel-steps of a request (for usage reports). */
export function megapixelSteps(settings: Omit<CostedSettings, 'model'>): number {
  return pixelSteps(settings) / PIXELS_PER_MEGAPIXEL
}
