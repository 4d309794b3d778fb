"Tests of the data preparation script (`prepare_amazon_snippets.py`): run with pytest."
import sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import prepare_amazon_snippets as pas

def test_parse_bins_and_ids():
    rows = pas.parse_snippets("1_1\t-2\tbad.\r\n1_2\t1.99\tgood.\r\n12_3\t2\tgreat!\r\n")
    assert [r['label'] for r in rows] == [1, 3, 4]          # left-closed bins at -2, -0.5, 0.5, 2
    assert [r['review'] for r in rows] == [1, 1, 12]

@pytest.mark.parametrize('text,msg', [("1_1\t0\n1_1\t0\tx\n", '3 tab-separated'), ("a\t0\tx\n", '<review>_<sentence>'),
                                      ("1_1\t0\tx\n1_1\t0\ty\n", 'duplicate'), ("1_1\t5\tx\n", 'outside -4..4'),
                                      ("1_1\t0\t \n", 'empty snippet')])
def test_parse_rejects_bad_lines(text, msg, capsys):
    with pytest.raises(SystemExit, match=msg): pas.parse_snippets(text)

def test_truecase_pronoun_only():
    assert pas.truecase_i("i think i'm right, and so do i.") == "I think I'm right, and so do I."
    assert pas.truecase_i("wi-fi, i/o and i-75 stay; ii too") == "wi-fi, i/o and i-75 stay; ii too"

@pytest.mark.skipif(not pas.apertium_available(), reason="Apertium eng-spa/es-fr not installed")
def test_translation_keeps_one_chunk_per_snippet():
    texts = ["I love it.", "no period here", "!", "brackets [x] and \\ slashes $5 <b>", "it broke."]
    fr = pas.translate(texts)
    assert len(fr) == len(texts) and all(fr)
    assert fr[2] == "!" and "[x]" in fr[3]
    with pytest.raises(ValueError, match='empty or multi-line'): pas.translate(["two\nlines"])
