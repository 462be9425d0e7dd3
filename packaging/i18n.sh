#!/usr/bin/env bash
# The message catalogs (gettext, with Babel's pybabel). How to wrap strings: the guide at the
# top of gui/xdrconf/core/i18n.py.
#   bash packaging/i18n.sh extract [POT]  messages of the code and of argparse -> POT
#                                         (default gui/xdrconf/locale/xdrconf.pot, git-ignored)
#   bash packaging/i18n.sh update         extract, then merge into every <lang>/LC_MESSAGES/xdrconf.po
#   bash packaging/i18n.sh compile [-f]   each .po -> .mo where the .mo is missing or older (-f: all)
#   bash packaging/i18n.sh status         untranslated messages and unwrapped strings, per module
# Uses .venv/bin/python (bootstrap.sh makes it; Babel comes with the test extra), or $XDRCONF_PYTHON.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
py=${XDRCONF_PYTHON:-$here/.venv/bin/python}
locale_dir=gui/xdrconf/locale
domain=xdrconf
pybabel=("$py" -m babel.messages.frontend)
# The marking functions of xdrconf.core.i18n (see its guide); the extraction mapping is
# [tool.babel] in pyproject.toml.
keywords=(-k _ -k N_ -k pN_:1c,2 -k ngettext:1,2 -k pgettext:1c,2 -k npgettext:1c,2,3)

extract() {
  local pot=${1:-$locale_dir/$domain.pot}
  local version
  version=$("$py" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
  mkdir -p "$(dirname "$pot")"
  "${pybabel[@]}" --quiet extract -F pyproject.toml "${keywords[@]}" --add-comments=TRANSLATORS: \
    --sort-by-file --project=xdrconf --version="$version" --copyright-holder=xdrconf \
    --output-file="$pot" gui/xdrconf
  # argparse's own texts (usage, help, errors) are looked up in our catalog too
  # (xdrconf.core.i18n.route_argparse): add them from this interpreter's argparse.py.
  "$py" - "$pot" <<'EOF'
import argparse
import sys

from babel.messages.extract import extract
from babel.messages.pofile import read_po, write_po

pot = sys.argv[1]
with open(pot, "rb") as fh:
    catalog = read_po(fh)
with open(argparse.__file__, "rb") as fh:
    for _lineno, message, _comments, context in extract("python", fh, keywords={"_": None, "ngettext": (1, 2)}):
        catalog.add(
            message,
            locations=[("argparse.py", None)],
            auto_comments=["Python's argparse: the command line's usage, help and errors"],
            context=context,
        )
with open(pot, "wb") as fh:
    write_po(fh, catalog, sort_by_file=True)
EOF
}

compile_catalogs() {
  local force=${1:-}
  local po mo
  for po in "$locale_dir"/*/LC_MESSAGES/"$domain".po; do
    [ -e "$po" ] || continue
    mo=${po%.po}.mo
    if [ "$force" = "-f" ] || [ ! -e "$mo" ] || [ "$po" -nt "$mo" ]; then
      "${pybabel[@]}" compile --statistics -i "$po" -o "$mo"
    fi
  done
}

case "${1:-}" in
  extract)
    extract "${2:-}"
    ;;
  update)
    pot=$(mktemp /tmp/xdrconf-pot.XXXXXX)
    trap 'rm -f "$pot"' EXIT
    extract "$pot"
    "${pybabel[@]}" --quiet update --input-file="$pot" --output-dir="$locale_dir" --domain="$domain" \
      --previous --ignore-obsolete
    ;;
  compile)
    compile_catalogs "${2:-}"
    ;;
  status)
    PYTHONPATH="$here/tests${PYTHONPATH:+:$PYTHONPATH}" "$py" -m support.i18n_audit "${@:2}"
    ;;
  *)
    echo "usage: bash packaging/i18n.sh extract [POT] | update | compile [-f] | status" >&2
    exit 2
    ;;
esac
