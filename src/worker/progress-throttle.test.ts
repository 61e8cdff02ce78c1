import { describe, expect, it } from 'vitest'
import type { PipelineProgress } from '../pipelines/pipeline.js'
import { createProgressThrottle } from './progress-throttle.js'

function step(s: number, steps = 10, image = 0): PipelineProgress {
  return { image, images: 2, step: s, steps }
}

/** A pipeline yields to the event loop between steps; so do these tests. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

function harness(intervalMs: number) {
  let now = 0
  const sent: string[] = []
  const errors: unknown[] = []
  let gate: Promise<void> = Promise.resolve()
  const throttle = createProgressThrottle({
    intervalMs,
    clock: () => now,
    send: async (p) => {
      await gate
      if (p.steps === 100 && p.step === 1) throw new Error('lease lost')
      sent.push(`${p.image}:${p.step}`)
    },
    onError: (e) => errors.push(e),
  })
  return {
    throttle,
    sent,
    errors,
    tick: (ms: number) => {
      now += ms
    },
    hold: () => {
      let open: () => void = () => {}
      gate = new Promise((resolve) => {
        open = resolve
      })
      return () => open()
    },
  }
}

describe('createProgressThrottle', () => {
  it('sends at most one step per interval, but always the first and the last of each image', async () => {
    const h = harness(100)
    for (let s = 1; s <= 10; s++) {
      h.throttle.push(step(s))
      h.tick(30) // ~33 steps per second
      await nextTurn()
    }
    for (let s = 1; s <= 10; s++) {
      h.throttle.push(step(s, 10, 1))
      await nextTurn()
    }
    await h.throttle.settle()
    expect(h.sent).toEqual(['0:1', '0:5', '0:9', '0:10', '1:1', '1:10'])
  })

  it('keeps order while a write is slow, sending the newest waiting step instead of each one', async () => {
    const h = harness(1)
    const open = h.hold()
    h.throttle.push(step(1))
    for (let s = 2; s <= 6; s++) {
      h.tick(1)
      h.throttle.push(step(s))
    }
    open()
    await h.throttle.settle()
    expect(h.sent).toEqual(['0:1', '0:6'])
  })

  it('sends every step, in order, with an interval of 0, even while writes are slow', async () => {
    const h = harness(0)
    const open = h.hold()
    for (let s = 1; s <= 5; s++) h.throttle.push(step(s))
    open()
    await h.throttle.settle()
    expect(h.sent).toEqual(['0:1', '0:2', '0:3', '0:4', '0:5'])
  })

  it('reports a failed write and goes on', async () => {
    const h = harness(0)
    h.throttle.push(step(1, 100))
    h.throttle.push(step(100, 100))
    await h.throttle.settle()
    expect(h.errors).toHaveLength(1)
    expect(h.sent).toEqual(['0:100'])
  })
})
