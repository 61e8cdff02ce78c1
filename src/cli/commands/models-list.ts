/**
 * `pigment models list`: the models in the cache directory and those bundled with the package, with family
 * and size on disk.
 * @module
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { listModels, type ModelListing, modelsDir } from '../../pipelines/model-registry.js'

export interface ModelRow extends ModelListing {
  /** Bytes of all files in the folder. */
  readonly bytes: number
}

interface Output {
  readonly stdout: NodeJS.WritableStream
}

export async function listModelRows(): Promise<ModelRow[]> {
  const listings = await listModels()
  return Promise.all(listings.map(async (listing) => ({ ...listing, bytes: await folderBytes(listing.dir) })))
}

export function formatModelTable(rows: readonly ModelRow[], cacheDir: string): string {
  if (rows.length === 0)
    return `no models (the cache is ${cacheDir}; try \`pigment models pull owner/name\`)\n`
  const table = [
    ['NAME', 'FAMILY', 'SIZE', 'SOURCE', 'PATH'],
    ...rows.map((row) => [
      row.name,
      row.family ?? (row.problem === undefined ? '?' : 'broken'),
      formatBytes(row.bytes),
      row.source,
      row.dir,
    ]),
  ]
  const widths = table[0].map((_, column) => Math.max(...table.map((line) => line[column].length)))
  const lines = table.map((line) =>
    line
      .map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd(),
  )
  const problems = rows.filter((row) => row.problem !== undefined).map((row) => `${row.name}: ${row.problem}`)
  return `${[...lines, ...(problems.length > 0 ? ['', ...problems] : [])].join('\n')}\n`
}

export function addListCommand(models: Command, output: Output = { stdout: process.stdout }): Command {
  models
    .command('list')
    .description('list the models in the model cache and the bundled ones, with family and size')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) => {
      const rows = await listModelRows()
      output.stdout.write(
        options.json ? `${JSON.stringify(rows, null, 2)}\n` : formatModelTable(rows, modelsDir()),
      )
    })
  return models
}

/** 1234567 → "1.2 MB" (decimal units, as the hub shows sizes). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

async function folderBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const sizes = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => (await stat(join(entry.parentPath, entry.name))).size),
  )
  return sizes.reduce((sum, size) => sum + size, 0)
}
