"""Training speed on the CPU: facenb's models against segmentation_models_pytorch's equivalents.

One training step (forward + backward + Adam step, BCE-with-logits loss) on a random batch, for each of our
models and for `smp.Unet` with the matching encoder (encoder_weights=None), at the same input size, batch,
thread count and memory format. The measurements of each pair are interleaved (ours, smp, ours, smp, ...) so
that a change in the machine's load hits both alike; we report the median of the timed repeats after a
warm-up, in images per second, and the ratio ours / smp (> 1: ours trains faster). On a machine shared
with other jobs a step can take ten times longer when another job holds a core, so two more estimates
are printed: `paired`, the median over rounds of the ratio of two adjacent steps (ours, then smp, under
nearly the same load), and the ratio of the best (fastest) steps, the cost of each model on an idle CPU.

    python bench/models.py                       # all three pairs (a few minutes on 2 cores)
    python bench/models.py --pairs resnet34      # only ResNet34-UNet vs smp.Unet('resnet34')

segmentation_models_pytorch is a benchmark-only dependency (in the dev extras); facenb never imports it.
"""
import argparse, statistics, time
import torch
import torch.nn.functional as F
import segmentation_models_pytorch as smp
from facenb.cli import parse_size
from facenb.models import get_model

SMP_ENCODER = {'resnet34': 'resnet34', 'unet11': 'vgg11', 'unet16': 'vgg16'}

def train_step(model, opt, x, y):
    "One forward + backward + Adam step; returns the seconds it took."
    t0 = time.perf_counter()
    loss = F.binary_cross_entropy_with_logits(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return time.perf_counter() - t0

def bench_pair(name, batch, size, repeats, warmup, channels_last):
    "Interleaved timings of our `name` and smp's equivalent: {'ours'|'smp': (median, min) seconds per step, 'paired': median of per-round smp/ours}."
    torch.manual_seed(0)
    models = {'ours': get_model(name), 'smp': smp.Unet(SMP_ENCODER[name], encoder_weights=None, classes=1)}
    x, y = torch.rand(batch, 3, *size), (torch.rand(batch, 1, *size) > 0.5).float()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = x.contiguous(memory_format=fmt)
    runs = {}
    for key, model in models.items():
        model.to(memory_format=fmt).train()
        runs[key] = (model, torch.optim.Adam(model.parameters(), lr=1e-3), [])
    for i in range(warmup + repeats):
        for key, (model, opt, times) in runs.items():
            dt = train_step(model, opt, x, y)
            if i >= warmup: times.append(dt)
    ours, ref = runs['ours'][2], runs['smp'][2]
    return {'ours': (statistics.median(ours), min(ours)), 'smp': (statistics.median(ref), min(ref)),
            'paired': statistics.median(r / o for o, r in zip(ours, ref))}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--pairs', nargs='+', default=['resnet34', 'unet11', 'unet16'], choices=list(SMP_ENCODER))
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--size', type=parse_size, default=(256, 192), metavar='HxW')
    p.add_argument('--repeats', type=int, default=7, help='timed steps per model for resnet34')
    p.add_argument('--vgg-repeats', type=int, default=3, help='timed steps per model for the (much slower) VGG pairs')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--channels-last', action='store_true', help='both models and the input in channels_last')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f'torch {torch.__version__}, smp {smp.__version__}, {a.threads} threads, batch {a.batch}, '
          f'{a.size[0]}x{a.size[1]}, {"channels_last" if a.channels_last else "contiguous (NCHW)"}; '
          f'forward + backward + Adam step, median after {a.warmup} warm-up step(s)')
    print(f"{'model':10}{'ours img/s':>12}{'smp img/s':>12}{'ours/smp':>10}{'paired':>8}{'repeats':>9}   best step: ours/smp img/s")
    start = time.perf_counter()
    for name in a.pairs:
        repeats = a.repeats if name == 'resnet34' else a.vgg_repeats
        t = bench_pair(name, a.batch, tuple(a.size), repeats, a.warmup, a.channels_last)
        (ours, ours_best), (ref, ref_best) = t['ours'], t['smp']
        print(f"{name:10}{a.batch / ours:12.2f}{a.batch / ref:12.2f}{ref / ours:10.2f}{t['paired']:8.2f}{repeats:9d}"
              f"   {a.batch / ours_best:.2f}/{a.batch / ref_best:.2f} = {ref_best / ours_best:.2f}", flush=True)
    print(f'total {time.perf_counter() - start:.0f} s')

if __name__ == '__main__':
    main()
