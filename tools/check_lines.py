"""List the notebooks' shown code lines longer than a limit (STYLE.md 23: shown code fits the page).

Shown code is every line of a code cell that the docs show and every line inside a fenced code block
(``` or ~~~) of a markdown cell. A code cell is shown unless its leading `#|` directives include
`hide`, `include: false` or `echo: false`; `#| export` cells count (their code is on the API pages).
Prints, per notebook, the cell id, line number and length of each line over the limit, then a total,
and exits 1 if there are any (2 on bad arguments). Standard library only.

Usage: python tools/check_lines.py [--max 100] [--files nbs/10_relative.ipynb ...]
"""
from __future__ import annotations
import argparse, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_re_directive = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_re_fence = re.compile(r'^\s*(`{3,}|~{3,})')

def _text(x) -> str: return ''.join(x) if isinstance(x, list) else (x or '')

def is_hidden(src: str) -> bool:
    "Whether the leading `#|` directives of a code cell hide it from the docs."
    for line in src.splitlines():
        m = _re_directive.match(line)
        if not m: break
        key, val = m.group(1), m.group(2).strip().strip('"\'').lower()
        if key == 'hide' or (key in ('include', 'echo') and val == 'false'): return True
    return False

def fenced_lines(src: str):
    "(line number, line) of every line inside a fenced code block of markdown `src`, from 1."
    fence = None
    for i, line in enumerate(src.splitlines(), 1):
        m = _re_fence.match(line)
        if fence is None:
            if m: fence = m.group(1)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                and not line.strip()[len(m.group(1)):]:
            fence = None
        else: yield i, line

def shown_lines(cell: dict):
    "(line number, line) of every line of `cell` that the docs show as code."
    src = _text(cell.get('source'))
    if cell.get('cell_type') == 'code':
        if not is_hidden(src): yield from enumerate(src.splitlines(), 1)
    elif cell.get('cell_type') == 'markdown': yield from fenced_lines(src)

def long_lines(path: Path, limit: int = 100) -> list[tuple[str, int, int]]:
    "(cell id, line number, length) of each shown code line of notebook `path` over `limit`."
    nb = json.loads(Path(path).read_text(encoding='utf-8'))
    return [(cell.get('id', f'#{k}'), i, len(line)) for k, cell in enumerate(nb.get('cells', []))
            for i, line in shown_lines(cell) if len(line) > limit]

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--max', type=int, default=100, help='longest allowed line, in characters')
    p.add_argument('--files', nargs='+', help='notebooks to check (default: every nbs/*.ipynb)')
    p.add_argument('--quiet', action='store_true', help='only the count per notebook')
    a = p.parse_args(argv)
    if a.max < 1: p.error(f'--max must be at least 1, got {a.max}')
    files = [Path(f) for f in a.files] if a.files else sorted((ROOT/'nbs').glob('*.ipynb'))
    missing = [str(f) for f in files if not f.is_file()]
    if missing: p.error(f"no such notebook: {', '.join(missing)}")
    total = 0
    for f in files:
        found = long_lines(f, a.max)
        total += len(found)
        if not found: continue
        print(f'{f.name}: {len(found)} line(s) over {a.max}')
        if not a.quiet:
            for cid, i, n in found: print(f'  {cid} line {i}: {n}')
    print(f'{total} shown code line(s) over {a.max} characters in {len(files)} notebook(s)')
    return 1 if total else 0

if __name__ == '__main__': sys.exit(main())
