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
