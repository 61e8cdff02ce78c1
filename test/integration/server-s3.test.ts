/**
 * `pigment serve --storage s3` against an S3-protocol server started on loopback (s3rver): images go to
 * the bucket under the prefix, responses carry presigned links that download from the bucket, and the API
 * still serves the bytes itself.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type JobBody,
  makeTestModel,
  postJson,
  type ServerProcess,
  startServer,
  tempDir,
} from './server-harness.js'

const BUCKET = 'pigment-images'
let s3: S3rver
let s3Directory: string
let endpoint: string
let server: ServerProcess

beforeAll(async () => {
  s3Directory = mkdtempSync(join(tmpdir(), 'pigment-s3rver-'))
  s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3Directory,
    configureBuckets: [{ name: BUCKET }],
  })
  endpoint = `http://127.0.0.1:${(await s3.run()).port}`
  const model = await makeTestModel()
  server = await startServer(
    [
      '--data-dir',
      tempDir('s3'),
      '--model',
      model,
      '--storage',
      's3',
      '--s3-bucket',
      BUCKET,
      '--s3-prefix',
      'runs',
    ],
    {
      PIGMENT_S3_ENDPOINT: endpoint,
      PIGMENT_S3_FORCE_PATH_STYLE: 'true',
      // s3rver's fixed development credentials, through the AWS SDK's usual environment variables
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
  )
})

afterAll(async () => {
  await server?.stop()
  await s3?.close()
  rmSync(s3Directory, { recursive: true, force: true })
})

describe('S3 storage', () => {
  it('stores images in the bucket and hands out presigned links that download them', async () => {
    const response = await postJson(`${server.url}/api/generations`, {
      prompt: 'to the bucket',
      width: 64,
      height: 64,
      steps: 3,
    })
    expect(response.status).toBe(200)
    const job = (await response.json()) as JobBody
    const link = new URL(job.images[0].url)
    expect(link.origin).toBe(endpoint)
    expect(link.pathname).toMatch(
      new RegExp(`^/${BUCKET}/runs/outputs/\\d{4}/\\d{2}/\\d{2}/\\d{6}/${job.id}_0\\.png$`),
    )
    expect(link.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)

    const download = await fetch(link)
    expect(download.status).toBe(200)
    const bytes = new Uint8Array(await download.arrayBuffer())
    expect([...bytes.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47])

    const viaApi = await fetch(job.images[0].fileUrl)
    expect(viaApi.status).toBe(200)
    expect(new Uint8Array(await viaApi.arrayBuffer())).toEqual(bytes)
    expect((await fetch(`${server.url}/files/runs/x.png?expires=1&sig=00`)).status).toBe(404)
  })
})
