"""Start-up: one photo cut out from the command line, `facenb predict` against a MediaPipe script doing the same.

Each round starts three fresh processes, one after the other (interleaved, so that a change in the machine's load
hits all three alike), and times each from start to exit with a monotonic clock:

- `facenb predict PHOTO --out DIR --mode cutout` with the shipped people model (the console script);
- `python -c "import onnxruntime"`: the floor of any Python program that runs an ONNX model;
- a MediaPipe script that reads the photo, runs the selfie segmentation (general model) and writes the same RGBA
  cut-out, in MediaPipe's own virtual environment (see `bench/mediapipe_peer.py` for how it is installed);
  skipped without `--mediapipe-python`.

    python bench/startup.py --mediapipe-python .venv-mediapipe/bin/python --rounds 10

`--also LABEL=DIR` adds `facenb predict` run from another copy of the package (`PYTHONPATH=DIR`), e.g. an earlier
commit's `facenb/` (`git archive COMMIT facenb | tar -x -C DIR`), to measure a change in the same run.

Prints the median, min and max seconds of each and the median of the per-round ratios facenb / MediaPipe; beside the
wall time, the CPU seconds (user + system) each process used, from `getrusage` of the children: on a shared machine
the wall time grows with the other jobs' load, while the CPU time is about what an idle machine's wall time would
be (the processes are single-threaded but for onnxruntime's and MediaPipe's few milliseconds of network).
"""
import argparse, json, os, resource, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

MEDIAPIPE_CUTOUT = '''
import sys
import numpy as np
from PIL import Image
import mediapipe as mp
photo, out = sys.argv[1], sys.argv[2]
img = np.asarray(Image.open(photo).convert('RGB'))
with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
    prob = seg.process(img).segmentation_mask
Image.fromarray(np.dstack([img, (np.clip(prob, 0, 1)*255).round().astype(np.uint8)])).save(out)
'''

def facenb_command() -> list:
    "The installed `facenb` console script beside this Python (else `python -m facenb.cli`)."
    exe = Path(sys.executable).with_name('facenb')
    return [str(exe)] if exe.exists() else [sys.executable, '-m', 'facenb.cli']

def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime

def timed(cmd:list, env=None) -> tuple:
    "`(wall, cpu)` seconds of one run of `cmd`, start to exit; a failure stops the benchmark with its error."
    c0, t0 = _children_cpu(), time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if r.returncode: sys.exit(f"{' '.join(cmd[:3])} ... failed (exit {r.returncode}):\n{r.stderr[-2000:]}")
    return dt, cpu

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--photo', type=Path, default=None, help='the photo (default: matplotlib sample photo of Grace Hopper, 600x512)')
    p.add_argument('--rounds', type=int, default=10)
    p.add_argument('--warmup', type=int, default=1, help='untimed rounds first (the file cache)')
    p.add_argument('--mediapipe-python', default=os.environ.get('FACENB_MEDIAPIPE_PYTHON'),
                   help="the python of MediaPipe's own virtual environment; none: skip the MediaPipe script")
    p.add_argument('--also', nargs='*', default=[], metavar='LABEL=DIR',
                   help='also time `facenb predict` with PYTHONPATH=DIR (another copy of the package)')
    p.add_argument('--out', type=Path, default=None, help='write the results (JSON) here')
    a = p.parse_args()
    if a.photo is None:
        from matplotlib import cbook
        a.photo = Path(cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))
    work = Path(tempfile.mkdtemp(prefix='facenb-startup-'))
    try:
        script = work/'mediapipe_cutout.py'; script.write_text(MEDIAPIPE_CUTOUT)
        predict = lambda out: (facenb_command() + ['predict', str(a.photo), '--out', str(out), '--mode', 'cutout', '--no-progress'], None)
        cmds = {'facenb predict (cut-out)': lambda i: predict(work/f'f{i}'),
                'python -c "import onnxruntime"': lambda i: ([sys.executable, '-c', 'import onnxruntime'], None)}
        for label, folder in (x.split('=', 1) for x in a.also):
            env = {**os.environ, 'PYTHONPATH': str(Path(folder).resolve())}
            cmds[f'facenb predict (cut-out), {label}'] = lambda i, label=label, env=env: (predict(work/f'{label}{i}')[0], env)
        if a.mediapipe_python: cmds['MediaPipe script (cut-out)'] = lambda i: ([a.mediapipe_python, str(script), str(a.photo), str(work/f'm{i}.png')], None)
        times, cpus = {k: [] for k in cmds}, {k: [] for k in cmds}
        load0 = os.getloadavg()[0]
        for i in range(a.warmup + a.rounds):
            for label, cmd in cmds.items():
                dt, cpu = timed(*cmd(i))
                if i >= a.warmup: times[label].append(dt); cpus[label].append(cpu)
        load1 = os.getloadavg()[0]
    finally: shutil.rmtree(work, ignore_errors=True)
    print(f'{a.rounds} rounds, {a.photo.name}, load average {load0:.1f} before and {load1:.1f} after; '
          'seconds from start to exit, median (min-max), and CPU seconds (median):')
    res = {}
    for label, ts in times.items():
        res[label] = dict(median=statistics.median(ts), min=min(ts), max=max(ts), runs=[round(t, 3) for t in ts],
                          cpu_median=statistics.median(cpus[label]), cpu_runs=[round(t, 3) for t in cpus[label]])
        print(f'  {label:44s} {statistics.median(ts):.2f} s ({min(ts):.2f}-{max(ts):.2f}), CPU {statistics.median(cpus[label]):.2f} s')
    mp_label = 'MediaPipe script (cut-out)'
    if mp_label in times:
        for what, d in (('ratio_facenb_over_mediapipe', times), ('cpu_ratio_facenb_over_mediapipe', cpus)):
            res[what] = statistics.median(f/m for f, m in zip(d['facenb predict (cut-out)'], d[mp_label]))
        print(f"  facenb / MediaPipe, median of the per-round ratios: wall {res['ratio_facenb_over_mediapipe']:.2f}, "
              f"CPU {res['cpu_ratio_facenb_over_mediapipe']:.2f}")
    if a.out: a.out.write_text(json.dumps(dict(photo=a.photo.name, rounds=a.rounds, cpus=os.cpu_count(), load_average=[load0, load1],
                                               results=res), indent=1))

if __name__ == '__main__': main()
