/**
 * The `pigment models` command group. Each subcommand is added by its own `add…Command(models)` so that
 * subcommands can live in their own files.
 * @module
 */
import { resolve } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { type TestModelFamily, writeTestModel } from '../../pipelines/test-models/write-test-model.js'
import { addListCommand } from './models-list.js'
import { addPullCommand } from './models-pull.js'

export interface ModelsIo {
  readonly stdout: NodeJS.WritableStream
}

const PROCESS_IO: ModelsIo = { stdout: process.stdout }

function parseFamily(value: string): TestModelFamily {
  if (value !== 'sd' && value !== 'flow') throw new InvalidArgumentError('must be "sd" or "flow"')
  return value
}

function parseSeed(value: string): number {
  const seed = Number(value)
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InvalidArgumentError('must be an integer from 0 to 4294967295')
  }
  return seed
}

/** `pigment models make-test-model --family sd|flow --out DIR [--seed N]`: prints the folder it wrote. */
export function addMakeTestModelCommand(models: Command, io: ModelsIo = PROCESS_IO): Command {
  models
    .command('make-test-model')
    .description(
      'write a tiny random-weight model (real ONNX signatures, noise-like images) to try an integration without weights',
    )
    .requiredOption(
      '--family <family>',
      'sd (Optimum Stable Diffusion layout) or flow (FLUX/Chroma style)',
      parseFamily,
    )
    .requiredOption('--out <dir>', 'folder to write; use it with `pigment generate --model DIR`')
    .option('--seed <n>', 'seed of the random weights', parseSeed, 0)
    .action(async (options: { family: TestModelFamily; out: string; seed: number }) => {
      const written = await writeTestModel({ family: options.family, out: options.out, seed: options.seed })
      io.stdout.write(`${resolve(written.dir)}\n`)
    })
  return models
}

export function modelsCommand(io: ModelsIo = PROCESS_IO): Command {
  const models = new Command('models').description('model folders: make test models, list and pull models')
  addMakeTestModelCommand(models, io)
  addListCommand(models, io)
  addPullCommand(models)
  return models
}
