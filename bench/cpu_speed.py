"""What makes a CPU training step fast or slow: memory format, precision and threads, measured side by side.

One ResNet34-UNet (random weights) and one batch of the CPU recipe (12 images of 160x120): the median time of a
training step (forward, BCE-with-logits, backward, Adam) in float32 with the default (contiguous) memory format and
with channels-last, with 2 threads and with 1; then the same two thread counts while another process keeps one
core busy (a pure-Python loop, the way a second job on the machine would); and the forward pass of one image in
float32 against bfloat16 autocast (the bfloat16 one is so slow on CPUs without native support that it is timed on one
image only). Each setting is timed in rounds that alternate with the others, so that a change in the machine's
load hits all of them alike.

    python bench/cpu_speed.py --out facenb/records/cpu-speed/speed.json

Run it on an otherwise idle machine: it measures the machine as much as the code.
"""
import argparse, json, multiprocessing as mp, os, platform, statistics, time
from pathlib import Path
import torch
from facenb.models import get_model
from facenb.core import atomic_write_text

def busy(stop):
    "Keep one core busy until `stop` is set."
    x = 0
    while not stop.is_set(): x += 1

def native_bf16() -> bool:
    "Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX-BF16), from /proc/cpuinfo (Linux; False elsewhere)."
    try: flags = Path('/proc/cpuinfo').read_text()
    except OSError: return False
    return 'avx512_bf16' in flags or 'amx_bf16' in flags

def make_step(model, opt, x, y):
    loss_fn = torch.nn.BCEWithLogitsLoss()
    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward(); opt.step()
    return step

def timed(fn, threads):
    torch.set_num_threads(threads)
    t0 = time.perf_counter(); fn(); return time.perf_counter() - t0

def rounds(fns:dict, repeats:int, warmup:int=1) -> dict:
    "Median seconds of each `(fn, threads)` in `fns`, run in alternating rounds."
    for fn, th in fns.values():
        for _ in range(warmup): timed(fn, th)
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, (fn, th) in fns.items(): times[k].append(timed(fn, th))
    return {k: statistics.median(v) for k, v in times.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out', type=Path, default=None)
    a = p.parse_args()
    torch.manual_seed(0)
    x, y = torch.rand(12, 3, 160, 128), (torch.rand(12, 1, 160, 128) > 0.5).float()  # 160x120 padded to a multiple of 32, as the loader does
    steps = {}
    for fmt in ('contiguous', 'channels_last'):
        mf = torch.channels_last if fmt == 'channels_last' else torch.contiguous_format
        m = get_model('resnet34').to(memory_format=mf).train()
        steps[fmt] = make_step(m, torch.optim.Adam(m.parameters(), 1e-3), x.contiguous(memory_format=mf), y)
    idle = rounds({'contiguous, 2 threads': (steps['contiguous'], 2), 'channels-last, 2 threads': (steps['channels_last'], 2),
                   'channels-last, 1 thread': (steps['channels_last'], 1)}, a.repeats)
    stop = mp.Event(); hog = mp.Process(target=busy, args=(stop,), daemon=True); hog.start()
    try: loaded = rounds({'channels-last, 2 threads': (steps['channels_last'], 2), 'channels-last, 1 thread': (steps['channels_last'], 1)},
                         max(2, a.repeats // 2))
    finally: stop.set(); hog.join()
    m = get_model('resnet34').eval(); one = torch.rand(1, 3, 160, 128)
    def fwd(): 
        with torch.inference_mode(): m(one)
    def fwd_bf16():
        with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16): m(one)
    prec = rounds({'float32': (fwd, 2), 'bfloat16 autocast': (fwd_bf16, 2)}, 3)
    res = dict(step_s_idle=idle, step_s_one_core_busy=loaded, forward_s_one_image=prec,
               channels_last_speedup=idle['contiguous, 2 threads'] / idle['channels-last, 2 threads'],
               bf16_slowdown=prec['bfloat16 autocast'] / prec['float32'],  # bfloat16 time over float32 time (below 1: faster)
               busy_core_2_vs_1_threads=loaded['channels-last, 2 threads'] / loaded['channels-last, 1 thread'],
               machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(), torch=torch.__version__,
                            bf16_native=native_bf16()),
               batch='12 x 3 x 160 x 128 (the CPU recipe: 160x120 padded)', model='resnet34 (random weights)')
    for k, v in {**{f'step, idle, {k}': v for k, v in idle.items()}, **{f'step, one core busy, {k}': v for k, v in loaded.items()},
                 **{f'forward, one image, {k}': v for k, v in prec.items()}}.items(): print(f'{k:45s} {v:8.3f} s')
    print(f"channels-last speed-up {res['channels_last_speedup']:.2f}x; bfloat16 autocast takes {res['bf16_slowdown']:.2f}x the float32 time; "
          f"with one core busy, 2 threads take {res['busy_core_2_vs_1_threads']:.1f}x the time of 1 thread")
    if a.out: atomic_write_text(a.out, json.dumps(res, indent=1)); print(f'saved {a.out}')

if __name__ == '__main__': main()
