"""Export models/pigment-shapes/: the three ONNX graphs (opset 17), the tokenizer and the manifest.

Usage: export.py [--out ../../models/pigment-shapes] [--shift 1] [--steps 16] [--cfg 4]
Also writes work/parity.txt (torch outputs for fixed inputs) for check_onnx.mjs.
"""
import argparse
import json
import os

import numpy as np
import torch

import model
from model import MAX_TEXT, TEXT_DIM, Decoder, FlowTransformer, TextEncoder, image_ids
from shapes import EOS_ID, PAD_ID, UNK_ID, VOCAB, encode_prompt

parser = argparse.ArgumentParser()
parser.add_argument('--out', default='../../models/pigment-shapes')
parser.add_argument('--ckpt', default='work/flow.pt')
parser.add_argument('--shift', type=float, default=1.0)
parser.add_argument('--steps', type=int, default=16)
parser.add_argument('--cfg', type=float, default=4.0)
args = parser.parse_args()

torch.set_num_threads(1)
model.FAST_LINEAR = False
ck = torch.load(args.ckpt)
text_encoder, transformer, decoder = TextEncoder(len(VOCAB)), FlowTransformer(), Decoder()
text_encoder.load_state_dict(ck['ema_text_encoder'])
transformer.load_state_dict(ck['ema_transformer'])
decoder.load_state_dict(torch.load('work/vae_final.pt')['decoder'])
for m in (text_encoder, transformer, decoder):
    m.eval()
stats = json.load(open('work/latent_stats.txt'))
for sub in ('text_encoder', 'transformer', 'vae_decoder', 'tokenizer'):
    os.makedirs(os.path.join(args.out, sub), exist_ok=True)

# ---- fixed example inputs (also the parity vectors)
ids, mask = encode_prompt('a large red circle on a blue background, top left')
input_ids = torch.tensor([ids, ids[:4] + [EOS_ID, PAD_ID] + [PAD_ID] * (len(ids) - 6)])
attention_mask = torch.tensor([mask, [1] * 5 + [0] * (len(ids) - 5)])
hidden_states = torch.sin(torch.arange(2 * 16 * 64, dtype=torch.float32) * 0.37).reshape(2, 16, 64)
timestep = torch.tensor([0.75, 0.25])
img = image_ids(8, 8)
latent = torch.cos(torch.arange(1 * 16 * 8 * 8, dtype=torch.float32) * 0.13).reshape(1, 16, 8, 8)
with torch.no_grad():
    states = text_encoder(input_ids, attention_mask)
    txt = torch.zeros(states.shape[1], 3)
    velocity = transformer(hidden_states, states, timestep, img, txt)
    pixels = decoder(latent)


def export(module, inputs, names, outputs, axes, path):
    torch.onnx.export(module, inputs, os.path.join(args.out, path), input_names=names, output_names=outputs,
                      dynamic_axes=axes, opset_version=17, do_constant_folding=True)


class TransformerExport(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, hidden_states, encoder_hidden_states, timestep, img_ids, txt_ids):
        return self.inner(hidden_states, encoder_hidden_states, timestep, img_ids, txt_ids)


export(text_encoder, (input_ids, attention_mask), ['input_ids', 'attention_mask'], ['last_hidden_state'],
       {'input_ids': {0: 'batch', 1: 'sequence'}, 'attention_mask': {0: 'batch', 1: 'sequence'},
        'last_hidden_state': {0: 'batch', 1: 'sequence'}}, 'text_encoder/model.onnx')
export(TransformerExport(transformer), (hidden_states, states, timestep, img, txt),
       ['hidden_states', 'encoder_hidden_states', 'timestep', 'img_ids', 'txt_ids'], ['out_hidden_states'],
       {'hidden_states': {0: 'batch', 1: 'image_tokens'}, 'encoder_hidden_states': {0: 'batch', 1: 'text_tokens'},
        'timestep': {0: 'batch'}, 'img_ids': {0: 'image_tokens'}, 'txt_ids': {0: 'text_tokens'},
        'out_hidden_states': {0: 'batch', 1: 'image_tokens'}}, 'transformer/model.onnx')
export(decoder, (latent,), ['latent_sample'], ['sample'],
       {'latent_sample': {0: 'batch', 2: 'height', 3: 'width'}, 'sample': {0: 'batch', 2: 'pixel_height', 3: 'pixel_width'}},
       'vae_decoder/model.onnx')

# ---- tokenizer: whole-word WordPiece (no ## pieces, so it behaves exactly like WordLevel: unknown word ->
# <unk>); chosen because tokenizers.js has no WordLevel model. Lowercase + Whitespace (\w+|[^\w\s]+).
special = [{'id': i, 'content': VOCAB[i], 'single_word': False, 'lstrip': False, 'rstrip': False,
            'normalized': False, 'special': True} for i in (PAD_ID, EOS_ID, UNK_ID)]
tokenizer = {
    'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': special,
    'normalizer': {'type': 'Lowercase'}, 'pre_tokenizer': {'type': 'Whitespace'}, 'post_processor': None,
    'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
    'model': {'type': 'WordPiece', 'unk_token': '<unk>', 'continuing_subword_prefix': '##',
              'max_input_chars_per_word': 100, 'vocab': {w: i for i, w in enumerate(VOCAB)}},
}
json.dump(tokenizer, open(os.path.join(args.out, 'tokenizer/tokenizer.json'), 'w'), indent=1)
json.dump({'tokenizer_class': 'PreTrainedTokenizerFast', 'eos_token': '</s>', 'pad_token': '<pad>',
           'unk_token': '<unk>', 'model_max_length': MAX_TEXT, 'do_lower_case': True},
          open(os.path.join(args.out, 'tokenizer/tokenizer_config.json'), 'w'), indent=1)

manifest = {
    'name': 'pigment-shapes',
    'family': 'flow',
    'prediction': 'flow',
    'sampling': {'shift': args.shift},
    'components': {'tokenizer': 'tokenizer', 'textEncoder': 'text_encoder/model.onnx',
                   'denoiser': 'transformer/model.onnx', 'vaeDecoder': 'vae_decoder/model.onnx'},
    'latent': {'channels': 16, 'downscale': 8, 'scalingFactor': stats['scalingFactor'],
               'shiftFactor': stats['shiftFactor']},
    # EOS (</s>, id 1) and PAD (<pad>, id 0) come from tokenizer/tokenizer_config.json
    'text': {'maxLength': MAX_TEXT, 'padding': 'tokens+eos+1pad'},
    'defaults': {'steps': args.steps, 'cfg': args.cfg, 'sampler': 'euler', 'scheduler': 'simple', 'width': 64,
                 'height': 64, 'negativePrompt': ''},
    'limits': {'minSize': 64, 'maxSize': 256, 'sizeMultiple': 16, 'maxSteps': 100, 'minCfg': 0, 'maxCfg': 20},
    'license': 'Apache-2.0',
}
json.dump(manifest, open(os.path.join(args.out, 'pigment.json'), 'w'), indent=2)
json.dump({'input_ids': input_ids.tolist(), 'attention_mask': attention_mask.tolist(),
           'last_hidden_state': states.flatten().tolist(), 'hidden_states': hidden_states.flatten().tolist(),
           'timestep': timestep.tolist(), 'out_hidden_states': velocity.flatten().tolist(),
           'latent_sample': latent.flatten().tolist(), 'sample': pixels.flatten().tolist()},
          open('work/parity.txt', 'w'))
sizes = {p: os.path.getsize(os.path.join(args.out, p)) for p in
         ('text_encoder/model.onnx', 'transformer/model.onnx', 'vae_decoder/model.onnx')}
print('exported', sizes, 'total MB', round(sum(sizes.values()) / 2 ** 20, 2))
