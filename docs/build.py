"""Build facenb's website from the saved notebooks: `python docs/build.py` writes `_docs/` (open `_docs/index.html`).

1. nbdev's own doc processors prepare each notebook into `_proc/`, as `nbdev_docs` does before Quarto: front matter,
   hidden and exported cells, `show_doc` for every exported name, links from `names` to their docs.
2. A small adapter turns what Quarto would read into what Jupyter Book reads (see `to_myst`).
3. Jupyter Book 1 (Sphinx + MyST-NB + the book theme) renders `_proc/` into `_docs/`, warnings as errors.
4. The demo page (`docs/demo/` -> `_docs/demo/`): the people model running in the reader's browser, with
   onnxruntime-web vendored at the version `docs/demo/package-lock.json` pins (`npm ci`, only when it is not installed).

Nothing is re-executed except what nbdev runs for the API docs: the imports, the exported cells and the
`show_doc` calls. Quarto, nbdev's own renderer, downloads a binary at install time; this builder installs from
the package index: `pip install -e ".[docs]"`.
"""
import argparse, ast, json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import yaml
from execnb.nbio import read_nb, write_nb, mk_cell
from nbdev.config import get_config
from nbdev.doclinks import _nbpath2html, nbglob
from nbdev.processors import FilterDefaults, exec_show_docs, cell_lang

HERE = Path(__file__).resolve().parent
NB_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*)$')

def page_name(nb_path) -> str:
    "The page a notebook becomes, as nbdev names it for Quarto: `04_unet.ipynb` -> `unet` (so nbdev's doc links hold)."
    return _nbpath2html(Path(Path(nb_path).name)).stem

# ---------------------------------------------------------------------------------------------------------------
# 1. nbdev's processors, with one change: run only the import statements of a cell that mixes imports with other
#    code. nbdev runs such a cell whole (and warns); in a course notebook it often needs data from the cells before
#    it, which nbdev does not run, and running it would redo the cell's work and replace its saved outputs.
def _imports_only(cell):
    "The top-level import statements of a code cell that also does other things (maybe none), else None."
    try: tree = ast.parse(cell.source)
    except SyntaxError: return None
    if not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)): return None
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]  # an `if` block's imports stay in it
    if len(imports) == len(tree.body): return None
    return '\n'.join(ast.get_source_segment(cell.source, n) for n in imports)

class exec_saved_show_docs(exec_show_docs):
    "nbdev's `exec_show_docs`, keeping the saved outputs of cells that mix imports with other code."
    def __call__(self, cell):
        if cell.cell_type == 'code' and cell_lang(cell) == 'python' and cell.source and not (
                cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}):
            imports = _imports_only(cell)
            if imports is not None:
                if imports and self.nb.has_docs_ and hasattr(self, 'k'):
                    self.k.run_cell(imports)
                    if self.k.exc: raise Exception(f'imports of cell {cell.idx_} failed:\n{imports}') from self.k.exc
                return
        return super().__call__(cell)

def _fix_docments():
    "fastcore's `show_doc` text compares defaults with `!=`, which raises for a numpy array default: compare with `is`."
    import fastcore.docments as d
    def _fmt_param(self, nm, p):
        anno, default = p.get('anno', d.empty), p.get('default', d.empty)
        return (nm + (f':{d._maybe_nm(anno)}' if anno is not d.empty else '')
                + (f'={d._fmt_default(default)}' if default is not d.empty else ''))
    d.DocmentText._fmt_param = _fmt_param

class DocsFilter(FilterDefaults):
    "nbdev's doc processors, in nbdev's order, with `exec_saved_show_docs` in place of `exec_show_docs`."
    def base_procs(self): return [exec_saved_show_docs if p is exec_show_docs else p for p in super().base_procs()]

# ---------------------------------------------------------------------------------------------------------------
# 2. The adapter from Quarto's input to MyST-NB's.
QUARTO_TAGS = {('echo', 'false'): 'remove-input', ('output', 'false'): 'remove-output', ('include', 'false'): 'remove-cell'}
SRC_LINK = re.compile(r'\[source\]\((\S+?)\)\{[^}]*\}')
FENCE, CODE_LINK = re.compile(r'```.*?```', re.S), re.compile(r'\[(`[^`]+`)\]\([^)\s]*\)')
BADGE = 'https://colab.research.google.com/assets/colab-badge.svg'

def _quarto_directives(cell) -> dict:
    "Remove the leading `#| key: value` lines that nbdev leaves for Quarto; return them as a dict."
    lines, opts = cell.source.splitlines(), {}
    while lines and (m := NB_DIRECTIVE.match(lines[0])):
        k, _, v = m.group(1).partition(':')
        opts[k.strip()] = v.strip().strip('"\'')
        lines.pop(0)
    cell.source = '\n'.join(lines)
    return opts

def _show_doc_markdown(cell) -> str:
    "The Markdown that `show_doc` displayed, as a heading with its source link under it (not above, as in Quarto)."
    md = next((''.join(o['data']['text/markdown']) for o in cell.get('outputs', [])
               if 'text/markdown' in o.get('data', {})), '')
    md = re.sub(r'^\s*---\s*\n', '', md)                               # a rule that opens an entry: docutils refuses it
    md = FENCE.sub(lambda m: CODE_LINK.sub(r'\1', m.group(0)), md)     # nbdev links names inside the signature too
    src = SRC_LINK.search(md)
    md = SRC_LINK.sub('', md).strip()
    if src:
        head, _, rest = md.partition('\n')
        md = f'{head}\n\n[source]({src.group(1)}){{.facenb-source}}\n{rest}'
    return md

def _widget_snapshot(outputs, state) -> list:
    "Replace each ipywidgets view by the outputs its Output widgets held when saved (a static first frame)."
    def held(model_id, seen=()):
        m = state.get(model_id, {}).get('state', {})
        outs = list(m.get('outputs', []))
        for child in m.get('children', []):
            cid = child.removeprefix('IPY_MODEL_')
            if cid not in seen: outs += held(cid, seen + (cid,))
        return outs
    res = []
    for o in outputs:
        view = o.get('data', {}).get('application/vnd.jupyter.widget-view+json')
        if view is None: res.append(o); continue
        snap = held(view['model_id'])
        res += snap or [{**o, 'data': {k: v for k, v in o['data'].items() if k == 'text/plain'}}]
    return res

MD_LINK, HEADING = re.compile(r'(\]\()([^)\s]+)(\))'), re.compile(r'^#{1,6}\s+(.+?)\s*$', re.M)

def _anchors(nb) -> set:
    "The ids Sphinx gives the headings of a prepared notebook (docutils' `make_id` of each heading's text)."
    from docutils.nodes import make_id
    md = '\n'.join(FENCE.sub('', c.source) for c in nb.cells if c.cell_type == 'markdown')
    return {make_id(re.sub(r'[`*]', '', h)) for h in HEADING.findall(md)}

def _doc_link(url:str, site:str, pages:dict, anchors:dict) -> str:
    "A link to a notebook, or an nbdev link to a name's docs, as a link to its page and heading on this site."
    from docutils.nodes import make_id
    if site and url.startswith(site): url = url[len(site):].lstrip('/')
    elif re.match(r'^[a-z][a-z0-9+.-]*:', url): return url                 # another site (Colab, GitHub, papers)
    if url.startswith('../images/'): return url[3:]                      # the home page's figures: copied beside the pages
    path, _, anchor = url.partition('#')
    page = pages.get(Path(path).name) or (path[:-5] if path[:-5] in anchors else None)  # 04_unet.ipynb or unet.html
    if page is None: return url
    # `Cls.meth` may be documented as `meth`, or only with its class; else the link goes to the page
    ids = [make_id(a) for a in (anchor, anchor.rpartition('.')[2], anchor.partition('.')[0]) if a]
    return f'{page}.html' + next((f'#{i}' for i in ids if i in anchors[page]), '')

def link_pages(nbs:dict, cfg, pages:dict):
    "Point the links between chapters and nbdev's links to names' docs at this site's pages and headings."
    site = cfg.doc_host.rstrip('/') + cfg.doc_baseurl.rstrip('/') + '/'
    anchors = {name: _anchors(nb) for name, nb in nbs.items()}
    for nb in nbs.values():
        for cell in nb.cells:
            if cell.cell_type == 'markdown':
                cell.source = MD_LINK.sub(lambda m: m.group(1) + _doc_link(m.group(2), site, pages, anchors) + m.group(3),
                                          cell.source)

def to_myst(nb, badge:str):
    "Adapt an nbdev-processed notebook for MyST-NB; returns the page's title."
    fm = yaml.safe_load(nb.cells[0].source.strip().strip('-')) if nb.cells and nb.cells[0].cell_type == 'raw' else {}
    if fm: nb.cells.pop(0)
    title = fm.get('title') or 'Untitled'
    head = f'# {title}\n\n' + (f'{{.facenb-description}}\n{fm["description"]}\n' if fm.get('description') else '')
    nb.cells.insert(0, mk_cell(head, 'markdown'))
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == 'code':
            opts = _quarto_directives(cell)
            if opts.get('output') == 'asis' and cell.source.lstrip().startswith('show_doc'):
                nb.cells[i] = cell = mk_cell(_show_doc_markdown(cell), 'markdown')
            else:
                tags = [t for (k, v), t in QUARTO_TAGS.items() if opts.get(k, '').lower() == v]
                if 'code-fold' in opts: tags.append('exported-source')          # an `#| exports` cell: the lesson
                if tags: cell.metadata['tags'] = tags
                cell.outputs = _widget_snapshot(cell.get('outputs', []), nb.metadata.get('widgets', {}).get(
                    'application/vnd.jupyter.widget-state+json', {}).get('state', {}))
        if cell.cell_type == 'markdown': cell.source = cell.source.replace(BADGE, badge)
        for k in ('directives_', 'idx_', 'has_sd'): cell.pop(k, None)
    nb.metadata.pop('widgets', None)                     # the snapshots above replace the views; no widget JS to fetch
    nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
    nb.metadata['language_info'] = dict(name='python', pygments_lexer='ipython3')   # nbdev_clean strips both
    return title

def prepare(job):
    "Process one notebook with nbdev's doc processors and the adapter (runs in a worker process)."
    src, dst = job
    os.environ['IN_TEST'] = '1'                          # as nbdev's own doc workers
    main = sys.modules['__main__']                       # IPython's shell replaces it; the next job needs it back
    try:
        _fix_docments()
        nb = read_nb(src)
        DocsFilter()(nb)
        title = to_myst(nb, badge='colab-badge.svg')
    finally: sys.modules['__main__'] = main
    write_nb(nb, dst)
    return title

# ---------------------------------------------------------------------------------------------------------------
# 3. Jupyter Book: the configuration, from settings.ini and the notebooks; then the build.
def book_config(cfg) -> dict:
    return {
        'title': cfg.title, 'author': cfg.author, 'copyright': cfg.copyright,
        'only_build_toc_files': True,
        'exclude_patterns': ['_build', '.doctrees', 'results'],
        'execute': {'execute_notebooks': 'off'},
        'repository': {'url': cfg.git_url, 'branch': cfg.branch, 'path_to_book': cfg.nbs_path.name},
        'html': {'use_repository_button': True, 'home_page_in_navbar': True,
                 'baseurl': cfg.doc_host.rstrip('/') + cfg.doc_baseurl.rstrip('/') + '/'},
        'launch_buttons': {'notebook_interface': 'classic', 'colab_url': ''},  # each chapter has its Colab badge
        'parse': {'myst_enable_extensions': ['amsmath', 'dollarmath', 'colon_fence', 'attrs_inline', 'attrs_block'],
                  'myst_url_schemes': ['mailto', 'http', 'https']},
        'sphinx': {
            'extra_extensions': ['sphinx-mathjax-offline'],                  # MathJax served with the site
            'config': {
                'myst_all_links_external': True,              # the adapter made links relative to the page itself
                'nb_render_markdown_format': 'myst',           # Markdown outputs (tables) as in the notebook
                'html_static_path': ['_static'], 'html_css_files': ['facenb.css'],
                'html_show_sphinx': False, 'html_copy_source': False,
                'html_theme_options': {'show_toc_level': 2, 'repository_url': cfg.git_url,
                                       'use_repository_button': True, 'use_download_button': False,
                                       'home_page_in_toc': True, 'navbar_persistent': []},
            }},
    }

LIBRARY = 90   # notebooks numbered 90-99 are the library's chapters (the appendix); lower numbers are the lessons

def toc(pages:list) -> dict:
    """Home page, then two captioned parts of the sidebar: the lessons in reading order (00_start first), then the
    library's chapters (90-99); each chapter named by its number and title."""
    root, *chapters = pages
    part = lambda caption, keep: {'caption': caption, 'chapters': [
        {'file': name, 'title': f'{num} · {title}'} for name, num, title in chapters if keep(int(re.match(r'\d+', num).group()))]}
    return {'format': 'jb-book', 'root': root[0],
            'parts': [part('Lessons', lambda n: n < LIBRARY), part('Library', lambda n: n >= LIBRARY)]}

# ---------------------------------------------------------------------------------------------------------------
# 4. The demo page: the people model in the reader's browser (docs/demo/, explained at the end of chapter 15, deploy).
DEMO = HERE/'demo'
PAGE_FILES = ('index.html', 'demo.js', 'camera.js', 'demo.css', 'sw.js')
ORT_FILES = ('ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm',       # WebAssembly
             'ort.webgpu.min.mjs', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm')  # WebGPU

def vendor_ort(dst:Path) -> str:
    "Copy onnxruntime-web, at the version package-lock.json pins, into `dst`; `npm ci` first when node_modules lacks it."
    want = json.loads((DEMO/'package-lock.json').read_text())['packages']['node_modules/onnxruntime-web']['version']
    pkg = DEMO/'node_modules'/'onnxruntime-web'
    have = lambda: json.loads((pkg/'package.json').read_text())['version'] if (pkg/'package.json').is_file() else None
    if have() != want:
        npm = shutil.which('npm')
        if npm is None: sys.exit(f'the demo page needs onnxruntime-web {want} from npm: install Node.js (npm), then build again')
        print(f'npm ci in {DEMO.relative_to(HERE.parent)} (onnxruntime-web {want}, as package-lock.json pins it)')
        subprocess.run([npm, 'ci', '--no-audit', '--no-fund', '--loglevel=error'], cwd=DEMO, check=True)
        if have() != want: sys.exit(f'npm ci installed onnxruntime-web {have()}, not {want}: check {DEMO}/package-lock.json')
    dst.mkdir(parents=True, exist_ok=True)
    for f in ORT_FILES: shutil.copy(pkg/'dist'/f, dst)
    shutil.copy(pkg/'package.json', dst)                # its name, version and licence (MIT), beside its files
    return want

def model_settings(path:Path) -> dict:
    "What the page needs to know about a facenb ONNX predictor: its metadata (`facenb.size`, ...) and its input frame."
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    meta = {p.key: json.loads(p.value) for p in m.metadata_props if p.key.startswith('facenb.')}
    if 'facenb.size' not in meta: sys.exit(f'{path} has no facenb metadata: write it with `facenb export`')
    dims = [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    frame = [-(-s//32)*32 for s in meta['facenb.size']]
    free = all(isinstance(d, str) for d in dims[2:])     # its input takes any height and width (multiples of 32)
    if dims[1] != 3 or not (free or dims[2:] == frame): sys.exit(f'{path}: input {dims} does not match its facenb.size {meta["facenb.size"]}')
    return dict(size=meta['facenb.size'], frame=frame, threshold=meta['facenb.threshold'], classes=meta['facenb.classes'],
                refine=meta.get('facenb.refine'))   # the edge refinement's settings (none: the page does not refine)

def demo_samples(dst:Path) -> list:
    "Sample photos for a visitor without one at hand (the camera mode offers them): validation photos of the course's data (`FACENB_DATA`) as small JPEGs in `dst`; none, with a note, without the data."
    try:
        from PIL import Image
        from facenb.sources import get_source
        picks = [('portraits', 0, 'a portrait'), ('portraits', 5, 'another portrait'), ('human-segmentation', 3, 'people in a scene')]
        photos = [(get_source(name, 'valid')[i][0], title) for name, i, title in picks]
    except Exception as e:
        print(f'NOTE: the demo page has no sample photos: {e}'); return []
    dst.mkdir(parents=True, exist_ok=True)
    samples = []
    for k, (photo, title) in enumerate(photos):
        im = Image.fromarray(photo); im.thumbnail((480, 480), Image.BOX)
        im.save(dst/f'sample{k}.jpg', quality=85)
        samples.append(dict(file=f'samples/sample{k}.jpg', title=title))
    return samples

def build_demo(out:Path, model:Path) -> dict:
    "Write the demo page into `out`/demo: the page, onnxruntime-web, the model and model.json (its settings)."
    dst = out/'demo'
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for f in PAGE_FILES: shutil.copy(DEMO/f, dst)
    info = dict(ort=vendor_ort(dst/'ort'), model=None)
    if Path(model).is_file():
        info.update(model_settings(model), model='model.onnx', bytes=Path(model).stat().st_size, source=Path(model).name)
        shutil.copy(model, dst/'model.onnx')
    else:
        info['notice'] = f'This build of the site has no people model ({model} was missing when it was built).'
        print(f'NOTE: the demo page has no model: {model} does not exist; the page says so')
    info['samples'] = demo_samples(dst/'samples')
    (dst/'model.json').write_text(json.dumps(info, indent=1))
    return info

def main(out:str='_docs', strict:bool=True, workers:int=2, demo_model:str='facenb/weights/people.onnx'):
    t0 = time.time()
    cfg = get_config()
    root, nbs, proc = cfg.config_path, cfg.nbs_path, cfg.config_path/'_proc'
    files = sorted(nbglob(nbs, func=Path), key=lambda p: (p.name != cfg.readme_nb, p.name))
    pages = {p.name: page_name(p) for p in files}
    shutil.rmtree(proc, ignore_errors=True)
    proc.mkdir(parents=True)
    jobs = [(p, proc/f'{pages[p.name]}.ipynb') for p in files]
    with ProcessPoolExecutor(workers, mp_context=get_context('spawn')) as ex: titles = list(ex.map(prepare, jobs))
    prepared = {dst.stem: read_nb(dst) for _, dst in jobs}
    link_pages(prepared, cfg, pages)
    for name, nb in prepared.items(): write_nb(nb, proc/f'{name}.ipynb')
    print(f'prepared {len(files)} notebooks with nbdev\'s processors ({time.time() - t0:.0f}s)')
    for asset in ('images',): shutil.copytree(root/asset, proc/asset)   # what the home page shows
    shutil.copy(HERE/'colab-badge.svg', proc)
    (proc/'_static').mkdir()
    shutil.copy(HERE/'facenb.css', proc/'_static')
    entries = [(pages[p.name], p.name.split('_')[0], t) for p, t in zip(files, titles)]
    (proc/'_config.yml').write_text(yaml.safe_dump(book_config(cfg), sort_keys=False))
    (proc/'_toc.yml').write_text(yaml.safe_dump(toc(entries), sort_keys=False, allow_unicode=True))

    from jupyter_book.sphinx import build_sphinx
    html = proc/'_build'/'html'                         # MyST-NB writes images beside the output folder
    res = build_sphinx(proc, html, noconfig=True, path_config=str(proc/'_config.yml'),
                       confoverrides={'latex_individualpages': False},   # as `jupyter-book build` passes them
                       freshenv=True, warningiserror=strict, keep_going=strict, quiet=True)
    if res: sys.exit(f'the site did not build (exit {res}); the messages above say where')
    out = root/out
    shutil.rmtree(out, ignore_errors=True)
    shutil.move(html, out)
    demo = build_demo(out, root/demo_model)
    print(f'demo page: onnxruntime-web {demo["ort"]}, ' + (f'model {demo_model} ({demo["bytes"]/1e6:.1f} MB)' if demo['model'] else 'no model'))
    print(f'site built in {time.time() - t0:.0f}s: {out.relative_to(root)}/index.html')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='_docs', help='output folder, relative to the project root')
    ap.add_argument('--no-strict', dest='strict', action='store_false', help='do not treat warnings as errors')
    ap.add_argument('--workers', type=int, default=2, help='notebooks prepared in parallel')
    ap.add_argument('--demo-model', default='facenb/weights/people.onnx', help='the ONNX predictor the demo page runs')
    a = ap.parse_args()
    main(a.out, a.strict, a.workers, a.demo_model)
