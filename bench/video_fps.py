"""Chapter 18's time budget: frames per second of the whole video pipeline of `facenb predict clip.mp4 --mode blur`.

A 150-frame clip (a validation portrait filmed by a panning camera, with a sound track) at 640x480 and at 1280x720.
First each stage alone, in milliseconds per frame: decoding to RGB (PyAV), the people model (`FrameSegmenter.low_res`:
fit, normalise, onnxruntime), smoothing, upsampling to the frame and the edge refinement the shipped model asks for
(`MaskSmoother`, `FrameSegmenter.full` with the frame as the guide), the blurred
background composite, and H.264 encoding (x264 at three presets). Then `segment_video` end to end, decode, segment,
composite, encode and mux (the audio copied), its three threads overlapping, with onnxruntime at 1 and 2 threads.
Each measurement is the best of `--rounds`; the record keeps the load average before and after the run.

    python bench/video_fps.py --out facenb/records/video-fps/fps.json
"""
import argparse, json, os, platform, tempfile, time
from pathlib import Path
import numpy as np
import av
from facenb.core import atomic_write_text
from facenb.sources import get_source
from facenb.video import FrameSegmenter, MaskSmoother, camera_clip, composite, frames, segment_video, write_video, FORMATS

def best(fn, rounds):
    "The smallest time of `rounds` calls of `fn` (seconds)."
    out = []
    for _ in range(rounds):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return min(out)

def encode(frames_, path, preset):
    with av.open(str(path), 'w', format='mp4') as c:
        s = c.add_stream('libx264', rate=30); s.height, s.width = frames_[0].shape[:2]
        s.pix_fmt, s.options = 'yuv420p', dict(FORMATS['mp4']['options'], preset=preset)
        for f in frames_:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format='rgb24')): c.mux(p)
        for p in s.encode(): c.mux(p)

def measure(photo, truth, hw, n, rounds, tmp):
    clip, _ = camera_clip(photo, truth, 'pan', n=n, size=hw)
    src = Path(tmp)/f'clip{hw[1]}.mp4'
    write_video(src, clip, fps=30, audio=0.2*np.sin(2*np.pi*440*np.arange(n*1600)/48000).astype(np.float32))
    seg = FrameSegmenter(threads=1)
    dec = [None]
    ms = {}
    ms['decode'] = best(lambda: dec.__setitem__(0, list(frames(src))), rounds)
    fr = dec[0]
    low = [None]
    ms['model (1 thread)'] = best(lambda: low.__setitem__(0, [seg.low_res(f) for f in fr]), rounds)
    seg2 = FrameSegmenter(threads=2)
    ms['model (2 threads)'] = best(lambda: [seg2.low_res(f) for f in fr], rounds)
    probs = [None]
    def smooth_full():
        sm = MaskSmoother('mediapipe'); probs[0] = [seg.full(sm(l), hw, frame=f) for f, l in zip(fr, low[0])]
    ms['smooth + upsample + refine'] = best(smooth_full, rounds)
    outs = [None]
    ms['composite (blur)'] = best(lambda: outs.__setitem__(0, [composite(f, p, 'blur') for f, p in zip(fr, probs[0])]), rounds)
    for preset in ('ultrafast', 'superfast', 'veryfast'):
        ms[f'encode ({preset})'] = best(lambda: encode(outs[0], Path(tmp)/'enc.mp4', preset), rounds)
    stages = {k: round(1000*v/n, 2) for k, v in ms.items()}
    end = {}
    for threads in (1, 2):
        s = FrameSegmenter(threads=threads)
        t = best(lambda: segment_video(src, Path(tmp)/'out.mp4', mode='blur', segmenter=s, overwrite=True), rounds)
        end[f'onnxruntime {threads} thread{"s" * (threads > 1)}'] = round(n/t, 1)
    return dict(stages_ms_per_frame=stages, end_to_end_fps=end, preset=FORMATS['mp4']['options']['preset'])

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--frames', type=int, default=150)
    p.add_argument('--rounds', type=int, default=1)
    p.add_argument('--out', type=Path, default=None)
    a = p.parse_args()
    photo, truth = get_source('portraits', 'valid')[0]
    res, load = {}, [round(os.getloadavg()[0], 2)]
    with tempfile.TemporaryDirectory() as tmp:
        for hw in ((480, 640), (720, 1280)):
            res[f'{hw[1]}x{hw[0]}'] = r = measure(photo, truth > 0, hw, a.frames, a.rounds, tmp)
            print(f'{hw[1]}x{hw[0]}:', json.dumps(r), flush=True)
    import onnxruntime
    load.append(round(os.getloadavg()[0], 2))
    record = dict(command='python bench/video_fps.py --out facenb/records/video-fps/fps.json', frames=a.frames, rounds=a.rounds,
                  machine=f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores', load_average=load,
                  refine=FrameSegmenter(threads=1).predictor.refine,
                  versions=dict(av=av.__version__, onnxruntime=onnxruntime.__version__), results=res)
    if a.out: atomic_write_text(a.out, json.dumps(record, indent=1) + '\n')

if __name__ == '__main__': main()
