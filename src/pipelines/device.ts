/**
 * Execution devices: which onnxruntime execution provider each one asks for, what to tell the operator when
 * it is missing, and a probe that proves a device works before a server takes jobs for it.
 *
 * onnxruntime-node's standard package carries the CPU and WebGPU providers (WebGPU is Dawn over Vulkan on
 * Linux, D3D12 on Windows, Metal on macOS); the CUDA provider's binaries are a separate download.
 * @module
 */
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { Device } from '../core/devices.js'
import { errors, type PigmentError } from '../core/errors.js'

export { DEVICES, type Device } from '../core/devices.js'

export const CUDA_INSTALL_HINT =
  'onnxruntime-node ships without its CUDA binaries (this project does not download them at install). ' +
  'Install them with `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install`; ' +
  'CUDA 12 and cuDNN 9 must be installed.'

const VULKAN_LOADER = 'libvulkan.so.1'

/** Where the dynamic loader looks on Debian/Ubuntu/Fedora-style systems, plus LD_LIBRARY_PATH. */
function libraryDirs(env: NodeJS.ProcessEnv): string[] {
  const fromEnv = (env.LD_LIBRARY_PATH ?? '').split(delimiter).filter((dir) => dir !== '')
  const arch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu'
  return [...fromEnv, `/usr/lib/${arch}`, `/lib/${arch}`, '/usr/lib64', '/lib64', '/usr/lib', '/lib']
}

/** True when the Vulkan loader can be found; always true off Linux, where WebGPU does not use it. */
export function vulkanLoaderPresent(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux') return true
  return libraryDirs(env).some((dir) => existsSync(join(dir, VULKAN_LOADER)))
}

/** Why WebGPU found no adapter, as far as this machine shows it, and what to do about it. */
export function webgpuHint(env: NodeJS.ProcessEnv = process.env): string {
  if (!vulkanLoaderPresent(env)) {
    return (
      `the Vulkan loader (${VULKAN_LOADER}) is not installed: on Debian/Ubuntu \`apt-get install libvulkan1\`, ` +
      'then a GPU driver that registers a Vulkan ICD'
    )
  }
  return (
    'the Vulkan loader is installed but found no GPU: install the GPU driver with its Vulkan ICD ' +
    '(Mesa for AMD/Intel; NVIDIA ships nvidia_icd.json — point VK_DRIVER_FILES at it if it is not in ' +
    '/usr/share/vulkan/icd.d), and check the GPU is visible in this container'
  )
}

/** The execution providers a session on `device` asks for. No CPU fallback: a GPU run must not silently crawl. */
export function executionProviders(device: Device): string[] {
  return [device]
}

const MISSING_PROVIDER: Readonly<Record<Exclude<Device, 'cpu'>, RegExp>> = {
  cuda: /cuda|provider|libonnxruntime_providers|cudnn|cublas/i,
  webgpu: /webgpu|adapter|dawn|vulkan/i,
}

/** Turns an onnxruntime failure to open a session into DEVICE_UNAVAILABLE, when the device is the cause. */
export function deviceFailure(device: Device, message: string, cause: unknown): PigmentError | undefined {
  if (device === 'cpu' || !MISSING_PROVIDER[device].test(message)) return undefined
  const remedy = device === 'cuda' ? CUDA_INSTALL_HINT : `WebGPU: ${webgpuHint()}.`
  return errors.DEVICE_UNAVAILABLE(
    `the ${device === 'cuda' ? 'CUDA' : 'WebGPU'} execution provider is not available: ${message.trim()}. ${remedy}`,
    { details: { device }, cause },
  )
}
