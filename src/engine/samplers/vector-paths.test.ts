/**
 * Every sampler gives the same result, bit for bit, whether its vector arithmetic runs in WebAssembly or in
 * the JavaScript fallback, on the VE and the flow frame: a seed reproduces an image on any runtime.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { flowSampling } from '../model-sampling.js'
import { sample } from '../sample.js'
import { SAMPLER_NAMES } from '../sampler-names.js'
import type { Denoiser, NoiseSource } from '../types.js'
import { useJavaScriptVectors } from '../vector-ops.js'

/** 10 elements: two whole 4-float vectors and a remainder. */
const SIZE = 10

const denoise: Denoiser = (x, sigma) => x.map((v, i) => (v + 0.1 * Math.sin(i)) / (1 + sigma ** 2))

function seededNoise(): NoiseSource {
  let k = 1
  return (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(12.9898 * (k + i) + 78.233 * k++ * 0.37))
}

async function run(name: string, flow: boolean, javaScript: boolean): Promise<number[]> {
  const previous = useJavaScriptVectors(javaScript)
  try {
    const sigmas = flow ? [1, 0.85, 0.7, 0.5, 0.3, 0.1, 0] : [14.6146, 6, 2.5, 1, 0.4, 0.1, 0]
    const x = Float32Array.from({ length: SIZE }, (_, i) => sigmas[0] * Math.cos(i + 0.3))
    const result = await sample(name, denoise, x, sigmas, {
      noise: seededNoise(),
      sampling: flow ? flowSampling() : undefined,
    })
    return Array.from(result)
  } finally {
    useJavaScriptVectors(previous)
  }
}

afterEach(() => {
  useJavaScriptVectors(false)
})

describe('WebAssembly and JavaScript vector paths', () => {
  for (const flow of [false, true]) {
    it(`agree bit for bit for every sampler (${flow ? 'flow' : 'VE'})`, async () => {
      for (const name of SAMPLER_NAMES) {
        const wasm = await run(name, flow, false)
        const js = await run(name, flow, true)
        expect(wasm, name).toEqual(js)
        expect(wasm.every(Number.isFinite), name).toBe(true)
      }
    })
  }
})
