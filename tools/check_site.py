"""Check the built docs site: every local link resolves, and chosen pages render in headless Chromium.

For each checked page it saves a screenshot and fails when the page is blank, when its math did not render
as MathML (or raw TeX shows), or when the page has no navigation. Link checking covers every page: each
relative link must name an existing page, and each `#fragment` an existing id in that page.

Where Chromium is absent the browser checks are skipped with a notice, except under CI (`CI=true`), where
they are required. Exit status 1 on any failure.

Usage: python tools/check_site.py [--site _docs] [--pages index.html relative.html] [--shots .site_check]
"""
from __future__ import annotations
import argparse, json, os, re, shutil, subprocess, sys, tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse, unquote

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars']

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

# A script appended to a temporary copy of the page: it measures the rendered page and writes the result
# into the DOM, which Chromium's --dump-dom then prints.
_PROBE = """<script>
window.addEventListener('load', () => {
  const maths = [...document.querySelectorAll('math')];
  const rendered = maths.filter(m => { const d = getComputedStyle(m).display, r = m.getBoundingClientRect();
    return d.includes('math') && r.width > 0 && r.height > 0; }).length;
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  let raw = 0, n;
  while ((n = walker.nextNode())) { if (n.parentElement.closest('pre,code,script,style,math')) continue;
    if (/\\$\\$|\\\\\\(|\\\\\\[|\\\\frac|\\\\mathbb/.test(n.textContent)) raw++; }
  const main = document.querySelector('main');
  const res = {maths: maths.length, rendered, raw_tex: raw, text: (main ? main.innerText : '').trim().length,
    nav_links: document.querySelectorAll('#sidebar a').length, height: document.body.scrollHeight};
  const el = document.createElement('pre'); el.id = 'site-check-result'; el.textContent = JSON.stringify(res);
  document.body.appendChild(el);
});
</script>"""

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

def check_page(exe: str, site: Path, page: str, shots: Path, min_text: int = 200) -> list[str]:
    "Render `page` in headless Chromium; return the problems found."
    src = site/page
    if not src.exists(): return [f'{page}: not built']
    probe = site/f'.probe-{page}'
    probe.write_text(src.read_text(encoding='utf-8').replace('</body>', _PROBE + '</body>'), encoding='utf-8')
    try:
        dom = _chromium(exe, ['--virtual-time-budget=5000', '--dump-dom', probe.as_uri()])
        shot = shots/(Path(page).stem + '.png')
        _chromium(exe, ['--window-size=1280,1600', f'--screenshot={shot}', src.as_uri()])
    finally: probe.unlink(missing_ok=True)
    m = re.search(r'<pre id="site-check-result">(.*?)</pre>', dom.stdout, re.S)
    if not m: return [f'{page}: Chromium gave no result (exit {dom.returncode}): {dom.stderr[-500:]}']
    res = json.loads(m.group(1).replace('&quot;', '"'))
    probs = []
    if res['text'] < min_text: probs.append(f'{page}: page is blank ({res["text"]} characters of text)')
    if not shot.exists(): probs.append(f'{page}: no screenshot was written')
    elif (f := blank_fraction(shot)) < 0.01: probs.append(f'{page}: screenshot is blank ({f:.4f} of pixels drawn)')
    if res['rendered'] < res['maths']: probs.append(f'{page}: {res["maths"]-res["rendered"]} of {res["maths"]} math elements did not render')
    if res['raw_tex']: probs.append(f'{page}: raw TeX visible in {res["raw_tex"]} text nodes')
    if res['nav_links'] < 1: probs.append(f'{page}: no navigation links')
    print(f'  {page}: {res["text"]} characters, {res["rendered"]}/{res["maths"]} math rendered, '
          f'{res["nav_links"]} nav links, screenshot {shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}')
    return probs

def default_pages() -> list[str]:
    "index.html and the first API page (first entry of the sidebar's Library section), if there is one."
    sys.path.insert(0, str(Path(__file__).parent))
    from build_docs import read_sidebar, page_name
    lib = [ps for title, ps in read_sidebar(ROOT/'nbs'/'sidebar.yml') if title == 'Library' and ps]
    return ['index.html'] + ([page_name(lib[0][0])] if lib else [])

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--site', default=str(ROOT/'_docs'))
    p.add_argument('--pages', nargs='+', default=None,
                   help="pages to open (default: index.html and the first page of the sidebar's Library section)")
    p.add_argument('--shots', default=str(ROOT/'.site_check'))
    p.add_argument('--require-math', nargs='*', default=['index.html'], help='pages that must contain math')
    a = p.parse_args(argv)
    site, shots = Path(a.site).resolve(), Path(a.shots).resolve()
    shots.mkdir(parents=True, exist_ok=True)
    probs = broken_links(site)
    print(f'links: {sum(len(parse_page(f).links) for f in site.glob("*.html"))} checked in '
          f'{len(list(site.glob("*.html")))} pages, {len(probs)} broken')
    exe = chromium_path()
    if exe is None:
        if os.environ.get('CI', '').lower() == 'true':
            probs.append('Chromium is required under CI but was not found (apt-get install chromium)')
        else: print('NOTICE: Chromium not found; browser checks skipped (install the Debian package chromium)')
    else:
        for pg in (a.pages or default_pages()): probs += check_page(exe, site, pg, shots)
        for pg in a.require_math:
            if (site/pg).exists() and '<math' not in (site/pg).read_text(encoding='utf-8'):
                probs.append(f'{pg}: expected math, found no MathML')
    for pr in probs: print('FAIL', pr)
    return 1 if probs else 0

if __name__ == '__main__': sys.exit(main())
