"""Check the demo page in a real browser and measure it: `python docs/demo/check.py` builds the page (as
`docs/build.py` does) with the people model, opens it in headless Chromium on photos of the shared data, compares
its masks with `facenb predict`'s, and prints the page's transfer size and its times next to onnxruntime's in Python.

Needs Chromium (`/usr/bin/chromium`, or $CHROMIUM), Node.js with `npm ci` done in docs/demo, and FACENB_DATA.
tests/test_demo_browser.py uses the same steps (without the timings)."""
import argparse, importlib.util, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np

DEMO = Path(__file__).resolve().parent
ROOT = DEMO.parent.parent
PEOPLE = ROOT/'facenb'/'weights'/'people.onnx'

def site_builder():
    "docs/build.py as a module (its `build_demo` writes the page)."
    spec = importlib.util.spec_from_file_location('facenb_site_build', DEMO.parent/'build.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

def random_predictor(path, size=(256, 192), seed=0) -> Path:
    "A small random-weight predictor (the stand-in while there is no people model), its head scaled so that its logits on a photo spread wide: few pixels sit near the threshold."
    import torch
    from facenb.models import get_model
    from facenb.deploy import export_predictor
    torch.manual_seed(seed)
    model = get_model('unet', base=8, depth=3).eval()
    with torch.no_grad():
        logits = model(torch.rand(1, 3, *size))
        scale = 8/logits.std()
        model.head.weight.mul_(scale)
        model.head.bias.sub_(logits.median()).mul_(scale)
    return export_predictor(model, path, size=size)

def test_photos(folder) -> list:
    "Three photos as PNG files: a portrait (800x600, shrunk), a landscape photo (padded above and below), the portrait at 120x90 (enlarged)."
    from PIL import Image
    from facenb.sources import get_source
    portrait = get_source('portraits', 'valid')[0][0]
    landscape = get_source('human-segmentation', 'valid')[0][0]
    photos = {'portrait.png': Image.fromarray(portrait), 'landscape.png': Image.fromarray(landscape),
              'small.png': Image.fromarray(portrait).resize((90, 120), Image.BOX)}
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    for name, im in photos.items(): im.save(folder/name)
    return [folder/name for name in photos]

def python_masks(model, photos, out, threshold=None, size=None) -> list:
    "`facenb predict --mode mask` on the photos (fitted into `size`, HEIGHTxWIDTH, if given): the masks (H×W, 0/1) it writes."
    out = Path(out)
    cmd = [sys.executable, '-m', 'facenb.cli', 'predict', '--checkpoint', str(model), '--mode', 'mask', '--out', str(out),
           '--no-progress', *map(str, photos)] + (['--threshold', str(threshold)] if threshold is not None else []) \
          + (['--size', f'{size[0]}x{size[1]}'] if size is not None else [])
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    from PIL import Image
    masks = []
    for p in photos:
        mask = out/f'{Path(p).stem}.png'
        if not mask.is_file(): raise FileNotFoundError(f'facenb predict wrote no {mask.name} for {p} in {out}')
        masks.append((np.asarray(Image.open(mask)) > 0).astype(np.uint8))
    return masks

def run_browser(site, photos, out) -> dict:
    "Open the demo page of `site` in headless Chromium (docs/demo/browser.mjs) on the photos; its result.json."
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    cmd = ['node', str(DEMO/'browser.mjs'), str(site), str(out), *map(str, photos)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if not (out/'result.json').exists(): raise RuntimeError(f'browser.mjs failed (exit {res.returncode}):\n{res.stderr[-3000:]}')
    result = json.loads((out/'result.json').read_text())
    if res.returncode: result['errors'].append(f'browser.mjs exit {res.returncode}: {res.stderr[-2000:]}')
    return result

def page_mask(entry) -> np.ndarray:
    "A mask the page computed (browser.mjs saved it as bytes) as an H×W array."
    return np.fromfile(entry['mask'], np.uint8).reshape(entry['height'], entry['width'])

def transfer(served:dict) -> tuple:
    "(bytes, gzipped bytes, model bytes) of the files the page loaded, each counted once."
    return (sum(v['bytes'] for v in served.values()), sum(v['gzip'] for v in served.values()),
            sum(v['bytes'] for k, v in served.items() if k.endswith('.onnx')))

def python_times(model, photo, runs:int=5) -> dict:
    "onnxruntime in Python on the same photo: model load, first prediction, median of `runs` more (1 thread, and ORT's default)."
    from facenb.deploy import OnnxPredictor
    from facenb.data import read_image
    im, res = read_image(photo), {}
    for threads in (1, None):
        t0 = time.perf_counter(); p = OnnxPredictor(model, threads=threads); t1 = time.perf_counter()
        p.predict_batch([im]); t2 = time.perf_counter()
        ts = []
        for _ in range(runs):
            t = time.perf_counter(); p.predict_batch([im]); ts.append(time.perf_counter() - t)
        res[threads or 'default'] = dict(load_ms=1e3*(t1 - t0), first_ms=1e3*(t2 - t1), median_ms=1e3*float(np.median(ts)))
    return res

def main(model=None, keep=None):
    model = Path(model) if model else PEOPLE
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(keep or tmp)
        if not model.is_file():
            print(f'{model} not found: measuring a small random-weight predictor instead')
            model = random_predictor(tmp/'random.onnx')
        site_builder().build_demo(tmp/'site', model)
        photos = test_photos(tmp/'photos')
        result = run_browser(tmp/'site', photos, tmp/'browser')
        masks = python_masks(model, photos, tmp/'python')
        for entry, mask in zip(result['photos'], masks):
            print(f"{Path(entry['photo']).name:14} {entry['width']}x{entry['height']}: masks agree on "
                  f"{(page_mask(entry) == mask).mean():.5%} of pixels")
        total, gz, onnx = transfer(result['served'])
        print(f"errors: {result['errors'] or 'none'}")
        print(f'transfer: {total/1e6:.1f} MB as served here ({gz/1e6:.1f} MB gzipped, model {onnx/1e6:.1f} MB)')
        print(f"browser ({result['photos'][0]['backend']}, 1 thread): page ready {result['ready_ms']} ms, "
              f"first mask {result['first_mask_ms']} ms after opening the page; the model "
              f"{result['photos'][0]['ms']:.0f} ms on the first photo, {result['warm']['ms']:.0f} ms warm "
              f"(all steps {result['warm']['totalMs']:.0f} ms)")
        for threads, t in python_times(model, photos[0]).items():
            print(f"python onnxruntime ({threads} thread{'s' if threads != 1 else ''}): load {t['load_ms']:.0f} ms, "
                  f"first predict_batch {t['first_ms']:.0f} ms, then {t['median_ms']:.0f} ms")
        if keep: print(f'kept in {tmp}')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', help=f'the ONNX predictor (default {PEOPLE.relative_to(ROOT)})')
    ap.add_argument('--keep', help='a folder to keep the built page, the masks and the screenshots in')
    a = ap.parse_args()
    main(a.model, a.keep)
