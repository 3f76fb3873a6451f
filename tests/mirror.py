"""The internet of the download tests: archives of the shared datasets in the layouts in which they are published,
served over HTTP from 127.0.0.1 (a free port, shut down at the end). Point `FACENB_MIRROR` at `serve(...)`'s URL."""
import contextlib, functools, http.server, threading, zipfile
from pathlib import Path

# name: (its folder in the data folder, the archive's top folder as GitHub names it, where that folder sits inside)
LAYOUTS = {
    'portraits': ('portraits', 'AutoPortraitMatting-5c89932069955ccf18a81ba824e466f8135aced4', ''),
    'human-segmentation': ('human-segmentation', 'Human-Segmentation-Dataset-fe4efc5', ''),
    'fasseg': ('fasseg-v2', 'FASSEG-repository-7817f33', 'V2/'),
    'ccp': ('ccp', 'clothing-co-parsing-fe34fb77721a9973fbae92c05f7f12b664d10110', ''),
}

def build_archive(name:str, data:Path, out:Path) -> Path:
    "`out/<name>.zip` from the dataset's folder in `data`, laid out as its public archive (files stored, not compressed)."
    folder, top, inner = LAYOUTS[name]
    src, path = Path(data)/folder, Path(out)/f'{name}.zip'
    if path.exists(): return path
    tmp = path.with_suffix('.part')
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_STORED) as z:
        for f in sorted(p for p in src.rglob('*') if p.is_file()):
            z.write(f, f'{top}/{inner}{f.relative_to(src).as_posix()}')
    tmp.replace(path)
    return path

@contextlib.contextmanager
def serve(folder:Path):
    "Serve the files of `folder` on 127.0.0.1 (a free port) for the duration of the block; yields the base URL."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try: yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown(); server.server_close(); thread.join(timeout=10)
