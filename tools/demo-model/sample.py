"""Reference sampler: the same math as the TypeScript flow pipeline (engine-spec §1.3, §2, §4, §6).

Euler on the flow ODE with classifier-free guidance, ComfyUI `simple` schedule over the
ModelSamplingDiscreteFlow table (1000 entries, time shift s), latent [B, 16, 8, 8] for 64x64 packed to
[B, 16, 64], x_0 = N(0, 1) at sigma = 1, decode z/scalingFactor + shiftFactor.
"""
import numpy as np
import torch

from model import image_ids, pack, unpack
from shapes import encode_prompt


def time_shift(shift, t):
    return shift * t / (1 + (shift - 1) * t)


def simple_sigmas(steps, shift, table_size=1000):
    table = [time_shift(shift, (i + 1) / table_size) for i in range(table_size)]
    stride = table_size / steps
    return [table[table_size - 1 - int(k * stride)] for k in range(steps)] + [0.0]


def encode_batch(text_encoder, prompts):
    """Chroma rule per prompt (tokens + EOS + one PAD); batch padding is hidden by txt_mask."""
    device = next(text_encoder.parameters()).device
    encoded = [encode_prompt(p) for p in prompts]
    length = max(len(ids) for ids, _ in encoded)
    ids = torch.zeros(len(prompts), length, dtype=torch.int64)
    mask = torch.zeros(len(prompts), length, dtype=torch.int64)
    txt_mask = torch.zeros(len(prompts), length)
    for i, (tok, m) in enumerate(encoded):
        ids[i, :len(tok)] = torch.tensor(tok)
        mask[i, :len(m)] = torch.tensor(m)
        txt_mask[i, :len(tok)] = 1
    return text_encoder(ids.to(device), mask.to(device)), txt_mask.to(device)


@torch.no_grad()
def generate(text_encoder, transformer, decoder, latent_norm, prompts, seeds, steps, cfg, shift,
             negative=''):
    """-> uint8 images [B, 64, 64, 3]."""
    cond, cond_mask = encode_batch(text_encoder, prompts)
    uncond, uncond_mask = encode_batch(text_encoder, [negative] * len(prompts))
    device = next(transformer.parameters()).device
    noise = torch.stack([torch.randn(16, 8, 8, generator=torch.Generator().manual_seed(int(s))) for s in seeds])
    x = pack(noise).to(device)
    img_ids = image_ids(8, 8).to(device)
    sigmas = simple_sigmas(steps, shift)
    for sigma, sigma_next in zip(sigmas[:-1], sigmas[1:]):
        t = torch.full((len(prompts),), sigma, device=device)
        v_c = transformer(x, cond, t, img_ids, torch.zeros(cond.shape[1], 3, device=device), cond_mask)
        if cfg == 1:
            v = v_c
        else:
            v_u = transformer(x, uncond, t, img_ids, torch.zeros(uncond.shape[1], 3, device=device), uncond_mask)
            v = v_u + cfg * (v_c - v_u)
        x = x + (sigma_next - sigma) * v
    z = unpack(x, 8, 8) / latent_norm['scalingFactor'] + latent_norm['shiftFactor']
    y = decoder(z)
    return ((y.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


if __name__ == '__main__':
    # golden values for the TS schedule: simple, shift 1 and 2
    print(np.round(simple_sigmas(10, 1.0), 6).tolist())
    print(np.round(simple_sigmas(10, 3.0), 6).tolist())
