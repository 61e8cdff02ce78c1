import { describe, expect, it } from 'vitest'
import { DEFAULT_INCLUDE, matchesAny } from './include-patterns.js'

describe('matchesAny', () => {
  it('lets * cross folders, as huggingface_hub allow_patterns do', () => {
    expect(matchesAny('unet/model.onnx', ['*.onnx'])).toBe(true)
    expect(matchesAny('unet/model.onnx', ['unet/*'])).toBe(true)
    expect(matchesAny('vae_decoder/model.onnx', ['unet/*'])).toBe(false)
  })

  it('treats a trailing slash as the whole folder', () => {
    expect(matchesAny('tokenizer/vocab.json', ['tokenizer/'])).toBe(true)
    expect(matchesAny('tokenizer_2/vocab.json', ['tokenizer/'])).toBe(false)
  })

  it('supports ? and character sets, and keeps other characters literal', () => {
    expect(matchesAny('model.fp16.onnx', ['model.fp1?.onnx'])).toBe(true)
    expect(matchesAny('shard-2.bin', ['shard-[0-3].bin'])).toBe(true)
    expect(matchesAny('shard-7.bin', ['shard-[!0-3].bin'])).toBe(true)
    expect(matchesAny('shard-2.bin', ['shard-[!0-3].bin'])).toBe(false)
    expect(matchesAny('modelXonnx', ['model.onnx'])).toBe(false)
    expect(matchesAny('a+b(c).json', ['a+b(c).json'])).toBe(true)
  })

  it('default patterns take ONNX graphs, external data and tokenizers, not PyTorch weights', () => {
    const wanted = [
      'unet/model.onnx',
      'unet/model.onnx_data',
      'tokenizer/merges.txt',
      'spiece.model',
      'model_index.json',
    ]
    for (const path of wanted) expect(matchesAny(path, DEFAULT_INCLUDE)).toBe(true)
    for (const path of ['unet/diffusion_pytorch_model.safetensors', 'README.md', '.gitattributes']) {
      expect(matchesAny(path, DEFAULT_INCLUDE)).toBe(false)
    }
  })
})
