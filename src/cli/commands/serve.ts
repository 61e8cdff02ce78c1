/**
 * `pigment serve`: flags and `--help` come from the config option table, so every setting is documented
 * with its environment variable; the command loads the config and hands over to `server/`.
 * @module
 */
import { type Command, Option } from 'commander'
import { ConfigError, type FlagValue, loadConfig } from '../../config/load.js'
import { CONFIG_FILE_ENV, CONFIG_OPTIONS, type ConfigOption } from '../../config/options.js'
import { isPigmentError } from '../../core/errors.js'

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

export function addServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('start the HTTP server (settings: defaults < --config file < PIGMENT_* environment < flags)')
    .option('--config <file>', `JSON config file shaped like the settings below [env ${CONFIG_FILE_ENV}]`)
  const attributes = new Map<string, ConfigOption>()
  for (const option of CONFIG_OPTIONS) {
    for (const flag of flagOptions(option)) {
      serve.addOption(flag)
      attributes.set(flag.attributeName(), option)
    }
  }
  serve.addHelpText(
    'after',
    '\nDurations take s, m, h or d (90 = seconds); sizes take kb, mb or gb. Repeatable flags are\n' +
      'comma-separated in the environment (PIGMENT_MODELS=a,b). Errors name the first bad setting.',
  )

  serve.action(async (opts: Record<string, unknown>) => {
    const flags: Record<string, FlagValue> = {}
    for (const [attribute, value] of Object.entries(opts)) {
      const option = attributes.get(attribute)
      if (option !== undefined && value !== undefined) flags[option.key] = value as FlagValue
    }
    try {
      const config = loadConfig({
        flags,
        env: process.env,
        ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}),
      })
      // Loaded lazily: `pigment --help` should not open onnxruntime or the database.
      const { runServer } = await import('../../server/run-server.js')
      await runServer(config)
    } catch (error) {
      if (error instanceof ConfigError || isPigmentError(error)) {
        process.stderr.write(`pigment serve: ${error.message}\n`)
        process.exit(error instanceof ConfigError ? 2 : 1)
      }
      throw error
    }
  })
}
