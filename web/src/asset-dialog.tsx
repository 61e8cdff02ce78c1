import { useEffect, useRef, useState } from 'preact/hooks'
import { AuthImage } from './auth-image.js'
import type { Asset } from './types.js'

const SHOWN = [
  'prompt',
  'negativePrompt',
  'model',
  'steps',
  'cfg',
  'sampler',
  'scheduler',
  'seed',
  'width',
  'height',
] as const

/** One image at full size with its parameters: use its settings, download, delete. A modal <dialog>. */
export function AssetDialog(props: {
  asset: Asset
  onClose: () => void
  onUse: (asset: Asset) => void
  onDelete: (asset: Asset) => void
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const [url, setUrl] = useState<string | null>(null)
  const [confirming, setConfirming] = useState(false)
  const { asset } = props
  useEffect(() => {
    const dialog = ref.current
    if (dialog !== null && !dialog.open) dialog.showModal()
  }, [])
  const parameters: Record<string, unknown> = {
    ...asset.parameters,
    seed: asset.seed,
    width: asset.width,
    height: asset.height,
    model: asset.model,
  }
  return (
    <dialog ref={ref} class="asset-dialog" aria-labelledby="asset-heading" onClose={props.onClose}>
      <div class="dialog-head">
        <h2 id="asset-heading">Image {asset.index + 1}</h2>
        <button type="button" class="secondary" onClick={() => ref.current?.close()} aria-label="Close">
          ✕
        </button>
      </div>
      <div class="dialog-body">
        <div class="full-image">
          <AuthImage
            assetId={asset.id}
            alt={String(asset.parameters.prompt ?? 'generated image')}
            onUrl={setUrl}
          />
        </div>
        <dl class="parameters">
          {SHOWN.filter((name) => parameters[name] !== undefined && parameters[name] !== '').map((name) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{String(parameters[name])}</dd>
            </div>
          ))}
          <div>
            <dt>created</dt>
            <dd>{new Date(asset.createdAt).toLocaleString()}</dd>
          </div>
        </dl>
      </div>
      <div class="dialog-actions">
        <button
          type="button"
          class="primary"
          onClick={() => {
            props.onUse(asset)
            ref.current?.close()
          }}
        >
          Use these settings
        </button>
        {url === null ? (
          <span class="button-like disabled">Download</span>
        ) : (
          <a
            class="button-like"
            href={url}
            download={`pigment-${asset.id}.${asset.format === 'jpeg' ? 'jpg' : asset.format}`}
          >
            Download
          </a>
        )}
        {confirming ? (
          <button type="button" class="danger" onClick={() => props.onDelete(asset)}>
            Really delete
          </button>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
      </div>
    </dialog>
  )
}
