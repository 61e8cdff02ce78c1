/**
 * Where pulled models live: `$PIGMENT_MODELS_DIR`, else `$XDG_CACHE_HOME/pigment/models`, else
 * `~/.cache/pigment/models`; one folder per repo, named `owner--name` as the Hugging Face cache does.
 * @module
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export function modelsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIGMENT_MODELS_DIR) return resolve(env.PIGMENT_MODELS_DIR)
  const cacheHome = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache')
  return join(cacheHome, 'pigment', 'models')
}

/** `owner/name` → `owner--name`. */
export function repoFolderName(repo: string): string {
  return repo.split('/').join('--')
}
