import { describe, expect, it } from 'vitest'
import { isPigmentError } from '../../core/errors.js'
import { fakeAsset, fakeJob } from '../testing/records.js'
import { prefersAsync, toImageLink, toJobBody, toJobFilter, toSubmission } from './translate.js'

describe('native translate', () => {
  it('maps a body to GenerationInput, leaving out what was not given', () => {
    const submission = toSubmission(
      { prompt: 'a cube', width: 64, outputFormat: 'jpeg', priority: 3 },
      undefined,
    )
    expect(submission).toEqual({
      input: { prompt: 'a cube', width: 64, output: { format: 'jpeg' } },
      priority: 3,
      async: false,
    })
    expect(toSubmission({ prompt: 'x', async: false }, 'respond-async').async).toBe(false)
    expect(toSubmission({ prompt: 'x' }, 'respond-async').async).toBe(true)
  })

  it('reads respond-async among other preferences (RFC 7240)', () => {
    expect(prefersAsync('return=minimal, respond-async; wait=10')).toBe(true)
    expect(prefersAsync('RESPOND-ASYNC')).toBe(true)
    expect(prefersAsync('return=representation')).toBe(false)
    expect(prefersAsync(undefined)).toBe(false)
  })

  it('shows a job with its request, images and ISO times; queue position only while queued', () => {
    const job = fakeJob()
    const asset = fakeAsset()
    const body = toJobBody(job, [toImageLink(asset, 'http://signed', 'http://file')], 4)
    expect(body).toMatchObject({
      id: job.id,
      state: 'succeeded',
      queuePosition: null,
      request: { prompt: 'a red cube', outputFormat: 'png', quality: 95, seed: 2025 },
      images: [{ assetId: asset.id, url: 'http://signed', fileUrl: 'http://file' }],
      createdAt: '2026-01-02T03:04:05.000Z',
    })
    expect(toJobBody(fakeJob({ state: 'queued' }), [], 4).queuePosition).toBe(4)
  })

  it('turns list queries into filters, refusing unknown states and bad dates by field', () => {
    expect(
      toJobFilter(
        { limit: 20, state: 'queued,running', model: 'm', createdAfter: '2026-01-01T00:00:00Z' },
        'key_1',
      ),
    ).toEqual({
      state: ['queued', 'running'],
      model: 'm',
      createdAfter: new Date('2026-01-01T00:00:00Z'),
      ownerKeyId: 'key_1',
    })
    for (const [query, field] of [
      [{ limit: 20, state: 'queued,napping' }, 'state'],
      [{ limit: 20, createdBefore: 'yesterday' }, 'createdBefore'],
    ] as const) {
      try {
        toJobFilter(query)
        throw new Error('expected a rejection')
      } catch (error) {
        expect(isPigmentError(error, 'VALIDATION_FAILED') && error.field).toBe(field)
      }
    }
  })
})
