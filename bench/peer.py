"""People everywhere: facenb's models against the MediaPipe selfie segmentation model, on the same validation photos.

Every model segments every photo of the validation splits (the seeded 15% hold-out of each dataset, the splits
the runs validated on) at the photo's own resolution, one photo per call, thresholded at 0.5; Dice and Jaccard
and boundary IoU (Cheng et al. 2021, the bands within 2% of the diagonal of each contour) are computed per photo
against the published mask and averaged per dataset. The clock measures the prediction alone (the photo already
decoded): fit into the model's frame, network, probabilities back to the photo's size, and the edge refinement
where the predictor has one. facenb's PyTorch models and ONNX predictors run with `--threads` threads; MediaPipe
runs in its own virtual environment (see `bench/mediapipe_peer.py`) in the same run on the same decoded pixels.
`--cpus 0` pins the whole run (this process and MediaPipe's) to one core, so that both are timed on one core.
ONNX predictors run as their file says (`facenb.refine`); `--refine both` runs each with and without refinement.

    python bench/peer.py --models mixed=runs/mixed-cpu-160 portraits-only=runs/resnet34-cpu-160 \\
        --onnx mixed-onnx=runs/mixed.onnx --mediapipe-python .venv-mediapipe/bin/python \\
        --out facenb/records/people-peer/peer.json --figure facenb/records/people-peer/people_worst.jpg
    python bench/peer.py --onnx shipped=facenb/weights/people.onnx --refine both --threads 1 --cpus 0 \\
        --mediapipe-python .venv-mediapipe/bin/python --mediapipe-models 0 --out facenb/records/people-peer-refine/peer.json

Prints a table (mean Jaccard / boundary IoU per dataset, milliseconds per photo) and writes the JSON record: the scores of
every photo (for worst cases), the means, the latencies, the machine and the versions.
"""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
from facenb.core import atomic_write_text
from facenb.sources import get_source, mix_key
from facenb.plots import overlay
from facenb.inference import load_model, predict_batch
from facenb.deploy import OnnxPredictor
from facenb.metrics import dice_score, jaccard_score, boundary_iou

DATASETS = ('portraits', 'human-segmentation', 'ccp')

def named(items):
    "['label=path', ...] -> {label: Path}"
    out = {}
    for it in items or []:
        label, sep, path = it.partition('=')
        if not sep: label, path = Path(it).stem, it
        out[label] = Path(path)
    return out

def scores(pred:np.ndarray, truth:np.ndarray) -> tuple:
    "Per-photo (Dice, Jaccard, boundary IoU) of a 0/1 prediction against a 0/1 mask, at the photo's resolution."
    p, t = torch.from_numpy(pred[None].astype(bool)), torch.from_numpy(truth[None].astype(bool))
    return float(dice_score(p, t)), float(jaccard_score(p, t)), float(boundary_iou(pred, truth))

def run_facenb(predict, photos, warmup=2):
    "Masks and per-photo milliseconds of `predict(photo) -> mask`, after `warmup` untimed calls."
    for im in photos[:warmup]: predict(im)
    masks, ms = [], []
    for im in photos:
        t0 = time.perf_counter(); m = predict(im); ms.append(1e3*(time.perf_counter() - t0)); masks.append(m)
    return masks, ms

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--models', nargs='*', default=[], help='label=run folder or checkpoint of facenb models (PyTorch)')
    p.add_argument('--onnx', nargs='*', default=[], help='label=file of `facenb export` ONNX predictors (onnxruntime)')
    p.add_argument('--mediapipe-python', default=os.environ.get('FACENB_MEDIAPIPE_PYTHON'),
                   help="the python of MediaPipe's own virtual environment (or FACENB_MEDIAPIPE_PYTHON); none: skip the peer")
    p.add_argument('--mediapipe-models', nargs='*', type=int, default=[0, 1], help='0: general, 1: landscape')
    p.add_argument('--data', nargs='*', default=list(DATASETS))
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--cpus', default=None, help="pin the run (and MediaPipe's process) to these cores, e.g. 0 or 0,1")
    p.add_argument('--refine', default='file', choices=('file', 'both', 'on', 'off'),
                   help="ONNX predictors' edge refinement: as the file says, both (label and label+refine), on, off")
    p.add_argument('--threshold', type=float, default=0.5)
    p.add_argument('--limit', type=int, default=None, help='at most this many photos per dataset (quick checks)')
    p.add_argument('--out', type=Path, default=None, help='write the record (JSON) here')
    p.add_argument('--figure', type=Path, default=None, help='draw the worst photos of the first model here (.jpg or .png)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.cpus: os.sched_setaffinity(0, {int(c) for c in a.cpus.split(',')})   # inherited by MediaPipe's process

    photos, truths, where = [], [], []  # the validation photos of every dataset, decoded once
    for name in a.data:
        src = get_source(name, 'valid')
        n = len(src) if a.limit is None else min(a.limit, len(src))
        for i in range(n):
            im, m = src[i]
            photos.append(im); truths.append((m > 0).astype(np.uint8)); where.append((mix_key(name), src.names[i]))
    print(f"{len(photos)} validation photos: " + ', '.join(f'{d} {sum(w[0] == d for w in where)}' for d in dict.fromkeys(w[0] for w in where)))

    runs = {}
    for label, path in named(a.models).items():
        model = load_model(path, device='cpu')
        runs[label] = run_facenb(lambda im: predict_batch(model, [im], threshold=a.threshold)[0][1], photos)
        runs[label] += (dict(kind='facenb (PyTorch)', checkpoint=str(model.checkpoint), size=list(model.train_size)),)
    variants = {'file': [('', None)], 'on': [('', True)], 'off': [('', False)], 'both': [('', False), ('+refine', True)]}[a.refine]
    for (label, path), (suffix, refine) in [(lp, v) for lp in named(a.onnx).items() for v in variants]:
        pred = OnnxPredictor(path, threads=a.threads, refine=refine)
        runs[label + suffix] = run_facenb(lambda im: pred.predict_batch([im], threshold=a.threshold)[0][1], photos)
        runs[label + suffix] += (dict(kind='facenb (onnxruntime)', file=str(path), size=list(pred.train_size), refine=pred.refine),)
    if a.mediapipe_python:
        with tempfile.TemporaryDirectory() as d:
            files = []
            for i, im in enumerate(photos): np.save(f'{d}/{i}.npy', im); files.append(f'{d}/{i}.npy')
            Path(d, 'images.json').write_text(json.dumps(files))
            for mm in a.mediapipe_models:
                r = subprocess.run([a.mediapipe_python, str(Path(__file__).with_name('mediapipe_peer.py')), d, '--model', str(mm),
                                    '--threshold', str(a.threshold)], capture_output=True, text=True)
                if r.returncode: sys.exit(f'MediaPipe (model {mm}) failed:\n{r.stderr[-2000:]}')
                z = np.load(f'{d}/mediapipe-{mm}.npz')
                label = f"mediapipe-{'general' if mm == 0 else 'landscape'}"
                runs[label] = ([z[f'm{i}'] for i in range(len(photos))], z['ms'].tolist(),
                               dict(kind=f'MediaPipe selfie segmentation {z["version"]}', model_selection=mm,
                                    size=[256, 256] if mm == 0 else [144, 256]))

    datasets = list(dict.fromkeys(w[0] for w in where))
    record = dict(threshold=a.threshold, threads=a.threads, cpus=a.cpus, datasets={d: sum(w[0] == d for w in where) for d in datasets},
                  photos=[f'{d}/{n}' for d, n in where], models={},
                  machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(), torch=torch.__version__))
    rows = []
    for label, (masks, ms, info) in runs.items():
        s = np.array([scores(m, t) for m, t in zip(masks, truths)])
        per = {d: {k: float(s[[w[0] == d for w in where], c].mean()) for c, k in enumerate(('dice', 'jaccard', 'boundary_iou'))}
               for d in datasets}
        record['models'][label] = dict(**info, per_dataset=per, ms_median=statistics.median(ms), ms_mean=float(np.mean(ms)),
                                       dice=[round(float(v), 5) for v in s[:, 0]], jaccard=[round(float(v), 5) for v in s[:, 1]],
                                       boundary_iou=[round(float(v), 5) for v in s[:, 2]])
        rows.append([label] + [f"{per[d]['jaccard']:.3f} / {per[d]['boundary_iou']:.3f}" for d in datasets]
                    + [f'{statistics.median(ms):.1f} / {np.mean(ms):.1f}'])
    head = ['model'] + [f'{d} J / BIoU' for d in datasets] + ['ms per photo (median / mean)']
    print('| ' + ' | '.join(head) + ' |\n|' + '---|'*len(head))
    for r in rows: print('| ' + ' | '.join(r) + ' |')
    if a.out:
        atomic_write_text(a.out, json.dumps(record, indent=1))
        print(f'saved {a.out}')
    if a.figure and runs: draw_worst(a.figure, photos, truths, where, runs, datasets)

def draw_worst(path, photos, truths, where, runs, datasets, per_dataset=2):
    "The photos where the first model does worst, per dataset: photo with truth, then each model's mask."
    import matplotlib; matplotlib.use('agg')
    import matplotlib.pyplot as plt
    labels = list(runs)
    first = np.array([scores(m, t)[1] for m, t in zip(runs[labels[0]][0], truths)])
    picks = [i for d in datasets for i in sorted((i for i, w in enumerate(where) if w[0] == d), key=lambda i: first[i])[:per_dataset]]
    cols = 1 + len(labels)
    fig, axs = plt.subplots(len(picks), cols, figsize=(2.1*cols, 2.5*len(picks)), squeeze=False)
    for r, i in enumerate(picks):
        axs[r, 0].imshow(overlay(photos[i], truths[i])); axs[r, 0].set_title(f'{where[i][0]} {where[i][1]}: truth', fontsize=7)
        for c, label in enumerate(labels, 1):
            m = runs[label][0][i]
            axs[r, c].imshow(overlay(photos[i], m)); axs[r, c].set_title(f'{label}: J {scores(m, truths[i])[1]:.2f}', fontsize=7)
    for ax in axs.flat: ax.axis('off')
    plt.tight_layout(); fig.savefig(path, dpi=72, **({'pil_kwargs': {'quality': 72}} if str(path).lower().endswith(('.jpg', '.jpeg')) else {})); plt.close(fig)
    print(f'saved {path}')

if __name__ == '__main__': main()
