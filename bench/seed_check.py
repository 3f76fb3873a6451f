"""Where the difference between two seeds of one run comes from (chapter 10): each run's best.pt scored on the
hold-out of each seed, in eval mode and with batch normalisation on the batch's own statistics.

    python bench/seed_check.py --runs runs/aug-none-s1 runs/aug-none-s2 --seeds 1 2 42 --threads 1 \\
        --out facenb/records/augment-lite0/seed-check.json

The seed of a run draws its hold-out split, its decoder's first weights and the order of its photos. Scoring every run
on every seed's validation photos (at the run's training size, per-photo Jaccard as the trainer reports it) separates
the two: a column that is low for every run is a harder set of photos; a row that is low on every split is a worse model.
Batch normalisation on the batch's statistics instead of the running ones tests whether the running statistics are off.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
import torch
from facenb.core import atomic_write_text
from facenb.loaders import dataloaders
from facenb.inference import load_model

def jaccards(model, dl, batch_stats=False):
    "Per-photo Jaccard of `model` (threshold 0.5) on the batches of `dl`; `batch_stats`: BN layers in training mode."
    model.eval()
    if batch_stats:
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm): m.train()
    out = []
    with torch.no_grad():
        for x, y in dl:
            p = (torch.sigmoid(model(x)) > 0.5).float(); y = (y > 0).float().view_as(p)
            i, u = (p*y).sum((1, 2, 3)), ((p + y) > 0).float().sum((1, 2, 3))
            out += torch.where(u > 0, i/u.clamp(min=1), torch.ones_like(u)).tolist()
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--runs', nargs='+', type=Path, required=True); p.add_argument('--seeds', nargs='+', type=int, default=[1, 2, 42])
    p.add_argument('--threads', type=int, default=1); p.add_argument('--cache-dir', default='runs/cache')
    p.add_argument('--out', type=Path, required=True)
    a = p.parse_args()
    torch.set_num_threads(a.threads); t0 = time.perf_counter()
    rec = dict(command='python ' + ' '.join(sys.argv), results={})
    for run in a.runs:
        cfg = json.loads((run/'config.json').read_text())
        for s in a.seeds:
            _, dl = dataloaders(cfg['data'], tuple(cfg['size']), cfg['bs'], cfg['valid_pct'], s, cache_dir=a.cache_dir, augment=False, progress=False)
            ev, bs = jaccards(load_model(run, device='cpu'), dl), jaccards(load_model(run, device='cpu'), dl, batch_stats=True)
            rec['results'].setdefault(run.name, {})[f'split {s}'] = dict(eval=sum(ev)/len(ev), batch_stats=sum(bs)/len(bs), n=len(ev))
            print(f'{run.name:20s} split of seed {s:3d}: eval {sum(ev)/len(ev):.3f}, BN on batch statistics {sum(bs)/len(bs):.3f}', flush=True)
    rec.update(seconds=round(time.perf_counter() - t0, 1), threads=a.threads,
               machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(), torch=torch.__version__,
                            note='2-core CPU shared with other jobs'))
    atomic_write_text(a.out, json.dumps(rec, indent=1))
    print(f'saved {a.out} ({rec["seconds"]} s)')

if __name__ == '__main__': main()
