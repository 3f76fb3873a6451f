"""The check of saved outputs (`.ci/outputs.py`) on a small real notebook: it passes a notebook whose saved outputs
are its code's, fails one whose printed number, figure or output is stale or missing, and is not fooled by what
changes from run to run (timings, progress bars, the last digit of a loss)."""
import sys
from pathlib import Path
import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

sys.path.insert(0, str(Path(__file__).resolve().parent.parent/'.ci'))
from outputs import check, first_difference, update

def stdout(text): return new_output('stream', name='stdout', text=text)

def write(path, *cells):
    nbformat.write(new_notebook(cells=list(cells)), path)
    return path

def test_stale_missing_and_matching_outputs(tmp_path):
    nb = write(tmp_path/'a.ipynb',
               new_code_cell("print(6 * 7)", outputs=[stdout('42\n')]),                                  # [0] its own
               new_code_cell("print(6 * 8)", outputs=[stdout('42\n')]),                                  # [1] stale
               new_code_cell("print('loss 0.5123 in 2.3 s')", outputs=[stdout('loss 0.5124 in 9.9 s\n')]), # [2] noise
               new_code_cell("print('no output saved')"),                                                # [3] missing
               new_code_cell("RUN_LONG = False\nif RUN_LONG: print('hours')", outputs=[stdout('recorded\n')]),  # [4] kept
               new_code_cell("x = 1", outputs=[stdout('left over\n')]))                                  # [5] no longer produced
    problems = check(nb, flags=set())
    assert [p.split(':')[0] for p in problems] == ['a.ipynb [1]', 'a.ipynb [3]', 'a.ipynb [5]'], problems
    assert "saved '42', produced '48'" in problems[0]
    assert 'no saved output' in problems[1] and 'no longer produced' in problems[2]
    # --update --only-stale writes the fresh outputs of those three cells, keeps the others', and the check passes
    assert update(nb, flags=set(), only_stale=True) == 3
    assert check(nb, flags=set()) == []
    cells = nbformat.read(nb, as_version=4).cells
    assert cells[2].outputs[0]['text'] == 'loss 0.5124 in 9.9 s\n' and cells[4].outputs[0]['text'] == 'recorded\n'

def test_progress_bars_are_not_outputs():
    bar_html = new_output('display_data', data={'text/html': '<style>progress {}</style><progress value="3" max="3"></progress> 100%',
                                                'text/plain': '<IPython.core.display.HTML object>'})
    bar_text = stdout('|████████████████████| 100.00% [17/17 00:01<00:00]\n')
    assert first_difference([bar_html, stdout('17 photos\n')], [bar_text, stdout('17 photos\n')]) is None
    assert first_difference([bar_html, stdout('17 photos\n')], [bar_text, stdout('16 photos\n')]) is not None

def test_measured_speeds_are_not_compared():
    saved = [stdout("unet: 0.1 M params, 4.3 train img/s, 0.2 s/image -> 2 epochs (~3 min)\n{'train_img_s': 0.43, 'infer_ms': 213.2}\n")]
    fresh = [stdout("unet: 0.1 M params, 1.2 train img/s, 0.9 s/image -> 1 epochs (~1 min)\n{'train_img_s': 13.2, 'infer_ms': 13.1}\n")]
    assert first_difference(saved, fresh) is None
    assert first_difference(saved, [stdout(fresh[0]['text'].replace('0.1 M', '0.5 M'))]) is not None   # the model is not a timing

def test_figures_compare_by_type_and_size():
    def png(w, h):
        import base64, io
        from PIL import Image
        b = io.BytesIO(); Image.new('RGB', (w, h)).save(b, 'PNG')
        return new_output('display_data', data={'image/png': base64.b64encode(b.getvalue()).decode(), 'text/plain': '<Figure>'})
    assert first_difference([png(300, 200)], [png(301, 200)]) is None       # font metrics move a pixel
    assert 'px' in first_difference([png(300, 200)], [png(600, 200)])        # a figure with twice the panels
    # a print after plt.show() lands before the figure in one runner and after it in another: the same outputs
    assert first_difference([png(300, 200), stdout('best 0.821\n')], [stdout('best 0.821\n'), png(300, 200)]) is None
    assert first_difference([png(300, 200), stdout('best 0.821\n')], [stdout('best 0.587\n'), png(300, 200)]) is not None
