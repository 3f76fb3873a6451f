"The `facenb` console script end to end: help, data summaries, one-line errors."

def test_help_lists_the_commands(run_facenb):
    r = run_facenb('--help')
    assert r.returncode == 0
    for cmd in ('train', 'evaluate', 'predict', 'compare', 'data', 'download'): assert cmd in r.stdout

def test_data_summary_of_synthetic(run_facenb):
    r = run_facenb('data', 'synthetic')
    assert r.returncode == 0, r.stderr
    assert 'synthetic' in r.stdout.lower()

def test_unknown_dataset_is_one_clear_line(run_facenb):
    r = run_facenb('data', 'no-such-dataset')
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and 'no-such-dataset' in lines[0], r.stderr
    assert 'Traceback' not in r.stderr

def test_bad_size_is_a_usage_error(run_facenb):
    r = run_facenb('data', 'synthetic', '--root')
    assert r.returncode == 2
