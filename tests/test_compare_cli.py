"`facenb compare` end to end on tiny synthetic data: one results file, a resumable folder, one-line errors."
import csv, json

TINY = ['--data', 'synthetic', '--n-samples', '24', '--size', '64x48', '--bs', '4', '--epochs', '2', '--threads', '1',
        '--max-steps-per-epoch', '2', '--max-valid-steps', '1', '--no-progress', '--out', 'cmp',
        '--models', 'small={"arch": "unet", "model_kw": {"base": 8, "depth": 3}}', 'resnet34']

def test_compare_writes_results_and_reuses_its_runs(run_facenb, tmp_path):
    r = run_facenb('compare', *TINY, '--generalise', 'synthetic')
    assert r.returncode == 0, r.stderr
    out = tmp_path/'cmp'
    res = json.loads((out/'results.json').read_text())
    assert list(res['rows']) == ['small', 'resnet34']
    assert [len(row['history']) for row in res['rows'].values()] == [2, 2]
    rows = list(csv.DictReader(open(out/'results.csv')))
    assert [row['model'] for row in rows] == ['small', 'resnet34'] and all(row['gen_jaccard'] for row in rows)
    assert '| small |' in r.stdout and '| resnet34 |' in r.stdout
    r = run_facenb('compare', *TINY, '--generalise', 'synthetic')          # done: nothing is trained again
    assert r.returncode == 0, r.stderr
    assert 'train_loss' not in r.stdout
    r = run_facenb('compare', *TINY, '--lr', '0.01')                       # another recipe in the same folder
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and 'another recipe' in r.stderr

def test_compare_budget_sets_the_epochs(run_facenb, tmp_path):
    r = run_facenb('compare', *TINY[:-3], '--models', 'resnet34', '--budget-minutes', '0.05', '--generalise', 'none')
    assert r.returncode == 0, r.stderr
    plan = json.loads((tmp_path/'cmp'/'plan.json').read_text())
    res = json.loads((tmp_path/'cmp'/'results.json').read_text())
    assert plan['budget_minutes'] == 0.05 and plan['models']['resnet34']['epochs'] >= 1
    assert res['rows']['resnet34']['epochs'] == plan['models']['resnet34']['epochs']
    assert 'gen_jaccard' not in res['rows']['resnet34']

def test_bad_model_spec_is_one_line(run_facenb):
    r = run_facenb('compare', *TINY[:-3], '--models', 'x={not json')
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and 'not JSON' in r.stderr
