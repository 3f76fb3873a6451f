"""Where does a training epoch's time go: waiting for data, or computing?

Runs a short training (a few steps per epoch) with `facenb.train` and prints, per epoch, the time spent waiting
for batches (`next()` on the DataLoader) against the time spent on the steps (to device, forward, loss, backward,
optimiser, metrics), and the training throughput. The goal: data <= 5% of the epoch. The first epoch also fills
the resized-image cache (with --cache-dir), so read the last one.

    python bench/train.py                                   # tiny synthetic run (from-scratch U-Net, 64x48)
    python bench/train.py --arch resnet34 --data portraits --size 160x120 --bs 12 --steps 20 \
        --cache-dir runs/cache --threads 2                  # the CPU recipe's setting

Needs FACENB_DATA (or the per-user data folder) for real datasets.
"""
import argparse, json, tempfile
from dataclasses import replace

from facenb.cli import parse_size
from facenb.train import TrainConfig, train


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--arch', default='unet')
    p.add_argument('--model-kw', default=None, help='JSON dict for get_model, e.g. \'{"base": 8, "depth": 3}\'')
    p.add_argument('--data', default='synthetic')
    p.add_argument('--size', type=parse_size, default=(64, 48), metavar='HxW')
    p.add_argument('--bs', type=int, default=8)
    p.add_argument('--steps', type=int, default=10, help='training steps per epoch (0: the whole epoch)')
    p.add_argument('--epochs', type=int, default=2, help='epochs to run (the first one warms caches)')
    p.add_argument('--workers', type=int, default=0)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--cache-dir', default=None)
    p.add_argument('--n-samples', type=int, default=None)
    p.add_argument('--no-channels-last', action='store_true')
    p.add_argument('--amp', default='auto')
    a = p.parse_args(argv)

    model_kw = json.loads(a.model_kw) if a.model_kw else ({'base': 8, 'depth': 3} if a.arch == 'unet' else {})
    with tempfile.TemporaryDirectory(prefix='facenb-bench-') as out:
        cfg = TrainConfig(arch=a.arch, model_kw=model_kw, data=a.data, size=tuple(a.size), bs=a.bs, epochs=a.epochs,
                          num_workers=a.workers, threads=a.threads, cache_dir=a.cache_dir, n_samples=a.n_samples,
                          channels_last=not a.no_channels_last, amp=a.amp, out=out,
                          max_steps_per_epoch=a.steps or None, max_valid_steps=1)
        learn = train(cfg, progress=False)
    print(f'\n{a.arch} on {a.data} at {a.size[0]}x{a.size[1]}, bs {a.bs}, {learn.steps_per_epoch} steps/epoch, '
          f'workers {a.workers}, threads {a.threads or "default"}, channels_last {not a.no_channels_last}, '
          f'device {learn.device}, amp {learn.amp_dtype}')
    print(f"{'epoch':>5} {'images':>6} {'data s':>8} {'compute s':>9} {'train s':>8} {'data %':>7} {'img/s':>7}")
    for r in learn.history:
        pct = 100 * r['data_time'] / max(r['train_time'], 1e-9)
        print(f"{r['epoch']:>5} {r['n_train']:>6} {r['data_time']:>8.2f} {r['step_time']:>9.2f} {r['train_time']:>8.2f} "
              f"{pct:>6.1f}% {r['train_img_s']:>7.1f}")
    r = learn.history[-1]
    pct = 100 * r['data_time'] / max(r['train_time'], 1e-9)
    print(f"last epoch: data {pct:.1f}% of the training time (goal <= 5%: {'met' if pct <= 5 else 'NOT met'}), "
          f"{r['train_img_s']:.1f} img/s")


if __name__ == '__main__':
    main()
