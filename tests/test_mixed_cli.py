"Training on several datasets at once through the `facenb` command line: each dataset keeps its own hold-out, the log, history and `evaluate` score each one, weighted draws resume exactly."
import json, os
import pytest
import torch

TINY = ['--arch', 'unet', '--model-kw', 'base=8,depth=3', '--size', '64x48', '--bs', '4', '--threads', '1', '--no-progress',
        '--n-samples', '20', '--lr', '0.003', '--cache-dir', 'runs/cache']
MIX = 'human-segmentation+ccp'
WEIGHTS = 'human-segmentation=3,ccp=1'

def needs_data():
    if not os.environ.get('FACENB_DATA'): pytest.skip('needs the shared datasets (FACENB_DATA)')

def test_mixed_run_scores_each_dataset_as_evaluating_it_alone(run_facenb, tmp_path):
    needs_data()
    r = run_facenb('train', '--data', MIX, '--data-weights', WEIGHTS, '--epochs', '2', '--out', 'runs/mix', *TINY)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count('(human-segmentation: ') == 2 and ', ccp: ' in r.stdout   # the log line names each dataset's val Jaccard
    h = json.loads((tmp_path/'runs/mix/history.json').read_text())
    assert {'val_human-segmentation_jaccard', 'val_ccp_dice', 'n_valid_ccp', 'val_mean_jaccard'} <= set(h[-1])
    assert h[-1]['n_valid_human-segmentation'] + h[-1]['n_valid_ccp'] == h[-1]['n_valid'] == 6   # 3 + 3: 15% of each 20
    r = run_facenb('evaluate', '--checkpoint', 'runs/mix/last.pt', '--out', 'mix.json', '--no-progress')
    assert r.returncode == 0, r.stderr
    assert '  human-segmentation (3 images)' in r.stdout and '  ccp (3 images)' in r.stdout
    mixed = json.loads((tmp_path/'mix.json').read_text())
    assert abs(mixed['jaccard'] - h[-1]['val_jaccard']) < 1e-6   # evaluate agrees with the log
    for name in ('human-segmentation', 'ccp'):   # each dataset alone, on the same hold-out: the same scores
        r = run_facenb('evaluate', '--checkpoint', 'runs/mix/last.pt', '--data', name, '--out', f'{name}.json', '--no-progress')
        assert r.returncode == 0, r.stderr
        alone = json.loads((tmp_path/f'{name}.json').read_text())
        assert alone['n_images'] == mixed['per_dataset'][name]['n_images'] == 3
        for k in ('dice', 'jaccard', 'loss'): assert abs(alone[k] - mixed['per_dataset'][name][k]) < 1e-6, (name, k)

def test_weighted_mixed_run_resumes_exactly(run_facenb, tmp_path):
    needs_data()
    r = run_facenb('train', '--data', MIX, '--data-weights', WEIGHTS, '--epochs', '2', '--out', 'runs/straight', *TINY)
    assert r.returncode == 0, r.stderr
    r = run_facenb('train', '--data', MIX, '--data-weights', WEIGHTS, '--epochs', '1', '--out', 'runs/split', *TINY)
    assert r.returncode == 0, r.stderr
    r = run_facenb('train', '--resume', 'runs/split', '--epochs', '2', '--no-progress')
    assert r.returncode == 0, r.stderr
    a, b = (torch.load(tmp_path/f'runs/{n}/last.pt', weights_only=True)['model'] for n in ('straight', 'split'))
    assert all(torch.equal(a[k], b[k]) for k in a)

@pytest.mark.parametrize('args, says', [
    (['--data', 'human-segmentation+ccp', '--data-weights', 'human-segmentation=1'], "must name each dataset of the mix (human-segmentation, ccp)"),
    (['--data', 'human-segmentation+ccp', '--data-weights', 'human-segmentation=1,ccp=0'], 'above 0'),
    (['--data', 'human-segmentation', '--data-weights', 'human-segmentation=1'], 'weighs the datasets of a mix'),
    (['--data', 'human-segmentation+fasseg'], 'same classes'),
    (['--data', 'portraits+human+human-segmentation'], 'twice'),
])
def test_a_bad_mix_is_one_clear_line(run_facenb, args, says):
    needs_data()
    r = run_facenb('train', *args, '--out', 'runs/bad', *TINY)
    assert r.returncode == 1 and says in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

def test_a_validation_cut_short_scores_the_datasets_it_reached(run_facenb, tmp_path):
    needs_data()   # --max-valid-steps 1 at batch size 2: two images of the first dataset, none of the second
    r = run_facenb('train', '--data', MIX, '--epochs', '1', '--out', 'runs/short', *TINY, '--bs', '2', '--max-valid-steps', '1')
    assert r.returncode == 0, r.stderr
    row = json.loads((tmp_path/'runs/short/history.json').read_text())[-1]
    reached = [k[len('n_valid_'):] for k in row if k.startswith('n_valid_')]
    assert row['n_valid'] == 2 and sum(row[f'n_valid_{g}'] for g in reached) == 2 and len(reached) == 1, row
    assert row['val_mean_jaccard'] == row[f'val_{reached[0]}_jaccard']
