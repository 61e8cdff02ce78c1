"""The pigment-shapes networks: a small autoencoder, a text encoder and a joint-attention flow transformer.

Shapes follow docs/model-format.md (flow family): latent [B, 16, 8, 8] for 64x64, packed 2x2 to
[B, 16, 64]; the transformer predicts the flow velocity (noise - x0) at sigma in [0, 1].
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT_CHANNELS = 16
TEXT_DIM = 96
MAX_TEXT = 32

# The Debian torch build uses the reference BLAS (about 2 GFLOP/s); oneDNN convolutions are ~7x faster, so
# training runs every Linear as a 1x1 convolution. Export sets FAST_LINEAR = False to get plain MatMul/Gemm.
FAST_LINEAR = True


def pick_device(name):
    """'auto' -> CUDA when present (the GPU needs plain Linear/bmm: FAST_LINEAR only helps the reference BLAS)."""
    global FAST_LINEAR
    device = torch.device('cuda' if name == 'auto' and torch.cuda.is_available() else ('cpu' if name == 'auto' else name))
    if device.type == 'cuda':
        FAST_LINEAR = False
    else:
        torch.set_num_threads(1)
    return device


class PlainNorm(nn.Module):
    """LayerNorm without scale and shift, written out: torch 1.13 exports LayerNorm(elementwise_affine=False) at
    opset 17 as a LayerNormalization node with an empty scale input, which onnx rejects."""

    def __init__(self, eps=1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = (x - mean).pow(2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps)


class Dense(nn.Linear):
    def forward(self, x):
        if not FAST_LINEAR:
            return F.linear(x, self.weight, self.bias)
        shape = x.shape
        y = F.conv2d(x.reshape(-1, shape[-1], 1, 1), self.weight[:, :, None, None], self.bias)
        return y.reshape(*shape[:-1], self.out_features)



# ----------------------------------------------------------------------------- autoencoder

class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.silu(self.conv1(F.silu(x))))


class Encoder(nn.Module):
    """64x64x3 in [-1, 1] -> 16x8x8: a linear map of each 8x8x3 patch onto its 16 principal components (PCA of
    the training patches, fitted in train_vae.py and then fixed): the optimal linear encoder, smooth by design."""

    def __init__(self):
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(8)
        self.proj = nn.Conv2d(3 * 64, LATENT_CHANNELS, 1)
        self.requires_grad_(False)

    def fit(self, images):
        """PCA of the 8x8 patches of images [N, 3, 64, 64]; components ordered by variance."""
        patches = self.unshuffle(images).permute(0, 2, 3, 1).reshape(-1, 3 * 64).double()
        mean = patches.mean(0)
        cov = (patches - mean).T @ (patches - mean) / len(patches)
        values, vectors = torch.linalg.eigh(cov)
        comps = vectors[:, torch.argsort(values, descending=True)[:LATENT_CHANNELS]].T  # [16, 192]
        self.proj.weight.copy_(comps[:, :, None, None].float())
        self.proj.bias.copy_(-(comps @ mean).float())
        return mean.float(), comps.float(), (values.sort(descending=True).values[:LATENT_CHANNELS].sum() / values.sum()).item()

    def forward(self, x):
        return self.proj(self.unshuffle(x))


class Decoder(nn.Module):
    """16xhxw -> 3x8hx8w in ~[-1, 1]: the PCA inverse (a 1x1 convolution and a pixel shuffle, initialised from
    the encoder and trained further) plus a learned residual from 3x3 convolutions at latent resolution, and a
    3x3 refinement at full resolution (both residual branches start at zero)."""

    def __init__(self, ch=96):
        super().__init__()
        self.linear = nn.Conv2d(LATENT_CHANNELS, 3 * 64, 1)
        self.inp = nn.Conv2d(LATENT_CHANNELS, ch, 3, padding=1)
        self.blocks = nn.Sequential(ResBlock(ch), ResBlock(ch))
        self.detail = nn.Conv2d(ch, 3 * 64, 1)
        self.shuffle = nn.PixelShuffle(8)
        self.refine1 = nn.Conv2d(3, 16, 3, padding=1)
        self.refine2 = nn.Conv2d(16, 3, 3, padding=1)
        for m in (self.detail, self.refine2):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def init_linear(self, mean, comps):
        with torch.no_grad():
            self.linear.weight.copy_(comps.T[:, :, None, None])
            self.linear.bias.copy_(mean)

    def forward(self, z):
        h = self.linear(z) + self.detail(F.silu(self.blocks(self.inp(z))))
        x = self.shuffle(h)
        return x + self.refine2(F.silu(self.refine1(x)))


# ----------------------------------------------------------------------------- attention helpers

def attend(q, k, v, bias=None):
    """Scaled dot-product attention over [B, H, N, d]; bias [B, 1, 1, Nk] (0 or -1e9) hides keys."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    if FAST_LINEAR:  # broadcast products: the reference BLAS bmm is slower than this on these tiny shapes
        att = (q[:, :, :, None, :] * k[:, :, None, :, :]).sum(-1) * scale
    else:
        att = (q @ k.transpose(-2, -1)) * scale
    if bias is not None:
        att = att + bias
    att = att.softmax(-1)
    if FAST_LINEAR:
        return (att[..., None] * v[:, :, None, :, :]).sum(-2)
    return att @ v


def heads(x, n):
    b, length, d = x.shape
    return x.reshape(b, length, n, d // n).transpose(1, 2)


def merge(x):
    b, n, length, d = x.shape
    return x.transpose(1, 2).reshape(b, length, n * d)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = Dense(dim, 3 * dim)
        self.proj = Dense(dim, dim)

    def forward(self, x, bias=None):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        n = self.heads
        return self.proj(merge(attend(heads(q, n), heads(k, n), heads(v, n), bias)))


class CrossAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q = Dense(dim, dim)
        self.kv = Dense(dim, 2 * dim)
        self.proj = Dense(dim, dim)

    def forward(self, x, context, bias=None):
        k, v = self.kv(context).chunk(2, dim=-1)
        n = self.heads
        return self.proj(merge(attend(heads(self.q(x), n), heads(k, n), heads(v, n), bias)))


class Mlp(nn.Module):
    def __init__(self, dim, ratio=4):
        super().__init__()
        self.fc1 = Dense(dim, dim * ratio)
        self.fc2 = Dense(dim * ratio, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


# ----------------------------------------------------------------------------- text encoder

class TextLayer(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim)

    def forward(self, x, bias):
        x = x + self.attn(self.norm1(x), bias)
        return x + self.mlp(self.norm2(x))


class TextEncoder(nn.Module):
    """input_ids [B, L], attention_mask [B, L] -> last_hidden_state [B, L, TEXT_DIM] (padding masked as keys)."""

    def __init__(self, vocab, dim=TEXT_DIM, layers=2, heads=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(1, MAX_TEXT, dim) * 0.02)
        self.layers = nn.ModuleList([TextLayer(dim, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, input_ids, attention_mask):
        length = input_ids.shape[1]
        x = self.embed(input_ids) + self.pos[:, :length]
        bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -1e9
        for layer in self.layers:
            x = layer(x, bias)
        return self.norm(x)


# ----------------------------------------------------------------------------- flow transformer

def sinusoid(values, dim, max_period=10000.0):
    """values [...] -> [..., dim] (cos first, as Flux's timestep embedding)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=values.device) / half)
    args = values[..., None].float() * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Block(nn.Module):
    """Image self-attention, cross-attention to the text, MLP; adaLN-single modulation (PixArt-alpha)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = PlainNorm()
        self.attn = Attention(dim, heads)
        self.norm_cross = nn.LayerNorm(dim)
        self.cross = CrossAttention(dim, heads)
        self.norm2 = PlainNorm()
        self.mlp = Mlp(dim)
        self.table = nn.Parameter(torch.randn(6, dim) * dim ** -0.5)

    def forward(self, x, txt, mod, bias):
        shift1, scale1, gate1, shift2, scale2, gate2 = (mod + self.table[None]).unbind(1)
        h = self.norm1(x) * (1 + scale1[:, None]) + shift1[:, None]
        x = x + gate1[:, None] * self.attn(h)
        x = x + self.cross(self.norm_cross(x), txt, bias)
        h = self.norm2(x) * (1 + scale2[:, None]) + shift2[:, None]
        return x + gate2[:, None] * self.mlp(h)


class FlowTransformer(nn.Module):
    def __init__(self, dim=128, depth=4, heads=4, text_dim=TEXT_DIM, patch_dim=64, pos_dim=32):
        super().__init__()
        self.dim, self.pos_dim = dim, pos_dim
        self.img_in = Dense(patch_dim, dim)
        self.txt_in = Dense(text_dim, dim)
        self.pos_in = Dense(3 * pos_dim, dim)
        self.txt_type = nn.Parameter(torch.zeros(1, 1, dim))
        self.time_in = nn.Sequential(Dense(256, dim), nn.SiLU(), Dense(dim, dim))
        self.pooled_in = Dense(text_dim, dim)
        self.modulation = nn.Sequential(nn.SiLU(), Dense(dim, 6 * dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm_out = PlainNorm()
        self.out_mod = nn.Sequential(nn.SiLU(), Dense(dim, 2 * dim))
        self.proj_out = Dense(dim, patch_dim)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def embed_ids(self, ids):
        """ids [L, 3] -> [L, dim] (sinusoids of each axis, max period 64)."""
        return self.pos_in(sinusoid(ids, self.pos_dim, max_period=64.0).reshape(ids.shape[0], -1))

    def forward(self, hidden_states, encoder_hidden_states, timestep, img_ids, txt_ids, txt_mask=None):
        """txt_mask [B, L_txt] (training only) hides batch padding; ONNX inference sees exactly its tokens."""
        img = self.img_in(hidden_states) + self.embed_ids(img_ids)[None]
        txt = self.txt_in(encoder_hidden_states) + self.embed_ids(txt_ids)[None] + self.txt_type
        if txt_mask is None:
            pooled = encoder_hidden_states.mean(1)
            bias = None
        else:
            m = txt_mask.to(encoder_hidden_states.dtype)
            pooled = (encoder_hidden_states * m[..., None]).sum(1) / m.sum(1, keepdim=True)
            bias = (1.0 - m)[:, None, None, :] * -1e9
        cond = self.time_in(sinusoid(timestep * 1000.0, 256)) + self.pooled_in(pooled)
        mod = self.modulation(cond).reshape(-1, 6, self.dim)
        x = img
        for block in self.blocks:
            x = block(x, txt, mod, bias)
        shift, scale = self.out_mod(cond).chunk(2, dim=-1)
        x = self.norm_out(x) * (1 + scale[:, None]) + shift[:, None]
        return self.proj_out(x)


# ----------------------------------------------------------------------------- packing (docs/model-format.md)

def pack(latent):
    """[B, C, h, w] -> [B, (h/2)(w/2), 4C]; feature c*4 + dy*2 + dx."""
    b, c, h, w = latent.shape
    x = latent.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // 2) * (w // 2), c * 4)


def unpack(packed, h, w):
    b, _, f = packed.shape
    c = f // 4
    x = packed.reshape(b, h // 2, w // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c, h, w)


def image_ids(h, w):
    """img_ids over the packed (h/2) x (w/2) grid: (0, r, c)."""
    r, c = torch.meshgrid(torch.arange(h // 2), torch.arange(w // 2), indexing='ij')  # CPU; callers move it
    return torch.stack([torch.zeros_like(r), r, c], dim=-1).reshape(-1, 3).float()


def rescale_latent_channels(encoder, decoder, factors):
    """Multiply latent channel c by factors[c] (an exact reparametrisation: the encoder's projection is scaled,
    the decoder's first layers absorb the inverse)."""
    with torch.no_grad():
        encoder.proj.weight.mul_(factors[:, None, None, None])
        encoder.proj.bias.mul_(factors)
        for conv in (decoder.linear, decoder.inp):
            conv.weight.div_(factors[None, :, None, None])
