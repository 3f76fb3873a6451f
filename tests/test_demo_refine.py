"""The demo page's edge refinement (docs/demo/demo.js: `grayGuide`, `guidedFilter`) against the Python one that
`facenb predict` runs (`facenb.inference.gray`, `guided_filter`), in Node.js on a real photo: the same guide byte
for byte, the same refined probabilities to float rounding. Skipped without Node.js."""
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
