import { type FormValues, limitsOf, sizePresets, withModelDefaults } from './form-values.js'
import type { Model, SamplerList } from './types.js'

const MAX_SEED = 2 ** 32 - 1

/** A labelled field: every control has a visible label tied to it by id. */
function Field(props: { id: string; label: string; hint?: string; children: preact.ComponentChildren }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint !== undefined && (
        <small id={`${props.id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  )
}

function toNumber(text: string, fallback: number): number {
  const value = Number(text)
  return text.trim() === '' || !Number.isFinite(value) ? fallback : value
}

export function GenerateForm(props: {
  values: FormValues
  models: readonly Model[]
  samplers: SamplerList
  busy: boolean
  onChange: (values: FormValues) => void
  onGenerate: () => void
}) {
  const { values, models, samplers } = props
  const model = models.find((candidate) => candidate.name === values.model)
  const limits = limitsOf(model)
  const presets = sizePresets(model)
  const preset = presets.find((p) => p.width === values.width && p.height === values.height)
  const set = (changes: Partial<FormValues>) => props.onChange({ ...values, ...changes })
  const sizeHint = `${limits.minSize}–${limits.maxSize}, multiple of ${limits.sizeMultiple}`
  const submit = (event: Event) => {
    event.preventDefault()
    props.onGenerate()
  }
  return (
    <form class="generate-form" onSubmit={submit} aria-labelledby="generate-heading">
      <h2 id="generate-heading">Generate</h2>
      <Field id="prompt" label="Prompt">
        <textarea
          id="prompt"
          rows={3}
          required
          maxLength={20000}
          value={values.prompt}
          onInput={(e) => set({ prompt: e.currentTarget.value })}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit(e)
          }}
          aria-describedby="prompt-hint"
        />
      </Field>
      <small id="prompt-hint" class="hint">
        Ctrl+Enter generates.
      </small>
      <Field id="negative-prompt" label="Negative prompt">
        <textarea
          id="negative-prompt"
          rows={2}
          maxLength={20000}
          value={values.negativePrompt}
          onInput={(e) => set({ negativePrompt: e.currentTarget.value })}
        />
      </Field>
      <div class="row">
        <Field
          id="model"
          label="Model"
          hint={model === undefined ? undefined : `${model.family}${model.loaded ? ', loaded' : ''}`}
        >
          <select
            id="model"
            value={values.model}
            onChange={(e) => {
              const picked = models.find((m) => m.name === e.currentTarget.value)
              if (picked !== undefined) props.onChange(withModelDefaults(values, picked))
            }}
          >
            {models.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
                {m.isDefault ? ' (default)' : ''}
              </option>
            ))}
          </select>
        </Field>
        <Field id="size-preset" label="Size">
          <select
            id="size-preset"
            value={preset === undefined ? 'custom' : `${preset.width}x${preset.height}`}
            onChange={(e) => {
              const picked = presets.find((p) => `${p.width}x${p.height}` === e.currentTarget.value)
              if (picked !== undefined) set({ width: picked.width, height: picked.height })
            }}
          >
            {presets.map((p) => (
              <option key={p.label} value={`${p.width}x${p.height}`}>
                {p.label}
              </option>
            ))}
            <option value="custom">Custom</option>
          </select>
        </Field>
      </div>
      <div class="row">
        <Field id="width" label="Width" hint={sizeHint}>
          <input
            id="width"
            type="number"
            min={limits.minSize}
            max={limits.maxSize}
            step={limits.sizeMultiple}
            value={values.width}
            aria-describedby="width-hint"
            onInput={(e) => set({ width: toNumber(e.currentTarget.value, values.width) })}
          />
        </Field>
        <Field id="height" label="Height">
          <input
            id="height"
            type="number"
            min={limits.minSize}
            max={limits.maxSize}
            step={limits.sizeMultiple}
            value={values.height}
            onInput={(e) => set({ height: toNumber(e.currentTarget.value, values.height) })}
          />
        </Field>
        <Field id="steps" label="Steps" hint={`1–${limits.maxSteps}`}>
          <input
            id="steps"
            type="number"
            min={1}
            max={limits.maxSteps}
            value={values.steps}
            aria-describedby="steps-hint"
            onInput={(e) => set({ steps: toNumber(e.currentTarget.value, values.steps) })}
          />
        </Field>
        <Field id="cfg" label="CFG" hint={`${limits.minCfg}–${limits.maxCfg}`}>
          <input
            id="cfg"
            type="number"
            min={limits.minCfg}
            max={limits.maxCfg}
            step={0.1}
            value={values.cfg}
            aria-describedby="cfg-hint"
            onInput={(e) => set({ cfg: toNumber(e.currentTarget.value, values.cfg) })}
          />
        </Field>
      </div>
      <div class="row">
        <Field id="sampler" label="Sampler">
          <select
            id="sampler"
            value={values.sampler}
            onChange={(e) => set({ sampler: e.currentTarget.value })}
          >
            {samplers.samplers.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="scheduler" label="Scheduler">
          <select
            id="scheduler"
            value={values.scheduler}
            onChange={(e) => set({ scheduler: e.currentTarget.value })}
          >
            {samplers.schedulers.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="n" label="Images">
          <input
            id="n"
            type="number"
            min={1}
            max={8}
            value={values.n}
            onInput={(e) => set({ n: toNumber(e.currentTarget.value, values.n) })}
          />
        </Field>
      </div>
      <div class="field">
        <label for="seed">Seed</label>
        <div class="seed">
          <input
            id="seed"
            type="number"
            min={0}
            max={Number.MAX_SAFE_INTEGER}
            value={values.seed}
            onInput={(e) => set({ seed: toNumber(e.currentTarget.value, values.seed), seedLocked: true })}
          />
          <button
            type="button"
            class="secondary"
            aria-pressed={values.seedLocked}
            onClick={() => set({ seedLocked: !values.seedLocked })}
          >
            {values.seedLocked ? 'Seed locked' : 'Random seed'}
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => set({ seed: Math.floor(Math.random() * MAX_SEED), seedLocked: true })}
          >
            New seed
          </button>
        </div>
        <small class="hint">
          {values.seedLocked
            ? 'This seed is sent; image i uses seed + i.'
            : 'Each generation picks a new seed.'}
        </small>
      </div>
      <button
        type="submit"
        class="primary"
        disabled={props.busy || values.prompt.trim() === '' || models.length === 0}
      >
        {props.busy ? 'Generating…' : 'Generate'}
      </button>
    </form>
  )
}
