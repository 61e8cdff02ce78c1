"""Finish the autoencoder and encode the data: the PCA channels are rescaled by std^-1/2 (a partial
whitening, so the low-variance shape channels are not drowned by the colour channels in the flow loss), the
rescaled encoder/decoder go to work/vae_final.pt, the latents to work/latents.npz and the statistics to
work/latent_stats.txt (shiftFactor = mean, scalingFactor = 1/std). Can run while the decoder still trains:
the encoder is fixed, so re-running it later only refreshes the decoder."""
import json

import numpy as np
import torch

import model
from model import Decoder, Encoder, rescale_latent_channels

device = model.pick_device('auto')
ck = torch.load('work/vae.pt', map_location='cpu')
enc, dec = Encoder(), Decoder()
enc.load_state_dict(ck['encoder'])
dec.load_state_dict(ck['decoder'])
data = np.load('work/data.npz')


def encode(images):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    enc.to(device)
    with torch.no_grad():
        out = torch.cat([enc(x[i:i + 512].to(device)).cpu() for i in range(0, len(x), 512)])
    enc.cpu()
    return out


std = encode(data['train_images'][::4]).std((0, 2, 3))
rescale_latent_channels(enc, dec, std ** -0.5)
torch.save({'encoder': enc.state_dict(), 'decoder': dec.state_dict(), 'channel_factors': std ** -0.5},
           'work/vae_final.pt')
latents, held = encode(data['train_images']), encode(data['held_images'])
shift, scale = latents.mean().item(), 1.0 / latents.std().item()
np.savez('work/latents.npz', train=latents.numpy(), held=held.numpy())
json.dump({'shiftFactor': round(shift, 5), 'scalingFactor': round(scale, 5),
           'channelMean': latents.mean((0, 2, 3)).tolist(), 'channelStd': latents.std((0, 2, 3)).tolist()},
          open('work/latent_stats.txt', 'w'), indent=1)
print('shift', shift, 'scale', scale, 'channel std', [round(s, 3) for s in latents.std((0, 2, 3)).tolist()])
