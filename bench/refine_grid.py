"""Choose the edge refinement's settings on the validation photos: the shipped people model's probabilities, each
photo at its own resolution, refined by `facenb.inference.guided_filter` over a small grid of settings, and scored
per photo (Jaccard and boundary IoU of the mask at 0.5) and averaged per dataset. Also measured: a colour guide
(the RGB guided filter of He et al., a 3x3 system per window) at the best gray settings, and the milliseconds of each.

    python bench/refine_grid.py --limit 40 --out facenb/records/people-refine/grid.json

The validation photos are the seeded hold-outs of portraits, Human-Segmentation and CCP (`bench/peer.py`'s).
"""
import argparse, json, os, platform, statistics, time
from itertools import product
from pathlib import Path

import cv2
import numpy as np
from facenb.core import atomic_write_text
from facenb.sources import get_source, mix_key
from facenb.inference import OnnxPredictor, guided_filter, gray, box_mean
from facenb.metrics import boundary_iou

DATASETS = ('portraits', 'human-segmentation', 'ccp')

def jaccard(p, t):
    union = (p | t).sum()
    return (p & t).sum()/union if union else 1.0

def colour_guided_filter(image, p, radius=8, eps=1e-3, subsample=4):
    "He et al.'s guided filter with the RGB photo as the guide (fast variant): a 3x3 linear system per window."
    s = subsample
    I, P, r = image[::s, ::s].astype(np.float64)/255, p[::s, ::s].astype(np.float64), max(1, round(radius/s))
    mI = np.stack([box_mean(I[..., c], r) for c in range(3)], -1)
    mP = box_mean(P, r)
    cov = np.stack([box_mean(I[..., c]*P, r) for c in range(3)], -1) - mI*mP[..., None]
    var = np.empty(I.shape[:2] + (3, 3))
    for i in range(3):
        for j in range(3): var[..., i, j] = box_mean(I[..., i]*I[..., j], r) - mI[..., i]*mI[..., j]
    a = np.linalg.solve(var + eps*np.eye(3), cov[..., None])[..., 0]
    b = mP - (a*mI).sum(-1)
    h, w = p.shape
    up = lambda c: cv2.resize(box_mean(c, r).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return sum(up(a[..., c])*(image[..., c].astype(np.float32)/255) for c in range(3)) + up(b)

def score(masks, truths, where, datasets):
    "Mean Jaccard and boundary IoU per dataset of 0/1 masks."
    s = np.array([(jaccard(m, t), float(boundary_iou(m, t))) for m, t in zip(masks, truths)])
    return {d: dict(jaccard=float(s[[w == d for w in where], 0].mean()), boundary_iou=float(s[[w == d for w in where], 1].mean()))
            for d in datasets}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', type=Path, default=None, help='an ONNX predictor (default: the shipped people model)')
    p.add_argument('--radius', type=int, nargs='*', default=[4, 8, 16])
    p.add_argument('--eps', type=float, nargs='*', default=[1e-4, 1e-3, 1e-2])
    p.add_argument('--subsample', type=int, nargs='*', default=[4])
    p.add_argument('--limit', type=int, default=None, help='at most this many photos per dataset (quick checks)')
    p.add_argument('--out', type=Path, default=None)
    a = p.parse_args()
    if a.model is None:
        from facenb.people import people_model
        a.model = people_model().path
    pred = OnnxPredictor(a.model, threads=1, refine=False)
    photos, truths, where = [], [], []
    for name in DATASETS:
        src = get_source(name, 'valid')
        for i in range(len(src) if a.limit is None else min(a.limit, len(src))):
            im, m = src[i]
            photos.append(im); truths.append(m > 0); where.append(mix_key(name))
    probs = [pred.predict_batch([im])[0][0] for im in photos]
    print(f"{len(photos)} validation photos; the model's probabilities computed once, unrefined", flush=True)
    rows = {}
    def run(label, settings, refine):
        ms, masks = [], []
        for im, q in zip(photos, probs):
            t0 = time.perf_counter(); r = refine(im, q); ms.append(1e3*(time.perf_counter() - t0))
            masks.append(np.clip(r, 0, 1) >= 0.5)
        rows[label] = dict(settings=settings, per_dataset=score(masks, truths, where, DATASETS), ms_median=statistics.median(ms))
        per = rows[label]['per_dataset']
        print(f"{label:38s} " + '  '.join(f"{d[:8]} {v['jaccard']:.4f}/{v['boundary_iou']:.4f}" for d, v in per.items())
              + f"  {rows[label]['ms_median']:.1f} ms", flush=True)
    run('none', None, lambda im, q: q)
    for r, e, s in product(a.radius, a.eps, a.subsample):
        run(f'gray r{r} eps{e:g} s{s}', dict(radius=r, eps=e, subsample=s), lambda im, q, r=r, e=e, s=s: guided_filter(gray(im), q, r, e, s))
    gain = lambda row: np.mean([v['jaccard'] + v['boundary_iou'] for v in row['per_dataset'].values()])
    best = max((k for k in rows if k.startswith('gray')), key=lambda k: gain(rows[k]))
    st = rows[best]['settings']
    run(f"colour r{st['radius']} eps{st['eps']:g} s{st['subsample']}", dict(st, guide='rgb'),
        lambda im, q: colour_guided_filter(im, q, **st))
    print(f'best gray settings (mean of Jaccard + boundary IoU over the datasets): {best}')
    if a.out:
        atomic_write_text(a.out, json.dumps(dict(model=Path(a.model).name, datasets={d: where.count(d) for d in DATASETS},
                                                 best=best, rows=rows, threads=1, machine=dict(cpu=platform.processor() or platform.machine(),
                                                 cores=os.cpu_count())), indent=1))
        print(f'saved {a.out}')

if __name__ == '__main__': main()
