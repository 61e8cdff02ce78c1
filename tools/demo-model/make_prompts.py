"""Write prompts.json: the evaluation prompt set (seen and held-out captions with seeds), read by
evaluate.py and evaluate.ts."""
import json
import random

from shapes import all_scenes, caption, is_held_out

rng = random.Random(2024)
scenes = list(all_scenes())
seen = rng.sample([s for s in scenes if not is_held_out(s)], 100)
held = rng.sample([s for s in scenes if is_held_out(s)], 100)
out = {split: [{'prompt': caption(s), 'seed': rng.randrange(2 ** 31)} for s in group]
       for split, group in (('seen', seen), ('heldOut', held))}
json.dump(out, open('prompts.json', 'w'), indent=1)
