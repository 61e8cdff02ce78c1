import { describe, expect, it } from 'vitest'
import { CollectedGauge, Counter, Histogram, Registry } from './prometheus.js'

describe('Prometheus exposition', () => {
  it('renders counters, cumulative histogram buckets and collected gauges', async () => {
    const registry = new Registry()
    const counter = registry.register(new Counter('x_total', 'Things.'))
    const histogram = registry.register(new Histogram('d_seconds', 'Durations.', [1, 0.1]))
    registry.register(
      new CollectedGauge('depth', 'Depth.', async () => [{ labels: { state: 'queued' }, value: 2 }]),
    )
    counter.inc({ code: 'A"B\\' })
    counter.inc({ code: 'A"B\\' }, 2)
    for (const value of [0.05, 0.5, 3]) histogram.observe(value)
    expect(await registry.render()).toBe(
      [
        '# HELP x_total Things.',
        '# TYPE x_total counter',
        'x_total{code="A\\"B\\\\"} 3',
        '# HELP d_seconds Durations.',
        '# TYPE d_seconds histogram',
        'd_seconds_bucket{le="0.1"} 1',
        'd_seconds_bucket{le="1"} 2',
        'd_seconds_bucket{le="+Inf"} 3',
        'd_seconds_sum 3.55',
        'd_seconds_count 3',
        '# HELP depth Depth.',
        '# TYPE depth gauge',
        'depth{state="queued"} 2',
        '',
      ].join('\n'),
    )
  })
})
