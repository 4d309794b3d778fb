"Tests of the offline docs build (`build_docs.py`) and the site checker (`check_site.py`): run with pytest."
import base64, io, json, sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import build_docs as bd
import check_site as cs

def code(src, outputs=()): return dict(cell_type='code', source=src, outputs=list(outputs), metadata={})
def md(src): return dict(cell_type='markdown', source=src, metadata={})
def stream(t): return dict(output_type='stream', name='stdout', text=t)
def result(**data): return dict(output_type='execute_result', data=data, metadata={})

def _png(colour_fill=True):
    from PIL import Image, ImageDraw
    im = Image.new('RGB', (64, 64), 'white')
    if colour_fill: ImageDraw.Draw(im).rectangle([8, 8, 40, 40], fill='black')
    b = io.BytesIO(); im.save(b, 'PNG'); return b.getvalue()

def test_directives_split_from_code():
    d, c = bd.cell_directives('#| echo: false\n#|output: asis\n#| hide\nx = 1\n#| not a directive')
    assert d == {'echo': 'false', 'output': 'asis', 'hide': ''}
    assert c == 'x = 1\n#| not a directive'

def test_fence_outlasts_backticks_in_body():
    f = bd._fence('a\n```\nb')
    assert f.startswith('````\n') and f.endswith('\n````')

def test_cell_markdown_honours_echo_output_include():
    c = code('#| echo: false\nprint(1)', [stream('1\n')])
    out = bd.cell_markdown(c)
    assert 'print(1)' not in out and '1' in out
    assert bd.cell_markdown(code('#| output: false\nprint(1)', [stream('1\n')])).count('```') == 2
    assert bd.cell_markdown(code('#| include: false\nprint(1)', [stream('1\n')])) == ''
    folded = bd.cell_markdown(code('#| code-fold: show\n#| code-summary: "Exported source"\ndef f(): pass'))
    assert '<details class="code-fold">' in folded and 'Exported source' in folded

def test_outputs_markdown_html_images_text():
    assert bd.output_markdown(result(**{'text/markdown': '**hi**', 'text/plain': 'x'})) == '**hi**'
    png = base64.b64encode(_png()).decode()
    assert bd.output_markdown(result(**{'image/png': png, 'text/plain': 'fig'})) == f'![](data:image/png;base64,{png})'
    assert '{=html}' in bd.output_markdown(result(**{'text/html': '<b>t</b>', 'text/plain': 't'}))
    assert bd.output_markdown(result(**{'text/plain': 'tensor([1])'})) == '```\ntensor([1])\n```'
    assert bd.output_markdown(stream('   \n')) == ''
    err = dict(output_type='error', ename='ValueError', evalue='bad', traceback=['\x1b[31mValueError\x1b[0m: bad'])
    assert 'ValueError: bad' in bd.output_markdown(err) and '\x1b' not in bd.output_markdown(err)

def test_readme_outputs_are_plain():
    html_out = result(**{'text/html': '<div><style scoped>\n.x {}\n</style><table></table></div>', 'text/plain': 't'})
    nb = dict(cells=[code('df', [html_out])])
    readme, site = bd.notebook_markdown(nb, readme=True), bd.notebook_markdown(nb)
    assert '<style' not in readme and '<table>' in readme and 'cell-output' not in readme
    assert 'cell-output' in site

def test_page_names_follow_nbdev():
    assert bd.page_name('10_relative.ipynb') == 'relative.html'
    assert bd.page_name('00_theory.intertwiners.ipynb') == 'theory.intertwiners.html'
    assert bd.page_name('12a_extra.ipynb') == 'extra.html'
    assert bd.page_name('index.ipynb') == 'index.html'

def test_links_to_hosted_site_become_relative():
    nb = dict(cells=[md('see [f](https://h.io/p/relative.html#f) and [x](https://other.org/a.html)')])
    out = bd.notebook_markdown(nb, 'https://h.io/p')
    assert '(relative.html#f)' in out and 'https://other.org/a.html' in out

def test_sidebar_and_nav(tmp_path):
    (tmp_path/'sidebar.yml').write_text('website:\n  sidebar:\n    contents:\n      - index.ipynb\n'
                                        '      - section: Library\n        contents:\n          - 10_relative.ipynb\n')
    secs = bd.read_sidebar(tmp_path/'sidebar.yml')
    assert secs == [(None, ['index.ipynb']), ('Library', ['10_relative.ipynb'])]
    nav = bd.nav_html(secs, {'relative.html': 'Relative'}, 'relative.html', 'site')
    assert '<a href="relative.html" class="active">Relative</a>' in nav and 'Library' in nav

def _mini_site(tmp_path, body_md='Some text $$x^2$$ and a [link](b.html#sec).'):
    proc, nbs, out = tmp_path/'proc', tmp_path/'nbs', tmp_path/'out'
    proc.mkdir(); nbs.mkdir()
    (nbs/'sidebar.yml').write_text('website:\n  sidebar:\n    contents:\n      - a.ipynb\n      - section: S\n        contents: [b.ipynb]\n')
    fm = lambda t: dict(cell_type='raw', source=f'---\ntitle: {t}\n---', metadata={})
    png = base64.b64encode(_png()).decode()
    nba = dict(cells=[fm('Page A'), md(body_md), code('x = 1', [result(**{'image/png': png})])])
    nbb = dict(cells=[fm('Page B'), md('## Sec\n\nback to [a](a.html)')])
    (proc/'a.ipynb').write_text(json.dumps(nba)); (proc/'b.ipynb').write_text(json.dumps(nbb))
    pages = bd.build_site(proc, out, nbs, 'Site', '')
    return out, pages

def test_build_site_is_self_contained_with_mathml_and_nav(tmp_path):
    out, pages = _mini_site(tmp_path)
    assert sorted(p.name for p in pages) == ['a.html', 'b.html']
    a = (out/'a.html').read_text()
    assert '<math' in a and 'display="block"' in a
    assert 'id="sidebar"' in a and 'href="b.html"' in a
    assert 'data:image/png;base64' in a
    assert 'http://' not in a.replace('http://www.w3.org', '') and 'https://' not in a  # nothing loaded from a CDN
    assert cs.broken_links(out) == []

def test_broken_links_are_found(tmp_path):
    out, _ = _mini_site(tmp_path, 'a [bad](nope.html) and [frag](b.html#missing)')
    bad = cs.broken_links(out)
    assert any('nope.html (no such page)' in b for b in bad)
    assert any('no id "missing"' in b for b in bad)

def test_sidebar_page_without_notebook_is_an_error(tmp_path):
    out, _ = _mini_site(tmp_path)
    (tmp_path/'nbs'/'sidebar.yml').write_text('website:\n  sidebar:\n    contents: [a.ipynb, ghost.ipynb]\n')
    with pytest.raises(FileNotFoundError, match='ghost.html'): bd.build_site(tmp_path/'proc', out, tmp_path/'nbs', 'S', '')

def test_title_commented_out_is_an_error(tmp_path):
    out, _ = _mini_site(tmp_path)
    nb = json.loads((tmp_path/'proc'/'a.ipynb').read_text())
    nb['cells'][0]['source'] = '---\ntitle: "# Page A"\n---'
    (tmp_path/'proc'/'a.ipynb').write_text(json.dumps(nb))
    with pytest.raises(ValueError, match="start with '#'"): bd.build_site(tmp_path/'proc', out, tmp_path/'nbs', 'S', '')

def test_blank_fraction(tmp_path):
    (tmp_path/'blank.png').write_bytes(_png(False)); (tmp_path/'drawn.png').write_bytes(_png(True))
    assert cs.blank_fraction(tmp_path/'blank.png') == 0
    assert cs.blank_fraction(tmp_path/'drawn.png') > 0.1

@pytest.mark.skipif(cs.chromium_path() is None, reason='Chromium not installed')
def test_browser_check_catches_unrendered_math(tmp_path):
    out, _ = _mini_site(tmp_path)
    assert cs.check_page(cs.chromium_path(), out, 'a.html', tmp_path, min_text=20) == []
    a = (out/'a.html').read_text()
    (out/'raw.html').write_text(a.replace('Some text', 'Raw \\frac{a}{b} text'))
    assert any('raw TeX' in p for p in cs.check_page(cs.chromium_path(), out, 'raw.html', tmp_path, min_text=20))

# ---------------------------------------------------------------------------------------------------------
# show_doc: signature and parameter table; which symbols the docs processing documents, in which order

import ast, functools, typing
from fastcore.basics import patch

def _f(a:int,          # the first
       b:str='x',      # a pipe | in a docment
       *args,
       flag:bool=False,
       **kw,
)->typing.Optional[float]:  # the result
    "Do a thing."

class _K:
    "A class."
    def __init__(self,
        x:int=1,  # the x
    ): self.x = x
    def m(self): "A method."

class _E(ValueError): "An error with the built-in signature of its base."

def _wrap(f):
    @functools.wraps(f)
    def g(*a, **k): return f(*a, **k)
    return g

@patch
@_wrap
def patched(self:_K,
    y:str, # the y
)->_K:     # itself
    "A method patched in through a decorator's wrapper."
    return self

def _html(md_text, tmp_path):
    "The body pandoc makes of `md_text` (as the offline build does)."
    return bd.pandoc(['-f', 'markdown-implicit_figures-smart', '-t', 'html5'], md_text)

def test_type_and_default_strings_read_as_source():
    import torch
    assert bd.type_str(typing.Optional[torch.Tensor]) == 'Optional[Tensor]'
    assert bd.type_str(typing.Literal['a.b', 'c']) == "Literal['a.b', 'c']"   # dotted text in quotes kept
    assert bd.type_str(int | None) == 'int | None' and bd.type_str(type(None)) == 'None'
    assert bd.type_str(torch.Tensor) == 'Tensor' and bd.type_str(bd.inspect.Parameter.empty) == ''
    assert bd.default_str('x') == "'x'" and bd.default_str(len) == 'len' and bd.default_str(1e-5) == '1e-05'

def test_parameter_table_from_docments():
    md = bd.TableRenderer(_f)._repr_markdown_()
    assert '::: {.doc-sig params="a b *args flag **kw"}' in md
    rows = [l for l in md.splitlines() if l.startswith('| ')]
    assert rows[0] == '|    | **Type** | **Default** | **Details** |'
    assert rows[1] == '| `a` | `int` |  | the first |'
    assert rows[2] == "| `b` | `str` | `'x'` | a pipe \\| in a docment |"          # escaped for the pipe table
    assert rows[3] == '| `*args` |  |  |  |'
    assert rows[-1] == '| **Returns** | `Optional[float]` |  | the result |'
    assert '*Do a thing.*' in md

def test_long_signature_one_parameter_a_line():
    sig = bd.inspect.signature(_f)
    short, long = bd.signature_text('_f', sig), bd.signature_text('_f', sig, width=40)
    assert short == "def _f(a:int, b:str='x', *args, flag:bool=False, **kw)->Optional[float]"
    assert long.splitlines() == ['def _f(', '    a:int,', "    b:str='x',", '    *args,', '    flag:bool=False,',
                                 '    **kw,', ')->Optional[float]']
    def h(a, /, b, *, k=1): pass
    assert bd.signature_text('h', bd.inspect.signature(h)) == 'def h(a, /, b, *, k=1)'

def test_class_signature_and_table():
    r = bd.TableRenderer(_K)
    assert r.signature() == 'class _K(x:int=1)'
    md = r._repr_markdown_()
    assert '| `x` | `int` | `1` | the x |' in md and 'self' not in md
    import dataclasses
    @dataclasses.dataclass
    class D:
        n:int=2  # the n
    d = bd.TableRenderer(D)
    assert d.signature() == 'class D(n:int=2)' and 'Returns' not in d._repr_markdown_()
    assert '| `n` | `int` | `2` | the n |' in d._repr_markdown_()         # docments of a dataclass's fields
    e = bd.TableRenderer(_E)
    assert e.signature() == 'class _E(ValueError)' and 'doc-params' not in e._repr_markdown_()
    assert '*An error with' in e._repr_markdown_()

def test_patched_method_named_by_its_class():
    r = bd.TableRenderer(_K.patched)
    assert r.nm == '_K.patched' and r.signature() == 'def patched(y:str)->_K'
    md = r._repr_markdown_()
    assert '| `y` | `str` | the y |' in md and '| **Returns** | `_K` | itself |' in md

def test_own_docstring_only():
    class Sub(_K):
        def m(self): pass   # overrides, no docstring: nothing inherited
    assert bd.TableRenderer(Sub.m).docs == '' and bd.TableRenderer(_K.m).docs == 'A method.'

def test_doc_names_in_source_order_with_methods_and_patches():
    src = ('def b(): pass\ndef a(): pass\ndef _hidden(): pass\n'
           'class K:\n    def m(self): pass\n    def _p(self): pass\n    async def n(self): pass\n'
           '@patch\ndef extra(self:K): pass\n')
    assert bd.doc_names(ast.parse(src).body) == ['b', 'a', 'K', 'K.m', 'K.n', 'K.extra']
    assert bd.doc_names(ast.parse(src).body, shown={'a', 'K.m'}) == ['b', 'K', 'K.n', 'K.extra']

def test_processor_keeps_order_and_adds_methods():
    from fastcore.nbio import dict2nb
    from nbdev.process import NBProcessor
    cells = [dict(cell_type='code', source='#| export\ndef b(): pass\ndef a(): pass', metadata={}, outputs=[]),
             dict(cell_type='markdown', source='text', metadata={}),
             dict(cell_type='code', source='#| export\nclass K:\n    def m(self): pass', metadata={}, outputs=[]),
             dict(cell_type='code', source='#| export\n@patch\ndef later(self:K): pass', metadata={}, outputs=[]),
             dict(cell_type='code', source='show_doc(K.m)', metadata={}, outputs=[])]
    nb = dict2nb(dict(cells=cells, metadata={}))
    NBProcessor(nb=nb, procs=[bd.add_show_docs_in_order], rm_directives=False).process()
    docs = [c.source for c in nb.cells if c.source.startswith('show_doc')]
    assert docs == ['show_doc(b)', 'show_doc(a)', 'show_doc(K)', 'show_doc(K.later, title_level=4)', 'show_doc(K.m)']
    srcs = [c.source.split('\n')[-1] for c in nb.cells]
    assert srcs.index('show_doc(a)') == srcs.index('show_doc(b)') + 1 == 2   # right after their cell

def test_docs_filter_swaps_only_add_show_docs():
    from nbdev.processors import FilterDefaults, add_show_docs
    base, ours = FilterDefaults().base_procs(), bd.DocsFilter().base_procs()
    assert ours == [bd.add_show_docs_in_order if p is add_show_docs else p for p in base] and add_show_docs not in ours

def test_site_check_finds_signatures_without_tables(tmp_path):
    md = bd.TableRenderer(_f)._repr_markdown_() + '\n' + bd.TableRenderer(_K)._repr_markdown_()
    (tmp_path/'p.html').write_text(_html(md, tmp_path))
    assert cs.signature_problems('p.html', cs.page_blocks(tmp_path/'p.html')) == []
    no_table = md.replace('::: {.doc-params}', '::: {.other}')
    (tmp_path/'q.html').write_text(_html(no_table, tmp_path))
    probs = cs.signature_problems('q.html', cs.page_blocks(tmp_path/'q.html'))
    assert len(probs) == 2 and all('without its parameter table' in p for p in probs)
    wrong = md.replace('| `flag` |', '| `flag2` |')
    (tmp_path/'r.html').write_text(_html(wrong, tmp_path))
    assert 'are not the parameters' in cs.signature_problems('r.html', cs.page_blocks(tmp_path/'r.html'))[0]

def test_site_check_wants_every_public_symbol(tmp_path):
    md = bd.TableRenderer(_f)._repr_markdown_().replace('### _f', '### f')
    (tmp_path/'p.html').write_text(_html(md, tmp_path))
    (tmp_path/'_modidx.py').write_text("d = {'syms': {'m': {'m.f': ('p.html#f', 'm.py'), 'm._g': ('p.html#_g', 'm.py'),"
                                       " 'm.K.m': ('p.html#k.m', 'm.py'), 'm.K._p': ('p.html#k._p', 'm.py')}}}")
    idx = cs.read_modidx(tmp_path/'_modidx.py')
    assert sorted(idx) == ['m.K.m', 'm.f']                      # private names are not checked
    probs, n = cs.api_problems(tmp_path, idx)
    assert n == 2 and probs == ['p.html: m.K.m is not documented (no heading #k.m)']
    (tmp_path/'p.html').write_text(_html('### f\n\n```python\ndef f(a, b)\n```\n', tmp_path))   # nbdev's own style
    assert 'm.f: heading without a signature' in ' '.join(cs.api_problems(tmp_path, idx)[0])

def test_long_lines_are_counted(tmp_path):
    long = 'x = ' + '1 + ' * 30 + '1'
    (tmp_path/'p.html').write_text(_html(f'```python\n{long}\nshort\n```\n\n```\n{long}\n```\n', tmp_path))
    (tmp_path/'q.html').write_text(_html('```python\nshort\n```\n', tmp_path))
    assert cs.long_lines(tmp_path) == {'p.html': (1, 1)}

def test_highlighting_css_comes_from_pandoc(tmp_path):
    out, _ = _mini_site(tmp_path)
    a = (out/'a.html').read_text()
    assert 'code span.kw' in a and '<span class="dv">1</span>' in a

@pytest.mark.skipif(cs.chromium_path() is None, reason='Chromium not installed')
def test_browser_check_catches_overflow_and_missing_highlighting(tmp_path):
    long = 'x = ' + '1 + ' * 200 + '1'
    out, _ = _mini_site(tmp_path, f'Some text.\n\n```python\n{long}\n```\n')
    a = (out/'a.html').read_text()
    assert cs.check_page(cs.chromium_path(), out, 'a.html', min_text=20) == []   # a long code line scrolls in its block
    (out/'wide.html').write_text(a.replace('<p>Some text.</p>', '<div style="width: 2000px">wide</div>'))
    (out/'plain.html').write_text(a.replace('code span.', 'code span.no-'))           # highlighting CSS gone
    res = cs.check_pages(cs.chromium_path(), out, ['wide.html', 'plain.html'], min_text=20)
    assert any(p.startswith('wide.html: overflows horizontally') and 'div' in p for p in res)
    assert any(p.startswith('plain.html:') and 'none highlighted' in p for p in res)
    assert not any(p.startswith('wide.html') and 'highlighted' in p for p in res)

def test_docs_filter_end_to_end(monkeypatch, tmp_path):
    "nbdev's processing with `DocsFilter`: show_doc cells run in nbdev's shell and render tables, in source order."
    import nbdev.showdoc
    from fastcore.nbio import read_nb
    monkeypatch.setattr(nbdev.showdoc, 'BasicMarkdownRenderer', nbdev.showdoc.BasicMarkdownRenderer)  # restored after
    monkeypatch.setitem(sys.modules, '__main__', sys.modules['__main__'])                           # IPython swaps it
    src = ['#| export\nfrom fastcore.basics import patch',
           '#| export\ndef second(x:int, # the x\n)->int: # twice x\n    "Double."\n    return 2*x\n'
           'def first(y): return y',
           '#| export\nclass K:\n    "A class."\n    def __init__(self, a:str="s"): self.a = a # the a\n'
           '    def m(self, z): "A method."',
           '#| export\n@patch\ndef later(self:K, w:float=0.5): # the w\n    "Patched in."']
    cells = [dict(cell_type='raw', source='---\ntitle: T\n---', metadata={})] + [
             dict(cell_type='code', source=s, metadata={}, outputs=[], execution_count=None) for s in src]
    meta = {'kernelspec': {'language': 'python', 'name': 'python3'}}
    (tmp_path/'t.ipynb').write_text(json.dumps(dict(cells=cells, metadata=meta, nbformat=4, nbformat_minor=5)))
    nb = read_nb(tmp_path/'t.ipynb')
    bd.DocsFilter()(nb)
    md = [o['data']['text/markdown'] for c in nb.cells for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})]
    heads = [l for m in md for l in m.splitlines() if l.startswith('#')]
    assert heads == ['### second', '### first', '### K', '#### K.m', '#### K.later']
    assert '| `x` | `int` | the x |' in md[0] and '| **Returns** | `int` | twice x |' in md[0]
    assert md[2].count('class K(a:str=') == 1 and all('doc-sig' in m for m in md)
    assert "| `w` | `float` | `0.5` | the w |" in md[4]

def test_private_names_are_not_linked():
    "A backticked private name (no docs entry) stays plain code; a public one goes to nbdev's lookup."
    import re
    m = re.search(r'`([^`]+)`', 'the `_RelativeCosine` kernel')
    assert bd._public_link_sym(None, m) == '`_RelativeCosine`'
    calls = []
    orig, bd._nbdev_link_sym = bd._nbdev_link_sym, lambda self, m: calls.append(m.group(1)) or 'linked'
    try: assert bd._public_link_sym(None, re.search(r'`([^`]+)`', '`relative_projection`')) == 'linked'
    finally: bd._nbdev_link_sym = orig
    assert calls == ['relative_projection']
