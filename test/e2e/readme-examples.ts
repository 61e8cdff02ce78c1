/**
 * The examples of README.md, read from its fenced code blocks so that a new section's examples are checked
 * too. An example that needs something a fresh install does not have (a ComfyUI server, a GPU, a model from
 * the hub) is marked by an HTML comment on the line before its block:
 *
 *     <!-- example: skip (needs a ComfyUI server on 127.0.0.1:8188) -->
 *
 * @module
 */
import { readFileSync } from 'node:fs'

export interface CodeBlock {
  readonly lang: string
  readonly code: string
  /** 1-based line of the opening fence, for messages. */
  readonly line: number
  /** Why the block is not run, from its `<!-- example: skip (…) -->` marker. */
  readonly skip?: string
}

export interface Example {
  readonly kind: 'curl' | 'js'
  readonly code: string
  readonly line: number
  readonly skip?: string
}

const SKIP_MARKER = /^<!--\s*example:\s*skip\b\s*(.*?)\s*-->$/
/** Where the README's examples expect the server (`npm start`'s defaults). */
export const README_ADDRESS = /(?:http:\/\/)?(?:127\.0\.0\.1|localhost):7860/g

export function readmeBlocks(path: URL): CodeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n')
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i])
    if (!open) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i])
    let before = start - 1
    while (before >= 0 && lines[before].trim() === '') before--
    const marker = before >= 0 ? SKIP_MARKER.exec(lines[before].trim()) : null
    blocks.push({
      lang: open[1],
      code: body.join('\n'),
      line: start + 1,
      ...(marker ? { skip: marker[1] || 'marked skip' } : {}),
    })
  }
  return blocks
}

/** Shell lines of a block with `\`-continuations joined and comment lines dropped. */
export function shellCommands(code: string): string[] {
  return code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
}

/**
 * The requests to the server: every `curl` command of a shell block, and every JavaScript block that talks to
 * the server's address.
 */
export function serverExamples(blocks: readonly CodeBlock[]): Example[] {
  const examples: Example[] = []
  for (const block of blocks) {
    const skip = block.skip === undefined ? {} : { skip: block.skip }
    if (block.lang === 'sh') {
      for (const command of shellCommands(block.code)) {
        if (command.startsWith('curl '))
          examples.push({ kind: 'curl', code: command, line: block.line, ...skip })
      }
    } else if ((block.lang === 'js' || block.lang === 'ts') && block.code.match(README_ADDRESS)) {
      examples.push({ kind: 'js', code: block.code, line: block.line, ...skip })
    }
  }
  return examples
}
