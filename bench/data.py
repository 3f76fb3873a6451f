"""Throughput of facenb's training data loader on one CPU core.

Measures cached 256x192 training samples per second with augmentation (flip, affine, colour jitter) and
conversion to tensors, in a single process with one torch thread, as a CPU training run sees them; the
same loader without augmentation is measured in the same run for comparison. The decode-and-resize cache
is built first (or read from --cache-dir) and not timed. Goal: >= 200 samples/s with augmentation.

    FACENB_DATA=../shared/data python bench/data.py            # portraits, 256x192, batch size 8
    python bench/data.py --dataset synthetic                   # no data needed
"""
import argparse, time

import cv2
import torch

from facenb.cli import parse_size
from facenb.core import cache_root
from facenb.sources import get_source
from facenb.loaders import SegmentationDataset


def samples_per_second(ds, bs, n_samples):
    "Iterate a single-process DataLoader over `ds` until `n_samples` samples were produced; samples/s."
    dl = torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, num_workers=0, drop_last=True)
    next(iter(dl))  # warm-up (first albumentations call, allocator)
    seen, t0 = 0, time.perf_counter()
    while seen < n_samples:
        for x, y in dl:
            seen += len(x)
            if seen >= n_samples: break
    return seen / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--dataset', default='portraits', help="dataset key or folder (default: portraits)")
    p.add_argument('--size', type=parse_size, default=(256, 192), metavar='HxW')
    p.add_argument('--bs', type=int, default=8)
    p.add_argument('--samples', type=int, default=1600, help='samples to time per configuration')
    p.add_argument('--cache-dir', default=None, help='.npy cache folder (default: <facenb cache>/arrays)')
    a = p.parse_args()

    torch.set_num_threads(1)
    cv2.setNumThreads(1)  # albumentations runs on OpenCV: keep it on one core too
    cache_dir = a.cache_dir or cache_root() / 'arrays'
    src = get_source(a.dataset, 'train')
    t0 = time.perf_counter()
    aug = SegmentationDataset(src, tuple(a.size), augment=True, cache_dir=cache_dir, progress=False)
    plain = SegmentationDataset(src, tuple(a.size), augment=False, cache_dir=cache_dir, progress=False)
    print(f'{a.dataset} train: {len(src)} pairs, cache ready in {time.perf_counter() - t0:.1f} s '
          f'(built once, then read from {"the given folder" if a.cache_dir else "the facenb cache"})')
    with_aug = samples_per_second(aug, a.bs, a.samples)
    without = samples_per_second(plain, a.bs, a.samples)
    h, w = a.size
    print(f'one core, batch size {a.bs}, {h}x{w}:')
    print(f'  with augmentation    {with_aug:8.0f} samples/s   (goal >= 200)')
    print(f'  without augmentation {without:8.0f} samples/s')
    print(f'  augmentation costs {without / with_aug:.1f}x; {1000 / with_aug:.2f} ms per augmented sample')


if __name__ == '__main__':
    main()
