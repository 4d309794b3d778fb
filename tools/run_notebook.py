"""Run notebooks end to end at full size (nbdev's IN_TEST unset) and save their outputs in place.

nbdev's test run executes experiment notebooks as miniatures; the outputs committed with them, which the docs
site shows, come from this full run. Warnings printed on stderr are dropped from the saved outputs (they hold
local paths), progress bars are kept out by nbdev-clean, which runs afterwards.

Usage: python tools/run_notebook.py nbs/80_exp.crosslingual.ipynb [more notebooks]
"""
import os, subprocess, sys, time
from pathlib import Path

def strip_stderr(nb):
    "Drop stderr streams (warnings with local paths) from every code cell's outputs."
    for c in nb.cells:
        if c.cell_type == 'code':
            c.outputs = [o for o in c.get('outputs', []) if not (o.get('output_type') == 'stream' and o.get('name') == 'stderr')]
    return nb

def run_notebook(path):
    "Execute `path` with IN_TEST unset, stop at the first error, and write it back with its outputs."
    from fastcore.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    path = Path(path).resolve()
    os.environ.pop('IN_TEST', None)
    nb = read_nb(path)
    cwd = os.getcwd(); os.chdir(path.parent)
    try:
        t = time.time()
        sh = CaptureShell(path, mpl_format='png')
        sh.run_all(nb, exc_stop=True)
        if sh.exc: raise sh.exc
    finally: os.chdir(cwd)
    write_nb(strip_stderr(nb), path)
    return time.time() - t

if __name__ == '__main__':
    if len(sys.argv) < 2: sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(f'{p}: ran in {run_notebook(p):.0f} s', flush=True)
    subprocess.run([str(Path(sys.executable).parent/'nbdev-clean')], check=True)
