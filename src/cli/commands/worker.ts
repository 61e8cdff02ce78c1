/**
 * `pigment worker`: a worker process of a fleet (`--queue redis://…`). It takes the serve command's
 * settings that concern running jobs, from the same table, so flags, variables and the config file mean
 * the same in both commands.
 * @module
 */
import type { Command } from 'commander'
import { ConfigError } from '../../config/load.js'
import { CONFIG_OPTIONS } from '../../config/options.js'
import type { Config } from '../../config/schema.js'
import { isPigmentError } from '../../core/errors.js'
import { addConfigFlags } from './config-flags.js'

const WORKER_SETTINGS = new Set([
  'models',
  'aliases',
  'defaultModel',
  'bundledModels',
  'workers',
  'retentionSeconds',
  'databaseUrl',
  'queueUrl',
  'fleetPrefix',
  'workerLockSeconds',
  'metricsPort',
  'host',
  'storage.kind',
  'storage.bucket',
  'storage.prefix',
  'storage.endpoint',
  'storage.region',
  'storage.forcePathStyle',
  'logLevel',
  'logPrompts',
  'maxAttempts',
  'graceSeconds',
  'previewEvery',
  'modelMemoryBytes',
  'device',
  'comfyui.urls',
])

/** Runs the worker once the config is loaded; benchmarks pass one with a pipeline that costs nothing. */
export type RunWorker = (config: Config) => Promise<void>

async function runDefault(config: Config): Promise<void> {
  // loaded lazily: `pigment --help` should not open onnxruntime or the database
  const { runFleetWorker } = await import('../../fleet/run-worker.js')
  await runFleetWorker(config)
}

export function addWorkerCommand(program: Command, run: RunWorker = runDefault): void {
  const worker = program
    .command('worker')
    .description(
      'run jobs from a fleet queue: pigment worker --queue redis://… --database-url postgres://… --storage s3 …',
    )
  const readConfig = addConfigFlags(
    worker,
    CONFIG_OPTIONS.filter((option) => WORKER_SETTINGS.has(option.key)),
    'JSON config file, as for serve',
  )
  worker.addHelpText(
    'after',
    '\n--workers is the number of jobs this process runs at once per model (default 1).\n' +
      '--metrics-port serves Prometheus /metrics on --host (default 127.0.0.1); without it no port is opened.',
  )

  worker.action(async (opts: Record<string, unknown>) => {
    try {
      const config = readConfig(opts)
      if (config.queueUrl === '') {
        throw new ConfigError(
          'invalid config: queueUrl: pigment worker needs --queue redis://… (PIGMENT_QUEUE)',
        )
      }
      await run(config)
    } catch (error) {
      if (error instanceof ConfigError || isPigmentError(error)) {
        process.stderr.write(`pigment worker: ${error.message}\n`)
        process.exit(error instanceof ConfigError ? 2 : 1)
      }
      throw error
    }
  })
}
