"""Chapter 18's smoothing choice: flicker and accuracy of no smoothing, moving averages and MediaPipe's rule, measured.

Clips whose truth is known on every frame: validation photos (the seeded hold-outs of portraits, Human-Segmentation
and CCP, as `bench/peer.py` reads them) filmed by `facenb.video.camera_clip` — a pan, a zoom, a shake, a change of
light (noise of 2 grey levels) and a still camera (noise of 8) — 30 frames of 480x640 each, their masks moved the same
way. The shipped people model segments every frame once (`FrameSegmenter.low_res`); each smoothing then runs on those
same probabilities, at the model's resolution, as `facenb predict` does; the smoothed map is upsampled to the frame
and refined with the frame as the guide (the guided filter the shipped model's file asks for; `--no-refine` leaves it
out, as the pipeline was before the refinement reached video); masks are thresholded at 0.5 at the frame's size.
Flicker (`facenb.video.flicker`, % of the pixels whose truth did not change that changed label) and the mean
per-frame Jaccard are averaged over the clips of each motion. The default is the smoothing with the least flicker
among those that lose no more than 0.002 of mean Jaccard against no smoothing.

    python bench/video_flicker.py --out facenb/records/video-smoothing/smoothing.json
"""
import argparse, json, os, platform, time
from pathlib import Path
import numpy as np
from facenb.core import atomic_write_text
from facenb.sources import get_source
from facenb.video import FrameSegmenter, MaskSmoother, camera_clip, flicker, frame_jaccard, MOTIONS

SMOOTHERS = {'none': ('none', None), 'ema 0.3': ('ema', 0.3), 'ema 0.5': ('ema', 0.5), 'ema 0.7': ('ema', 0.7),
             'mediapipe 0.5': ('mediapipe', 0.5), 'mediapipe 0.7': ('mediapipe', 0.7), 'mediapipe 0.9': ('mediapipe', 0.9)}
MAX_JACCARD_LOSS = 0.002

def photos(names, per):
    "`per` validation photos of each dataset, evenly spaced through its split: [(dataset/name, image, mask)]."
    out = []
    for name in names:
        src = get_source(name, 'valid')
        for i in np.linspace(0, len(src) - 1, per).round().astype(int):
            im, m = src[int(i)]
            out.append((f'{name}/{src.names[i]}', im, (m > 0).astype(np.uint8)))
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', nargs='+', default=['portraits', 'human-segmentation', 'ccp'])
    p.add_argument('--per-dataset', type=int, default=6, help='photos of each validation split')
    p.add_argument('--frames', type=int, default=30)
    p.add_argument('--threads', type=int, default=2, help="onnxruntime's threads")
    p.add_argument('--no-refine', action='store_true', help="upsample only: leave out the model's edge refinement")
    p.add_argument('--out', type=Path, default=None)
    a = p.parse_args()
    seg, t0, load = FrameSegmenter(threads=a.threads), time.perf_counter(), [round(os.getloadavg()[0], 2)]
    shots, clips = photos(a.data, a.per_dataset), []
    for name, im, m in shots:
        for motion in MOTIONS:
            frames, truth = camera_clip(im, m, motion, n=a.frames, noise=8 if motion == 'still' else 2)
            low = [seg.low_res(f) for f in frames]
            row = dict(photo=name, motion=motion)
            for label, (kind, strength) in SMOOTHERS.items():
                sm = MaskSmoother(kind, strength)
                masks = np.stack([seg.full(sm(l), truth.shape[1:], frame=None if a.no_refine else f) >= 0.5 for f, l in zip(frames, low)])
                row[label] = dict(flicker=round(flicker(masks, truth), 4), jaccard=round(float(frame_jaccard(masks, truth).mean()), 5))
            clips.append(row)
        print(f'{name}: ' + ', '.join(f"{r['motion']} {r['none']['flicker']:.2f}%->{r['mediapipe 0.7']['flicker']:.2f}%" for r in clips[-len(MOTIONS):]), flush=True)
    table = {}
    for label in SMOOTHERS:
        table[label] = {mo: dict(flicker=round(float(np.mean([c[label]['flicker'] for c in clips if c['motion'] == mo])), 3),
                                 jaccard=round(float(np.mean([c[label]['jaccard'] for c in clips if c['motion'] == mo])), 4)) for mo in MOTIONS}
        table[label]['all'] = dict(flicker=round(float(np.mean([c[label]['flicker'] for c in clips])), 3),
                                   jaccard=round(float(np.mean([c[label]['jaccard'] for c in clips])), 4))
    ok = [l for l in SMOOTHERS if table[l]['all']['jaccard'] >= table['none']['all']['jaccard'] - MAX_JACCARD_LOSS]
    chosen = min(ok, key=lambda l: table[l]['all']['flicker'])
    for label, r in table.items():
        print(f'{label:14s} ' + '  '.join(f"{mo} {r[mo]['flicker']:.3f}% / {r[mo]['jaccard']:.4f}" for mo in (*MOTIONS, 'all')))
    print(f'chosen: {chosen}')
    load.append(round(os.getloadavg()[0], 2))
    record = dict(command='python bench/video_flicker.py' + ' --no-refine'*a.no_refine + ' --out facenb/records/video-smoothing/smoothing.json',
                  machine=f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores', load_average=load,
                  refine=None if a.no_refine else seg.predictor.refine,
                  n_clips=len(clips), frames_per_clip=a.frames, frame_size=[480, 640], photos=[s[0] for s in shots], motions=list(MOTIONS),
                  noise={'still': 8, 'others': 2}, threshold=0.5, smoothers={k: list(v) for k, v in SMOOTHERS.items()},
                  rule=f'the least mean flicker among the smoothings whose mean Jaccard is at most {MAX_JACCARD_LOSS} below no smoothing',
                  chosen=chosen, table=table, clips=clips, seconds=round(time.perf_counter() - t0, 1))
    if a.out: atomic_write_text(a.out, json.dumps(record, indent=1) + '\n')

if __name__ == '__main__': main()
