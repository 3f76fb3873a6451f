"""`facenb.metrics.boundary_iou` against the definition of Cheng et al. (2021) as the reference implementation
(boundary-iou-api's `mask_to_boundary`) computes it: a pixel of the mask is on the boundary when the background
(the image outside the mask, and everything beyond the image's border) is within d = round(0.02 x diagonal) of it
in the chessboard distance (d erosions by a 3x3 square). Here the band comes from scipy's distance transform
instead of OpenCV's erosion, on real masks at their own resolution and on random blobs."""
import numpy as np
import pytest
import torch
from scipy import ndimage

from facenb.metrics import mask_boundary, boundary_iou

def band_by_distance(mask:np.ndarray, ratio:float=0.02) -> np.ndarray:
    h, w = mask.shape
    d = max(1, int(round(ratio*np.hypot(h, w))))
    dist = ndimage.distance_transform_cdt(np.pad(mask > 0, 1), metric='chessboard')[1:-1, 1:-1]
    return ((mask > 0) & (dist <= d)).astype(np.uint8)

def iou(a, b):
    union = (a | b).sum()
    return (a & b).sum()/union if union else 1.0

def blobs(seed, shape):
    rng = np.random.default_rng(seed)
    m = ndimage.gaussian_filter(rng.random(shape), sigma=min(shape)/12)
    return (m > np.median(m)).astype(np.uint8)

@pytest.mark.parametrize('shape', [(800, 600), (120, 90), (37, 501), (5, 5)])
def test_band_is_the_distance_definition(shape):
    for seed in range(3):
        m = blobs(seed, shape)
        for ratio in (0.02, 0.05):
            np.testing.assert_array_equal(mask_boundary(m, ratio), band_by_distance(m, ratio))

def test_boundary_iou_on_real_masks_matches_the_definition():
    from facenb.sources import get_source
    try: src = get_source('portraits', 'valid')
    except Exception as e: pytest.skip(f'needs the shared data (FACENB_DATA): {e}')
    for i in range(3):
        _, truth = src[i]
        truth = (truth > 0).astype(np.uint8)
        moved = np.roll(truth, (3*i + 2, -5), axis=(0, 1))   # a prediction a few pixels off
        want = iou(band_by_distance(truth).astype(bool), band_by_distance(moved).astype(bool))
        got = float(boundary_iou(moved, truth))
        assert abs(got - want) < 1e-12, (got, want)
        assert 0.05 < got < 0.95

def test_batches_tensors_and_average():
    a, b = blobs(0, (60, 80)), blobs(1, (60, 80))
    per = boundary_iou(torch.from_numpy(np.stack([a, a])), torch.from_numpy(np.stack([a, b])), average='none')
    assert per[0].item() == 1.0 and 0 < per[1].item() < 1
    assert abs(boundary_iou(np.stack([a, a]), np.stack([a, b])).item() - per.mean().item()) < 1e-12
