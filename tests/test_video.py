"`facenb predict` on video files: a real photo filmed by a simulated camera, with a sound track, written in the test."
import numpy as np
import pytest
from conftest import one_line

av = pytest.importorskip('av')
from facenb.video import camera_clip, write_video, video_info, frames, FrameSegmenter, MaskSmoother, person_probs, flicker, frame_jaccard

N, FPS = 12, 25

@pytest.fixture(scope='module')
def photo():
    from facenb.sources import get_source
    try: im, m = get_source('portraits', 'valid')[0]
    except Exception as e: pytest.skip(f'needs the portraits dataset (FACENB_DATA): {e}')
    return im, (m > 0).astype(np.uint8)

@pytest.fixture
def clip(photo, tmp_path):
    "clip.mp4: 12 frames of 240x320 at 25 fps, the camera panning over a validation portrait, with half a second of A440."
    f, _ = camera_clip(*photo, 'pan', n=N, size=(240, 320))
    tone = 0.2*np.sin(2*np.pi*440*np.arange(24000)/48000).astype(np.float32)
    return write_video(tmp_path/'clip.mp4', f, fps=FPS, audio=tone)

def test_blur_video_keeps_frames_size_rate_and_audio(facenb, clip, tmp_path):
    status, out, err = facenb('predict', clip, '--mode', 'blur', '--out', 'out', '--no-progress')
    assert status == 0, err
    info = video_info(tmp_path/'out'/'clip.mp4')
    assert (info['n_frames'], info['width'], info['height'], info['fps'], info['audio']) == (N, 320, 240, FPS, 'aac'), info
    assert 'wrote' in out and 'audio kept' in out
    got, inp = np.stack(list(frames(tmp_path/'out'/'clip.mp4'))), np.stack(list(frames(clip)))
    assert np.abs(got.astype(int) - inp).mean() > 2   # the background did change

def test_mask_video_is_person_mask_of_each_frame(facenb, clip, tmp_path):
    from facenb.people import person_mask
    status, out, err = facenb('predict', clip, '--mode', 'mask', '--smoothing', 'none', '--out', 'out', '--no-progress')
    assert status == 0, err
    masks = [f[..., 0] >= 128 for f in frames(tmp_path/'out'/'clip.mp4')]
    inputs = list(frames(clip))
    assert len(masks) == len(inputs) == N
    for k in (0, N//2, N - 1):
        want = person_mask(inputs[k]).astype(bool)
        j = (masks[k] & want).sum()/(masks[k] | want).sum()
        assert j > 0.97, (k, j)
        assert 0.05 < want.mean() < 0.95   # a person is there, not an empty or a full frame

def test_mask_video_at_another_size_is_that_sizes_frame_segmenter(facenb, clip, tmp_path):
    "`--size` reaches the video path: the masks are `FrameSegmenter(size=...)`'s, not the default size's."
    from facenb.people import people_model
    status, out, err = facenb('predict', clip, '--mode', 'mask', '--smoothing', 'none', '--size', '96x128', '--out', 'out', '--no-progress')
    assert status == 0, err
    masks, inputs = [f[..., 0] >= 128 for f in frames(tmp_path/'out'/'clip.mp4')], list(frames(clip))
    small, default = FrameSegmenter(people_model(), size=(96, 128)), FrameSegmenter(people_model())
    for k in (0, N - 1):
        f = inputs[k]
        want = small.full(small.low_res(f), f.shape[:2], f) >= small.threshold
        other = default.full(default.low_res(f), f.shape[:2], f) >= default.threshold
        assert (masks[k] == want).mean() > 0.995 and (want != other).sum() > 100, (k, (masks[k] == want).mean(), (want != other).sum())

def test_cutout_is_webm_with_alpha(facenb, clip, tmp_path):
    status, out, err = facenb('predict', clip, '--mode', 'cutout', '--out', 'out', '--no-progress')
    assert status == 0, err
    dst = tmp_path/'out'/'clip.webm'
    info = video_info(dst)
    assert (info['codec'], info['audio'], info['width'], info['height']) == ('vp9', 'opus', 320, 240)
    with av.open(str(dst)) as c:   # libvpx's decoder keeps the alpha plane
        dec = av.CodecContext.create('libvpx-vp9', 'r')
        f0 = next(f for p in c.demux(c.streams.video[0]) for f in dec.decode(p))
    alpha = f0.to_ndarray(format='rgba')[..., 3] >= 128
    f0_in = next(frames(clip)); seg = FrameSegmenter()
    want = seg.full(seg.low_res(f0_in), (240, 320), f0_in) >= 0.5   # refined, as segment_video's frames are
    assert (alpha & want).sum()/(alpha | want).sum() > 0.95

def test_corrupt_video_is_one_line(facenb, tmp_path):
    (tmp_path/'bad.mp4').write_bytes(b'\x00\x00\x00\x18ftypmp42' + bytes(500))
    status, out, err = facenb('predict', 'bad.mp4', '--mode', 'blur', '--out', 'out', '--no-progress')
    assert status == 1 and one_line(err) and 'bad.mp4' in err, err
    assert not (tmp_path/'out'/'bad.mp4').exists()

def test_interrupted_run_leaves_no_video(facenb, clip, tmp_path, monkeypatch):
    seen = []
    real = FrameSegmenter.low_res
    def low_res(self, frame):
        seen.append(1)
        if len(seen) == 6: raise KeyboardInterrupt   # Ctrl-C half-way
        return real(self, frame)
    monkeypatch.setattr(FrameSegmenter, 'low_res', low_res)
    status, out, err = facenb('predict', clip, '--mode', 'blur', '--out', 'out', '--no-progress')
    assert status == 130 and len(seen) == 6, err
    assert not (tmp_path/'out').exists()   # neither clip.mp4 nor its temporary file: the folder the command made is gone too

def test_existing_output_and_photo_modes_refused(facenb, clip, tmp_path):
    (tmp_path/'out').mkdir(); (tmp_path/'out'/'clip.mp4').write_bytes(b'mine')
    status, out, err = facenb('predict', clip, '--mode', 'blur', '--out', 'out', '--no-progress')
    assert status == 1 and one_line(err) and 'exists' in err
    assert (tmp_path/'out'/'clip.mp4').read_bytes() == b'mine'
    status, out, err = facenb('predict', clip, '--mode', 'overlay', '--out', 'out2', '--no-progress')
    assert status == 1 and one_line(err) and 'no video form' in err

def test_smoothing_lowers_flicker_of_a_still_noisy_camera(photo):
    f, truth = camera_clip(*photo, 'still', n=10, size=(240, 320), noise=8)
    seg = FrameSegmenter()
    def masks(k, refine):   # the model's probabilities smoothed over time, at the frame's size; refined or not
        sm = MaskSmoother(k)
        return np.stack([seg.full(sm(seg.low_res(x)), x.shape[:2], x if refine else None) >= 0.5 for x in f])
    plain = {k: masks(k, False) for k in ('none', 'mediapipe')}
    assert flicker(plain['mediapipe'], truth) < 0.8*flicker(plain['none'], truth)
    assert frame_jaccard(plain['mediapipe'], truth).mean() > frame_jaccard(plain['none'], truth).mean() - 0.005
    # refined with each noisy frame as the guide (what person_probs and segment_video give): the edges follow the
    # noise, so smoothing buys less here (measured: 0.379% -> 0.335%, against 0.349% -> 0.135% unrefined), but still some
    got = {k: np.stack([p >= 0.5 for p in person_probs(f, k, segmenter=seg)]) for k in ('none', 'mediapipe')}
    test = {k: masks(k, True) for k in ('none', 'mediapipe')}
    assert all((got[k] == test[k]).all() for k in got)
    assert flicker(got['mediapipe'], truth) < flicker(got['none'], truth)
