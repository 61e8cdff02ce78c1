/**
 * Just enough of the Prometheus text exposition format (version 0.0.4) for Pigment's handful of metrics:
 * counters and histograms with labels, and gauges read when scraped. No dependency.
 * @module
 */

export type Labels = Readonly<Record<string, string>>

interface Metric {
  readonly name: string
  render(): Promise<string[]>
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"')
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels)
  if (entries.length === 0) return ''
  return `{${entries.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(',')}}`
}

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

/** Label sets are keyed by their rendered form, so equal labels share one series. */
function seriesKey(labels: Labels): string {
  return formatLabels(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))))
}

export class Counter implements Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = seriesKey(labels)
    const series = this.#values.get(key) ?? { labels, value: 0 }
    series.value += by
    this.#values.set(key, series)
  }

  async render(): Promise<string[]> {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const { labels, value } of this.#values.values()) {
      lines.push(`${this.name}${formatLabels(labels)} ${formatNumber(value)}`)
    }
    return lines
  }
}

export class Histogram implements Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>()
  readonly #buckets: readonly number[]
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.#buckets = [...buckets].sort((a, b) => a - b)
  }

  observe(value: number, labels: Labels = {}): void {
    const key = seriesKey(labels)
    const series = this.#series.get(key) ?? { labels, counts: this.#buckets.map(() => 0), sum: 0, count: 0 }
    this.#buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i]++
    })
    series.sum += value
    series.count++
    this.#series.set(key, series)
  }

  async render(): Promise<string[]> {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const { labels, counts, sum, count } of this.#series.values()) {
      this.#buckets.forEach((bound, i) => {
        lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: formatNumber(bound) })} ${counts[i]}`)
      })
      lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${count}`)
      lines.push(`${this.name}_sum${formatLabels(labels)} ${formatNumber(sum)}`)
      lines.push(`${this.name}_count${formatLabels(labels)} ${count}`)
    }
    return lines
  }
}

/** A gauge whose values are read when scraped (e.g. queue depth from the database). */
export class CollectedGauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly collect: () => Promise<readonly { readonly labels: Labels; readonly value: number }[]>,
  ) {}

  async render(): Promise<string[]> {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`]
    for (const { labels, value } of await this.collect()) {
      lines.push(`${this.name}${formatLabels(labels)} ${formatNumber(value)}`)
    }
    return lines
  }
}

export class Registry {
  readonly #metrics: Metric[] = []

  register<T extends Metric>(metric: T): T {
    this.#metrics.push(metric)
    return metric
  }

  /** The exposition text; content type `text/plain; version=0.0.4`. */
  async render(): Promise<string> {
    const blocks = await Promise.all(this.#metrics.map((metric) => metric.render()))
    return `${blocks.flat().join('\n')}\n`
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
