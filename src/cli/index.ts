/**
 * The `pigment` command line. It only composes pieces; each command lives in `commands/`.
 * @module
 */
import { Command } from 'commander'
import { readPackageVersion } from './version.js'

export function buildProgram(): Command {
  const program = new Command('pigment')
    .description('Self-hosted image generation: diffusion models in-process, drop-in image APIs.')
    .version(readPackageVersion())
    .showHelpAfterError()
  return program
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram()
  await program.parseAsync(argv)
}
