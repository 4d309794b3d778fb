#!/usr/bin/env python3
"""Prepare the English/French Amazon review snippets that relrep_nb ships in `relrep_nb/data/`.

Steps (all offline except the one `pip download` of the vaderSentiment source distribution):
1. get the vaderSentiment 3.3.2 sdist (or use `--sdist PATH`), extract
   `additional_resources/hutto_ICWSM_2014.tar.gz` -> `amazonReviewSnippets_GroundTruth.txt` (id, mean, text);
2. translate every snippet English -> Spanish -> French with Debian's Apertium
   (`apertium -u eng-spa | apertium -u es-fr`; there is no direct English-French pair);
3. write `amazon_snippets_en_fr.tsv` (id, review, mean_rating, label, text_en, text_fr) and `README.md`
   (attribution, licence, how the French was made).

Alignment: all snippets go through one Apertium run in null-flush mode (`-z`), each snippet deformatted on
its own and ended by a NUL, and the output must hold exactly one non-empty chunk per snippet, so snippets can
neither merge nor split. (A plain run with blank lines between snippets lets words move between snippets.)
Apertium's part-of-speech tagger keeps some state from one chunk to the next, so the wording of a few per cent
of the translations depends on the snippets before them; the source's order is used, and the result is
reproducible. As an alignment check, a second run in a seeded shuffled order must give the same translation
for nearly every snippet (a shifted alignment would change almost all of them).

Usage: python tools/prepare_amazon_snippets.py [--sdist vaderSentiment-3.3.2.tar.gz] [--out relrep_nb/data]
"""
import argparse, csv, io, random, re, shutil, subprocess, sys, tarfile, tempfile
from pathlib import Path

VADER_VERSION = "3.3.2"
INNER_TAR = "additional_resources/hutto_ICWSM_2014.tar.gz"
SNIPPETS = "amazonReviewSnippets_GroundTruth.txt"
BIN_EDGES = (-2.0, -0.5, 0.5, 2.0)   # label k: BIN_EDGES[k-1] <= mean < BIN_EDGES[k] (left-closed)
APT_INSTALL = "apt-get install -y apertium apertium-eng-spa apertium-fr-es"
TSV_NAME = "amazon_snippets_en_fr.tsv"
COLUMNS = ["id", "review", "mean_rating", "label", "text_en", "text_fr"]


def fetch_sdist(workdir: Path) -> Path:
    "Download the vaderSentiment sdist (no dependencies, no wheel) into `workdir`."
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           f"vadersentiment=={VADER_VERSION}", "-d", str(workdir)]
    subprocess.run(cmd, check=True)
    found = sorted(workdir.glob(f"[vV]ader[sS]entiment-{VADER_VERSION}.tar.gz"))
    if not found: sys.exit(f"pip download did not produce vaderSentiment-{VADER_VERSION}.tar.gz in {workdir}")
    return found[0]


def read_sdist(sdist: Path):
    "Return (snippets ground-truth text, LICENSE text) read from the sdist, without unpacking it to disk."
    with tarfile.open(sdist) as outer:
        names = outer.getnames()
        inner_name = next((n for n in names if n.endswith(INNER_TAR)), None)
        lic_name = next((n for n in names if re.search(r"/LICENSE(\.txt)?$", n)), None)
        if inner_name is None or lic_name is None:
            sys.exit(f"{sdist} lacks {INNER_TAR} or LICENSE: is it the vaderSentiment {VADER_VERSION} sdist?")
        licence = outer.extractfile(lic_name).read().decode("utf-8")
        inner_bytes = outer.extractfile(inner_name).read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        gt = next((n for n in inner.getnames() if n.endswith(SNIPPETS)), None)
        if gt is None: sys.exit(f"{INNER_TAR} lacks {SNIPPETS}")
        text = inner.extractfile(gt).read().decode("utf-8")
    return text, licence


def parse_snippets(text: str):
    "Parse `id<TAB>mean<TAB>text` lines into a list of dicts, checking every field."
    rows, seen = [], set()
    for i, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if not line.strip(): continue
        parts = line.split("\t")
        if len(parts) != 3: sys.exit(f"line {i+1}: expected 3 tab-separated fields, got {len(parts)}")
        sid, mean, snippet = parts
        m = re.fullmatch(r"(\d+)_(\d+)", sid)
        if m is None: sys.exit(f"line {i+1}: id {sid!r} is not <review>_<sentence>")
        if sid in seen: sys.exit(f"line {i+1}: duplicate id {sid!r}")
        seen.add(sid)
        mean_f = float(mean)
        if not -4 <= mean_f <= 4: sys.exit(f"line {i+1}: mean rating {mean} outside -4..4")
        snippet = snippet.strip()
        if not snippet: sys.exit(f"line {i+1}: empty snippet")
        label = sum(mean_f >= e for e in BIN_EDGES)
        rows.append(dict(id=sid, review=int(m.group(1)), mean_rating=mean, label=label, text_en=snippet))
    return rows


_PRONOUN_I = re.compile(r"\bi\b(?=$|[\s'’.,;:!?)])")

def truecase_i(s: str) -> str:
    "Write the English pronoun `i` (and `i'm`, `i've`, ...) as `I`: the source is lower-cased and Apertium misreads `i`."
    return _PRONOUN_I.sub("I", s)


def apertium_available():
    if shutil.which("apertium") is None: return False
    out = subprocess.run(["apertium", "-l"], capture_output=True, text=True).stdout.split()
    return "eng-spa" in out and "es-fr" in out


def _format(tool, text):
    "Run Apertium's plain-text deformatter or reformatter (`apertium-destxt`, `apertium-retxt`) on one snippet."
    return subprocess.run([tool], input=text, capture_output=True, text=True, check=True).stdout


def translate(texts):
    "Translate `texts` en->es->fr in one Apertium pipeline in null-flush mode; returns one string per text."
    for t in texts:
        if "\n" in t or "\0" in t or not t.strip(): raise ValueError(f"cannot translate empty or multi-line text {t!r}")
    # each snippet is deformatted on its own and ends with a NUL: in null-flush mode (-z) every program of the
    # pipeline finishes the chunk and resets before reading the next, so no snippet sees its neighbours
    src = "".join(_format("apertium-destxt", t + "\n") + "\0" for t in texts)
    out = subprocess.run("apertium -f none -z -u eng-spa | apertium -f none -z -u es-fr", shell=True,
                         input=src, capture_output=True, text=True, check=True).stdout
    chunks = out.split("\0")
    # each program of the pipeline may add an empty chunk at the very end, never in between
    if len(chunks) < len(texts) or any(not c.strip() for c in chunks[:len(texts)]) or any(c.strip() for c in chunks[len(texts):]):
        raise RuntimeError(f"Apertium returned {sum(bool(c.strip()) for c in chunks)} non-empty chunks for {len(texts)} snippets: alignment lost")
    return [re.sub(r"\s+", " ", _format("apertium-retxt", c)).strip() for c in chunks[:len(texts)]]


def translate_checked(texts, seed=0, min_same=0.85):
    "Translate `texts` in order; check the alignment against a run in a shuffled order; return (translations, share equal)."
    fr = translate(texts)
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    fr_shuf = translate([texts[i] for i in order])
    same = sum(fr_shuf[j] == fr[i] for j, i in enumerate(order)) / len(texts)
    if same < min_same:
        raise RuntimeError(f"only {same:.1%} of the snippets translate the same in a shuffled order: alignment lost?")
    return fr, same


def package_versions():
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n",
                          "apertium", "apertium-eng-spa", "apertium-fr-es"], capture_output=True, text=True)
    return out.stdout.strip().splitlines() if out.returncode == 0 else ["(versions unavailable: dpkg-query failed)"]


README = """# Amazon review snippets, English and machine-translated French

`{tsv}`: {n} sentence snippets from {n_reviews} Amazon product reviews, one row each, tab-separated with a
header, no quoting (no field contains a tab or a newline). Made by `tools/prepare_amazon_snippets.py`.

| column | meaning |
|---|---|
| `id` | `<review>_<sentence>`, the source's snippet id |
| `review` | the review the snippet comes from (split by this column, never by snippet) |
| `mean_rating` | mean of 20 human sentiment ratings on -4..+4, as written in the source |
| `label` | 5 ordinal classes 0..4: bins with edges {edges}, left-closed (`edge[k-1] <= mean < edge[k]`) |
| `text_en` | the English snippet as in the source (lower-cased there) |
| `text_fr` | **French by offline machine translation**, English -> Spanish -> French with Apertium |

Class sizes: {counts}.

## Source and attribution

The English snippets and their ratings are the Amazon product-review ground truth of
C.J. Hutto and E. Gilbert, *VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media
Text*, Eighth International Conference on Weblogs and Social Media (ICWSM-14), Ann Arbor, MI, June 2014.
They are taken from `additional_resources/hutto_ICWSM_2014.tar.gz` (`{snippets}`) inside the source
distribution of vaderSentiment {vader} (the PyPI sdist), which is released under the MIT licence below.
Please cite the paper above when you use these data.

## How the French was made

The French text is **machine-translated, not written by people**: Debian's Apertium rule-based translator,
`apertium -u eng-spa | apertium -u es-fr` (there is no direct English-French pair), installed with
`{apt}`. Packages used: {pkgs}.
Before translation the lower-cased English pronoun `i` (and `i'm`, `i've`, ...) was written as `I`, since
Apertium misreads the lower-case form; `text_en` keeps the source text unchanged. The translation is noisy
(idioms and sentiment words are often mistranslated): read accuracies on the French side with that in mind.
All snippets went through one Apertium run in null-flush mode, one chunk per snippet in the source's order;
the script checks that the output has exactly one non-empty chunk per snippet. Apertium's tagger keeps some
state from one chunk to the next, so a second run in a shuffled order words {diff:.1%} of the translations
differently (the rest are identical, which also confirms the alignment).

## Licence of the source data (vaderSentiment {vader}, LICENSE.txt)

```
{licence}
```

The French translations are derived from these data and are distributed under the same MIT licence.
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sdist", type=Path, help="an already downloaded vaderSentiment-3.3.2.tar.gz (else pip downloads it)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "relrep_nb" / "data")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffled check run")
    args = p.parse_args(argv)
    if not apertium_available():
        sys.exit(f"Apertium with the eng-spa and es-fr pairs is missing. Install it (Debian/Ubuntu, as root):\n  {APT_INSTALL}")
    with tempfile.TemporaryDirectory() as tmp:
        sdist = args.sdist or fetch_sdist(Path(tmp))
        text, licence = read_sdist(sdist)
    rows = parse_snippets(text)
    print(f"{len(rows)} snippets from {len({r['review'] for r in rows})} reviews; translating en->es->fr ...")
    fr, same = translate_checked([truecase_i(r["text_en"]) for r in rows], seed=args.seed)
    print(f"alignment check: {same:.1%} of the snippets translate identically in a shuffled order")
    for r, t in zip(rows, fr):
        r["text_fr"] = t
        for c in ("text_en", "text_fr"):
            if "\t" in r[c] or "\n" in r[c]: sys.exit(f"snippet {r['id']}: {c} contains a tab or newline")
    args.out.mkdir(parents=True, exist_ok=True)
    tsv = args.out / TSV_NAME
    with open(tsv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, quotechar=None, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows: w.writerow([r[c] for c in COLUMNS])
    counts = [sum(r["label"] == k for r in rows) for k in range(len(BIN_EDGES) + 1)]
    (args.out / "README.md").write_text(README.format(
        tsv=TSV_NAME, n=len(rows), n_reviews=len({r["review"] for r in rows}), edges=list(BIN_EDGES),
        counts=" / ".join(map(str, counts)), snippets=SNIPPETS, vader=VADER_VERSION, apt=APT_INSTALL,
        pkgs=", ".join(f"`{v}`" for v in package_versions()), licence=licence.strip(), diff=1 - same), encoding="utf-8")
    print(f"wrote {tsv} ({tsv.stat().st_size/1024:.0f} KiB), class sizes {counts}")


if __name__ == "__main__":
    main()
