/**
 * The Beta(a, b) distribution's CDF (the regularized incomplete beta function I_x(a, b)) and its inverse,
 * as needed by the `beta` schedule (scipy `beta.ppf`). Float64, accurate to about 1e-14.
 * @module
 */

/** Lanczos approximation (g = 7, n = 9; Godfrey's coefficients), relative error ~1e-15 for x > 0. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  const z = x - 1
  let sum = LANCZOS[0]
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i)
  const t = z + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

const TINY = 1e-300

/**
 * Continued fraction of I_x(a, b) (Abramowitz & Stegun 26.5.8) evaluated with the modified Lentz method:
 * returns K = 1 + d₁/(1 + d₂/(1 + …)) so that I_x = x^a (1−x)^b / (a·B(a,b)·K). Converges fast for
 * x < (a+1)/(a+b+2).
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  let f = 1
  let c = 1
  let d = 0
  for (let j = 1; j <= 1000; j++) {
    const m = Math.floor(j / 2)
    const term =
      j % 2 === 1
        ? (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        : (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
    d = 1 + term * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + term / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return f
}

/** The regularized incomplete beta function I_x(a, b) = P(X ≤ x) for X ~ Beta(a, b). */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  if (x > (a + 1) / (a + b + 2)) return 1 - betaCdf(1 - x, b, a)
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - (logGamma(a) + logGamma(b) - logGamma(a + b))
  return Math.exp(logFront) / (a * betaContinuedFraction(x, a, b))
}

/**
 * The quantile function (scipy `beta.ppf(p, a, b)`): bisection on the monotone CDF down to adjacent doubles.
 * For a = b the distribution is symmetric and the median is exactly ½ (the `beta` schedule rounds ½·(M−1) to
 * even, so that value must not drift).
 */
export function betaQuantile(p: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`betaQuantile: a and b must be positive, got ${a}, ${b}`)
  if (Number.isNaN(p) || p < 0 || p > 1) throw new RangeError(`betaQuantile: p must be in [0, 1], got ${p}`)
  if (p === 0) return 0
  if (p === 1) return 1
  if (a === b && p === 0.5) return 0.5
  let lo = 0
  let hi = 1
  for (let i = 0; i < 2000; i++) {
    const mid = lo + (hi - lo) / 2
    if (mid <= lo || mid >= hi) break
    if (betaCdf(mid, a, b) < p) lo = mid
    else hi = mid
  }
  return lo + (hi - lo) / 2
}
