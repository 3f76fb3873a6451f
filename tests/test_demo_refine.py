"""The demo page's edge refinement (docs/demo/demo.js: `grayGuide`, `guidedFilter`) against the Python one that
`facenb predict` runs (`facenb.inference.gray`, `guided_filter`), in Node.js on a real photo: the same guide byte
for byte, the same refined probabilities to float rounding; and the camera mode's fast steps (docs/demo/camera.js)
against the photo path's, bit for bit. Skipped without Node.js."""
import json, shutil, subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image
from conftest import ROOT

from facenb.inference import gray, guided_filter, REFINE

HOPPER = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
SCRIPT = """
import {readFileSync, writeFileSync} from 'node:fs';
import {grayGuide, guidedFilter} from '%s';
const [h, w] = %s, settings = %s;
const f32 = name => { const b = readFileSync(name); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const rgba = new Uint8Array(readFileSync('rgba.bin')), guide = grayGuide(rgba, h * w);
writeFileSync('guide.bin', Buffer.from(guide.buffer));
writeFileSync('refined.bin', Buffer.from(guidedFilter(guide, f32('p.bin'), [h, w], settings).buffer));
"""

@pytest.mark.skipif(not shutil.which('node'), reason='needs Node.js')
@pytest.mark.parametrize('settings', [REFINE, dict(radius=6, eps=1e-2, subsample=3)])
def test_page_refines_as_python_does(tmp_path, settings):
    im = np.asarray(Image.open(HOPPER).convert('RGB'))[:, :-3]   # 600x509: sides that no subsample divides
    h, w = im.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    p = np.clip(1.2 - np.hypot((yy - 0.6*h)/(0.45*h), (xx - 0.5*w)/(0.35*w)), 0, 1).astype(np.float32)  # a soft blob
    np.dstack([im, np.full((h, w), 255, np.uint8)]).tofile(tmp_path/'rgba.bin')
    p.tofile(tmp_path/'p.bin')
    (tmp_path/'run.mjs').write_text(SCRIPT % ((ROOT/'docs'/'demo'/'demo.js').as_uri(), json.dumps([h, w]), json.dumps(settings)))
    r = subprocess.run(['node', 'run.mjs'], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    guide = np.fromfile(tmp_path/'guide.bin', np.float32).reshape(h, w)
    np.testing.assert_array_equal(guide, gray(im))
    want, got = guided_filter(gray(im), p, **settings), np.fromfile(tmp_path/'refined.bin', np.float32).reshape(h, w)
    assert np.abs(got - want).max() < 1e-4, np.abs(got - want).max()
    assert np.abs(want - p).max() > 0.02   # the refinement changed something (the test is not comparing p with itself)

FRAME_SCRIPT = """
import {readFileSync, writeFileSync} from 'node:fs';
import {grayGuide, guidedFilter, resizeLinear, resizeArea} from '%s';
import {frameProbabilities, frameFitter} from '%s';
const [[h, w], [lh, lw], settings] = %s;
const b = readFileSync('low.bin'), low = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
const rgba = new Uint8Array(readFileSync('rgba.bin'));
let want = resizeLinear(low, [lh, lw], [h, w]);
if (settings) want = guidedFilter(grayGuide(rgba, h * w), want, [h, w], settings);
want = want.map(p => Math.min(1, Math.max(0, p)));
const got = frameProbabilities(rgba, low, [lh, lw], [h, w], settings);
let probs = 0; for (let i = 0; i < want.length; i++) probs += want[i] !== got[i];
let fits = 0;
for (const [nh, nw] of [[lh, lw], [h / 4, w / 4], [h / 2, w / 2]]) {
  const a = resizeArea(rgba, [h, w], [nh, nw]), c = frameFitter([h, w], [nh, nw])(rgba);
  fits += a.length !== c.length; for (let i = 0; i < a.length; i++) fits += a[i] !== c[i];
}
writeFileSync('result.json', JSON.stringify({probs, fits, n: want.length}));
"""

@pytest.mark.skipif(not shutil.which('node'), reason='needs Node.js')
@pytest.mark.parametrize('settings', [REFINE, dict(radius=6, eps=1e-2, subsample=3), None])
def test_camera_frame_steps_are_the_photo_paths(tmp_path, settings):
    "The camera's fast steps (docs/demo/camera.js) give the photo path's numbers bit for bit: `frameFitter` is `resizeArea`, `frameProbabilities` is `resizeLinear` then `guidedFilter` (or not) and the clip."
    im = np.asarray(Image.open(HOPPER).convert('RGB'))[:480, :508]     # 480x508: whole factors (4, 2) and a fractional one
    h, w = im.shape[:2]
    lh, lw = 127, 135                                                   # the model's box, a fraction of the frame
    yy, xx = np.mgrid[:lh, :lw]
    low = np.clip(1.2 - np.hypot((yy - 0.6*lh)/(0.45*lh), (xx - 0.5*lw)/(0.35*lw)), 0, 1).astype(np.float32)
    np.dstack([im, np.full((h, w), 255, np.uint8)]).tofile(tmp_path/'rgba.bin')
    low.tofile(tmp_path/'low.bin')
    demo = ROOT/'docs'/'demo'
    (tmp_path/'run.mjs').write_text(FRAME_SCRIPT % ((demo/'demo.js').as_uri(), (demo/'camera.js').as_uri(), json.dumps([[h, w], [lh, lw], settings])))
    r = subprocess.run(['node', 'run.mjs'], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path/'result.json').read_text())
    assert res == dict(probs=0, fits=0, n=h*w), res
