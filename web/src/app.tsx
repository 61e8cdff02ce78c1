import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, api, storedKey, storeKey } from './api.js'
import { AssetDialog } from './asset-dialog.js'
import { EMPTY_FORM, type FormValues, fromAsset, toGenerationBody, withModelDefaults } from './form-values.js'
import { Gallery } from './gallery.js'
import { GenerateForm } from './generate-form.js'
import { watchJob } from './job-events.js'
import { JobPanel, type JobWatch } from './job-panel.js'
import { KeyPanel } from './key-panel.js'
import { ShowApi } from './show-api.js'
import type { Asset, Caller, Job, Model, SamplerList } from './types.js'

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  return new ApiError(0, 'NETWORK', error instanceof Error ? error.message : String(error))
}

function watchOf(job: Job): JobWatch {
  // The schema types a state as a string; an expired job had succeeded before its images went.
  const phase = (job.state === 'expired' ? 'succeeded' : job.state) as JobWatch['phase']
  return {
    job,
    phase,
    position: job.queuePosition,
    progress: job.progress,
    preview: null,
    canceling: false,
    error: null,
  }
}

export function App() {
  const [caller, setCaller] = useState<Caller | null>(null)
  const [authError, setAuthError] = useState<ApiError | null>(null)
  const [hasKey, setHasKey] = useState(storedKey() !== '')
  const [models, setModels] = useState<readonly Model[]>([])
  const [samplers, setSamplers] = useState<SamplerList>({ samplers: [], schedulers: [] })
  const [values, setValues] = useState<FormValues>(EMPTY_FORM)
  const [watch, setWatch] = useState<JobWatch | null>(null)
  const [submitError, setSubmitError] = useState<ApiError | null>(null)
  const [assets, setAssets] = useState<readonly Asset[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [loadingAssets, setLoadingAssets] = useState(false)
  const [opened, setOpened] = useState<Asset | null>(null)
  const events = useRef<AbortController | null>(null)

  const loadAssets = useCallback(async (from: string | null) => {
    setLoadingAssets(true)
    try {
      const page = await api.assets(from)
      setAssets((shown) => (from === null ? page.assets : [...shown, ...page.assets]))
      setCursor(page.nextCursor)
    } catch (error) {
      setSubmitError(asApiError(error))
    } finally {
      setLoadingAssets(false)
    }
  }, [])

  const loadAll = useCallback(async () => {
    try {
      const me = await api.me()
      setCaller(me)
      setAuthError(null)
      const [list, names] = await Promise.all([api.models(), api.samplers()])
      setModels(list.models)
      setSamplers(names)
      const preferred = list.models.find((m) => m.isDefault) ?? list.models[0]
      setValues((current) =>
        preferred === undefined || list.models.some((m) => m.name === current.model)
          ? current
          : withModelDefaults(current, preferred),
      )
      await loadAssets(null)
    } catch (error) {
      const failure = asApiError(error)
      setCaller(null)
      setAuthError(failure)
      setAssets([])
    }
  }, [loadAssets])

  useEffect(() => {
    void loadAll()
    return () => events.current?.abort()
  }, [loadAll])

  const useKey = (key: string) => {
    storeKey(key)
    setHasKey(key !== '')
    void loadAll()
  }

  const finish = (job: Job) => {
    setWatch((current) => ({ ...(current ?? watchOf(job)), ...watchOf(job), preview: null }))
    if (job.state === 'succeeded') {
      // A random seed is shown afterwards, so the image can be made again by locking it.
      setValues((current) => (current.seedLocked ? current : { ...current, seed: job.request.seed }))
    }
    void loadAssets(null)
    api.me().then(setCaller, () => {})
  }

  const generate = async () => {
    setSubmitError(null)
    events.current?.abort()
    let job: Job
    try {
      job = await api.generate(toGenerationBody(values))
    } catch (error) {
      setSubmitError(asApiError(error))
      return
    }
    setWatch(watchOf(job))
    const controller = new AbortController()
    events.current = controller
    try {
      await watchJob(
        job.id,
        (event) => {
          if (event.type === 'final') finish(event.job)
          else
            setWatch((current) => {
              if (current === null) return current
              if (event.type === 'position') return { ...current, phase: 'queued', position: event.position }
              if (event.type === 'started') return { ...current, phase: 'running', position: null }
              const { preview, type: _type, ...progress } = event
              return {
                ...current,
                phase: 'running',
                position: null,
                progress,
                preview: preview ?? current.preview,
              }
            })
        },
        controller.signal,
      )
    } catch (error) {
      // The stream broke for good: ask for the job once more so the panel shows how it ended.
      api.job(job.id).then(finish, () => setSubmitError(asApiError(error)))
    }
  }

  const cancel = async () => {
    if (watch === null) return
    setWatch({ ...watch, canceling: true })
    try {
      const job = await api.cancel(watch.job.id)
      if (job.state === 'canceled') finish(job)
    } catch (error) {
      setSubmitError(asApiError(error))
      setWatch((current) => (current === null ? current : { ...current, canceling: false }))
    }
  }

  const remove = async (asset: Asset) => {
    try {
      await api.deleteAsset(asset.id)
      setOpened(null)
      setAssets((shown) => shown.filter((candidate) => candidate.id !== asset.id))
    } catch (error) {
      setSubmitError(asApiError(error))
    }
  }

  const openById = (assetId: string) => {
    const known = assets.find((asset) => asset.id === assetId)
    if (known !== undefined) setOpened(known)
    else api.asset(assetId).then(setOpened, (error) => setSubmitError(asApiError(error)))
  }

  const busy = watch !== null && (watch.phase === 'queued' || watch.phase === 'running')
  const locked = caller === null
  return (
    <>
      <header class="top">
        <h1>
          Pigment <span>Studio</span>
        </h1>
        <nav aria-label="Links">
          <a href="/docs">API docs</a>
        </nav>
      </header>
      <KeyPanel caller={caller} error={authError} hasKey={hasKey} onKey={useKey} />
      {authError !== null && authError.status !== 401 && (
        <div class="alert" role="alert">
          <strong>{authError.code}</strong>: {authError.message}
        </div>
      )}
      {!locked && (
        <main class="layout">
          <div class="column">
            <GenerateForm
              values={values}
              models={models}
              samplers={samplers}
              busy={busy}
              onChange={setValues}
              onGenerate={() => void generate()}
            />
            {submitError !== null && (
              <div class="alert" role="alert">
                <strong>
                  {submitError.status} {submitError.code}
                </strong>
                {submitError.field === undefined ? '' : ` (${submitError.field})`}: {submitError.message}
              </div>
            )}
            <ShowApi values={values} withKey={caller?.auth === true} />
          </div>
          <div class="column">
            {watch !== null && <JobPanel watch={watch} onCancel={() => void cancel()} onOpen={openById} />}
            <Gallery
              assets={assets}
              loading={loadingAssets}
              hasMore={cursor !== null}
              onMore={() => void loadAssets(cursor)}
              onRefresh={() => void loadAssets(null)}
              onOpen={setOpened}
            />
          </div>
        </main>
      )}
      {opened !== null && (
        <AssetDialog
          asset={opened}
          onClose={() => setOpened(null)}
          onUse={(asset) => setValues((current) => fromAsset(current, asset))}
          onDelete={(asset) => void remove(asset)}
        />
      )}
    </>
  )
}
