"""Score training runs on the validation photos of the people datasets at each photo's own resolution (chapters 10
and 11), with `--tta` also with the mirror at test time.

    python bench/score_runs.py --runs runs/aug-none-s1 runs/aug-default-s1 --threads 1 --limit 60 \\
        --out facenb/records/augment-lite0/scores.json

Each run segments every validation photo at the photo's resolution (fitted into the run's training size, the
probabilities resized back, thresholded at 0.5); with `--tta`, also averaged with its mirror (`flip_tta`). The
validation photos of a dataset the run trained on are that run's own seeded hold-out (its `seed`: the photos it never
saw); a dataset it did not train on is scored on its default hold-out (seed 42), the same photos for every run.
Writes the per-photo Jaccard (for paired comparisons), the means per dataset and the run's config and best epoch.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
import numpy as np
import torch
from facenb.core import atomic_write_text
from facenb.sources import get_source, mix_names, mix_key
from facenb.inference import load_model, predict_batch
from facenb.augment import score_photos

DATASETS = ('portraits', 'human-segmentation', 'ccp')

def photos_of(name, seed, limit=None, cache={}):
    "The decoded validation photos and 0/1 masks of `name`'s hold-out drawn with `seed` (the first `limit`; decoded once)."
    if (name, seed) not in cache:
        src = get_source(name, 'valid', seed=seed)
        src = src.subset(src.names[:limit], 'valid') if limit else src
        pairs = [src[i] for i in range(len(src))]
        cache[name, seed] = ([p for p, _ in pairs], [(m > 0).astype(np.uint8) for _, m in pairs], list(src.names))
    return cache[name, seed]

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--runs', nargs='+', type=Path, required=True, help='run folders (their best.pt is scored)')
    p.add_argument('--data', nargs='*', default=list(DATASETS))
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--tta', action='store_true', help='also score each run with the mirror at test time (twice the time)')
    p.add_argument('--limit', type=int, default=None, help='at most this many photos of each hold-out (the first ones: the same for every run)')
    p.add_argument('--out', type=Path, required=True, help='the record (JSON)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0, record = time.perf_counter(), dict(command='python ' + ' '.join(sys.argv), runs={})
    for run in a.runs:
        model = load_model(run, device='cpu')
        cfg = json.loads((run/'config.json').read_text())
        hist = json.loads((run/'history.json').read_text())
        trained = {mix_key(n) for n in mix_names(cfg['data'])}
        r = dict(config=cfg, best_epoch=max(hist, key=lambda h: h['val_jaccard'])['epoch'],
                 train_seconds=round(sum(h['time'] for h in hist), 1), per_dataset={})
        for name in a.data:
            seed = cfg['seed'] if mix_key(name) in trained else 42
            photos, truths, names = photos_of(name, seed, a.limit)
            plain = score_photos(lambda ims: predict_batch(model, ims), photos, truths)
            r['per_dataset'][name] = d = dict(split_seed=seed, n=len(photos), jaccard=float(plain.mean()), photos=names,
                                              per_photo=[round(float(v), 5) for v in plain])
            if a.tta:
                tta = score_photos(lambda ims: predict_batch(model, ims, tta=True), photos, truths)
                d.update(jaccard_tta=float(tta.mean()), per_photo_tta=[round(float(v), 5) for v in tta])
            print(f"{run.name:24s} {name:20s} J {plain.mean():.4f}" + (f"  with the mirror {tta.mean():.4f}" if a.tta else '')
                  + f"  ({len(photos)} photos)", flush=True)
        record['runs'][run.name] = r
    record.update(seconds=round(time.perf_counter() - t0, 1), threads=a.threads, limit=a.limit,
                  machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(), torch=torch.__version__,
                               note='2-core CPU shared with other jobs'))
    atomic_write_text(a.out, json.dumps(record, indent=1))
    print(f'saved {a.out} ({record["seconds"]} s)')

if __name__ == '__main__': main()
