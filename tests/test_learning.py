"""Training learns: `facenb train` on a task any working model masters in seconds passes a stated val Jaccard,
and the same run with a loss that ignores the mask does not; every binary loss prefers the true mask."""
import json
import pytest
import torch
from conftest import easy_task

BAR = 0.85   # best val Jaccard a correct run reaches on the easy task (0.94-0.99 over seeds 1-5 and 42); all-person scores ~0.2
RECIPE = ['--arch', 'unet', '--model-kw', '{"base": 16, "depth": 2}', '--size', '64x48', '--bs', '8', '--threads', '1',
          '--epochs', '5', '--lr', '0.003', '--no-progress']

@pytest.fixture
def task(tmp_path, monkeypatch, torch_threads):
    "The easy task in tmp_path/easy; the hold-out split is kept in a private cache."
    monkeypatch.setenv('FACENB_CACHE', str(tmp_path/'cache'))
    return easy_task(tmp_path/'easy')

def best_val_jaccard(run): return max(h['val_jaccard'] for h in json.loads((run/'history.json').read_text()))

def all_person_jaccard(folder):
    "Mean Jaccard of the prediction 'person everywhere' on the validation masks: the bar must be far above it."
    from facenb.sources import holdout_sources
    from facenb.metrics import jaccard_score
    masks = torch.stack([torch.as_tensor(m) for _, m in holdout_sources(folder)[1]])
    return jaccard_score(torch.ones_like(masks), masks).item()

def test_facenb_train_passes_the_bar(task, tmp_path):
    from facenb.cli import main
    assert all_person_jaccard(task) < BAR - 0.4
    assert main(['train', '--data', str(task), '--out', str(tmp_path/'runs'/'ok'), *RECIPE]) == 0
    assert best_val_jaccard(tmp_path/'runs'/'ok') >= BAR

class MaskIgnoringBCE(torch.nn.Module):
    "The break the bar must catch: BCE against a constant 0.5 target, whatever the mask says."
    def forward(self, logits, target): return torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 0.5))

def test_a_loss_that_ignores_the_mask_fails_the_bar(task, tmp_path):
    "The same recipe through `train`, changing only the loss: the bar tells a model that learned from one that did not."
    from facenb.cli import config_from_args, build_parser
    from facenb.train import train
    args = build_parser().parse_args(['train', '--data', str(task), '--out', str(tmp_path/'runs'/'blind'), *RECIPE])
    train(config_from_args(args), progress=False, loss_func=MaskIgnoringBCE())
    assert best_val_jaccard(tmp_path/'runs'/'blind') < BAR - 0.3

@pytest.mark.parametrize('name', ['bce', 'dice', 'jaccard', 'bce_dice', 'bce_jaccard'])
def test_every_binary_loss_prefers_the_true_mask(name):
    "Logits of the true mask cost less than logits of a shifted mask, of an empty one and of an undecided model (0)."
    from facenb.losses import get_loss
    from facenb.sources import synthetic_people
    masks = torch.from_numpy(synthetic_people(4, size=(64, 48), seed=5)[1]).float()[:, None]
    loss = get_loss(name)
    def cost(m): return loss((m - 0.5) * 6, masks).item()
    right = cost(masks)
    assert right < cost(torch.roll(masks, (9, 7), (2, 3))), name
    assert right < cost(torch.zeros_like(masks)), name
    assert right < loss(torch.zeros_like(masks), masks).item(), name
