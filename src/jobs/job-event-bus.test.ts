import { describe, expect, it } from 'vitest'
import type { Job } from '../core/job.js'
import { JobEventBus } from './job-event-bus.js'
import type { JobEvent } from './job-queue.js'

function event(jobId: string, seq: number, type: JobEvent['type'] = 'progress'): JobEvent {
  return { seq, type, job: { id: jobId } as Job }
}

describe('JobEventBus', () => {
  it('drops an event older than one already delivered (a slower writer’s news)', () => {
    const bus = new JobEventBus()
    const seen: number[] = []
    bus.subscribe('a', (e) => seen.push(e.seq))
    for (const seq of [1, 3, 2, 4]) bus.publish(event('a', seq))
    expect(seen).toEqual([1, 3, 4])
  })

  it('replays only what its per-job buffer still holds', () => {
    const bus = new JobEventBus({ eventsPerJob: 3 })
    for (let seq = 1; seq <= 5; seq++) bus.publish(event('a', seq))
    const replayed: number[] = []
    bus.subscribe('a', (e) => replayed.push(e.seq), 0)
    expect(replayed).toEqual([3, 4, 5])
  })

  it('forgets the least recently active jobs first, but not one with a listener', () => {
    const bus = new JobEventBus({ jobs: 2 })
    bus.subscribe('watched', () => {})
    bus.publish(event('watched', 1))
    bus.publish(event('b', 1))
    bus.publish(event('c', 1))
    const replay = (jobId: string) => {
      const seqs: number[] = []
      bus.subscribe(jobId, (e) => seqs.push(e.seq), 0)()
      return seqs
    }
    expect(replay('watched')).toEqual([1])
    expect(replay('b')).toEqual([])
    expect(replay('c')).toEqual([1])
  })

  it('keeps delivering to other listeners when one throws, and reports the error', () => {
    const failures: unknown[] = []
    const bus = new JobEventBus({ onListenerError: (e) => failures.push(e) })
    const seen: number[] = []
    bus.subscribe('a', () => {
      throw new Error('socket closed')
    })
    bus.subscribe('a', (e) => seen.push(e.seq))
    bus.publish(event('a', 1))
    expect(seen).toEqual([1])
    expect(failures).toHaveLength(1)
  })
})
