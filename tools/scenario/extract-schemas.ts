/**
 * Copies the part of Scenario's OpenAPI document (seed `004_…`) that Pigment's Scenario dialect answers for
 * into `test/fixtures/scenario/openapi-subset.json`: the operations it serves and every component schema
 * they reach through `$ref`, plus the error schemas the document declares but no operation references. Tests
 * validate responses against this copy, so the repository does not need `../shared` to run them.
 *
 *   npx tsx tools/scenario/extract-schemas.ts [path/to/004_….txt]
 * @module
 */
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const DEFAULT_SEED = join(ROOT, '..', 'shared', 'seeds', '004_01c8ee9ccddebe3d.txt')
const OUTPUT = join(ROOT, 'test', 'fixtures', 'scenario', 'openapi-subset.json')

/** method + path of each operation the dialect serves. */
const OPERATIONS: readonly (readonly [string, string])[] = [
  ['post', '/generate/txt2img'],
  ['get', '/jobs'],
  ['get', '/jobs/{jobId}'],
  ['post', '/jobs/{jobId}/action'],
  ['get', '/assets'],
  ['delete', '/assets'],
  ['get', '/assets/{assetId}'],
  ['get', '/models'],
  ['get', '/models/{modelId}'],
  ['get', '/usages'],
]

/** Declared in components but referenced by no operation: the error bodies. */
const ERROR_SCHEMAS = [
  'BadRequestResponse',
  'UnauthorizedResponse',
  'ForbiddenResponse',
  'NotFoundResponse',
  'TooManyRequests',
  'InternalServerErrorResponse',
  'NotImplementedResponse',
  'ServiceUnavailableResponse',
]

const SCHEMA_REF = '#/components/schemas/'

interface OpenApiDocument {
  readonly openapi: string
  readonly info: unknown
  readonly servers?: unknown
  readonly paths: Record<string, Record<string, unknown>>
  readonly components: { readonly schemas: Record<string, unknown>; readonly securitySchemes?: unknown }
}

function collectRefs(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, found)
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string' && item.startsWith(SCHEMA_REF)) {
        found.add(item.slice(SCHEMA_REF.length))
      } else {
        collectRefs(item, found)
      }
    }
  }
}

/** The named schemas and everything they reference, transitively. */
function refClosure(document: OpenApiDocument, roots: Iterable<string>): string[] {
  const done = new Set<string>()
  const pending = [...roots]
  while (pending.length > 0) {
    const name = pending.pop()!
    if (done.has(name)) continue
    const schema = document.components.schemas[name]
    if (schema === undefined) throw new Error(`schema ${name} is referenced but not defined`)
    done.add(name)
    const nested = new Set<string>()
    collectRefs(schema, nested)
    pending.push(...nested)
  }
  return [...done].sort()
}

export function extractSubset(document: OpenApiDocument, source: { name: string; sha256: string }) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [method, path] of OPERATIONS) {
    const operation = document.paths[path]?.[method]
    if (operation === undefined) throw new Error(`the document has no ${method.toUpperCase()} ${path}`)
    paths[path] = { ...paths[path], [method]: operation }
  }
  const roots = new Set<string>(ERROR_SCHEMAS)
  collectRefs(paths, roots)
  const schemas = Object.fromEntries(
    refClosure(document, roots).map((name) => [name, document.components.schemas[name]]),
  )
  return {
    openapi: document.openapi,
    info: document.info,
    servers: document.servers,
    'x-pigment-source': { ...source, tool: 'tools/scenario/extract-schemas.ts' },
    paths,
    components: { securitySchemes: document.components.securitySchemes, schemas },
  }
}

function main(): void {
  const seedPath = process.argv[2] ?? DEFAULT_SEED
  const text = readFileSync(seedPath, 'utf8')
  const sha256 = createHash('sha256').update(text).digest('hex')
  const subset = extractSubset(JSON.parse(text) as OpenApiDocument, { name: basename(seedPath), sha256 })
  writeFileSync(OUTPUT, `${JSON.stringify(subset, null, 1)}\n`)
  const count = Object.keys(subset.components.schemas).length
  process.stdout.write(`wrote ${OUTPUT} (${count} schemas)\n`)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main()
