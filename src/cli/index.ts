/**
 * The `pigment` command line. It only composes pieces; each command lives in `commands/`.
 * @module
 */
import { Command } from 'commander'
import { addGenerateCommand } from './commands/generate.js'
import { keysCommand } from './commands/keys.js'
import { modelsCommand } from './commands/models.js'
import { addServeCommand } from './commands/serve.js'
import { addWorkerCommand } from './commands/worker.js'
import { readPackageVersion } from './version.js'

export function buildProgram(): Command {
  const program = new Command('pigment')
    .description('Self-hosted image generation: diffusion models in-process, drop-in image APIs.')
    .version(readPackageVersion())
    .showHelpAfterError()
  addGenerateCommand(program)
  program.addCommand(modelsCommand())
  program.addCommand(keysCommand())
  addServeCommand(program)
  addWorkerCommand(program)
  return program
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram()
  await program.parseAsync(argv)
}
