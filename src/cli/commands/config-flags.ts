/**
 * Command-line flags generated from the config option table, shared by `serve` and `worker`, so a setting
 * has the same flag, variable and help text in every command that takes it.
 * @module
 */
import { type Command, Option } from 'commander'
import { type FlagValue, loadConfig } from '../../config/load.js'
import { CONFIG_FILE_ENV, type ConfigOption } from '../../config/options.js'
import type { Config } from '../../config/schema.js'

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

export function flagOptions(option: ConfigOption): Option[] {
  const help = `${option.description} [env ${option.env}]`
  if (option.kind === 'boolean') {
    return [new Option(`--${option.flag}`, help), new Option(`--no-${option.flag}`).hideHelp()]
  }
  const flag = new Option(`--${option.flag} <${option.placeholder ?? 'value'}>`, help)
  return option.kind === 'list' || option.kind === 'pairs' ? [flag.argParser(collect)] : [flag]
}

/**
 * Adds `--config <file>` and a flag per option to `command`; returns the loader that turns the parsed
 * options into the one typed config (defaults < file < environment < flags). The loader throws ConfigError.
 */
export function addConfigFlags(
  command: Command,
  options: readonly ConfigOption[],
  configHelp: string,
): (opts: Record<string, unknown>) => Config {
  command.option('--config <file>', `${configHelp} [env ${CONFIG_FILE_ENV}]`)
  const attributes = new Map<string, ConfigOption>()
  for (const option of options) {
    for (const flag of flagOptions(option)) {
      command.addOption(flag)
      attributes.set(flag.attributeName(), option)
    }
  }
  return (opts) => {
    const flags: Record<string, FlagValue> = {}
    for (const [attribute, value] of Object.entries(opts)) {
      const option = attributes.get(attribute)
      if (option !== undefined && value !== undefined) flags[option.key] = value as FlagValue
    }
    return loadConfig({
      flags,
      env: process.env,
      ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}),
    })
  }
}
