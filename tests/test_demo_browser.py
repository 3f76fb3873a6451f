"""The demo page (docs/demo/) in a real browser: headless Chromium opens the page as docs/build.py writes it, is given
photos of the shared data (shrunk, padded, enlarged), runs the model, and its masks must be `facenb predict`'s on at
least 99.5% of pixels; a page error, a failed or missing request or a request to the internet fails. Then again at
another threshold (the slider), and offline. Screenshots go to _screenshots/demo.png and demo-blur.png.

The model is facenb/weights/people.onnx, or, while there is none, a small random-weight predictor (its mask is as
deterministic). Skipped without Chromium, Node.js, `npm ci` in docs/demo or the data, unless FACENB_BROWSER=required."""
import json, os, re, shutil, sys, time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT/'docs'/'demo'))
import check                                       # docs/demo/check.py: the steps, shared with the measuring script

CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
missing = [what for what, ok in [('Chromium', Path(CHROMIUM).exists()), ('Node.js', shutil.which('node')),
                                 ('npm ci in docs/demo', (check.DEMO/'node_modules'/'playwright-core').is_dir()),
                                 ('the shared data (FACENB_DATA)', os.environ.get('FACENB_DATA'))] if not ok]

AGREEMENT = 0.995

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "Build the page, open it in Chromium on three photos; the page's results and `facenb predict`'s masks."
    if missing:
        if os.environ.get('FACENB_BROWSER') == 'required': raise RuntimeError(f'the browser test needs {", ".join(missing)}')
        pytest.skip(f'needs {", ".join(missing)}')
    tmp = tmp_path_factory.mktemp('demo')
    model = check.PEOPLE if check.PEOPLE.is_file() else check.random_predictor(tmp/'random.onnx')
    t0 = time.time()
    info = check.site_builder().build_demo(tmp/'site', model)
    photos = check.test_photos(tmp/'photos')
    result = check.run_browser(tmp/'site', photos, tmp/'browser')
    t1 = time.time()
    masks = check.python_masks(model, photos, tmp/'python')
    from facenb.deploy import OnnxPredictor
    masks_09 = [m for _, m in OnnxPredictor(model).predict_batch(photos[:1], threshold=0.9)]
    shots = ROOT/'_screenshots'; shots.mkdir(exist_ok=True)
    for name in ('screenshot.png', 'screenshot-blur.png'):
        if (tmp/'browser'/name).exists(): shutil.copy(tmp/'browser'/name, shots/name.replace('screenshot', 'demo'))
    total, gz, onnx = check.transfer(result.get('served', {}))
    print(f"\nmodel {model.name if model == check.PEOPLE else 'random stand-in'}; page built and checked in Chromium in "
          f"{t1 - t0:.0f}s; transfer {total/1e6:.1f} MB ({gz/1e6:.1f} MB gzipped, model {onnx/1e6:.1f} MB); first mask "
          f"{result.get('first_mask_ms')} ms after opening the page; screenshots in {shots}")
    return dict(info=info, result=result, masks=masks, masks_09=masks_09)

def test_no_page_error_or_missing_asset(run):
    assert run['result']['errors'] == []
    assert run['info']['model'] and 'Model ready' in run['result']['status']
    served = run['result']['served']
    for f in ('demo/index.html', 'demo/demo.js', 'demo/model.onnx', 'demo/ort/ort-wasm-simd-threaded.wasm'): assert f in served, f

def test_masks_are_facenb_predicts(run):
    "The page's mask of each photo equals the one `facenb predict --mode mask` writes (>= 99.5% of the pixels)."
    photos = run['result']['photos']
    assert len(photos) == 3
    for entry, mask in zip(photos, run['masks']):
        page = check.page_mask(entry)
        assert page.shape == mask.shape, entry['photo']
        assert 0.01 < mask.mean() < 0.99, 'a mask of one value compares nothing'
        assert (page == mask).mean() >= AGREEMENT, (entry['photo'], (page == mask).mean())

def test_threshold_slider(run):
    "Moving the slider to 0.9 gives `OnnxPredictor.predict_batch(threshold=0.9)`'s mask, not the 0.5 one."
    page, mask = check.page_mask(run['result']['threshold_09']), run['masks_09'][0]
    assert (page == mask).mean() >= AGREEMENT
    assert (mask != run['masks'][0]).mean() > 0.01

def test_works_offline(run):
    "With the server stopped, the reloaded page (its service worker's copies) segments the photo again, the same way."
    r = run['result']
    assert 'Model ready' in r['offline_status']
    assert (check.page_mask(r['offline']) == check.page_mask(r['photos'][0])).all()

def test_page_without_model_says_so(tmp_path):
    "A build without the people model still writes the page, and its model.json carries the notice the page shows."
    if not (check.DEMO/'node_modules'/'onnxruntime-web').is_dir() and os.environ.get('FACENB_BROWSER') != 'required':
        pytest.skip('needs `npm ci` in docs/demo')
    info = check.site_builder().build_demo(tmp_path, tmp_path/'no-such.onnx')
    meta = json.loads((tmp_path/'demo'/'model.json').read_text())
    assert info['model'] is None and meta['model'] is None and 'no people model' in meta['notice']
    assert (tmp_path/'demo'/'index.html').exists() and (tmp_path/'demo'/'ort'/'ort.wasm.min.mjs').exists()

def test_chapter_quotes_the_page_code():
    "Every JavaScript excerpt in chapter 15 (deploy) is in docs/demo/demo.js as quoted (`// ...` marks a cut)."
    nb = json.loads((ROOT/'nbs'/'15_deploy.ipynb').read_text(encoding='utf-8'))
    md = '\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')
    blocks, code = re.findall(r'```javascript\n(.*?)```', md, re.S), (check.DEMO/'demo.js').read_text()
    assert len(blocks) >= 3
    for block in blocks:
        for part in re.split(r'^\s*// \.\.\.\n', block, flags=re.M):
            assert part.strip() in code, part
