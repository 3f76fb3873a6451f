"""Check the demo page's camera mode in a real browser and measure it: `python docs/demo/camera_check.py` builds the
page (as `docs/build.py` does) with the people model, plays a clip to headless Chromium's fake camera (a validation
portrait filmed by a simulated panning camera, 640x480, `facenb.video.camera_clip`), presses the page's camera button,
reads the frames per second the page measures itself, then compares the masks the page computed on frames it recorded
with Python's on the same pixels: the first (unsmoothed) with `facenb predict --mode mask` on it as a photo, all of them
with `facenb.video.person_probs` (MediaPipe's smoothing, as the page). `--out` writes the record.

Needs Chromium (`/usr/bin/chromium`, or $CHROMIUM), Node.js with `npm ci` done in docs/demo, and FACENB_DATA.
tests/test_demo_camera.py uses the same steps."""
import argparse, json, os, platform, shutil, subprocess, tempfile
from pathlib import Path

import numpy as np

import check                     # docs/demo/check.py: the page's build and `facenb predict` on photos

DEMO, PEOPLE = check.DEMO, check.PEOPLE

def fake_camera_clip(path, n:int=60, size=(480, 640)) -> Path:
    "A .y4m clip for Chromium's fake camera (`--use-file-for-fake-video-capture`): validation portrait 0 of the portraits, filmed panning."
    import av
    from facenb.sources import get_source
    from facenb.video import camera_clip
    photo, truth = get_source('portraits', 'valid')[0]
    clip, _ = camera_clip(photo, truth > 0, 'pan', n=n, size=size)
    with av.open(str(path), 'w', format='yuv4mpegpipe') as c:
        s = c.add_stream('rawvideo', rate=30)
        s.height, s.width, s.pix_fmt = *size, 'yuv420p'
        for f in clip:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format='rgb24')): c.mux(p)
        for p in s.encode(): c.mux(p)
    return Path(path)

def run_camera(site, clip, out, seconds:int=8, record:int=5) -> dict:
    "Open the demo page of `site` in headless Chromium with `clip` as its camera (docs/demo/camera.mjs); its result.json, the recorded frames and masks loaded."
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(['node', str(DEMO/'camera.mjs'), str(site), str(out), str(clip), str(seconds), str(record)],
                         capture_output=True, text=True, timeout=600)
    if not (out/'result.json').exists(): raise RuntimeError(f'camera.mjs failed (exit {res.returncode}):\n{res.stderr[-3000:]}')
    result = json.loads((out/'result.json').read_text())
    if res.returncode: result['errors'].append(f'camera.mjs exit {res.returncode}: {res.stderr[-2000:]}')
    w, h = result.get('camera', {}).get('width'), result.get('camera', {}).get('height')
    result['images'] = [np.fromfile(out/f['image'], np.uint8).reshape(h, w, 4)[..., :3] for f in result.get('frames', [])]
    result['masks'] = [np.fromfile(out/f['mask'], np.uint8).reshape(h, w) for f in result.get('frames', [])]
    return result

def python_frame_masks(model, images, out, size) -> tuple:
    "Python on the page's frames, fitted into the `size` the page's camera used: `facenb predict --mode mask --size` on the first as a photo, and `person_probs` (MediaPipe's smoothing) on all, thresholded."
    from PIL import Image
    from facenb.deploy import OnnxPredictor
    from facenb.video import FrameSegmenter, person_probs
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(images[0]).save(out/'frame0.png')
    photo = check.python_masks(model, [out/'frame0.png'], out/'predict', size=size)[0]
    seg = FrameSegmenter(OnnxPredictor(model), size=size)
    video = [(p >= seg.threshold).astype(np.uint8) for p in person_probs(images, 'mediapipe', segmenter=seg)]
    return photo, video

def agreement(page, python) -> list:
    "The share of pixels where each page mask equals Python's."
    return [float((a == b).mean()) for a, b in zip(page, python)]

def main(out=None, seconds:int=8):
    load = round(os.getloadavg()[0], 2)   # recorded beside the fps: a shared machine starves the browser
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        check.site_builder().build_demo(tmp/'site', PEOPLE)
        clip = fake_camera_clip(tmp/'clip.y4m')
        r = run_camera(tmp/'site', clip, tmp/'browser', seconds)
        photo, video = python_frame_masks(PEOPLE, r['images'], tmp/'python', r['camera']['size'])
        first, frames = agreement(r['masks'][:1], [photo])[0], agreement(r['masks'], video)
        cam = r['camera']
        print(f"errors: {r['errors'] or 'none'}; cross-origin isolated: {r['isolated_before']} before the camera button, {r['isolated']} after")
        print(f"camera {cam['width']}x{cam['height']} fitted into {cam['size'][0]}x{cam['size'][1]}, {cam['backend']}, {cam['threads']} threads: {r['fps']:.1f} frames per second "
              f"over {seconds} s (the page's display: {r['shown']!r})")
        print(f"masks: first frame vs facenb predict {first:.5%}; {len(frames)} frames vs person_probs(mediapipe) "
              f"{min(frames):.5%} at worst")
        if out:
            rel = os.path.relpath(Path(out).resolve(), check.ROOT)
            record = dict(command=f'python docs/demo/camera_check.py --out {rel}' + (f' --seconds {seconds}' if seconds != 8 else ''), seconds=seconds,
                          machine=f'{platform.machine()}, {os.cpu_count()} cores; headless Chromium', load_average=[load, round(os.getloadavg()[0], 2)],
                          clip='validation portrait 0 (portraits), filmed panning by facenb.video.camera_clip, 640x480, 60 frames looped',
                          isolated_before=r['isolated_before'], isolated=r['isolated'], model_input=cam['size'], backend=cam['backend'], threads=cam['threads'],
                          fps=round(r['fps'], 1), last_frame_ms=round(cam['frameMs'], 1), last_model_ms=round(cam['modelMs'], 1),
                          stages_ms={k: round(v, 1) for k, v in cam['stages'].items()},
                          shown=r['shown'], agreement_first_frame_vs_predict=round(first, 5),
                          agreement_frames_vs_person_probs=[round(a, 5) for a in frames], errors=r['errors'])
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(json.dumps(record, indent=1) + '\n')
        shots = check.ROOT/'_screenshots'; shots.mkdir(exist_ok=True)
        shutil.copy(tmp/'browser'/'camera.png', shots/'demo-camera.png')
        print(f"screenshot: {shots/'demo-camera.png'}")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', help='write the record (JSON) here, and the screenshot beside it')
    ap.add_argument('--seconds', type=int, default=8, help='how long the page is measured')
    a = ap.parse_args()
    main(a.out, a.seconds)
