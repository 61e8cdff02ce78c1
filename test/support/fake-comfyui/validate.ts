// POST /prompt's validation, ported from ComfyUI 0.3.64 execution.py (validate_prompt, validate_inputs): the same
// checks in the same order, the same error types, messages, details and extra_info, and the same quirks (a
// downstream node of a broken one carries no error; every broken node lists each output that failed).

import type { InputSpec, NodeClass } from './catalogue.js'
import { PyError, pyBool, pyEquals, pyFloat, pyInt, pyRepr, pyStr } from './python.js'

export interface ComfyError {
  type: string
  message: string
  details: string
  extra_info: Record<string, unknown>
}

export interface NodeErrors {
  errors: ComfyError[]
  dependent_outputs: string[]
  class_type: string
}

export type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>

export type Validation =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeErrors> }
  | { ok: false; error: ComfyError; nodeErrors: Record<string, NodeErrors> }

/** Thrown where ComfyUI itself would raise out of the handler (aiohttp answers 500). */
export class ServerCrash extends Error {}

export interface ValidationContext {
  catalogue: Record<string, NodeClass>
  /** LoadImage's VALIDATE_INPUTS: does this input file exist? */
  inputExists(name: string): boolean
}

type Verdict = [boolean, ComfyError[], string]

const FAKE_TRACEBACK = ['  File "/comfy/execution.py", line 1, in validate_inputs\n']

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Python's KeyError/IndexError/TypeError for a lookup that fails. */
function lookup(container: unknown, key: unknown): unknown {
  if (isPlainObject(container)) {
    if (typeof key === 'string' && Object.hasOwn(container, key)) return container[key]
    throw new PyError('KeyError', pyRepr(key))
  }
  if (Array.isArray(container)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) {
      throw new PyError('TypeError', `list indices must be integers or slices, not ${typeof key}`)
    }
    const at = key < 0 ? container.length + key : key
    if (at < 0 || at >= container.length) throw new PyError('IndexError', 'tuple index out of range')
    return container[at]
  }
  throw new PyError('TypeError', `'${typeof container}' object is not subscriptable`)
}

function inputInfo(node: NodeClass, name: string): [InputSpec, 'required' | 'optional'] | undefined {
  if (Object.hasOwn(node.required, name)) return [node.required[name], 'required']
  if (node.optional && Object.hasOwn(node.optional, name)) return [node.optional[name], 'optional']
  return undefined
}

function validNodeInput(received: string, wanted: string | string[]): boolean {
  if (received === wanted) return true
  if (typeof wanted !== 'string') return false
  const got = new Set(received.split(',').map((t) => t.trim()))
  return wanted.split(',').some((t) => got.has(t.trim()))
}

class Validator {
  readonly validated = new Map<string, Verdict>()

  constructor(
    private readonly prompt: Record<string, Record<string, unknown>>,
    private readonly ctx: ValidationContext,
  ) {}

  validateInputs(id: string): Verdict {
    const known = this.validated.get(id)
    if (known) return known
    const node = this.prompt[id]
    const inputs = lookup(node, 'inputs') as Record<string, unknown>
    const classType = node.class_type as string
    const cls = this.ctx.catalogue[classType]
    const names = [...Object.keys(cls.required), ...Object.keys(cls.optional ?? {})]
    const custom = cls.customValidated ?? []
    const errors: ComfyError[] = []
    let valid = true

    for (const x of names) {
      const [spec, category] = inputInfo(cls, x)!
      const inputType = spec[0]
      const extra = spec[1] ?? {}
      if (!isPlainObject(inputs) || !Object.hasOwn(inputs, x)) {
        if (category === 'required') {
          errors.push({
            type: 'required_input_missing',
            message: 'Required input is missing',
            details: x,
            extra_info: { input_name: x },
          })
        }
        continue
      }
      let val = inputs[x]
      const info = [inputType, extra]
      if (Array.isArray(val)) {
        if (val.length !== 2) {
          errors.push({
            type: 'bad_linked_input',
            message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
            details: x,
            extra_info: { input_name: x, input_config: info, received_value: val },
          })
          continue
        }
        const [fromId, slot] = val as [unknown, unknown]
        const from = lookup(this.prompt, fromId) as Record<string, unknown>
        const fromClass = this.ctx.catalogue[from.class_type as string]
        const received = lookup(fromClass?.output ?? [], slot) as string
        if (!custom.includes('input_types') && !validNodeInput(received, inputType)) {
          errors.push({
            type: 'return_type_mismatch',
            message: 'Return type mismatch between linked nodes',
            details: `${x}, received_type(${received}) mismatch input_type(${pyStr(inputType)})`,
            extra_info: { input_name: x, input_config: info, received_type: received, linked_node: val },
          })
          continue
        }
        try {
          if (!this.validateInputs(fromId as string)[0]) valid = false
        } catch (ex) {
          valid = false
          const e = ex instanceof PyError ? ex : new PyError('Exception', String(ex))
          this.validated.set(fromId as string, [
            false,
            [
              {
                type: 'exception_during_inner_validation',
                message: 'Exception when validating inner node',
                details: e.message,
                extra_info: {
                  input_name: x,
                  input_config: info,
                  exception_message: e.message,
                  exception_type: e.type,
                  traceback: FAKE_TRACEBACK,
                  linked_node: val,
                },
              },
            ],
            fromId as string,
          ])
        }
        continue
      }
      try {
        if (isPlainObject(val) && Object.hasOwn(val, '__value__')) {
          val = val.__value__
          inputs[x] = val
        }
        if (inputType === 'INT') val = inputs[x] = pyInt(val)
        if (inputType === 'FLOAT') val = inputs[x] = pyFloat(val)
        if (inputType === 'STRING') val = inputs[x] = pyStr(val)
        if (inputType === 'BOOLEAN') val = inputs[x] = pyBool(val)
      } catch (ex) {
        const message = ex instanceof Error ? ex.message : String(ex)
        errors.push({
          type: 'invalid_input_type',
          message: `Failed to convert an input value to a ${pyStr(inputType)} value`,
          details: `${x}, ${pyStr(val)}, ${message}`,
          extra_info: { input_name: x, input_config: info, received_value: val, exception_message: message },
        })
        continue
      }
      if (custom.includes(x)) continue
      const isFloat = inputType === 'FLOAT'
      if (typeof extra.min === 'number' && (val as number) < extra.min) {
        errors.push({
          type: 'value_smaller_than_min',
          message: `Value ${pyStr(val, isFloat)} smaller than min of ${pyStr(extra.min, isFloat)}`,
          details: x,
          extra_info: { input_name: x, input_config: info, received_value: val },
        })
        continue
      }
      if (typeof extra.max === 'number' && (val as number) > extra.max) {
        errors.push({
          type: 'value_bigger_than_max',
          message: `Value ${pyStr(val, isFloat)} bigger than max of ${pyStr(extra.max, isFloat)}`,
          details: x,
          extra_info: { input_name: x, input_config: info, received_value: val },
        })
        continue
      }
      if (Array.isArray(inputType) && !inputType.some((choice) => pyEquals(choice, val))) {
        // as ComfyUI does, long lists (many model files) are not echoed back
        const long = inputType.length > 20
        errors.push({
          type: 'value_not_in_list',
          message: 'Value not in list',
          details: `${x}: '${pyStr(val)}' not in ${long ? `(list of length ${inputType.length})` : pyRepr(inputType)}`,
          extra_info: { input_name: x, input_config: long ? null : info, received_value: val },
        })
      }
    }

    for (const x of custom) {
      if (
        classType === 'LoadImage' &&
        x === 'image' &&
        isPlainObject(inputs) &&
        !Array.isArray(inputs.image)
      ) {
        const image = pyStr(inputs.image)
        if (!this.ctx.inputExists(image)) {
          errors.push({
            type: 'custom_validation_failed',
            message: 'Custom validation failed for node',
            details: `${x} - Invalid image file: ${image}`,
            extra_info: { input_name: x },
          })
        }
      }
    }

    const verdict: Verdict = errors.length > 0 || !valid ? [false, errors, id] : [true, [], id]
    this.validated.set(id, verdict)
    return verdict
  }
}

export function validatePrompt(prompt: unknown, ctx: ValidationContext, partial?: unknown): Validation {
  // Python iterates whatever it was given: an empty list or string has no outputs, anything else raises
  const empty = (Array.isArray(prompt) || typeof prompt === 'string') && prompt.length === 0
  if (!isPlainObject(prompt) && !empty) throw new ServerCrash('prompt is not a dict')
  const outputs: string[] = []
  for (const [x, node] of Object.entries(isPlainObject(prompt) ? prompt : {})) {
    if (!isPlainObject(node) || !Object.hasOwn(node, 'class_type')) {
      return {
        ok: false,
        error: {
          type: 'invalid_prompt',
          message: 'Cannot execute because a node is missing the class_type property.',
          details: `Node ID '#${x}'`,
          extra_info: {},
        },
        nodeErrors: {},
      }
    }
    const classType = node.class_type
    const cls = typeof classType === 'string' ? ctx.catalogue[classType] : undefined
    if (!cls || !Object.hasOwn(ctx.catalogue, classType as string)) {
      return {
        ok: false,
        error: {
          type: 'invalid_prompt',
          message: `Cannot execute because node ${pyStr(classType)} does not exist.`,
          details: `Node ID '#${x}'`,
          extra_info: {},
        },
        nodeErrors: {},
      }
    }
    if (cls.outputNode && (!Array.isArray(partial) || partial.includes(x))) outputs.push(x)
  }
  if (outputs.length === 0) {
    return {
      ok: false,
      error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} },
      nodeErrors: {},
    }
  }

  const graph = prompt as Record<string, Record<string, unknown>>
  const validator = new Validator(graph, ctx)
  const good: string[] = []
  const failed: Array<[string, ComfyError[]]> = []
  const nodeErrors: Record<string, NodeErrors> = {}
  for (const o of outputs) {
    let verdict: Verdict
    try {
      verdict = validator.validateInputs(o)
    } catch (ex) {
      const e = ex instanceof PyError ? ex : new PyError('Exception', String(ex))
      verdict = [
        false,
        [
          {
            type: 'exception_during_validation',
            message: 'Exception when validating node',
            details: e.message,
            extra_info: { exception_type: e.type, traceback: FAKE_TRACEBACK },
          },
        ],
        o,
      ]
      validator.validated.set(o, verdict)
    }
    if (verdict[0]) {
      good.push(o)
      continue
    }
    failed.push([o, verdict[1]])
    for (const [nodeId, [ok, reasons]] of validator.validated) {
      if (ok || reasons.length === 0) continue
      nodeErrors[nodeId] ??= {
        errors: reasons,
        dependent_outputs: [],
        class_type: graph[nodeId].class_type as string,
      }
      nodeErrors[nodeId].dependent_outputs.push(o)
    }
  }
  if (good.length === 0) {
    const details = failed
      .flatMap(([, reasons]) => reasons.map((r) => `${r.message}: ${r.details}`))
      .join('\n')
    return {
      ok: false,
      error: {
        type: 'prompt_outputs_failed_validation',
        message: 'Prompt outputs failed validation',
        details,
        extra_info: {},
      },
      nodeErrors,
    }
  }
  return { ok: true, outputs: good, nodeErrors }
}
