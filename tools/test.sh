#!/usr/bin/env bash
# The README's test command: set up .venv, then run every check. Ends with "N passed, N failed";
# exits non-zero when any check or notebook fails.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0; failed=0; failures=()
ok()   { passed=$((passed+1)); echo "PASS $1"; }
bad()  { failed=$((failed+1)); failures+=("$1"); echo "FAIL $1"; }
step() { echo; echo "== $1"; }
t0=$SECONDS; last=$SECONDS
took() { local d=$((SECONDS-last)); last=$SECONDS; echo "   ($d s)"; }

step "install with dev extras"
if bash tools/setup.sh; then ok "install"; else bad "install"; echo "$passed passed, $failed failed"; exit 1; fi
took
export PATH="$PWD/.venv/bin:$PATH" OMP_NUM_THREADS=1 MPLBACKEND=Agg
state() { git status --porcelain --untracked-files=all; git diff | sha1sum; }

step "notebooks and generated files in sync"
s0=$(state)
if ! nbdev-export >/tmp/nbdev-export.log 2>&1; then bad "nbdev-export failed"; tail -20 /tmp/nbdev-export.log
else s1=$(state)
  if [ "$s0" == "$s1" ]; then ok "nbdev-export leaves the tree unchanged"; else bad "nbdev-export changed files (run nbdev-export and commit)"; git status --short; fi
fi
s1=$(state)
if ! nbdev-clean >/tmp/nbdev-clean.log 2>&1; then bad "nbdev-clean failed"; tail -20 /tmp/nbdev-clean.log
else s2=$(state)
  if [ "$s1" == "$s2" ]; then ok "nbdev-clean leaves the tree unchanged"; else bad "nbdev-clean changed notebooks (run nbdev-clean and commit)"; git status --short; fi
fi
took

step "docs tools: unit tests"
if python -m pytest -q tools/test_*.py; then ok "tools tests"; else bad "tools tests"; fi
took

step "notebooks: nbdev-test on 2 workers"
nbs=$(ls nbs/*.ipynb | wc -l)
err=$(mktemp)
if nbdev-test --n-workers 2 --timing 2> >(tee "$err" >&2); then
  passed=$((passed+nbs)); echo "PASS $nbs notebooks"
else
  nf=$(sed -n '/Tests Failed On The Following Notebooks/,$p' "$err" | grep -c $'^\t' || true)
  [ "$nf" -gt 0 ] || nf=1
  passed=$((passed+nbs-nf)); failed=$((failed+nf)); failures+=("$nf notebook(s)"); echo "FAIL $nf of $nbs notebooks"
fi
rm -f "$err"
took

step "wheel from a clean copy of the tree holds every exported module and data file"
tmp=$(mktemp -d)
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$tmp"/ 2>/dev/null
if (cd "$tmp" && "$OLDPWD/.venv/bin/pip" wheel -q --no-deps --no-build-isolation -w dist . >/dev/null 2>&1); then
  want=$( (cd "$tmp" && ls relrep_nb/*.py relrep_nb/*/*.py relrep_nb/data/* 2>/dev/null) | sort -u)
  have=$(python -c "import zipfile,glob; print('\n'.join(zipfile.ZipFile(glob.glob('$tmp/dist/*.whl')[0]).namelist()))" | sort -u)
  missing=$(comm -23 <(echo "$want") <(echo "$have"))
  if [ -z "$missing" ]; then ok "wheel holds $(echo "$want" | wc -l) files"; else bad "wheel misses: $missing"; fi
else bad "wheel build"; fi
rm -rf "$tmp"
took

step "docs site and README"
s3=$(state)
if python tools/build_docs.py --readme; then
  ok "docs build"
  if [ "$s3" == "$(state)" ]; then ok "README.md in sync with nbs/index.ipynb"; else bad "README.md out of date (run python tools/build_docs.py --readme and commit)"; git status --short; fi
  if python tools/check_site.py; then ok "site: links, rendering, math, navigation, API tables, highlighting, no overflow"
  else bad "site check"; fi
  if python tools/check_lines.py --quiet; then ok "shown code lines within 100 characters"
  else bad "shown code lines over 100 characters (python tools/check_lines.py lists them)"; fi
else bad "docs build"; fi
took

echo
echo "total $((SECONDS-t0)) s"
[ $failed -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
