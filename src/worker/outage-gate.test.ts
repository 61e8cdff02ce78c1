import { describe, expect, it } from 'vitest'
import { OutageGate } from './outage-gate.js'

function recordingLogger() {
  const lines: { level: string; message: string }[] = []
  const log = (level: string) => (_fields: object, message: string) => lines.push({ level, message })
  return { lines, logger: { info: log('info'), warn: log('warn'), error: log('error') } }
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('OutageGate', () => {
  it('logs one line per outage however many errors it causes, probes with backoff, and reopens', async () => {
    let up = false
    let probes = 0
    const events: string[] = []
    const { lines, logger } = recordingLogger()
    const gate = new OutageGate({
      service: 'records database',
      probe: async () => {
        probes++
        if (!up) throw new Error('ECONNREFUSED')
      },
      logger,
      onDown: () => events.push('down'),
      onUp: () => events.push('up'),
      minDelayMs: 5,
      maxDelayMs: 40,
    })
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    for (let i = 0; i < 20; i++) expect(await gate.report(refused)).toBe(true)
    expect(gate.down).toBe(true)
    await until(() => probes >= 4)
    up = true
    await until(() => !gate.down)
    gate.stop()
    expect(events).toEqual(['down', 'up'])
    expect(lines.map((line) => line.level)).toEqual(['warn', 'info'])
    expect(lines[0].message).toMatch(/records database unreachable/)
    expect(lines[1].message).toMatch(/reachable again/)
  })

  it('hands back an error the service survives: the probe answers, so it is no outage', async () => {
    const { lines, logger } = recordingLogger()
    const gate = new OutageGate({ service: 'redis', probe: async () => 'PONG', logger })
    expect(await gate.report(new Error('WRONGTYPE'))).toBe(false)
    expect(gate.down).toBe(false)
    expect(lines).toEqual([])
  })

  it('takes an error as an outage when the service does not answer its probe', async () => {
    const { lines, logger } = recordingLogger()
    const gate = new OutageGate({
      service: 'redis',
      probe: async () => {
        throw new Error('Connection is closed.')
      },
      logger,
      minDelayMs: 10_000,
    })
    expect(await gate.report(new Error('Connection is closed.'))).toBe(true)
    gate.stop()
    expect(lines.map((line) => line.message)).toEqual([
      'redis unreachable: taking no new jobs, retrying with backoff until it answers',
    ])
  })
})
