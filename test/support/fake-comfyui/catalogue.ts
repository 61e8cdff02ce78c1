// The node classes the fake knows, with the input specs ComfyUI 0.3.64 declares for them (nodes.py,
// comfy_extras/*): what /object_info shows and what POST /prompt validates against.

import { SAMPLING_NODES } from './sampling-nodes.js'

const MAX_RESOLUTION = 16384

/** One input as ComfyUI's V1 object_info writes it: [type or list of choices, options]. */
export type InputSpec = [string | string[], Record<string, unknown>] | [string | string[]]

export interface NodeClass {
  required: Record<string, InputSpec>
  optional?: Record<string, InputSpec>
  hidden?: Record<string, string>
  output: string[]
  outputName?: string[]
  outputNode?: boolean
  category: string
  displayName?: string
  description?: string
  outputTooltips?: string[]
  pythonModule?: string
  /** a node written with the V3 schema (comfy_api.io): its object_info carries a few more keys */
  v3?: boolean
  experimental?: boolean
  /** names of inputs a VALIDATE_INPUTS classmethod checks instead of the generic min/max/list checks */
  customValidated?: string[]
}

export interface ModelFolders {
  checkpoints: string[]
  diffusion_models: string[]
  text_encoders: string[]
  vae: string[]
}

const CLIP_TYPES = [
  'stable_diffusion',
  'stable_cascade',
  'sd3',
  'stable_audio',
  'mochi',
  'ltxv',
  'pixart',
  'cosmos',
  'lumina2',
  'wan',
  'hidream',
  'chroma',
  'ace',
  'omnigen2',
  'qwen_image',
  'hunyuan_image',
]

const deviceSpec: InputSpec = [['default', 'cpu'], { advanced: true }]

/** Every node class the fake runs; model lists and uploaded input files fill the combo inputs. */
export function buildCatalogue(models: ModelFolders, inputFiles: string[]): Record<string, NodeClass> {
  return {
    CheckpointLoaderSimple: {
      required: {
        ckpt_name: [[...models.checkpoints], { tooltip: 'The name of the checkpoint (model) to load.' }],
      },
      output: ['MODEL', 'CLIP', 'VAE'],
      category: 'loaders',
      displayName: 'Load Checkpoint',
      description: 'Loads a diffusion model checkpoint, diffusion models are used to denoise latents.',
      outputTooltips: [
        'The model used for denoising latents.',
        'The CLIP model used for encoding text prompts.',
        'The VAE model used for encoding and decoding images to and from latent space.',
      ],
    },
    UNETLoader: {
      required: {
        unet_name: [[...models.diffusion_models]],
        weight_dtype: [['default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2']],
      },
      output: ['MODEL'],
      category: 'advanced/loaders',
      displayName: 'Load Diffusion Model',
    },
    CLIPLoader: {
      required: { clip_name: [[...models.text_encoders]], type: [CLIP_TYPES] },
      optional: { device: deviceSpec },
      output: ['CLIP'],
      category: 'advanced/loaders',
      displayName: 'Load CLIP',
      description:
        '[Recipes]\n\nstable_diffusion: clip-l\nstable_cascade: clip-g\nsd3: t5 xxl/ clip-g / clip-l\nstable_audio: t5 base\nmochi: t5 xxl\ncosmos: old t5 xxl\nlumina2: gemma 2 2B\nwan: umt5 xxl\n hidream: llama-3.1 (Recommend) or t5\nomnigen2: qwen vl 2.5 3B',
    },
    DualCLIPLoader: {
      required: {
        clip_name1: [[...models.text_encoders]],
        clip_name2: [[...models.text_encoders]],
        type: [['sdxl', 'sd3', 'flux', 'hunyuan_video', 'hidream', 'hunyuan_image']],
      },
      optional: { device: deviceSpec },
      output: ['CLIP'],
      category: 'advanced/loaders',
      displayName: 'DualCLIPLoader',
      description:
        '[Recipes]\n\nsdxl: clip-l, clip-g\nsd3: clip-l, clip-g / clip-l, t5 / clip-g, t5\nflux: clip-l, t5\nhidream: at least one of t5 or llama, recommended t5 and llama\nhunyuan_image: qwen2.5vl 7b and byt5 small',
    },
    VAELoader: {
      required: { vae_name: [[...models.vae, 'pixel_space']] },
      output: ['VAE'],
      category: 'loaders',
      displayName: 'Load VAE',
    },
    T5TokenizerOptions: {
      v3: true,
      experimental: true,
      required: {
        clip: ['CLIP', {}],
        min_padding: ['INT', { default: 0, min: 0, max: 10000, step: 1 }],
        min_length: ['INT', { default: 0, min: 0, max: 10000, step: 1 }],
      },
      output: ['CLIP'],
      category: '_for_testing/conditioning',
      pythonModule: 'comfy_extras.nodes_cond',
    },
    CLIPTextEncode: {
      required: {
        text: ['STRING', { multiline: true, dynamicPrompts: true, tooltip: 'The text to be encoded.' }],
        clip: ['CLIP', { tooltip: 'The CLIP model used for encoding the text.' }],
      },
      output: ['CONDITIONING'],
      category: 'conditioning',
      displayName: 'CLIP Text Encode (Prompt)',
      description:
        'Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.',
      outputTooltips: ['A conditioning containing the embedded text used to guide the diffusion model.'],
    },
    FluxGuidance: {
      v3: true,
      required: {
        conditioning: ['CONDITIONING', {}],
        guidance: ['FLOAT', { default: 3.5, min: 0.0, max: 100.0, step: 0.1 }],
      },
      output: ['CONDITIONING'],
      category: 'advanced/conditioning/flux',
      pythonModule: 'comfy_extras.nodes_flux',
    },
    EmptyLatentImage: {
      required: {
        width: [
          'INT',
          {
            default: 512,
            min: 16,
            max: MAX_RESOLUTION,
            step: 8,
            tooltip: 'The width of the latent images in pixels.',
          },
        ],
        height: [
          'INT',
          {
            default: 512,
            min: 16,
            max: MAX_RESOLUTION,
            step: 8,
            tooltip: 'The height of the latent images in pixels.',
          },
        ],
        batch_size: [
          'INT',
          { default: 1, min: 1, max: 4096, tooltip: 'The number of latent images in the batch.' },
        ],
      },
      output: ['LATENT'],
      category: 'latent',
      displayName: 'Empty Latent Image',
      description: 'Create a new batch of empty latent images to be denoised via sampling.',
      outputTooltips: ['The empty latent image batch.'],
    },
    EmptySD3LatentImage: {
      v3: true,
      required: {
        width: ['INT', { default: 1024, min: 16, max: MAX_RESOLUTION, step: 16 }],
        height: ['INT', { default: 1024, min: 16, max: MAX_RESOLUTION, step: 16 }],
        batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
      },
      output: ['LATENT'],
      category: 'latent/sd3',
      pythonModule: 'comfy_extras.nodes_sd3',
    },
    ModelSamplingAuraFlow: {
      required: {
        model: ['MODEL'],
        shift: ['FLOAT', { default: 1.73, min: 0.0, max: 100.0, step: 0.01 }],
      },
      output: ['MODEL'],
      category: 'advanced/model',
      pythonModule: 'comfy_extras.nodes_model_advanced',
    },
    ...SAMPLING_NODES,
    VAEDecode: {
      required: {
        samples: ['LATENT', { tooltip: 'The latent to be decoded.' }],
        vae: ['VAE', { tooltip: 'The VAE model used for decoding the latent.' }],
      },
      output: ['IMAGE'],
      category: 'latent',
      displayName: 'VAE Decode',
      description: 'Decodes latent images back into pixel space images.',
      outputTooltips: ['The decoded image.'],
    },
    SaveImage: {
      required: {
        images: ['IMAGE', { tooltip: 'The images to save.' }],
        filename_prefix: [
          'STRING',
          {
            default: 'ComfyUI',
            tooltip:
              'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.',
          },
        ],
      },
      hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
      output: [],
      outputNode: true,
      category: 'image',
      displayName: 'Save Image',
      description: 'Saves the input images to your ComfyUI output directory.',
    },
    LoadImage: {
      required: { image: [[...inputFiles].sort(), { image_upload: true }] },
      output: ['IMAGE', 'MASK'],
      category: 'image',
      displayName: 'Load Image',
      customValidated: ['image'],
    },
    EmptyImage: {
      required: {
        width: ['INT', { default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }],
        height: ['INT', { default: 512, min: 1, max: MAX_RESOLUTION, step: 1 }],
        batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
        color: ['INT', { default: 0, min: 0, max: 0xffffff, step: 1, display: 'color' }],
      },
      output: ['IMAGE'],
      category: 'image',
    },
    ImageScaleBy: {
      required: {
        image: ['IMAGE'],
        upscale_method: [['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos']],
        scale_by: ['FLOAT', { default: 1.0, min: 0.01, max: 8.0, step: 0.01 }],
      },
      output: ['IMAGE'],
      category: 'image/upscaling',
      displayName: 'Upscale Image By',
    },
  }
}

/** A node class as GET /object_info renders it (server.py node_info, or the V3 schema's V1 view). */
export function objectInfo(name: string, node: NodeClass): Record<string, unknown> {
  const input: Record<string, unknown> = { required: node.required }
  if (node.optional) input.optional = node.optional
  if (node.hidden) input.hidden = Object.fromEntries(Object.entries(node.hidden).map(([k, v]) => [k, v]))
  const inputOrder = Object.fromEntries(
    Object.entries(input).map(([category, specs]) => [category, Object.keys(specs as object)]),
  )
  const outputName = node.outputName ?? node.output
  if (node.v3) {
    return {
      input,
      input_order: inputOrder,
      output: node.output,
      output_is_list: node.output.map(() => false),
      output_name: outputName,
      output_tooltips: node.output.map(() => null),
      name,
      display_name: node.displayName ?? null,
      category: node.category,
      description: node.description ?? '',
      output_node: node.outputNode ?? false,
      deprecated: false,
      experimental: node.experimental ?? false,
      api_node: false,
      python_module: node.pythonModule ?? 'nodes',
    }
  }
  const info: Record<string, unknown> = {
    input,
    input_order: inputOrder,
    output: node.output,
    output_is_list: node.output.map(() => false),
    output_name: outputName,
    name,
    display_name: node.displayName ?? name,
    description: node.description ?? '',
    python_module: node.pythonModule ?? 'nodes',
    category: node.category,
    output_node: node.outputNode ?? false,
  }
  if (node.outputTooltips) info.output_tooltips = node.outputTooltips
  return info
}
