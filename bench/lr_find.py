"""The learning-rate range test (L. Smith, 2015; `facenb.finetune.lr_find`) of a model on a dataset's training split.

    python bench/lr_find.py --arch lite0 --pretrained --data human-segmentation --size 128x96 --bs 4 --num-it 80 \\
        --threads 1 --cache-dir runs/cache --out facenb/records/finetune-lite0/lr-find.json

Builds the model and the training batches as `facenb train` would (the seeded hold-out's training photos, augmented
with the default policy), runs the range test from --start-lr to --end-lr (or until the loss diverges), and writes
the learning rates, the losses (raw and smoothed), the suggestions, the seconds and the machine as JSON.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
import torch
from facenb.core import atomic_write_text
from facenb.cli import parse_size
from facenb.loaders import dataloaders
from facenb.models import get_model
from facenb.losses import get_loss
from facenb.finetune import lr_find

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--arch', default='lite0'); p.add_argument('--pretrained', action='store_true')
    p.add_argument('--data', default='human-segmentation'); p.add_argument('--size', type=parse_size, default=(128, 96))
    p.add_argument('--bs', type=int, default=4); p.add_argument('--loss', default='bce_jaccard')
    p.add_argument('--start-lr', type=float, default=1e-7); p.add_argument('--end-lr', type=float, default=10.)
    p.add_argument('--num-it', type=int, default=100); p.add_argument('--seed', type=int, default=42)
    p.add_argument('--threads', type=int, default=1); p.add_argument('--cache-dir', default=None)
    p.add_argument('--out', type=Path, required=True, help='the record (JSON)')
    a = p.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
    train_dl, _ = dataloaders(a.data, a.size, a.bs, seed=a.seed, cache_dir=a.cache_dir, augment='default', progress=False)
    model = get_model(a.arch, pretrained=a.pretrained)
    t0 = time.perf_counter()
    res = lr_find(model, train_dl, get_loss(a.loss), start_lr=a.start_lr, end_lr=a.end_lr, num_it=a.num_it)
    res.update(seconds=round(time.perf_counter() - t0, 1), command='python ' + ' '.join(sys.argv),
               options={k: (list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
               machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(), torch=torch.__version__,
                            note='2-core CPU shared with other jobs; 1 thread'))
    atomic_write_text(a.out, json.dumps(res, indent=1))
    print(f"{len(res['lrs'])} steps in {res['seconds']} s; diverged at {res['diverged_at']}; steepest {res['steepest']:.2e}, "
          f"minimum/10 {res['min_div10']:.2e}; saved {a.out}")

if __name__ == '__main__': main()
