import { AuthImage } from './auth-image.js'
import type { Asset } from './types.js'

export function Gallery(props: {
  assets: readonly Asset[]
  loading: boolean
  hasMore: boolean
  onMore: () => void
  onRefresh: () => void
  onOpen: (asset: Asset) => void
}) {
  return (
    <section class="gallery" aria-labelledby="gallery-heading">
      <div class="section-head">
        <h2 id="gallery-heading">Your images</h2>
        <button type="button" class="secondary" onClick={props.onRefresh}>
          Refresh
        </button>
      </div>
      {props.assets.length === 0 && !props.loading && <p class="empty">No images yet: generate one.</p>}
      <ul class="grid">
        {props.assets.map((asset) => (
          <li key={asset.id}>
            <button
              type="button"
              class="thumb"
              onClick={() => props.onOpen(asset)}
              aria-label={`Open image: ${String(asset.parameters.prompt ?? '')}`.slice(0, 200)}
            >
              <AuthImage
                assetId={asset.id}
                signedUrl={asset.url}
                alt={String(asset.parameters.prompt ?? 'generated image')}
              />
            </button>
          </li>
        ))}
      </ul>
      {props.hasMore && (
        <button type="button" class="secondary" onClick={props.onMore} disabled={props.loading}>
          {props.loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  )
}
