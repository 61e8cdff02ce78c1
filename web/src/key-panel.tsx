import { useState } from 'preact/hooks'
import type { ApiError } from './api.js'
import type { Caller } from './types.js'

function limit(value: number | null, unit: string): string {
  return value === null ? 'unlimited' : `${value} ${unit}`
}

/**
 * The key: asks for one when the API answers 401 (showing that answer), else shows the key's role, credits
 * and limits. The key is kept in localStorage and sent as a Bearer header.
 */
export function KeyPanel(props: {
  caller: Caller | null
  error: ApiError | null
  hasKey: boolean
  onKey: (key: string) => void
}) {
  const [draft, setDraft] = useState('')
  const { caller, error } = props
  const needsKey = error !== null && error.status === 401
  const submit = (event: Event) => {
    event.preventDefault()
    props.onKey(draft.trim())
    setDraft('')
  }
  return (
    <section class="key-panel" aria-labelledby="key-heading">
      <h2 id="key-heading" class="visually-hidden">
        Your key
      </h2>
      {caller !== null && !caller.auth && <p class="key-status">No API keys on this server: auth is off.</p>}
      {caller?.auth && (
        <dl class="key-status" aria-label="Your key">
          <div>
            <dt>Key</dt>
            <dd>
              {caller.name ?? caller.keyId} <span class="badge">{caller.role}</span>
            </dd>
          </div>
          <div>
            <dt>Credits</dt>
            <dd data-testid="credits">{caller.credits === null ? 'unlimited' : caller.credits.toFixed(3)}</dd>
          </div>
          <div>
            <dt>Rate limit</dt>
            <dd>{limit(caller.rpm, 'requests/min')}</dd>
          </div>
          <div>
            <dt>Concurrent jobs</dt>
            <dd>{limit(caller.concurrency, 'at once')}</dd>
          </div>
        </dl>
      )}
      {needsKey && (
        <div class="alert" role="alert">
          <strong>
            {error.status} {error.code}
          </strong>
          : {error.message} {props.hasKey ? 'Enter another key.' : 'This server needs an API key.'}
        </div>
      )}
      {(needsKey || caller?.auth) && (
        <form class="key-form" onSubmit={submit}>
          <label for="api-key">{caller?.auth ? 'Change key' : 'API key'}</label>
          <input
            id="api-key"
            type="password"
            autocomplete="off"
            spellcheck={false}
            placeholder="pk_…"
            value={draft}
            onInput={(event) => setDraft(event.currentTarget.value)}
          />
          <button type="submit" disabled={draft.trim() === ''}>
            Use key
          </button>
          {props.hasKey && (
            <button type="button" class="secondary" onClick={() => props.onKey('')}>
              Forget key
            </button>
          )}
        </form>
      )}
    </section>
  )
}
