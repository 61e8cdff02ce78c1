/**
 * Turns a `/files/<key>?expires=…&sig=…` request into the storage key it grants, using the local store's
 * secret: a bad or missing signature is 403, an expired link 410, a key with `..` or odd characters 400.
 * @module
 */
import type { SignedFiles } from '../api/shared/deps.js'
import { errors } from '../core/errors.js'
import { validateKey } from '../storage/blob-key.js'
import type { LocalStore } from '../storage/local-store.js'

const PREFIX = '/files/'

export function signedFiles(store: LocalStore): SignedFiles {
  return {
    verify(pathAndQuery: string): string {
      const url = new URL(pathAndQuery, 'http://pigment.invalid')
      if (!url.pathname.startsWith(PREFIX)) throw errors.NOT_FOUND('no such file')
      let key: string
      try {
        key = decodeURIComponent(url.pathname.slice(PREFIX.length))
      } catch {
        throw errors.STORAGE_BAD_KEY('the file path is not valid percent-encoding', { field: 'key' })
      }
      validateKey(key)
      const expires = url.searchParams.get('expires') ?? undefined
      const sig = url.searchParams.get('sig') ?? undefined
      const check = store.verify(key, expires, sig)
      if (check === 'expired')
        throw errors.STORAGE_URL_EXPIRED('this image link has expired; ask the API for a new one')
      if (check !== 'ok')
        throw errors.STORAGE_BAD_SIGNATURE('this image link is not valid (bad or missing signature)')
      return key
    },
  }
}
