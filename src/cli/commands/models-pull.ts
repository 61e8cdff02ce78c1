/**
 * `pigment models pull <owner/name>[@revision]`: downloads a model repo from the Hugging Face hub (or the
 * server in `HF_ENDPOINT`) into the model cache, with a progress bar on stderr and the folder on stdout.
 * @module
 */
import { join } from 'node:path'
import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import {
  DEFAULT_INCLUDE,
  HubError,
  type PullProgress,
  type PullResult,
  pullModel,
  repoFolderName,
} from '../../pipelines/hub/index.js'
import { modelsDir } from '../../pipelines/model-registry.js'
import { formatBytes } from './models-list.js'

export interface CliIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean }
}

export interface PullCommandOptions {
  readonly include?: readonly string[]
  readonly dest?: string
  readonly endpoint?: string
}

const PROCESS_IO: CliIo = { stdout: process.stdout, stderr: process.stderr }

/** `owner/name@revision` → parts; the revision defaults to `main` and may itself hold slashes (`refs/pr/1`). */
export function parseRepoSpec(spec: string): { repo: string; revision: string } {
  const at = spec.indexOf('@')
  const repo = at === -1 ? spec : spec.slice(0, at)
  const revision = at === -1 ? 'main' : spec.slice(at + 1)
  const dotSegment = repo.split('/').some((part) => part === '.' || part === '..')
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo) || dotSegment || revision === '') {
    throw new RangeError(`repo must be owner/name or owner/name@revision; got ${JSON.stringify(spec)}`)
  }
  return { repo, revision }
}

export async function runPull(
  spec: string,
  options: PullCommandOptions,
  io: CliIo = PROCESS_IO,
): Promise<PullResult> {
  const { repo, revision } = parseRepoSpec(spec)
  const dest = options.dest ?? join(modelsDir(), repoFolderName(repo))
  const progress = io.stderr.isTTY ? barProgress(io.stderr) : lineProgress(io.stderr)
  let result: PullResult
  try {
    result = await pullModel({
      repo,
      revision,
      include: options.include,
      dest,
      endpoint: options.endpoint,
      onProgress: progress.update,
    })
  } finally {
    progress.stop()
  }
  const fetched = result.files.filter((file) => file.outcome === 'downloaded').length
  const commit = result.commit === null ? '' : ` (commit ${result.commit.slice(0, 10)})`
  io.stderr.write(
    `${repo}@${revision}${commit}: ${fetched} downloaded, ${result.files.length - fetched} already complete\n`,
  )
  io.stdout.write(`${result.dest}\n`)
  return result
}

export function addPullCommand(models: Command, io: CliIo = PROCESS_IO): Command {
  models
    .command('pull')
    .description('download a model repo from the Hugging Face hub ($HF_ENDPOINT) into the model cache')
    .argument('<repo>', 'hub repo id: owner/name or owner/name@revision')
    .option('--include <pattern...>', `globs of repo files to fetch (default: ${DEFAULT_INCLUDE.join(' ')})`)
    .option('--dest <dir>', 'folder to write into (default: <model cache>/owner--name)')
    .option('--endpoint <url>', 'hub base URL (default: $HF_ENDPOINT or https://huggingface.co)')
    .addHelpText(
      'after',
      '\nSet HF_TOKEN for private or gated repos. An interrupted pull resumes when run again.',
    )
    .action(async function pullAction(this: Command, spec: string, options: PullCommandOptions) {
      try {
        await runPull(spec, options, io)
      } catch (error) {
        if (error instanceof HubError || error instanceof RangeError)
          this.error(error.message, { exitCode: 1 })
        throw error
      }
    })
  return models
}

interface ProgressSink {
  readonly update: (progress: PullProgress) => void
  readonly stop: () => void
}

function barProgress(stream: NodeJS.WritableStream): ProgressSink {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{bar} {percentage}% | {done} / {size} | {file}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    update(progress) {
      const total = progress.total ?? Math.max(progress.bytes, 1)
      const payload = {
        done: formatBytes(progress.bytes),
        size: progress.total === null ? '?' : formatBytes(progress.total),
        file: `${progress.file} (${progress.fileIndex + 1}/${progress.fileCount})`,
      }
      if (!started) bar.start(total, progress.bytes, payload)
      started = true
      bar.setTotal(total)
      bar.update(progress.bytes, payload)
    },
    stop: () => bar.stop(),
  }
}

/** Redirected stderr (a log file, CI) gets one line per finished file instead of a redrawn bar. */
function lineProgress(stream: NodeJS.WritableStream): ProgressSink {
  return {
    update(progress) {
      if (progress.state === 'downloading') return
      const size = progress.fileTotal === null ? '' : ` ${formatBytes(progress.fileTotal)}`
      const what = progress.state === 'done' ? 'downloaded' : 'already complete'
      stream.write(`[${progress.fileIndex + 1}/${progress.fileCount}] ${progress.file}${size} ${what}\n`)
    },
    stop: () => {},
  }
}
