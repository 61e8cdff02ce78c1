/**
 * Which repo files to pull. Patterns follow huggingface_hub's `allow_patterns`: shell-style globs matched
 * against the whole repo path, where `*` also crosses `/` (so `*.onnx` matches `unet/model.onnx`), and a
 * pattern ending in `/` means everything under that folder.
 * @module
 */

/** Everything an ONNX model folder needs: manifests, configs, graphs and their external weights, tokenizers. */
export const DEFAULT_INCLUDE: readonly string[] = Object.freeze([
  '*.json',
  '*.txt',
  '*.onnx',
  '*.onnx_data',
  '*.onnx.data',
  '*.model',
])

export function matchesAny(path: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => globToRegExp(pattern).test(path))
}

/** fnmatch semantics: `*` any run, `?` one character, `[abc]` / `[!abc]` a set; everything else literal. */
export function globToRegExp(pattern: string): RegExp {
  const glob = pattern.endsWith('/') ? `${pattern}*` : pattern
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]
    if (char === '*') source += '.*'
    else if (char === '?') source += '.'
    else if (char === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close === -1) {
        source += '\\['
        continue
      }
      const body = glob.slice(i + 1, close)
      const negated = body.startsWith('!')
      const members = (negated ? body.slice(1) : body).replace(/[\\\][^]/g, '\\$&')
      source += `[${negated ? '^' : ''}${members}]`
      i = close
    } else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 's')
}
