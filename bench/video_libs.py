"""Chapter 18's choice of a video library: PyAV, imageio-ffmpeg and OpenCV, measured side by side in one run.

Each library decodes and encodes the same 90-frame clip (a real portrait moved by a simulated camera) at 640x480 and
1280x720, the best of 3 rounds taken in turn (the machine is shared): frames per second of decoding to RGB arrays and of encoding RGB arrays to H.264 (libx264 'veryfast'; OpenCV's
wheel has no H.264 encoder, so it writes MPEG-4 part 2). Then which formats with an alpha channel PyAV writes, how fast,
and whether the alpha comes back when the file is read. Audio support is a property of each API, noted in the record.

    python bench/video_libs.py --out facenb/records/video-libraries/libraries.json
"""
import argparse, json, os, platform, tempfile, time
from pathlib import Path
import numpy as np, cv2
import av, imageio_ffmpeg
from facenb.core import atomic_write_text
from facenb.data import read_image
from facenb.video import camera_clip

N = 90

def clip(photo, h, w):
    return camera_clip(photo, np.zeros(photo.shape[:2], np.uint8), 'pan', n=N, size=(h, w))[0]

def pyav(frames, path):
    h, w = frames.shape[1:3]; t = time.perf_counter()
    with av.open(str(path), 'w') as c:
        s = c.add_stream('libx264', rate=30); s.width, s.height, s.pix_fmt, s.options = w, h, 'yuv420p', {'preset': 'veryfast'}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format='rgb24')): c.mux(p)
        for p in s.encode(): c.mux(p)
    enc = N/(time.perf_counter() - t); t = time.perf_counter()
    with av.open(str(path)) as c:
        c.streams.video[0].thread_type = 'AUTO'
        n = sum(1 for f in c.decode(video=0) if f.to_ndarray(format='rgb24').size)
    return enc, n/(time.perf_counter() - t)

def imageio(frames, path):
    h, w = frames.shape[1:3]; t = time.perf_counter()
    g = imageio_ffmpeg.write_frames(str(path), (w, h), fps=30, codec='libx264', output_params=['-preset', 'veryfast'], macro_block_size=1)
    g.send(None)
    for f in frames: g.send(np.ascontiguousarray(f))
    g.close()
    enc = N/(time.perf_counter() - t); t = time.perf_counter()
    rd = imageio_ffmpeg.read_frames(str(path)); next(rd)
    n = sum(1 for b in rd if np.frombuffer(b, np.uint8).reshape(h, w, 3).size)
    return enc, n/(time.perf_counter() - t)

def opencv(frames, path):
    h, w = frames.shape[1:3]; t = time.perf_counter()
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 30, (w, h))
    for f in frames: vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    vw.release()
    enc = N/(time.perf_counter() - t); t = time.perf_counter()
    cap, n = cv2.VideoCapture(str(path)), 0
    while True:
        ok, f = cap.read()
        if not ok: break
        cv2.cvtColor(f, cv2.COLOR_BGR2RGB); n += 1
    return enc, n/(time.perf_counter() - t)

ALPHA = [('webm', 'libvpx-vp9', 'yuva420p', {'deadline': 'realtime', 'cpu-used': '8', 'row-mt': '1'}),
         ('webm', 'libvpx-vp9', 'yuva420p', {'deadline': 'good', 'cpu-used': '5', 'row-mt': '1'}),
         ('mov', 'prores_ks', 'yuva444p10le', {}), ('mov', 'qtrle', 'argb', {}), ('mov', 'png', 'rgba', {})]

def alpha(frames, folder):
    rows = []
    h, w = frames.shape[1:3]
    a = np.zeros((h, w), np.uint8); a[h//4:3*h//4, w//4:3*w//4] = 255
    for fmt, codec, pix, opts in ALPHA:
        path = Path(folder)/f'alpha-{codec}.{fmt}'; t = time.perf_counter()
        with av.open(str(path), 'w') as c:
            s = c.add_stream(codec, rate=30); s.width, s.height, s.pix_fmt, s.options = w, h, pix, opts
            for f in frames[:30]:
                for p in s.encode(av.VideoFrame.from_ndarray(np.dstack([f, a]), format='rgba')): c.mux(p)
            for p in s.encode(): c.mux(p)
        fps = 30/(time.perf_counter() - t)
        with av.open(str(path)) as c:   # FFmpeg's own VP9 decoder drops the alpha: libvpx's keeps it
            dec = av.CodecContext.create('libvpx-vp9', 'r') if codec == 'libvpx-vp9' else c.streams.video[0].codec_context
            f0 = next(f for p in c.demux(c.streams.video[0]) for f in dec.decode(p))
            err = float(np.abs(f0.to_ndarray(format='rgba')[..., 3].astype(int) - a).mean())
        rows.append(dict(format=fmt, codec=codec, pix_fmt=pix, options=opts, write_fps=round(fps, 1),
                         mb_30_frames=round(path.stat().st_size/2**20, 2), alpha_error=round(err, 3)))
    return rows

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--photo', default='portraits/00001', help='DATASET/NAME of the photo the clip is made from')
    p.add_argument('--rounds', type=int, default=3, help='measure each library this many times, in turn, and keep its best')
    p.add_argument('--out', type=Path, default=None)
    a = p.parse_args()
    ds, name = a.photo.split('/')
    root = Path(os.environ.get('FACENB_DATA', Path.home()/'.cache/facenb'))
    photo = read_image(root/{'portraits': 'portraits/images_data_crop'}[ds]/f'{name}.jpg')
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for h, w in [(480, 640), (720, 1280)]:
            frames, best = clip(photo, h, w), {}
            for _ in range(a.rounds):   # the libraries in turn, round after round: the best of each (the machine is shared)
                for lib, fn in (('PyAV', pyav), ('imageio-ffmpeg', imageio), ('OpenCV', opencv)):
                    enc, dec = fn(frames, Path(tmp)/f'{lib}{w}.mp4')
                    b = best.setdefault(lib, dict(encode_fps=0, decode_fps=0))
                    b['encode_fps'], b['decode_fps'] = round(max(b['encode_fps'], enc), 1), round(max(b['decode_fps'], dec), 1)
            res[f'{w}x{h}'] = best
        res['alpha'] = alpha(clip(photo, 480, 640), tmp)
    res['h264_writer'] = dict(PyAV='libx264' in av.codecs_available, OpenCV=bool(cv2.VideoWriter(os.devnull + '.mp4', cv2.VideoWriter_fourcc(*'avc1'), 30, (64, 64)).isOpened()))
    res['audio'] = {'PyAV': 'demux, copy (remux) and encode audio streams in the same container',
                    'imageio-ffmpeg': 'write_frames(audio_path=...) muxes the audio of another file through the ffmpeg program; no access to packets',
                    'OpenCV': 'none: VideoCapture / VideoWriter handle images only'}
    record = dict(command='python bench/video_libs.py --out facenb/records/video-libraries/libraries.json', photo=a.photo, n_frames=N, rounds=a.rounds,
                  machine=f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, shared with other jobs while measured',
                  versions=dict(av=av.__version__, imageio_ffmpeg=imageio_ffmpeg.__version__, ffmpeg_of_imageio=imageio_ffmpeg.get_ffmpeg_version(), opencv=cv2.__version__),
                  results=res)
    print(json.dumps(res, indent=1))
    if a.out: atomic_write_text(a.out, json.dumps(record, indent=1) + '\n')

if __name__ == '__main__': main()
