"""The demo page's camera mode (docs/demo/camera.js) in a real browser: headless Chromium's fake camera plays a clip
(a validation portrait filmed by a simulated panning camera, 640x480), the page's camera button makes the page
cross-origin isolated through its service worker (onnxruntime-web on several threads) and segments the frames live;
the masks the page computed on five consecutive frames must be Python's on the same pixels: `facenb predict` on the
first (unsmoothed) as a photo, `facenb.video.person_probs` with MediaPipe's smoothing on all five (>= 99.9% of
pixels: the page repeats Python's float32 arithmetic step by step, and is bit-exact in practice; on this clip, no
smoothing at all agrees with the smoothed masks on about 99.3%, MediaPipe's rule at 0.5 instead of 0.7 on 99.76%, at 0.7 instead of the default 0.9 on 99.82%). The page measures its own frames per second (printed; the machine is shared, so no goal is asserted).
The screenshot goes to _screenshots/demo-camera.png. Skipped without Chromium, Node.js, `npm ci` in docs/demo or the
data, unless FACENB_BROWSER=required."""
import shutil, sys
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT/'docs'/'demo'))
import camera_check                                # docs/demo/camera_check.py: the steps, shared with the measuring script
from test_demo_browser import missing

AGREEMENT = 0.999

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    if missing:
        import os
        if os.environ.get('FACENB_BROWSER') == 'required': raise RuntimeError(f'the camera test needs {", ".join(missing)}')
        pytest.skip(f'needs {", ".join(missing)}')
    if not camera_check.PEOPLE.is_file(): pytest.skip('needs the people model (facenb/weights/people.onnx)')
    tmp = tmp_path_factory.mktemp('camera')
    camera_check.check.site_builder().build_demo(tmp/'site', camera_check.PEOPLE)
    clip = camera_check.fake_camera_clip(tmp/'clip.y4m', n=30)
    r = camera_check.run_camera(tmp/'site', clip, tmp/'browser', seconds=4, record=5)
    shots = ROOT/'_screenshots'; shots.mkdir(exist_ok=True)
    if (tmp/'browser'/'camera.png').exists(): shutil.copy(tmp/'browser'/'camera.png', shots/'demo-camera.png')
    print(f"\ncamera mode: {r.get('fps', 0):.1f} frames per second measured by the page; {r.get('shown')}")
    photo, video = camera_check.python_frame_masks(camera_check.PEOPLE, r['images'], tmp/'python', r['camera']['size']) if r['images'] else (None, [])
    return dict(r, photo=photo, video=video)

def test_camera_runs_isolated_without_errors(run):
    "No page error or failed request; a sample photo is segmented; the service worker makes the page cross-origin isolated, so the model runs on several threads."
    assert run['errors'] == []
    assert not run['isolated_before'] and run['isolated']
    assert run['camera']['threads'] > 1 and run['camera']['width'] == 640 and run['camera']['height'] == 480
    assert run['fps'] > 0 and 'frames per second' in run['shown']
    assert len(run['samples']) == 3
    sample = run['sample']       # the first sample photo, segmented by the photo path
    assert sample['name'] == 'sample0.jpg' and sample['width'] > 0 and 0.01 < sample['mean'] < 0.99

def test_camera_masks_are_pythons(run):
    "The page's masks on the frames it read: `facenb predict` on the first, `person_probs(smoothing='mediapipe')` on all five."
    masks = run['masks']
    assert len(masks) == 5 and all(0.01 < m.mean() < 0.99 for m in masks), 'a mask of one value compares nothing'
    assert (masks[0] == run['photo']).mean() >= AGREEMENT
    for page, python in zip(masks, run['video']): assert (page == python).mean() >= AGREEMENT
