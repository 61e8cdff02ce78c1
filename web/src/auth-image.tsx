import { useEffect, useState } from 'preact/hooks'
import { imageUrl } from './api.js'

/**
 * An image of the API. With `signedUrl` (the expiring link the API hands out, no key needed) it is shown
 * straight from that link, which costs no request against the key's rate limit; when that link cannot be
 * loaded (expired, or another origin the page's CSP refuses) and always without one, the bytes come from
 * `/api/assets/:id/file` with the key in a header and are shown from a blob: URL, revoked on unmount.
 */
export function AuthImage(props: {
  assetId: string
  alt: string
  signedUrl?: string
  onUrl?: (url: string) => void
}) {
  const [useSigned, setUseSigned] = useState(props.signedUrl !== undefined)
  const [url, setUrl] = useState<string | null>(null)
  const [failed, setFailed] = useState(false)
  const { assetId, onUrl } = props
  useEffect(() => {
    if (useSigned) return
    const controller = new AbortController()
    let made: string | null = null
    imageUrl(assetId, controller.signal)
      .then((blobUrl) => {
        made = blobUrl
        setUrl(blobUrl)
        onUrl?.(blobUrl)
      })
      .catch(() => {
        if (!controller.signal.aborted) setFailed(true)
      })
    return () => {
      controller.abort()
      if (made !== null) URL.revokeObjectURL(made)
    }
  }, [assetId, onUrl, useSigned])
  if (useSigned && props.signedUrl !== undefined) {
    return <img src={props.signedUrl} alt={props.alt} onError={() => setUseSigned(false)} />
  }
  if (failed) return <span class="image-missing">image unavailable</span>
  if (url === null) return <span class="image-loading">loading…</span>
  return <img src={url} alt={props.alt} />
}
