/**
 * FLUX/Chroma latent packing (engine-spec §6): latent [C, h, w] ↔ tokens [(h/2)(w/2), 4C], token r·(w/2)+q,
 * feature c·4 + dy·2 + dx = latent[c, 2r+dy, 2q+dx]; and the transformer's position ids (§5).
 * @module
 */

/** One image's latent [C, h, w] → packed [(h/2)·(w/2), 4C]. */
export function packLatent(
  latent: Float32Array,
  channels: number,
  height: number,
  width: number,
): Float32Array {
  const rows = height / 2
  const cols = width / 2
  const features = channels * 4
  const out = new Float32Array(latent.length)
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const token = (r * cols + q) * features
      for (let c = 0; c < channels; c++) {
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            out[token + c * 4 + dy * 2 + dx] = latent[(c * height + 2 * r + dy) * width + 2 * q + dx]
          }
        }
      }
    }
  }
  return out
}

/** The inverse of `packLatent`. */
export function unpackLatent(
  packed: Float32Array,
  channels: number,
  height: number,
  width: number,
): Float32Array {
  const rows = height / 2
  const cols = width / 2
  const features = channels * 4
  const out = new Float32Array(packed.length)
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const token = (r * cols + q) * features
      for (let c = 0; c < channels; c++) {
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            out[(c * height + 2 * r + dy) * width + 2 * q + dx] = packed[token + c * 4 + dy * 2 + dx]
          }
        }
      }
    }
  }
  return out
}

/** `img_ids` [rows·cols, 3]: (0, r, c) for each packed token. */
export function imageIds(rows: number, cols: number): Float32Array {
  const ids = new Float32Array(rows * cols * 3)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      ids[(r * cols + c) * 3 + 1] = r
      ids[(r * cols + c) * 3 + 2] = c
    }
  }
  return ids
}

/** `txt_ids` [length, 3]: all zeros. */
export function textIds(length: number): Float32Array {
  return new Float32Array(length * 3)
}
