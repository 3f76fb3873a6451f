"""Re-execute notebooks as `nbdev_test` does, then write their outputs (`--update`) or check the saved ones (`--check`).

    python .ci/outputs.py --check  nbs/06_metrics.ipynb [more.ipynb ...]   # exit 1, naming notebook, cell and line
    python .ci/outputs.py --update nbs/06_metrics.ipynb                    # write the fresh outputs, then nbdev_clean it

Execution is nbdev_test's: execnb's `CaptureShell`, cwd = the notebook's folder, `IN_TEST=1`, cells whose flags are in
settings.ini's `tst_flags` (`#| slow`, ...) or that call `nbdev_export(` are not run. A cell KEEPS ITS SAVED OUTPUTS
(neither rewritten nor compared) when it is not run, when a top-level `if` of its code tests the `RUN_LONG` switch
(off by default, it prints nothing; the saved output is the recorded run's), and the chapter's setup cell (its output
is the runtime's: downloads, device). Every other code cell is compared; the check fails when
(a) the cell produces output and has no saved output, or a saved output when it produces none;
(b) a saved output no longer matches what the cell produces, under this rule, robust to timings and run-to-run noise:
  - everything a cell prints to stdout is compared as one text, then its other outputs in order (where a print lands
    among a cell's figures depends on the runner: Jupyter's and execnb's differ); stderr (warnings, whose text names
    installation paths and line numbers) is neither saved-required nor compared;
  - text (stdout, `text/plain`, `text/markdown`, `text/html`, `text/latex`, errors) is compared line by line after
    masking durations and speeds (`12.3 s`, `45 ms`, `1:02:03`, `3.2it/s`, `ETA`, `4.3 img/s`, `'infer_ms': 213.2`, the
    epochs a time budget buys), temporary names (`tmp1a2b3c4d`), local ports (`127.0.0.1:34989`), progress bars (fastprogress' HTML, `|███ |`
    and `\\r` redraws), object addresses (`0x7f...`), absolute paths, and dropping blank lines and show_doc's
    `[source](...)` line (its line number moves with the code above it, and outside a repository there is none);
  - decimal numbers (`0.8123`, `2e-4`) match within 1% of the larger, or one unit of their last printed digit
    (training on another CPU, or with other threads, moves the last digits of a loss); integers and all other text
    match exactly;
  - an image (`image/png`, `image/jpeg`, `image/svg+xml`) matches one of the same type and displayed size, within
    2 px (the size a retina figure's metadata gives, else its pixels): the bytes of a PNG vary with library versions
    and fonts; a figure that draws more or fewer panels changes its size (one that draws other photos in the same
    panels passes: re-execute with --update whenever you change what a figure shows);
  - a widget view matches a widget view (its model id is new on every run).
With `loose=True` (`--loose`), digits are masked too: the check then holds the structure of every output (its lines,
words, images) but not its numbers; tests/test_fresh_runtime.py uses it for the chapters whose numbers depend on
which copy of a dataset the runtime downloaded (see there).
"""
import argparse, ast, base64, os, re, struct, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP_MARK = '# Set this runtime up for the chapter'
SWITCH = 'RUN_LONG'

# ---------------------------------------------------------------------------------------------------------------
# Which cells run, and which keep their saved outputs
def skip_flags() -> set:
    from nbdev.config import get_config
    return set(get_config(path=ROOT).tst_flags.split())

def guarded(src:str) -> bool:
    "A top-level `if` of the cell tests the RUN_LONG switch."
    try: tree = ast.parse(re.sub(r'^\s*[%!].*$', '', src, flags=re.M))
    except SyntaxError: return False
    return any(isinstance(n, ast.If) and any(isinstance(x, ast.Name) and x.id == SWITCH for x in ast.walk(n.test))
               for n in tree.body)

def keeps_saved(cell) -> bool:
    "A cell that runs but keeps its saved outputs: behind the RUN_LONG switch, or the setup cell."
    src = ''.join(cell['source'])
    return guarded(src) or any(l.startswith(SETUP_MARK) for l in src.split('\n', 2)[:2])

# ---------------------------------------------------------------------------------------------------------------
# Execution, as nbdev_test
def execute(path:Path, flags:set=None):
    """Run the notebook at `path` exactly as nbdev_test's `test_nb` does; returns (cells by id, ids of the cells it
    ran, error or None). A run cell's outputs are what it produced now (nothing, if it produced nothing)."""
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor
    path = Path(path).resolve()
    flags = skip_flags() if flags is None else flags
    os.environ['IN_TEST'] = '1'
    nb = NBProcessor(path, procs=FrontmatterProc, process=True).nb
    if str(getattr(nb, 'frontmatter_', {}).get('skip_exec', False)).lower() in ('true', '1', 'yes'): return {}, set(), None
    ran = set()
    def no_eval(cell):                                   # nbdev.test.test_nb's `_no_eval`
        if cell.cell_type != 'code' or 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false' or flags & direc.keys(): return True
        ran.add(cell.get('id') or cell.source)           # FrontmatterProc renumbers the cells: match by id
        if cell.source.rstrip().endswith(';'):           # execnb drops ALL outputs of such a cell, Jupyter only its value:
            cell.source = cell.source.rstrip() + '\npass'  # a last statement that has no value keeps the prints
        cell['outputs'] = []                             # a cell that prints nothing now must not keep its old outputs
        return False
    import matplotlib; matplotlib.rcdefaults()   # each notebook from matplotlib's defaults: one run's rcParams must not leak into the next's
    k = CaptureShell(path)
    err = None
    with working_directory(path.parent):
        try: k.run_all(nb, exc_stop=True, preproc=no_eval)
        except Exception: err = k.prettytb(fname=path)
    return {c.get('id') or c.source: c for c in nb.cells}, ran, err

# ---------------------------------------------------------------------------------------------------------------
# The comparison rule
MASKS = [
    (re.compile(r'<progress[^>]*>.*?</progress>', re.S), '<progress/>'),
    (re.compile(r'[\u2580-\u259f#]+[ \u2580-\u259f]*\|'), '<bar>|'),             # tqdm-like bars
    (re.compile(r'\b0x[0-9a-fA-F]{6,}\b'), '0x<addr>'),
    (re.compile(r'(?<![\w.:/])/(?:[\w.+@-]+/)+[\w.+@-]*'), '<path>'),           # absolute paths (never in a saved output)
    (re.compile(r'^\[source\]\([^)]*\)\{[^}]*\}[ \t]*$', re.M), ''),                   # show_doc's source link (none outside a repo)
    (re.compile(r'\b\d+(?::\d\d)+\b'), '<time>'),                                  # 00:03, 1:02:03
    (re.compile(r'\d+(?:\.\d+)?\s?(?:it/s|s/it|ms|µs|us|ns|min|s|sec|seconds?|minutes?)\b'), '<duration>'),
    (re.compile(r'(?i)\beta\b[:\s]*\S*'), 'ETA'),
    (re.compile(r'\d+(?:\.\d+)?\s?(?:(?:train |infer )?(?:img|images|frames|photos)/s|fps)\b'), '<speed>'),  # measured speeds
    (re.compile(r"('(?:\w*_(?:s|ms|min|fps|per_second)|seconds|minutes|fps)'): [-+\d.e]+"), r'\1: <speed>'),                    # {'train_img_s': 13.2, ...}
    (re.compile(r'-> \d+ epochs \(~'), '-> <n> epochs (~'),
    (re.compile(r'\btmp[\w]{8}\b'), 'tmp<name>'),                                          # tempfile's random names
    (re.compile(r'\b(127\.0\.0\.1|localhost):\d+'), r'\1:<port>'),                         # a local server's port                                  # a budget's epochs: from a speed
]
DIGITS = re.compile(r'(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])')
DECIMAL = re.compile(r'(?<![\w.])[-+]?(?:\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+)(?![\w])')
REL_TOL = 0.01

def mask(text:str, loose:bool=False) -> list:
    "The lines of `text` as the check compares them."
    text = '\n'.join(l.rstrip('\r').split('\r')[-1] for l in text.split('\n'))       # a progress line redrawn with \r: its last state
    for rx, sub in MASKS: text = rx.sub(sub, text)
    if loose: text = DIGITS.sub('<n>', text)
    return [l.rstrip() for l in text.split('\n') if l.strip() and '<bar>|' not in l]   # progress bars' lines left out

def _close(a:str, b:str) -> bool:
    "Two printed decimals agree within REL_TOL of the larger, or within one unit of their last printed digit."
    x, y = float(a), float(b)
    places = max(len(t.split('.')[1].split('e')[0]) if '.' in t else 0 for t in (a.lower(), b.lower()))
    unit = 10.0**-places * (10.0**int(a.lower().split('e')[1]) if 'e' in a.lower() else 1)
    return abs(x - y) <= max(REL_TOL*max(abs(x), abs(y)), unit*1.0001)

def same_line(x:str, y:str) -> bool:
    "Equal lines, except that their decimal numbers (`0.8123`, `1e-3`) may differ as `_close` allows."
    if x == y: return True
    if DECIMAL.sub('<d>', x) != DECIMAL.sub('<d>', y): return False
    return all(_close(a, b) for a, b in zip(DECIMAL.findall(x), DECIMAL.findall(y)))

def _image_size(mime:str, data) -> tuple:
    "(width, height) of a PNG or JPEG output, in pixels; () for SVG."
    if mime == 'image/svg+xml': return ()
    raw = base64.b64decode(''.join(data) if isinstance(data, list) else data)
    if raw[:8] == b'\x89PNG\r\n\x1a\n': return struct.unpack('>II', raw[16:24])
    from io import BytesIO
    from PIL import Image
    return Image.open(BytesIO(raw)).size

def summary(outputs:list, loose:bool=False) -> list:
    "What the check compares of a cell's outputs: one (kind, lines) entry per output, stderr left out."
    res, printed = [], []
    for o in outputs:
        t = o.get('output_type')
        if t == 'stream':
            if o.get('name') == 'stderr': continue
            text = ''.join(o['text']) if isinstance(o['text'], list) else o['text']
            printed.append(text); continue
        if t == 'error':
            res.append(('error', f"{o.get('ename')}: {o.get('evalue')}")); continue
        data = o.get('data', {})
        if 'application/vnd.jupyter.widget-view+json' in data: res.append(('widget', '')); continue
        img = next((m for m in ('image/png', 'image/jpeg', 'image/svg+xml') if m in data), None)
        if img:
            meta = (o.get('metadata') or {}).get(img) or {}
            size = (meta['width'], meta['height']) if 'width' in meta and 'height' in meta else _image_size(img, data[img])
            res.append((img, size)); continue
        mime = next((m for m in ('text/markdown', 'text/html', 'text/latex', 'text/plain') if m in data), None)
        if mime == 'text/html' and '<progress' in ''.join(data[mime]): continue   # a progress bar: HTML in Jupyter, text in a console
        if mime: res.append((mime, ''.join(data[mime]) if isinstance(data[mime], list) else data[mime]))
        elif data: res.append((sorted(data)[0], ''))
    if printed: res.insert(0, ('stdout', ''.join(printed)))   # all it printed, first: where a print lands between figures
    res = [(kind, mask(text, loose) if isinstance(text, str) else text) for kind, text in res]   # depends on the runner
    return [(kind, lines) for kind, lines in res if kind != 'stdout' or lines]       # a stdout of progress bars only

def _first(x): return x[0][:120] if isinstance(x, list) else 'x'.join(map(str, x)) + ' px'

def first_difference(saved:list, fresh:list, loose:bool=False):
    "None when the outputs match under the rule, else a one-line description of the first difference."
    a, b = summary(saved, loose), summary(fresh, loose)
    if b and not a: return f'no saved output, but the cell produces {b[0][0]}: {_first(b[0][1])!r}'
    if a and not b: return f'the saved output ({a[0][0]}: {_first(a[0][1])!r}) is no longer produced'
    for i, ((ka, la), (kb, lb)) in enumerate(zip(a, b)):
        if ka != kb: return f'output {i}: saved {ka}, produced {kb}'
        if isinstance(la, tuple):                    # image: same displayed size, within 2 px (font metrics)
            if len(la) != len(lb) or any(abs(x - y) > 2 for x, y in zip(la, lb)):
                return f'output {i} ({ka}): saved {"x".join(map(str, la))} px, produced {"x".join(map(str, lb))} px'
            continue
        for j in range(max(len(la), len(lb))):
            x, y = (la[j] if j < len(la) else '<end>'), (lb[j] if j < len(lb) else '<end>')
            if not same_line(x, y): return f'output {i} ({ka}), line {j+1}: saved {x[:150]!r}, produced {y[:150]!r}'
    if len(a) != len(b):
        extra = (a if len(a) > len(b) else b)[min(len(a), len(b))]
        return f'{"saved" if len(a) > len(b) else "produced"} one more output ({extra[0]}: {_first(extra[1])!r})'
    return None

# ---------------------------------------------------------------------------------------------------------------
# The two commands
def check(path, flags:set=None, loose:bool=False, saved_nb=None) -> list:
    """Execute the notebook at `path` and compare; returns the problems (empty when it passes), each one line
    `notebook [cell]: what`. `saved_nb`: the notebook whose saved outputs to compare with (default: the file's)."""
    from execnb.nbio import read_nb
    path = Path(path)
    flags = skip_flags() if flags is None else flags
    saved = read_nb(path) if saved_nb is None else saved_nb
    nb, ran, err = execute(path, flags)
    if err: return [f'{path.name}: it does not run:\n{err}']
    problems = []
    for i, s in enumerate(saved.cells):
        key = s.get('id') or s.source
        if key not in ran or keeps_saved(s): continue
        diff = first_difference(s.get('outputs', []), nb[key].get('outputs', []), loose)
        if diff: problems.append(f'{path.name} [{i}]: {diff}')
    return problems

def update(path, flags:set=None, only_stale:bool=False) -> int:
    """Execute the notebook at `path`, write the fresh outputs of the cells that do not keep theirs; nbdev_clean it.
    `only_stale`: only those of the cells that fail the check (a smaller diff, which merges better); prints them."""
    from execnb.nbio import read_nb, write_nb
    path = Path(path)
    flags = skip_flags() if flags is None else flags
    saved = read_nb(path)
    nb, ran, err = execute(path, flags)
    if err: sys.exit(f'{path.name}: it does not run, nothing written:\n{err}')
    changed = 0
    for i, s in enumerate(saved.cells):
        key = s.get('id') or s.source
        if key in ran and not keeps_saved(s):
            c = nb[key]
            diff = first_difference(s.get('outputs', []), c.get('outputs', []))
            if diff: changed += 1; print(f'{path.name} [{i}]: {diff}')
            if diff or not only_stale: s['outputs'] = c.get('outputs', [])
            if 'execution_count' in s: s['execution_count'] = None
    for i, c in enumerate(saved.cells):
        for o in c.get('outputs', []):
            text = ''.join(o.get('text', '')) + ''.join(''.join(v) for k, v in o.get('data', {}).items() if k.startswith('text/'))
            if re.search(r'(/work/|/tmp/|/root/|/home/\w)', text): print(f'WARNING: {path.name} [{i}] names a path of this machine', file=sys.stderr)
    for c in saved.cells:
        for k in ('idx_', 'directives_'): c.pop(k, None)
    write_nb(saved, path)
    subprocess.run([str(Path(sys.executable).parent/'nbdev_clean'), '--fname', str(path)], cwd=ROOT, check=True)
    return changed

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--check', action='store_true', help='fail when a saved output is missing or stale')
    g.add_argument('--update', action='store_true', help='write the fresh outputs into the notebooks')
    ap.add_argument('--loose', action='store_true', help='--check: mask digits too (structure only)')
    ap.add_argument('--only-stale', action='store_true', help='--update: rewrite only the cells that fail the check')
    ap.add_argument('notebooks', nargs='+', type=Path)
    a = ap.parse_args(argv)
    bad = [p for p in a.notebooks if not p.is_file() or p.suffix != '.ipynb']
    if bad: sys.exit(f'not a notebook: {bad[0]}')
    failed = 0
    for p in a.notebooks:
        t0 = time.time()
        if a.update:
            n = update(p, only_stale=a.only_stale)
            print(f'{p.name}: {n} cell(s) with new outputs ({time.time() - t0:.0f} s)')
        else:
            problems = check(p, loose=a.loose)
            for line in problems: print(line)
            print(f'{p.name}: {"FAILED, " + str(len(problems)) + " cell(s)" if problems else "saved outputs match"} ({time.time() - t0:.0f} s)')
            failed += bool(problems)
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
