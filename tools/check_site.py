"""Check the built docs site: links, API docs, and every page as headless Chromium renders it.

Without a browser: every relative link must name an existing page, and each `#fragment` an existing id in
that page; on the API pages every public function, class and method of the library's index (`_modidx.py`)
must have its heading, then its signature (`.doc-sig`) and, when it takes parameters, its parameter table
(`.doc-params`, one row per parameter); and no signature anywhere may lack its table. Code lines longer than
100 characters are listed per page (a report, not a failure).

In Chromium, at a 1280 px wide window, each page fails when it is blank, when its math did not render as
MathML (or raw TeX shows), when it has no navigation, when it shows Python code but no highlighted token,
or when it overflows horizontally (the document is wider than the window; code blocks may scroll inside
themselves). Screenshots of the index, an API page, the callbacks page and an experiment page (and of the
first symbol of the API pages among them) go to `_site_check/` in the site folder.

Where Chromium is absent the browser checks are skipped with a notice, except under CI (`CI=true`), where
they are required. Exit status 1 on any failure.

Usage: python tools/check_site.py [--site _docs] [--pages index.html ...] [--shots DIR] [--shot-pages ...]
"""
from __future__ import annotations
import argparse, ast, html, json, os, re, shutil, subprocess, sys, tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse, unquote

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars']
WIDTH = 1280                     # the window width at which no page may overflow
MAX_LINE = 100                   # longest code line the notebooks' style allows
SHOT_PAGES = ['index.html', 'relative.html', 'callbacks.html', 'exp.crosslingual.html']

# ---------------------------------------------------------------------------------------------------------
# static checks

class _Links(HTMLParser):
    "Collects hrefs, srcs and element ids of a page."
    def __init__(self):
        super().__init__(); self.links, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        for k in ('href', 'src'):
            if a.get(k) and tag in ('a', 'img', 'link', 'script'): self.links.append(a[k])

def parse_page(path: Path) -> _Links:
    p = _Links(); p.feed(path.read_text(encoding='utf-8')); return p

def broken_links(site: Path) -> list[str]:
    "Every relative link (and fragment) of every page of `site` that does not resolve, as 'page: link'."
    pages = {p.name: parse_page(p) for p in sorted(site.glob('*.html'))}
    bad = []
    for name, pg in pages.items():
        for link in pg.links:
            u = urlparse(link)
            if u.scheme in ('http', 'https', 'mailto', 'data', 'javascript') or u.netloc: continue
            target = unquote(u.path) or name
            if target not in pages:
                if not (site/target).exists(): bad.append(f'{name}: {link} (no such page)')
                continue
            if u.fragment and unquote(u.fragment) not in pages[target].ids:
                bad.append(f'{name}: {link} (no id "{u.fragment}" in {target})')
    return bad

class _Blocks(HTMLParser):
    """The parts of a page the API checks read, in document order: headings (`h`, id, text), signatures
    (`sig`, parameter names), parameter tables (`params`, the first cell of each body row), and the text of
    every `pre` block (`pre`, is it code (a language class), text)."""
    _heads = {'h1', 'h2', 'h3', 'h4', 'h5', 'h6'}
    def __init__(self):
        super().__init__(); self.items, self.stack = [], []
        self.head = self.pre = self.row = self.cell = None
        self.tbl = 0
    def handle_starttag(self, tag, attrs):
        a, cls = dict(attrs), dict(attrs).get('class', '').split()
        if tag in ('br', 'hr', 'img', 'meta', 'link', 'input', 'col', 'wbr', 'source'): return
        self.stack.append(tag)
        if tag in self._heads: self.head = [tag, a.get('id', ''), '']
        elif tag == 'div' and 'doc-sig' in cls:
            self.items.append(('sig', (a.get('data-params') or '').split()))
        elif tag == 'div' and 'doc-params' in cls: self.items.append(('params', [])); self.tbl = len(self.stack)
        elif tag == 'pre' and self.pre is None:
            self.pre = [len(self.stack), bool(cls), '']   # a language class: code; none: an output
        elif tag == 'code' and self.pre is not None and cls: self.pre[1] = True
        elif tag == 'tr' and self._in_params() and 'tbody' in self.stack: self.row = []
        elif tag == 'td' and self.row is not None: self.cell = ''
    def _in_params(self): return bool(self.items) and self.items[-1][0] == 'params' and len(self.stack) >= self.tbl
    def handle_endtag(self, tag):
        if tag not in self.stack: return
        while self.stack and self.stack.pop() != tag: pass
        if tag in self._heads and self.head:
            self.items.append(('h', self.head[1], ' '.join(self.head[2].split()))); self.head = None
        elif tag == 'pre' and self.pre is not None and len(self.stack) < self.pre[0]:
            self.items.append(('pre', self.pre[1], self.pre[2])); self.pre = None
        elif tag == 'td' and self.row is not None and self.cell is not None:
            self.row.append(' '.join(self.cell.split())); self.cell = None
        elif tag == 'tr' and self.row is not None:
            if self.row and self._in_params(): self.items[-1][1].append(self.row[0])
            self.row = None
    def handle_data(self, data):
        if self.head is not None: self.head[2] += data
        if self.pre is not None: self.pre[2] += data
        if self.cell is not None: self.cell += data

def page_blocks(path: Path) -> list[tuple]:
    p = _Blocks(); p.feed(path.read_text(encoding='utf-8')); p.close(); return p.items

def signature_problems(page: str, items: list[tuple]) -> list[str]:
    "Signatures without their parameter table, or with a table whose rows are not the signature's parameters."
    probs, last_h = [], None
    for i, it in enumerate(items):
        if it[0] == 'h': last_h = it[2]
        if it[0] != 'sig': continue
        table = None
        for nxt in items[i+1:]:
            if nxt[0] in ('h', 'sig'): break
            if nxt[0] == 'params': table = nxt[1]; break
        names = [n for n in (table or []) if n != 'Returns']
        if it[1] and table is None: probs.append(f'{page}: {last_h}: signature without its parameter table')
        elif table is not None and names != it[1]:
            probs.append(f'{page}: {last_h}: parameter table rows {names} are not the parameters {it[1]}')
    return probs

def read_modidx(path: Path) -> dict[str, str]:
    "Public symbols of nbdev's `_modidx.py` (no part after the module starts with '_') → 'page#anchor'."
    tree = ast.parse(path.read_text(encoding='utf-8'))
    d = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == 'd')
    return {k: url for mod, syms in d['syms'].items() for k, (url, _) in syms.items()
            if not any(p.startswith('_') for p in k[len(mod)+1:].split('.'))}

def api_problems(site: Path, modidx: dict[str, str]) -> tuple[list[str], int]:
    """Every public symbol documented on its page with a heading, then a signature (and the table checked by
    `signature_problems`); every signature of every page with its table. Returns (problems, symbols checked)."""
    blocks = {p.name: page_blocks(p) for p in sorted(site.glob('*.html'))}
    probs = [pr for name, items in blocks.items() for pr in signature_problems(name, items)]
    for sym, url in sorted(modidx.items(), key=lambda kv: kv[1]):
        page, _, anchor = url.partition('#')
        items = blocks.get(page)
        if items is None: probs.append(f'{page}: not built (documents {sym})'); continue
        at = next((i for i, it in enumerate(items) if it[0] == 'h' and it[1] == anchor), None)
        if at is None: probs.append(f'{page}: {sym} is not documented (no heading #{anchor})'); continue
        nxt = next((it for it in items[at+1:] if it[0] in ('h', 'sig')), None)
        if not nxt or nxt[0] != 'sig': probs.append(f'{page}: {sym}: heading without a signature')
    return probs, len(modidx)

def long_lines(site: Path, limit: int = MAX_LINE) -> dict[str, tuple[int, int]]:
    "Per page: (code lines, output lines) longer than `limit` characters."
    res = {}
    for p in sorted(site.glob('*.html')):
        n = [0, 0]
        for it in page_blocks(p):
            if it[0] == 'pre': n[0 if it[1] else 1] += sum(len(l) > limit for l in it[2].splitlines())
        if any(n): res[p.name] = tuple(n)
    return res

# ---------------------------------------------------------------------------------------------------------
# browser checks

# The measurements, run on every page in an iframe WIDTH px wide inside one driver page (one Chromium start
# for the whole site); the results go into the driver's DOM, which Chromium's --dump-dom then prints.
_PROBE = r"""
function probe(w, d) {
  const maths = [...d.querySelectorAll('math')];
  const rendered = maths.filter(m => { const s = w.getComputedStyle(m).display, r = m.getBoundingClientRect();
    return s.includes('math') && r.width > 0 && r.height > 0; }).length;
  const main = d.querySelector('main') || d.body;
  const walker = d.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  let raw = 0, n;
  while ((n = walker.nextNode())) { if (n.parentElement.closest('pre,code,script,style,math')) continue;
    if (/\$\$|\\\(|\\\[|\\frac|\\mathbb/.test(n.textContent)) raw++; }
  const de = d.documentElement, cw = de.clientWidth;
  const clipped = el => { for (let p = el.parentElement; p && p !== d.body; p = p.parentElement)
    if (w.getComputedStyle(p).overflowX !== 'visible') return true; return false; };
  const wide = [];
  if (de.scrollWidth > cw) for (const el of d.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect(), p = el.parentElement;
    if (r.right > cw + 1 && !clipped(el) && !(p && p !== d.body && p.getBoundingClientRect().right > cw + 1))
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' &&
        el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
        ' (to ' + Math.round(r.right) + ' px)');
  }
  const langs = /\b(python|py|sourceCode)\b/;
  const code = [...d.querySelectorAll('pre')].filter(p => langs.test(p.className) ||
    (p.querySelector('code') && langs.test(p.querySelector('code').className)));
  const lit = code.filter(p => { const c = p.querySelector('code') || p, base = w.getComputedStyle(c).color;
    return [...c.querySelectorAll('span[class]')].some(s => s.textContent.trim() &&
                                                           w.getComputedStyle(s).color !== base); });
  let h = d.querySelector('.doc-sig');   // the first documented symbol: its heading's position
  while (h && !/^H[1-6]$/.test(h.tagName)) h = h.previousElementSibling;
  const first = h ? {id: h.id, y: Math.round(h.getBoundingClientRect().top + w.scrollY)} : null;
  return {maths: maths.length, rendered, raw_tex: raw, text: main.innerText.trim().length, first,
    nav_links: d.querySelectorAll('#sidebar a, #quarto-sidebar a').length,
    scroll_width: de.scrollWidth, client_width: cw,
    wide: wide.slice(0, 5), code: code.length, lit: lit.length};
}
async function run(pages, width) {
  const out = {};
  for (const pg of pages) {
    const f = document.createElement('iframe');
    f.style.cssText = `width: ${width}px; height: 1600px; border: 0; display: block`;
    await new Promise(r => { f.onload = r; f.onerror = r; f.src = pg; document.body.appendChild(f); });
    try { out[pg] = probe(f.contentWindow, f.contentDocument); } catch (e) { out[pg] = String(e); }
    f.remove();
  }
  const el = document.createElement('pre'); el.id = 'site-check-result'; el.textContent = JSON.stringify(out);
  document.body.appendChild(el);
}
"""

def chromium_path() -> str | None:
    return shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')

def _chromium(exe: str, args: list[str], timeout=90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as prof:
        return subprocess.run([exe, *CHROMIUM_FLAGS, f'--user-data-dir={prof}', *args],
                              capture_output=True, text=True, timeout=timeout)

def blank_fraction(png: Path) -> float:
    "Fraction of pixels that differ from the most common colour (0 means a blank page)."
    from PIL import Image
    im = Image.open(png).convert('RGB').resize((320, 400))
    colours = im.getcolors(320*400)
    return 1 - max(c for c, _ in colours) / (320*400)

def probe_pages(exe: str, site: Path, pages: list[str]) -> dict[str, dict | str]:
    "The measurements of `_PROBE` on each of `pages`, in a `WIDTH` px wide frame, or why there are none."
    driver = site/'.probe-all.html'
    run = f'window.addEventListener("load", () => run({json.dumps(pages)}, {WIDTH}));'
    driver.write_text(f'<!DOCTYPE html><html><body style="margin:0"><script>{_PROBE}\n{run}</script></body></html>',
                      encoding='utf-8')
    try:
        dom = _chromium(exe, [f'--window-size={WIDTH+40},1700', '--allow-file-access-from-files',
                              '--disable-web-security', f'--virtual-time-budget={20000 + 5000*len(pages)}',
                              '--dump-dom', driver.as_uri()], timeout=60 + 10*len(pages))
    finally: driver.unlink(missing_ok=True)
    m = re.search(r'<pre id="site-check-result">(.*?)</pre>', dom.stdout, re.S)
    if not m: return {pg: f'Chromium gave no result (exit {dom.returncode}): {dom.stderr[-500:]}' for pg in pages}
    res = json.loads(html.unescape(m.group(1)))
    return {pg: res.get(pg, 'not measured') for pg in pages}

def screenshot(exe: str, site: Path, page: str, shot: Path, at: int = 0, height: int = 1600) -> list[str]:
    "Save a screenshot of `page`, `height` px from `at` px down, to `shot`; the problems found."
    shot.unlink(missing_ok=True)
    _chromium(exe, [f'--window-size={WIDTH},{at + height}', f'--screenshot={shot}', (site/page).as_uri()])
    name = page + (f' (from {at} px)' if at else '')
    if not shot.exists(): return [f'{name}: no screenshot was written']
    if at:
        from PIL import Image
        with Image.open(shot) as im: part = im.crop((0, at, im.width, at + height))
        part.save(shot)
    if (f := blank_fraction(shot)) < 0.01: return [f'{name}: screenshot is blank ({f:.4f} of pixels drawn)']
    return []

def page_problems(page: str, res: dict | str, min_text: int = 200) -> list[str]:
    "The failures among the measurements `res` of `page`."
    if isinstance(res, str): return [f'{page}: {res}']
    probs = []
    if res['text'] < min_text: probs.append(f'{page}: page is blank ({res["text"]} characters of text)')
    if res['rendered'] < res['maths']:
        probs.append(f'{page}: {res["maths"]-res["rendered"]} of {res["maths"]} math elements did not render')
    if res['raw_tex']: probs.append(f'{page}: raw TeX visible in {res["raw_tex"]} text nodes')
    if res['nav_links'] < 1: probs.append(f'{page}: no navigation links')
    if res['code'] and not res['lit']: probs.append(f'{page}: {res["code"]} code blocks shown, none highlighted')
    if res['scroll_width'] > res['client_width']:
        probs.append(f'{page}: overflows horizontally ({res["scroll_width"]} px wide in a {res["client_width"]} px '
                     f'window): {", ".join(res["wide"]) or "no single element found"}')
    return probs

def check_page(exe: str, site: Path, page: str, shots: Path | None = None, min_text: int = 200) -> list[str]:
    "Render `page` in headless Chromium (and screenshot it into `shots`, if given); return the problems found."
    if not (site/page).exists(): return [f'{page}: not built']
    return check_pages(exe, site, [page], [page] if shots else [], shots, min_text)

def check_pages(exe: str, site: Path, pages: list[str], shoot: list[str] = (), shots: Path | None = None,
                min_text: int = 200) -> list[str]:
    "Measure `pages` in Chromium, screenshot `shoot` (and their first documented symbol) into `shots`; the problems."
    probs, meas = [], probe_pages(exe, site, sorted(set(pages) | set(shoot)))
    for pg, res in meas.items():
        if pg not in pages: continue
        probs += page_problems(pg, res, min_text)
        if isinstance(res, dict):
            print(f'  {pg}: {res["text"]} characters, {res["rendered"]}/{res["maths"]} math rendered, '
                  f'{res["nav_links"]} nav links, {res["lit"]}/{res["code"]} code blocks highlighted, '
                  f'{res["scroll_width"]} px wide')
    for pg in shoot:
        f = shots/(Path(pg).stem + '.png')
        probs += screenshot(exe, site, pg, f)
        print(f'  screenshot {f}')
        if isinstance(meas.get(pg), dict) and meas[pg].get('first'):   # an API page: its first symbol too
            first = meas[pg]['first']
            f = shots/f"{Path(pg).stem}-{first['id']}.png"
            probs += screenshot(exe, site, pg, f, at=max(first['y'] - 40, 0))
            print(f'  screenshot {f}')
    return probs

def default_pages(site: Path) -> list[str]:
    "Every page of the site."
    return sorted(p.name for p in site.glob('*.html'))

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--site', default=str(ROOT/'_docs'))
    p.add_argument('--pages', nargs='+', default=None, help='pages to open in Chromium (default: every page)')
    p.add_argument('--shots', default=None, help='folder for the screenshots (default: _site_check/ in the site)')
    p.add_argument('--shot-pages', nargs='*', default=SHOT_PAGES, help='pages to screenshot (those that exist)')
    p.add_argument('--require-math', nargs='*', default=['index.html'], help='pages that must contain math')
    p.add_argument('--modidx', default=None, help="the library's _modidx.py (default: from pyproject.toml)")
    a = p.parse_args(argv)
    site = Path(a.site).resolve()
    shots = Path(a.shots).resolve() if a.shots else site/'_site_check'
    if not any(site.glob('*.html')): print(f'FAIL no pages in {site}'); return 1
    probs = broken_links(site)
    print(f'links: {sum(len(parse_page(f).links) for f in site.glob("*.html"))} checked in '
          f'{len(list(site.glob("*.html")))} pages, {len(probs)} broken')
    if a.modidx: modidx = Path(a.modidx)
    else:
        os.chdir(ROOT)
        from nbdev.config import get_config
        modidx = get_config().lib_path/'_modidx.py'
    api, n = api_problems(site, read_modidx(modidx))
    print(f'API docs: {n} public symbols, {len(api)} problems (heading, signature, parameter table)')
    probs += api
    ll = long_lines(site)
    if ll:
        print(f'pages with lines over {MAX_LINE} characters (code, outputs), not a failure yet:')
        for pg, (c, o) in ll.items(): print(f'  {pg}: {c} code, {o} output')
    exe = chromium_path()
    if exe is None:
        if os.environ.get('CI', '').lower() == 'true':
            probs.append('Chromium is required under CI but was not found (apt-get install chromium)')
        else: print('NOTICE: Chromium not found; browser checks skipped (install the Debian package chromium)')
    else:
        shots.mkdir(parents=True, exist_ok=True)
        shoot = [pg for pg in a.shot_pages if (site/pg).exists()]
        probs += check_pages(exe, site, a.pages or default_pages(site), shoot, shots)
        for pg in a.require_math:
            if (site/pg).exists() and '<math' not in (site/pg).read_text(encoding='utf-8'):
                probs.append(f'{pg}: expected math, found no MathML')
    for pr in probs: print('FAIL', pr)
    return 1 if probs else 0

if __name__ == '__main__': sys.exit(main())
