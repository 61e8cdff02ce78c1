/**
 * `pigment serve`: flags and `--help` come from the config option table, so every setting is documented
 * with its environment variable; the command loads the config and hands over to `server/`.
 * @module
 */
import type { Command } from 'commander'
import { ConfigError } from '../../config/load.js'
import { CONFIG_OPTIONS } from '../../config/options.js'
import { isPigmentError } from '../../core/errors.js'
import { addConfigFlags } from './config-flags.js'

/** Settings only a fleet worker process uses; `serve` does not offer them. */
const WORKER_ONLY = new Set(['metricsPort'])

export function addServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('start the HTTP server (settings: defaults < --config file < PIGMENT_* environment < flags)')
  const readConfig = addConfigFlags(
    serve,
    CONFIG_OPTIONS.filter((option) => !WORKER_ONLY.has(option.key)),
    'JSON config file shaped like the settings below',
  )
  serve.addHelpText(
    'after',
    '\nDurations take s, m, h or d (90 = seconds); sizes take kb, mb or gb. Repeatable flags are\n' +
      'comma-separated in the environment (PIGMENT_MODELS=a,b). Errors name the first bad setting.',
  )

  serve.action(async (opts: Record<string, unknown>) => {
    try {
      const config = readConfig(opts)
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
