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

def square(top, left, size=20, shape=(100, 100)):
    m = np.zeros(shape, np.uint8); m[top:top+size, left:left+size] = 1
    return m

def test_hand_worked_squares():
    """Worked by hand: 100x100 image, d = round(0.02 x 141.4) = 3. A 20x20 square's band is the square less its inner
    14x14: 400 - 196 = 204 px. The same square 2 px to the right shares 6 rows x 18 columns of the top and bottom strips
    (108 px) and 1 column of each side on the 14 rows between (28 px): 136 px; union 204 + 204 - 136 = 272, boundary
    IoU 136/272 = 0.5, while the masks' Jaccard is 360/440 = 0.818."""
    a, b = square(40, 40), square(40, 42)
    assert mask_boundary(a).sum() == 204 and mask_boundary(b).sum() == 204
    assert (mask_boundary(a) & mask_boundary(b)).sum() == 136
    assert boundary_iou(b, a).item() == pytest.approx(0.5, abs=1e-12)
    # a square of 6x6 is all band (d = 3 reaches its middle from every side): a 1 px shift leaves 5x6 of 6x6 + 6x6 - 5x6
    assert boundary_iou(square(10, 11, 6), square(10, 10, 6)).item() == pytest.approx(30/42, abs=1e-12)

def test_hand_worked_borders_and_empty_masks():
    "The image's border is a contour: an all-person 10x10 image (d = 1) has a band of its outer ring, 100 - 64 = 36 px."
    full = np.ones((10, 10), np.uint8)
    assert mask_boundary(full).sum() == 36 and mask_boundary(full)[1:-1, 1:-1].sum() == 0
    # a hole of one pixel in a 9x9 all-person image (d = 1): the outer ring (81 - 49 = 32 px) and the hole's 8 neighbours,
    # diagonal ones included (the chessboard distance: a 3x3 square, not a cross, as the reference erodes)
    holed = np.ones((9, 9), np.uint8); holed[4, 4] = 0
    assert mask_boundary(holed).sum() == 40 and mask_boundary(holed)[3:6, 3:6].sum() == 8
    empty = np.zeros((10, 10), np.uint8)
    assert boundary_iou(empty, empty).item() == 1.0                  # nothing to find, nothing found
    assert boundary_iou(full, empty).item() == 0.0 and boundary_iou(empty, full).item() == 0.0
    # the right half of the image against all of it: bands 10x1 + 10x1 ... worked: half = cols 5-9, its band is its
    # ring of 5x10 (50 - 3x8 = 26 px); the full image's ring is 36 px; they share the ring's right half: rows 0 and 9
    # at cols 5-9 (10 px), col 9 at rows 1-8 (8 px) = 18 px; IoU 18/(26 + 36 - 18) = 18/44
    half = full.copy(); half[:, :5] = 0
    assert mask_boundary(half).sum() == 26
    assert boundary_iou(half, full).item() == pytest.approx(18/44, abs=1e-12)
