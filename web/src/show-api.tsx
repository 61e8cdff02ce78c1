import { useRef, useState } from 'preact/hooks'
import { apiCalls, toCurl } from './api-calls.js'
import type { FormValues } from './form-values.js'

/** The current form as the same request in every API Pigment speaks, each copyable. */
export function ShowApi(props: { values: FormValues; withKey: boolean }) {
  const calls = apiCalls(props.values)
  const [selected, setSelected] = useState<string>('native')
  const [copied, setCopied] = useState<string | null>(null)
  const call = calls.find((candidate) => candidate.id === selected) ?? calls[0]
  const text = toCurl(call, location.origin, props.withKey)
  const code = useRef<HTMLElement>(null)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text)
      setCopied(call.id)
    } catch {
      // No clipboard outside a secure context (plain http on another host): select the text for Ctrl+C.
      if (code.current !== null) window.getSelection()?.selectAllChildren(code.current)
      setCopied(null)
    }
  }
  return (
    <details class="show-api">
      <summary>Show the API</summary>
      <div role="tablist" aria-label="API dialect" class="tabs">
        {calls.map((candidate) => (
          <button
            key={candidate.id}
            type="button"
            role="tab"
            id={`tab-${candidate.id}`}
            aria-selected={candidate.id === call.id}
            aria-controls="api-call"
            onClick={() => {
              setSelected(candidate.id)
              setCopied(null)
            }}
          >
            {candidate.title}
          </button>
        ))}
      </div>
      <div id="api-call" role="tabpanel" aria-labelledby={`tab-${call.id}`}>
        <pre>
          <code ref={code} data-dialect={call.id}>
            {text}
          </code>
        </pre>
        {call.notes.length > 0 && (
          <ul class="notes">
            {call.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        )}
        <button type="button" class="secondary" onClick={copy}>
          {copied === call.id ? 'Copied' : 'Copy'}
        </button>
        {props.withKey && <p class="hint">Set PIGMENT_API_KEY to your key first; it is never shown here.</p>}
      </div>
    </details>
  )
}
