"""The size a camera's frames are fitted into, measured: per-frame Jaccard and flicker of the shipped people model on
clips whose truth is known, at several input sizes, with the default smoothing (MediaPipe's rule, `MaskSmoother()`)
and the edge refinement the model's file asks for.

The clips are those of `bench/video_flicker.py`: validation photos of the three people datasets filmed by
`facenb.video.camera_clip` (pan, zoom, shake, change of light, still camera), 30 frames of 480x640 each. The model's
file takes any input size (multiples of 32, `facenb export`), so `FrameSegmenter(size=...)` fits the frames into each
size in turn: the photos' 192x144 (a portrait box: a 4:3 landscape frame fills 108x144 of it), and landscape sizes
like a camera's 4:3 frames. The speed of each size is the demo page's to measure
(`docs/demo/camera_check.py`); this script measures what a size costs in accuracy and flicker.

    python bench/frame_size.py --sizes 192x144 108x144 144x192 120x160 96x128 --out facenb/records/camera-size/sizes.json
"""
import argparse, json, os, platform, time
from pathlib import Path
import numpy as np
from facenb.core import atomic_write_text
from facenb.people import people_model
from facenb.video import FrameSegmenter, MaskSmoother, camera_clip, flicker, frame_jaccard, MOTIONS
from video_flicker import photos          # bench/video_flicker.py: the same photos

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--sizes', nargs='+', default=['192x144', '120x160', '96x128'], help='HEIGHTxWIDTH sizes to fit the frames into')
    p.add_argument('--data', nargs='+', default=['portraits', 'human-segmentation', 'ccp'])
    p.add_argument('--per-dataset', type=int, default=6, help='photos of each validation split')
    p.add_argument('--frames', type=int, default=30)
    p.add_argument('--threads', type=int, default=2, help="onnxruntime's threads")
    p.add_argument('--out', type=Path, default=None)
    a = p.parse_args()
    sizes = [tuple(int(v) for v in s.split('x')) for s in a.sizes]
    model, t0, load = people_model(a.threads), time.perf_counter(), [round(os.getloadavg()[0], 2)]
    segs = {s: FrameSegmenter(model, size=s) for s in sizes}
    shots, rows = photos(a.data, a.per_dataset), []
    for name, im, m in shots:
        for motion in MOTIONS:
            frames, truth = camera_clip(im, m, motion, n=a.frames, noise=8 if motion == 'still' else 2)
            row = dict(photo=name, motion=motion)
            for s, seg in segs.items():
                sm = MaskSmoother()
                masks = np.stack([seg.full(sm(seg.low_res(f)), truth.shape[1:], frame=f) >= seg.threshold for f in frames])
                row[f'{s[0]}x{s[1]}'] = dict(flicker=round(flicker(masks, truth), 4), jaccard=round(float(frame_jaccard(masks, truth).mean()), 5))
            rows.append(row)
        print(f'{name}: ' + ', '.join(f"{k} {np.mean([r[k]['jaccard'] for r in rows[-len(MOTIONS):]]):.4f}" for k in a.sizes), flush=True)
    table = {}
    for k in a.sizes:
        table[k] = {d: dict(jaccard=round(float(np.mean([r[k]['jaccard'] for r in rows if r['photo'].startswith(d + '/')])), 4),
                            flicker=round(float(np.mean([r[k]['flicker'] for r in rows if r['photo'].startswith(d + '/')])), 3)) for d in a.data}
        table[k]['all'] = dict(jaccard=round(float(np.mean([r[k]['jaccard'] for r in rows])), 4), flicker=round(float(np.mean([r[k]['flicker'] for r in rows])), 3))
        box = segs[tuple(int(v) for v in k.split('x'))]
        box._hw = None; box.low_res(np.zeros((480, 640, 3), np.uint8))
        table[k]['input'], table[k]['box'] = list(box.pad), list(box._box[2:])
        print(f"{k}: input {table[k]['input']}, a 480x640 frame fills {table[k]['box']}; " + '  '.join(f"{d} J {v['jaccard']:.4f} flicker {v['flicker']:.3f}%" for d, v in table[k].items() if isinstance(v, dict) and 'jaccard' in v))
    load.append(round(os.getloadavg()[0], 2))
    record = dict(command='python bench/frame_size.py --sizes ' + ' '.join(a.sizes) + (f' --threads {a.threads}' if a.threads != 2 else '') + (f' --out {a.out}' if a.out else ''),
                  machine=f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores', load_average=load,
                  model=model.path.name, refine=model.refine, smoothing='mediapipe 0.9 (MaskSmoother())', threshold=0.5,
                  n_clips=len(rows), frames_per_clip=a.frames, frame_size=[480, 640], photos=[s[0] for s in shots], motions=list(MOTIONS),
                  table=table, clips=rows, seconds=round(time.perf_counter() - t0, 1))
    if a.out: atomic_write_text(a.out, json.dumps(record, indent=1) + '\n')

if __name__ == '__main__': main()
