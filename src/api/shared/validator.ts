/**
 * A strict Fastify validator compiler built on TypeBox. Bodies are checked as sent: no type coercion (so
 * `"width": true` is an error, not 1) and no defaults (the model's manifest supplies those later). Query
 * strings and path params arrive as text, so they are converted to the schema's types first.
 * The first problem becomes VALIDATION_FAILED naming the field, e.g. `width: must be >= 8, got 7`.
 * Register it inside a plugin with `app.setValidatorCompiler(strictValidatorCompiler)`.
 * @module
 */
import { Kind, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors'
import { Value } from '@sinclair/typebox/value'
import type { FastifySchemaCompiler } from 'fastify'
import { errors, type PigmentError } from '../../core/errors.js'

type ValidationResult = { value: unknown } | { error: Error }

export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  if (!(Kind in schema)) throw new TypeError(`route schema for ${httpPart} is not a TypeBox schema`)
  const checker = TypeCompiler.Compile(schema)
  const convert = httpPart !== 'body'
  return function validateAgainstSchema(data: unknown): ValidationResult {
    const value = convert ? Value.Convert(schema, Value.Default(schema, data ?? {})) : data
    if (checker.Check(value)) return { value }
    const first = checker.Errors(value).First()
    return { error: toValidationError(first, httpPart ?? 'body') }
  }
}

export function toValidationError(issue: ValueError | undefined, part: string): PigmentError {
  if (issue === undefined) return errors.VALIDATION_FAILED(`invalid ${part}`, { field: part })
  const segments = issue.path.split('/').filter((segment) => segment !== '')
  const field = segments.length > 0 ? segments.join('.') : part
  return errors.VALIDATION_FAILED(`${field}: ${explain(issue)}`, { field })
}

function explain(issue: ValueError): string {
  const schema = issue.schema
  const got = describeValue(issue.value)
  switch (issue.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required'
    case ValueErrorType.ObjectAdditionalProperties:
      return 'is not a known field'
    case ValueErrorType.Union: {
      const choices = (schema.anyOf as TSchema[] | undefined)?.map((item) => item.const)
      if (choices?.every((choice) => typeof choice === 'string')) {
        return `must be one of ${choices.join(', ')}, got ${got}`
      }
      return `has the wrong type or value, got ${got}`
    }
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be >= ${schema.minimum}, got ${got}`
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be <= ${schema.maximum}, got ${got}`
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1
        ? 'must not be empty'
        : `must have at least ${schema.minLength} characters`
    case ValueErrorType.StringMaxLength:
      return `must have at most ${schema.maxLength} characters`
    case ValueErrorType.Integer:
      return `must be an integer, got ${got}`
    case ValueErrorType.Number:
      return `must be a number, got ${got}`
    case ValueErrorType.String:
      return `must be a string, got ${got}`
    case ValueErrorType.Boolean:
      return `must be true or false, got ${got}`
    case ValueErrorType.Object:
      return `must be an object, got ${got}`
    case ValueErrorType.StringPattern:
      return `has an invalid format, got ${got}`
    default:
      return `${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}, got ${got}`
  }
}

/** A short quote of the offending value; a structure too deep (or cyclic) to print is named by its type. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = Array.isArray(value) ? 'an array' : typeof value
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}
