/**
 * The execution devices a server, worker or `generate` can run in-process models on. Here rather than in the
 * pipelines so the configuration schema can name them without depending on onnxruntime.
 * @module
 */
export const DEVICES = ['cpu', 'cuda', 'webgpu'] as const
export type Device = (typeof DEVICES)[number]
