"""Build the relrep_nb docs site, and README.md, without Quarto.

Both ways run nbdev's own notebook processing (the `_proc/` step: frontmatter, `show_doc` output, doc links,
hidden cells removed, import cells executed) with two changes (`DocsFilter`): `show_doc` renders a signature
(`class` for classes) and a parameter table from the docments (`TableRenderer`), and every public method of
an exported class is documented, in source order (`add_show_docs_in_order`). Where `quarto` is on PATH (and
`--offline` is not given) Quarto then renders the site, as `nbdev-docs` does. Everywhere else every processed
notebook becomes one self-contained HTML page by pandoc (from the `pypandoc_binary` wheel): code highlighted
(pandoc's pygments style), math as MathML (no CDN), figures embedded as data URIs, the stylesheet inlined,
and the navigation of `nbs/sidebar.yml` on every page. `--readme` writes README.md from the readme notebook.

Usage: python tools/build_docs.py [--out _docs] [--offline] [--readme] [--n-workers N]
"""
from __future__ import annotations
import argparse, ast, base64, hashlib, html, inspect, json, os, re, shutil, subprocess
from pathlib import Path
import nbdev.showdoc, nbdev.serve, nbdev.doclinks
from fastcore.foundation import L
from fastcore.docments import DocmentText, qual_name, _fullname, _ital_first
from fastcore.nbio import NbCell, mk_cell
from nbdev.doclinks import NbdevLookup
from nbdev.process import Processor
from nbdev.processors import (FilterDefaults, add_show_docs, cell_lang, _def_types, _get_nm, _show_docs,
                              _want_doc)
from nbdev.showdoc import showdoc_nm

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent/'docs_template.html'
_re_directive = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

# ---------------------------------------------------------------------------------------------------------
# notebook → pandoc markdown

def cell_directives(src: str) -> tuple[dict, str]:
    "Split the leading `#| key: value` lines of a code cell from its code."
    lines, d = src.splitlines(), {}
    i = 0
    while i < len(lines):
        m = _re_directive.match(lines[i])
        if not m: break
        d[m.group(1)] = m.group(2).strip().strip('"\'')
        i += 1
    return d, '\n'.join(lines[i:]).strip('\n')

def _text(x) -> str: return ''.join(x) if isinstance(x, list) else (x or '')

def _fence(body: str, lang: str = '') -> str:
    "A backtick fence long enough not to be closed by `body`."
    n = max([3] + [len(m) + 1 for m in re.findall(r'`{3,}', body)])
    return f"{'`'*n}{lang}\n{body.rstrip()}\n{'`'*n}"

def output_markdown(out: dict) -> str:
    "Markdown for one cell output: markdown as is, HTML raw, images embedded, text as a block."
    kind = out.get('output_type')
    if kind == 'stream': return _fence(_text(out.get('text')), '') if _text(out.get('text')).strip() else ''
    if kind == 'error':
        tb = re.sub(r'\x1b\[[0-9;]*m', '', '\n'.join(out.get('traceback', [])))
        return _fence(tb or f"{out.get('ename')}: {out.get('evalue')}")
    data = out.get('data', {})
    if 'text/markdown' in data: return _text(data['text/markdown']).strip()
    for mime in ('image/png', 'image/jpeg'):
        if mime in data:
            b64 = _text(data[mime]).replace('\n', '')
            return f'![](data:{mime};base64,{b64})'
    if 'image/svg+xml' in data:
        b64 = base64.b64encode(_text(data['image/svg+xml']).encode()).decode()
        return f'![](data:image/svg+xml;base64,{b64})'
    if 'text/html' in data: return _fence(_text(data['text/html']), '{=html}')
    if 'text/latex' in data: return _text(data['text/latex']).strip()
    if 'text/plain' in data: return _fence(_text(data['text/plain']))
    return ''

def cell_markdown(cell: dict, wrap_outputs: bool = True) -> str:
    "Markdown for one processed cell, honouring Quarto's `echo`, `output` and `include` directives."
    src = _text(cell.get('source'))
    if cell['cell_type'] == 'markdown': return src.strip()
    if cell['cell_type'] == 'raw': return ''
    d, code = cell_directives(src)
    if d.get('include') == 'false': return ''
    parts = []
    if code.strip() and d.get('echo') != 'false':
        block = _fence(code, 'python')
        if 'code-fold' in d:
            summ = html.escape(d.get('code-summary', 'Code'))
            block = f'<details class="code-fold">\n<summary>{summ}</summary>\n\n{block}\n\n</details>'
        parts.append(block)
    if d.get('output') != 'false':
        outs = [m for m in map(output_markdown, cell.get('outputs', [])) if m]
        if outs:
            if d.get('output') == 'asis' or not wrap_outputs: parts += outs
            else: parts.append('::: {.cell-output}\n' + '\n\n'.join(outs) + '\n:::')
    return '\n\n'.join(parts)

def frontmatter(nb: dict) -> dict:
    "The YAML frontmatter nbdev puts in the first raw cell, parsed."
    import yaml
    for c in nb['cells']:
        if c['cell_type'] == 'raw':
            s = _text(c['source']).strip()
            if s.startswith('---'): return yaml.safe_load(s.strip('-\n')) or {}
    return {}

def notebook_markdown(nb: dict, site_url: str = '', readme: bool = False) -> str:
    "The body of a processed notebook as pandoc markdown (frontmatter not included); `readme`: plain outputs for GitHub."
    body = '\n\n'.join(m for m in (cell_markdown(c, wrap_outputs=not readme) for c in nb['cells']) if m)
    if readme: body = re.sub(r'<style scoped>.*?</style>\s*', '', body, flags=re.S)   # GitHub shows style blocks as text
    body = body.replace('<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->', '')
    if site_url:  # nbdev links symbols to the hosted site; the offline site links to its own pages
        body = re.sub(re.escape(site_url.rstrip('/')) + r'/([\w.-]+\.html)', r'\1', body)
    return body.strip() + '\n'

# ---------------------------------------------------------------------------------------------------------
# show_doc: a signature (`class` for classes, one parameter a line when long) and a parameter table from the
# docments, like nbdev's `show_doc` tables of old; the docs processing adds show_doc cells for every public
# method and keeps the order of the symbols within a cell

SIG_WIDTH = 80   # a signature longer than this puts one parameter on each line

def _unquoted(s: str, f) -> str:
    "Apply `f` to the parts of `s` outside quoted strings."
    parts = re.split(r"""('[^']*'|"[^"]*")""", s)
    return ''.join(p if i % 2 else f(p) for i, p in enumerate(parts))

def type_str(anno) -> str:
    "An annotation as it reads in source: no module prefixes (`torch.Tensor` is `Tensor`), '' when absent."
    if anno is inspect.Parameter.empty: return ''
    if isinstance(anno, str): s = anno
    elif isinstance(anno, type) and not getattr(anno, '__args__', None): s = anno.__qualname__
    else: s = inspect.formatannotation(anno)
    if s == 'NoneType': return 'None'
    return _unquoted(s, lambda t: re.sub(r'\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])', '', t).replace('NoneType', 'None'))

def default_str(v) -> str:
    "A default value as it reads in source ('' when there is none)."
    if v is inspect.Parameter.empty: return ''
    return v.__name__ if inspect.isroutine(v) or inspect.isclass(v) else repr(v)

def sig_params(sig: inspect.Signature) -> list[inspect.Parameter]:
    "The parameters a caller passes: `self` dropped."
    ps = list(sig.parameters.values())
    return ps[1:] if ps and ps[0].name == 'self' else ps

def _star(p: inspect.Parameter) -> str:
    return {p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '') + p.name

def signature_text(name: str, sig: inspect.Signature, prefix: str = 'def', width: int = SIG_WIDTH) -> str:
    "`prefix name(params)->ret` on one line, or with one parameter a line when longer than `width`."
    items, prev, star = [], None, False
    for p in sig_params(sig):
        if prev == p.POSITIONAL_ONLY and p.kind != prev: items.append('/')
        if p.kind == p.KEYWORD_ONLY and not star: items.append('*'); star = True
        if p.kind == p.VAR_POSITIONAL: star = True
        t, d = type_str(p.annotation), default_str(p.default)
        items.append(_star(p) + (f':{t}' if t else '') + (f'={d}' if d else ''))
        prev = p.kind
    if prev == inspect.Parameter.POSITIONAL_ONLY: items.append('/')
    ret = type_str(sig.return_annotation)
    ret = f'->{ret}' if ret else ''
    one = f"{prefix} {name}({', '.join(items)}){ret}"
    if len(one) <= width or not items: return one
    return f'{prefix} {name}(\n' + ''.join(f'    {i},\n' for i in items) + f'){ret}'

def _cell(s: str) -> str:
    "Markdown made safe for one cell of a pipe table: one line, `|` escaped outside code spans (pandoc keeps those)."
    parts = re.split(r'(`+[^`]*?`+)', ' '.join(str(s).split()))
    return ''.join(p if i % 2 else p.replace('|', '\\|') for i, p in enumerate(parts))

def _code(s: str) -> str:
    "`s` as a code span ('' for '')."
    if not s: return ''
    tick = '`' * (max([0] + [len(m) for m in re.findall('`+', s)]) + 1)
    return f'{tick} {s} {tick}' if len(tick) > 1 else f'`{s}`'

def param_rows(sig: inspect.Signature, dm: dict) -> list[tuple[str, str, str, str]]:
    "(name, type, default, docment) of every parameter, then (None, type, '', docment) of the return if it has either."
    doc = lambda k: ' '.join(((dm.get(k) or {}).get('docment') or '').split())
    rows = [(_star(p), type_str(p.annotation), default_str(p.default), doc(p.name)) for p in sig_params(sig)]
    ret = type_str(sig.return_annotation)
    if ret or doc('return'): rows.append((None, ret, '', doc('return')))
    return rows

def param_table(rows) -> str:
    "A pipe table of `param_rows`: the type and default columns where any row has one, the docments always."
    if not rows: return ''
    cols = [i for i in (1, 2) if any(r[i] for r in rows)]
    hdr = ['  '] + [('**Type**', '**Default**')[i-1] for i in cols] + ['**Details**']
    out = ['| ' + ' | '.join(hdr) + ' |', '|' + '---|' * len(hdr)]
    for r in rows:
        nm = '**Returns**' if r[0] is None else _code(r[0])
        out.append('| ' + ' | '.join([nm] + [_code(' '.join(r[i].split())) for i in cols] + [_cell(r[3])]) + ' |')
    return '\n'.join(out)

# nbdev's own renderer, even where `DocsFilter` has replaced it in `nbdev.showdoc` and this file is imported again
_NbdevRenderer = nbdev.showdoc.__dict__.setdefault('_nbdev_renderer', nbdev.showdoc.BasicMarkdownRenderer)

class TableRenderer(_NbdevRenderer):
    "nbdev's markdown renderer for `show_doc`, with a plain signature and a parameter table from the docments."
    def __init__(self, sym, name: str | None = None, title_level: int = 3, maxline: int = 110):
        self.is_prop, orig = isinstance(sym, property), sym
        super().__init__(sym, name=name, title_level=title_level, maxline=maxline)
        if not getattr(self.sym, '__doc__', None): self.docs = ''   # its own docstring only, none inherited
        if inspect.isclass(self.sym) and self.sig is not None:        # a dataclass's `__init__` says `->None`
            self.sig = self.sig.replace(return_annotation=inspect.Signature.empty)
        q = qual_name(orig.fget if self.is_prop else orig)
        if name is None and '.' in q and '.' not in self.nm:   # a method patched through a decorator's wrapper
            self.nm, self.fn = q, _fullname(orig)

    def signature(self) -> str:
        "The signature: `class` for classes, `async def` for coroutines, `@property` above properties."
        s = self.sym
        prefix = 'class' if inspect.isclass(s) else 'async def' if inspect.iscoroutinefunction(s) else 'def'
        name = getattr(s, '__name__', self.nm.rsplit('.', 1)[-1])
        if self.sig is None:   # a class with no signature to read (an exception's built-in one): its bases
            return f"class {name}({', '.join(b.__qualname__ for b in s.__bases__ if b is not object)})"
        return ('@property\n' if self.is_prop else '') + signature_text(name, self.sig, prefix)

    def _repr_markdown_(self):
        if self.sig is None and not inspect.isclass(self.sym): return super()._repr_markdown_()   # nbdev's
        doc = '---\n\n'
        src = NbdevLookup().code(self.fn)
        if src: doc += f'[source]({src}){{target="_blank" style="float:right; font-size:smaller"}}\n\n'
        doc += f"{'#'*self.title_level} {self.nm}\n\n"
        rows = [] if self.sig is None else param_rows(self.sig, self.dm.dm if isinstance(self.dm, DocmentText) else {})
        names = ' '.join(r[0] for r in rows if r[0] is not None)
        doc += f'::: {{.doc-sig params="{names}"}}\n{_fence(self.signature(), "python")}\n:::\n\n'
        if self.docs: doc += _ital_first(self.docs) + '\n\n'
        if rows: doc += '::: {.doc-params}\n' + param_table(rows) + '\n:::\n'
        return doc

def doc_names(trees, shown=()) -> list[str]:
    "Names to document in source order: public functions and classes (nbdev's pick), each with its public methods."
    res = []
    def add(nm):
        for n in (nm if isinstance(nm, list) else [nm]):
            if n not in shown and n not in res: res.append(n)
    for o in trees or []:
        if not isinstance(o, _def_types) or (o.name[0] == '_' and o.name[:2] != '__'): continue
        add(showdoc_nm(o))
        if isinstance(o, ast.ClassDef):
            for m in o.body:
                if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and not m.name.startswith('_'):
                    add(f'{o.name}.{m.name}')
    return res

class add_show_docs_in_order(Processor):
    "nbdev's `add_show_docs`, keeping the order of the symbols within a cell and adding each class's public methods."
    def begin(self):
        nb = self.nb
        exports = L(c for c in nb.cells if _want_doc(c))
        shown = {_get_nm(t) for t in _show_docs(L(nb.cells).map(NbCell.parsed_).concat())}
        for cell in reversed(exports):
            if cell_lang(cell) != 'python': raise ValueError(f"{cell.metadata.language} can't export:\n{cell.source}")
            for i, nm in enumerate(doc_names(cell.parsed_(), shown)):
                new = mk_cell(f"show_doc({nm}{', title_level=4' if '.' in nm else ''})")   # methods under their class
                new.has_sd = True
                nb.cells.insert(cell.idx_ + 1 + i, new)
        nb.has_docs_ = shown or exports

_nbdev_link_sym = nbdev.doclinks.NbdevLookup._link_sym

def _public_link_sym(self, m):
    "nbdev's link of a backticked name, except for private names: they have no docs entry to link to."
    if m.group(1).split('.')[-1].lstrip('\\').startswith('_'): return m.group(0)
    return _nbdev_link_sym(self, m)

class DocsFilter(FilterDefaults):
    "nbdev's processing for the docs with `add_show_docs_in_order` and `TableRenderer` (in the worker processes too)."
    def base_procs(self): return [add_show_docs_in_order if p is add_show_docs else p for p in super().base_procs()]
    def nb_proc(self, nb):
        nbdev.showdoc.BasicMarkdownRenderer = TableRenderer   # what `show_doc` renders with
        nbdev.doclinks.NbdevLookup._link_sym = _public_link_sym
        return super().nb_proc(nb)

# ---------------------------------------------------------------------------------------------------------
# navigation

def page_name(nb_name: str) -> str:
    "The HTML page of a notebook, as nbdev names it (numeric prefix dropped)."
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', Path(nb_name).name.lower()).rsplit('.', 1)[0] + '.html'

def read_sidebar(path: Path) -> list[tuple[str | None, list[str]]]:
    "Sections of `sidebar.yml` as (title or None, [notebook names])."
    import yaml
    contents = (yaml.safe_load(path.read_text()) or {}).get('website', {}).get('sidebar', {}).get('contents', [])
    res = []
    for item in contents:
        if isinstance(item, str): res.append((None, [item]))
        elif isinstance(item, dict) and 'section' in item:
            res.append((item['section'], [c if isinstance(c, str) else c.get('href', '') for c in item.get('contents') or []]))
        elif isinstance(item, dict) and 'href' in item: res.append((None, [item['href']]))
    return res

def nav_html(sections, titles: dict, current: str, site_title: str) -> str:
    "The sidebar navigation of one page."
    home = next((page_name(ps[0]) for _, ps in sections if ps), 'index.html')
    out = [f'<nav id="sidebar"><div class="site-title"><a href="{home}">{html.escape(site_title)}</a></div>']
    for title, pages in sections:
        if title: out.append(f'<div class="nav-section">{html.escape(title)}</div>')
        out.append('<ul>')
        for p in pages:
            pg = page_name(p)
            cls = ' class="active"' if pg == current else ''
            label = 'Home' if pg == 'index.html' else titles.get(pg, pg[:-5])
            out.append(f'<li><a href="{pg}"{cls}>{html.escape(label)}</a></li>')
        out.append('</ul>')
    out.append('</nav>')
    return '\n'.join(out)

# ---------------------------------------------------------------------------------------------------------
# build

def _use_docs_filter():
    """Make nbdev's processing (`proc_nbs`, in this process and its workers) use `DocsFilter`; drop a `_proc/`
    cache that another renderer (or an older copy of this file) wrote."""
    filt = DocsFilter
    if __name__ == '__main__':   # workers find it in `build_docs`: IPython's shell replaces their `__main__`
        import sys
        if str(Path(__file__).parent) not in sys.path: sys.path.insert(0, str(Path(__file__).parent))
        import build_docs
        filt = build_docs.DocsFilter
    nbdev.serve.FilterDefaults = filt
    from nbdev.config import get_config
    cache, key = get_config().config_path/'_proc', hashlib.sha1(Path(__file__).read_bytes()).hexdigest()
    stamp = cache/'.build_docs-stamp'
    if cache.exists() and not (stamp.exists() and stamp.read_text() == key): shutil.rmtree(cache)
    return stamp, key

def process_notebooks(n_workers: int = 2) -> Path:
    "Run nbdev's notebook processing, with `DocsFilter`, into `_proc/` and return that folder."
    os.chdir(ROOT)
    from nbdev.config import get_config
    from nbdev.serve import proc_nbs
    import nbdev.doclinks
    nbdev.doclinks._build_modidx()
    stamp, key = _use_docs_filter()
    proc = Path(proc_nbs(str(get_config().nbs_path), n_workers=n_workers))
    stamp.write_text(key)
    return proc

def pandoc(args: list[str], text: str) -> str:
    import pypandoc
    res = subprocess.run([pypandoc.get_pandoc_path(), *args], input=text, capture_output=True, text=True)
    if res.returncode: raise RuntimeError(f'pandoc failed ({res.returncode}): {res.stderr}')
    return res.stdout

def build_site(proc: Path, out: Path, nbs: Path, site_title: str, site_url: str) -> list[Path]:
    "Render every processed notebook listed in the sidebar (and any other) to `out`."
    out.mkdir(parents=True, exist_ok=True)
    sections = read_sidebar(nbs/'sidebar.yml')
    nbfiles = sorted(proc.rglob('*.ipynb'))
    nbs_data = {f: json.loads(f.read_text()) for f in nbfiles}
    fms = {f: frontmatter(nb) for f, nb in nbs_data.items()}
    titles = {fm.get('output-file', page_name(f.name)): fm.get('title', f.stem) for f, fm in fms.items()}
    bad = sorted(f.name for f, fm in fms.items() if str(fm.get('title', '')).lstrip().startswith('#'))
    if bad: raise ValueError(f"page titles start with '#' (a markdown cell commented out with '# ' prefixes?): {bad}")
    listed = {page_name(p) for _, ps in sections for p in ps}
    missing = sorted(p for p in listed if p not in titles)
    if missing: raise FileNotFoundError(f'sidebar.yml lists pages with no notebook: {missing}')
    css = nbs/'styles.css'
    written = []
    for f, nb in nbs_data.items():
        fm = fms[f]
        pg = fm.get('output-file', page_name(f.name))
        meta = {'title': fm.get('title', f.stem), 'pagetitle': f"{fm.get('title', f.stem)} – {site_title}"}
        if fm.get('description'): meta['description'] = fm['description']
        nav = out/f'.nav-{pg}'
        nav.write_text(nav_html(sections, titles, pg, site_title))
        md = notebook_markdown(nb, site_url)
        args = ['-f', 'markdown-implicit_figures-smart', '-t', 'html5', '--standalone', '--mathml', '--toc',
                '--toc-depth=3', '--embed-resources', f'--template={TEMPLATE}', f'--include-before-body={nav}',
                f'--resource-path={f.parent}', '--syntax-highlighting=pygments', '-o', str(out/pg)]
        if css.exists(): args.append(f'--css={css}')
        for k, v in meta.items(): args += ['-M', f'{k}={v}']
        pandoc(args, md)
        nav.unlink()
        written.append(out/pg)
    return written

def build_readme(proc: Path, cfg_readme_nb: str, dest: Path, site_url: str):
    "README.md from the processed readme notebook, as GitHub-flavoured markdown."
    nb = json.loads((proc/cfg_readme_nb).read_text())
    fm = frontmatter(nb)
    md = notebook_markdown(nb, readme=True)
    gfm = pandoc(['-f', 'markdown-implicit_figures-smart', '-t', 'gfm', '--wrap=preserve'], md)
    head = f"# {fm.get('title', '')}\n\n"
    if fm.get('description'): head += f"> {fm['description']}\n\n"
    dest.write_text(head + gfm)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default=None, help='output folder (default: the doc_path of pyproject.toml)')
    p.add_argument('--offline', action='store_true', help='use the offline renderer even where quarto exists')
    p.add_argument('--readme', action='store_true', help='also write README.md from the readme notebook')
    p.add_argument('--n-workers', type=int, default=2)
    a = p.parse_args(argv)
    os.chdir(ROOT)
    from nbdev.config import get_config
    cfg = get_config()
    site_url = cfg.doc_host + (cfg.doc_baseurl if cfg.doc_baseurl != '/' else '')
    if shutil.which('quarto') and not a.offline:   # nbdev-docs, with this file's show_doc processing
        import nbdev.quarto
        stamp, key = _use_docs_filter()
        nbdev.quarto.nbdev_docs.__wrapped__(n_workers=a.n_workers)
        stamp.write_text(key)
        proc = ROOT/'_proc'
        print(f'site written to {cfg.doc_path} by nbdev-docs')
    else:
        proc = process_notebooks(a.n_workers)
        out = Path(a.out).resolve() if a.out else cfg.doc_path
        if out.exists(): shutil.rmtree(out)
        pages = build_site(proc, out, cfg.nbs_path, cfg.title, site_url)
        print(f'{len(pages)} pages written to {out}')
    if a.readme:
        build_readme(proc, cfg.readme_nb, ROOT/'README.md', site_url)
        print('README.md written')

if __name__ == '__main__': main()
