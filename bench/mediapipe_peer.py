"""The MediaPipe side of `bench/peer.py`: run in MediaPipe's own virtual environment, never imported by facenb.

MediaPipe's selfie segmentation ships inside the `mediapipe` package (the legacy `solutions` API of the 0.10 series,
which needs numpy<2, hence its own environment):

    python -m venv .venv-mediapipe && .venv-mediapipe/bin/pip install "mediapipe==0.10.14" "numpy<2"

    .venv-mediapipe/bin/python bench/mediapipe_peer.py FOLDER --model 0

FOLDER holds `images.json` (a list of `.npy` files of H×W×3 uint8 RGB photos, written by `bench/peer.py`); this
script writes `mediapipe-<model>.npz` there: for each photo its person mask (probability >= threshold, uint8) at the
photo's size, and the milliseconds of `process` (one call per photo, after a warm-up call).
"""
import argparse, json, time
from pathlib import Path
import numpy as np
import mediapipe as mp

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('folder', type=Path)
    p.add_argument('--model', type=int, default=0, choices=(0, 1), help='0: general (256x256), 1: landscape (144x256)')
    p.add_argument('--threshold', type=float, default=0.5)
    a = p.parse_args()
    files = json.loads((a.folder/'images.json').read_text())
    masks, ms = {}, []
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=a.model) as seg:
        seg.process(np.load(files[0]))  # warm-up: the first call builds the graph
        for i, f in enumerate(files):
            img = np.ascontiguousarray(np.load(f))
            t0 = time.perf_counter(); prob = seg.process(img).segmentation_mask; ms.append(1e3*(time.perf_counter() - t0))
            if prob.shape != img.shape[:2]: raise SystemExit(f'{f}: MediaPipe returned a {prob.shape} mask for a {img.shape[:2]} photo')
            masks[f'm{i}'] = (prob >= a.threshold).astype(np.uint8)
    np.savez_compressed(a.folder/f'mediapipe-{a.model}.npz', ms=np.array(ms), version=np.array(mp.__version__), **masks)

if __name__ == '__main__': main()
