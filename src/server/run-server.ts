/**
 * `pigment serve` after the config is loaded: structured logs, compose, listen, and signals. The first
 * SIGTERM or SIGINT shuts down gracefully (exit 0 once running jobs finished or went back to the queue);
 * a second one exits at once with code 1.
 * @module
 */
import pino from 'pino'
import type { Config } from '../config/schema.js'
import { composeServer } from './compose.js'

/** Where prompt text can sit in a log line: top level, or inside a logged job, request or body. */
const PROMPT_PATHS = [
  'prompt',
  'negativePrompt',
  '*.prompt',
  '*.negativePrompt',
  '*.*.prompt',
  '*.*.negativePrompt',
]

export async function runServer(config: Config): Promise<void> {
  const logger = pino({
    level: config.logLevel,
    // prompts are user data: when the operator turns prompt logging off, keep them out of every line
    ...(config.logPrompts ? {} : { redact: { paths: PROMPT_PATHS, remove: true } }),
  })
  const server = await composeServer(config, { logger })
  const address = await server.listen()
  logger.info(
    { address, dataDir: config.dataDir, workers: config.workers, models: await modelNames(server) },
    'pigment is serving',
  )

  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    logger.info({ signal }, 'signal received')
    server.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

async function modelNames(server: Awaited<ReturnType<typeof composeServer>>): Promise<string[]> {
  return (await server.deps.models.list()).map((model) => model.name)
}
