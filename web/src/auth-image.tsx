import { useEffect, useState } from 'preact/hooks'
import { imageUrl } from './api.js'

/** An API image fetched with the key in a header and shown from a blob: URL (revoked on unmount). */
export function AuthImage(props: {
  assetId: string
  alt: string
  class?: string
  onUrl?: (url: string) => void
}) {
  const [url, setUrl] = useState<string | null>(null)
  const [failed, setFailed] = useState(false)
  const { assetId, onUrl } = props
  useEffect(() => {
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
  }, [assetId, onUrl])
  if (failed) return <span class="image-missing">image unavailable</span>
  if (url === null) return <span class="image-loading">loading…</span>
  return <img src={url} alt={props.alt} class={props.class} />
}
