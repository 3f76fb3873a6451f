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

CCP_ANNOTATED, CCP_TAGS_ONLY = 1004, 20  # the published archive: photos 0001-1004 with pixel-level labels, then
# photos 1005-2098 with image-level tags only (the mirror holds the first few of those: what matters is that they exist)

def ccp_published_extras(src:Path) -> dict:
    """What the published CCP archive has beyond a copy that holds some annotated photos back: archive name (relative
    to the dataset's folder) -> the file of the copy to store under it, or bytes. The missing numbers up to 1004 re-use
    the copy's own pairs (so the counts are the published ones; no data is committed), and photos 1005-... come with an
    image-level annotation only."""
    ours = sorted(p.stem for p in (src/'annotations'/'pixel-level').glob('*.mat'))
    missing = [f'{n:04d}' for n in range(1, CCP_ANNOTATED + 1) if f'{n:04d}' not in set(ours)]
    extra = {}
    for i, n in enumerate(missing):
        k = ours[i % len(ours)]
        extra[f'photos/{n}.jpg'] = src/'photos'/f'{k}.jpg'
        extra[f'annotations/pixel-level/{n}.mat'] = src/'annotations'/'pixel-level'/f'{k}.mat'
    for i, n in enumerate(range(CCP_ANNOTATED + 1, CCP_ANNOTATED + 1 + CCP_TAGS_ONLY)):
        extra[f'photos/{n:04d}.jpg'] = src/'photos'/f'{ours[i % len(ours)]}.jpg'
        extra[f'annotations/image-level/{n:04d}.mat'] = b'image-level tags only (not extracted)'
    return extra

PUBLISHED_EXTRAS = {'ccp': ccp_published_extras}  # name -> what its public archive holds beyond the shared copy

def build_archive(name:str, data:Path, out:Path) -> Path:
    """`out/<name>.zip` from the dataset's folder in `data`, laid out as its public archive (files stored, not compressed),
    with the counts of the public archive where the shared copy holds some back (`PUBLISHED_EXTRAS`)."""
    folder, top, inner = LAYOUTS[name]
    src, path = Path(data)/folder, Path(out)/f'{name}.zip'
    if path.exists(): return path
    tmp = path.with_suffix('.part')
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_STORED) as z:
        for f in sorted(p for p in src.rglob('*') if p.is_file()):
            z.write(f, f'{top}/{inner}{f.relative_to(src).as_posix()}')
        for arcname, f in PUBLISHED_EXTRAS.get(name, lambda _: {})(src).items():
            if isinstance(f, bytes): z.writestr(f'{top}/{inner}{arcname}', f)
            else: z.write(f, f'{top}/{inner}{arcname}')
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
