/**
 * Checks a file on disk against what the hub published: size, SHA-256 for LFS files, git blob SHA-1 for the
 * rest.
 * @module
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'

export interface ExpectedContent {
  readonly size: number | null
  readonly sha256: string | null
  readonly gitSha1: string | null
}

export type ContentCheck =
  | { readonly ok: true }
  | {
      readonly ok: false
      readonly what: 'size' | 'sha256' | 'git sha1'
      readonly expected: string
      readonly actual: string
    }

export async function checkContent(path: string, expected: ExpectedContent): Promise<ContentCheck> {
  const { size } = await stat(path)
  if (expected.size !== null && size !== expected.size) {
    return { ok: false, what: 'size', expected: `${expected.size} bytes`, actual: `${size} bytes` }
  }
  if (expected.sha256 !== null) {
    const actual = await digestFile(path, 'sha256')
    if (actual !== expected.sha256) return { ok: false, what: 'sha256', expected: expected.sha256, actual }
  } else if (expected.gitSha1 !== null) {
    // git hashes "blob <size>\0" followed by the content.
    const actual = await digestFile(path, 'sha1', `blob ${size}\0`)
    if (actual !== expected.gitSha1)
      return { ok: false, what: 'git sha1', expected: expected.gitSha1, actual }
  }
  return { ok: true }
}

async function digestFile(path: string, algorithm: 'sha256' | 'sha1', prefix = ''): Promise<string> {
  const hash = createHash(algorithm).update(prefix)
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
