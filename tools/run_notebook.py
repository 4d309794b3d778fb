"""Run notebooks end to end at full size (nbdev's IN_TEST unset) and save their outputs in place.

nbdev's test run executes experiment notebooks as miniatures; the outputs committed with them,
which the docs site shows, come from this full run. Warnings printed on stderr are dropped from the
saved outputs (they hold local paths), progress bars are kept out by nbdev-clean, which runs
afterwards. Cells flagged `#| cuda` are skipped when torch sees no GPU: they keep the outputs they
had, and the line printed for the notebook says how many were skipped. Cells marked `#| eval: false`
(shown, never run: e.g. a full-size command) are skipped too, as nbdev skips them.

Usage: python tools/run_notebook.py nbs/80_exp.crosslingual.ipynb [more notebooks]
"""
import os, re, subprocess, sys, time
from pathlib import Path

_re_directive = re.compile(r'^\s*#\s*\|\s*(.*?)\s*$')

def has_flag(source, flag):
    "Whether the leading `#|` directive lines of a cell's `source` include `flag` (e.g. `cuda`)."
    for line in source.splitlines():
        m = _re_directive.match(line)
        if not m: break
        if flag in re.split(r'[\s:,]+', m.group(1)): return True
    return False

def no_eval(source):
    "Whether a cell's leading `#|` directives say `eval: false` (nbdev never runs it either)."
    for line in source.splitlines():
        m = _re_directive.match(line)
        if not m: break
        key, _, val = m.group(1).partition(':')
        if key.strip() == 'eval' and val.strip().strip('"\'').lower() == 'false': return True
    return False

def strip_stderr(nb):
    "Drop stderr streams (warnings with local paths) from every code cell's outputs."
    for c in nb.cells:
        if c.cell_type == 'code':
            c.outputs = [o for o in c.get('outputs', [])
                         if not (o.get('output_type') == 'stream' and o.get('name') == 'stderr')]
    return nb

def run_notebook(path):
    "Run `path` with IN_TEST unset, stop at the first error, save it: (seconds, cells skipped)."
    import torch
    from fastcore.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    path = Path(path).resolve()
    os.environ.pop('IN_TEST', None)
    nb = read_nb(path)
    cuda = torch.cuda.is_available()
    gpu = lambda c: c.cell_type == 'code' and not cuda and has_flag(c.source, 'cuda')
    never = lambda c: c.cell_type == 'code' and no_eval(c.source)
    skip = lambda c: gpu(c) or never(c)
    skipped = sum(map(gpu, nb.cells))
    cwd = os.getcwd(); os.chdir(path.parent)
    try:
        t = time.time()
        sh = CaptureShell(path, mpl_format='png')
        sh.run_all(nb, exc_stop=True, preproc=skip)
        if sh.exc: raise sh.exc
    finally: os.chdir(cwd)
    write_nb(strip_stderr(nb), path)
    return time.time() - t, skipped

if __name__ == '__main__':
    if len(sys.argv) < 2: sys.exit(__doc__)
    for p in sys.argv[1:]:
        secs, skipped = run_notebook(p)
        note = (f'; {skipped} `#| cuda` cell(s) skipped (no GPU), their old outputs kept'
                if skipped else '')
        print(f'{p}: ran in {secs:.0f} s{note}', flush=True)
    subprocess.run([str(Path(sys.executable).parent/'nbdev-clean')], check=True)
