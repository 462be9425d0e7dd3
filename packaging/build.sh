#!/usr/bin/env bash
# Building an installable xdrconf (README.md's third command), on Debian as root:
#   bash packaging/build.sh                 dist/xdrconf/ (PyInstaller, one folder) and
#                                           dist/xdrconf_<version>_<arch>.deb
#   bash packaging/build.sh --if-changed    the same, unless dist/ holds a build of exactly
#                                           these sources (what packaging/run-tests.sh runs)
# It installs what it needs (Debian packages; PyInstaller in its own environment, build/venv),
# freezes xdrconf with packaging/xdrconf.spec, assembles the package and checks it with
# desktop-file-validate, appstreamcli validate --no-net and lintian (fails on an error).
# Settings (environment), for the day the project has a public address:
#   XDRCONF_HOMEPAGE        homepage in the AppStream metainfo and the package (default below)
#   XDRCONF_SCREENSHOT_URL  the README's screenshot on the web (AppStream takes no local file)
#   XDRCONF_MAINTAINER      the package's Maintainer field
#   XDRCONF_XZ_LEVEL        the package's compression, 1 (default, fast) to 9
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# shellcheck source=packaging/common.sh
. packaging/common.sh # runtime_pkgs, need_apt

if_changed=0
case "${1:-}" in
  --if-changed) if_changed=1 ;;
  "") ;;
  *) echo "usage: bash packaging/build.sh [--if-changed]" >&2; exit 2 ;;
esac

app=xdrconf
app_id=io.github.xdrconf.xdrconf
homepage=${XDRCONF_HOMEPAGE:-https://xdrconf.invalid/}
screenshot_url=${XDRCONF_SCREENSHOT_URL:-${homepage%/}/resources/screenshot-main-window.png}
maintainer=${XDRCONF_MAINTAINER:-The xdrconf developers <xdrconf@xdrconf.invalid>}
icon_sizes="16 22 24 32 48 64 128 256 512"
dist=dist
work=build/package
log=$dist/build.log
started=$(date +%s)

# The files under the given paths that a build reads: git's (committed or not, not ignored),
# or, outside a git checkout, all of them; never compiled catalogs or byte-code.
sources() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -co --exclude-standard -- "$@"
  else
    find "$@" -type f
  fi | grep -v -e '\.mo$' -e '\.pot$' -e '\.pyc$' -e '/__pycache__/' -e '\.egg-info/' | LC_ALL=C sort -u
}

# The inputs of a build: when none changed, --if-changed keeps what dist/ holds.
inputs_digest() {
  {
    sources gui pyproject.toml setup.py README.md packaging/build.sh packaging/common.sh \
      packaging/xdrconf.spec packaging/build-requirements.txt packaging/pyinstaller packaging/linux |
      while read -r f; do [ -f "$f" ] && sha256sum "$f"; done
    $py -c 'import sys; print(sys.version)'
    dpkg-query -W -f='${Version}\n' dpkg 2>/dev/null || true
  } | sha256sum | cut -d' ' -f1
}

# Debian's own Python where there is one (a fresh Debian machine has only it): its extension
# modules use the system's libraries (expat, libffi, OpenSSL) as the package then declares.
command -v python3 >/dev/null || need_apt python3
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
version=$($py -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
arch=$(dpkg --print-architecture)
deb=$dist/${app}_${version}_${arch}.deb
digest=$(inputs_digest)
if [ "$if_changed" = 1 ] && [ -f "$deb" ] && [ -x "$dist/$app/$app" ] &&
  [ "$(cat "$dist/.build-inputs" 2>/dev/null)" = "$digest" ]; then
  echo "xdrconf: $deb is up to date (sources unchanged since it was built)" >&2
  exit 0
fi

# ---- what the build needs -------------------------------------------------------------------
# Qt's runtime libraries too: PyInstaller's Qt hooks load PySide6 while freezing, and
# dpkg-shlibdeps maps each library the frozen files need to the Debian package that has it.
py_lib=$($py -c 'import sysconfig as s; print(s.get_config_var("LDLIBRARY") or "")')
py_pkg=""
if [ "$py" = /usr/bin/python3 ] && [[ "$py_lib" == *.so* ]]; then
  py_pkg=lib$($py -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')
fi
# shellcheck disable=SC2086
need_apt $runtime_pkgs $py_pkg binutils dpkg-dev fakeroot lintian desktop-file-utils appstream \
  librsvg2-bin gzip

mkdir -p "$dist" build
: >"$log"
step() { printf 'xdrconf: %s (%ss)\n' "$1" "$(($(date +%s) - started))" >&2; }

# ---- the build environment: PyInstaller, and xdrconf installed from a clean copy ---------------
venv=build/venv
venv_stamp=$venv/.installed
if [ ! -x $venv/bin/python ] || [ ! -f $venv_stamp ] || [ pyproject.toml -nt $venv_stamp ] ||
  [ packaging/build-requirements.txt -nt $venv_stamp ]; then
  step "making the build environment ($venv)"
  rm -rf $venv
  $py -m venv $venv
  $venv/bin/python -m pip install -q --disable-pip-version-check -r packaging/build-requirements.txt >>"$log" 2>&1
  touch $venv_stamp
fi
step "installing xdrconf into the build environment"
# A clean copy, so nothing that setuptools left in build/lib (a module since removed) and no
# editable-install leftovers get frozen; the package build compiles the .mo catalogs.
src=build/src
rm -rf $src && mkdir -p $src
sources gui pyproject.toml setup.py README.md | while read -r f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
  xargs -0 cp --parents -t $src
$venv/bin/python -m pip uninstall -q -y $app >>"$log" 2>&1 || true
$venv/bin/python -m pip install -q --disable-pip-version-check $src >>"$log" 2>&1 ||
  { tail -20 "$log" >&2; exit 1; }

# ---- freezing -------------------------------------------------------------------------------
step "freezing with PyInstaller (packaging/xdrconf.spec)"
rm -rf build/frozen
XDRCONF_USE_SYSTEM_LIBS=1 $venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath build/frozen --workpath build/pyinstaller packaging/xdrconf.spec >>"$log" 2>&1 ||
  { tail -30 "$log" >&2; exit 1; }
frozen=build/frozen/$app
"$frozen/$app" --version >/dev/null

# ---- the package's tree ------------------------------------------------------------------------
step "assembling the Debian package"
export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
root=$work/root
rm -rf $work && mkdir -p $root/DEBIAN $root/opt $root/usr/bin $root/usr/share/applications \
  $root/usr/share/metainfo $root/usr/share/doc/$app $root/usr/share/man/man1 \
  $root/usr/share/lintian/overrides $root/usr/share/icons/hicolor/scalable/apps
cp -a "$frozen" $root/opt/$app
# Symbols are of no use to anyone running the package (and the folder gets ~20 % smaller);
# the executable is PyInstaller's bootloader with the application's archive appended: kept.
find $root/opt -type f \( -name '*.so' -o -name '*.so.*' \) \
  -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +
ln -s /opt/$app/$app $root/usr/bin/$app
install -m0644 packaging/linux/$app.desktop $root/usr/share/applications/$app.desktop
release_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
sed -e "s|@APP_ID@|$app_id|" -e "s|@HOMEPAGE@|$homepage|" -e "s|@SCREENSHOT_URL@|$screenshot_url|" \
  -e "s|@VERSION@|$version|" -e "s|@DATE@|$release_date|" packaging/linux/$app.metainfo.xml.in \
  >$root/usr/share/metainfo/$app_id.metainfo.xml
install -m0644 packaging/linux/$app.svg $root/usr/share/icons/hicolor/scalable/apps/$app.svg
for s in $icon_sizes; do
  mkdir -p $root/usr/share/icons/hicolor/${s}x${s}/apps
  rsvg-convert -w "$s" -h "$s" packaging/linux/$app.svg -o $root/usr/share/icons/hicolor/${s}x${s}/apps/$app.png
done
changelog_version=$(dpkg-parsechangelog -l packaging/linux/changelog -S Version)
if [ "$changelog_version" != "$version" ]; then
  echo "xdrconf: packaging/linux/changelog is at $changelog_version but pyproject.toml says $version: add an entry" >&2
  exit 1
fi
gzip -9n -c packaging/linux/changelog >$root/usr/share/doc/$app/changelog.gz
$venv/bin/python packaging/linux/debfiles.py copyright $root/usr/share/doc/$app/copyright
env -i PATH=/usr/bin:/bin HOME="$here/build" XDRCONF_LANG=en COLUMNS=80 "$frozen/$app" --help |
  $venv/bin/python packaging/linux/debfiles.py manpage $root/usr/share/man/man1/$app.1 "$version"
gzip -9n $root/usr/share/man/man1/$app.1
install -m0644 packaging/linux/lintian-overrides $root/usr/share/lintian/overrides/$app
# Modes as Debian wants them: directories and the executable 0755, everything else 0644
# (shared libraries need no execute bit).
find $root -type d -exec chmod 0755 {} +
find $root -type f -exec chmod 0644 {} +
chmod 0755 $root/opt/$app/$app

# ---- dependencies: dpkg-shlibdeps over every ELF file of the frozen folder ---------------------
# The libraries inside the folder satisfy one another (-l); what they need from the system
# becomes Depends. Qt's GTK 3 platform theme is optional (Qt falls back to its own when GTK
# is absent), so what only it needs is a Recommends.
mapfile -t elf < <(find $root/opt -type f \( -name '*.so' -o -name '*.so.*' -o -path "*/opt/$app/$app" \) \
  -exec sh -c 'head -c4 "$1" | grep -q ELF && printf "%s\n" "$1"' _ {} \;)
optional=()
required=()
for f in "${elf[@]}"; do
  case "$f" in
    */platformthemes/libqgtk3.so) optional+=("$f") ;;
    *) required+=("$f") ;;
  esac
done
mapfile -t private < <(printf '%s\n' "${elf[@]}" | xargs -n1 dirname | sort -u)
shl=$work/shlibdeps
mkdir -p $shl/debian
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' $app $app >$shl/debian/control
(
  cd $shl
  # shellcheck disable=SC2046
  dpkg-shlibdeps -O --warnings=1 $(printf -- "-l$here/%s " "${private[@]}") \
    -dDepends $(printf "$here/%s " "${required[@]}") -dRecommends $(printf "$here/%s " "${optional[@]}")
) >$work/shlibs.vars 2>>"$log" || { tail -20 "$log" >&2; exit 1; }
depends=$(sed -n 's/^shlibs:Depends=//p' $work/shlibs.vars)
recommends=$(sed -n 's/^shlibs:Recommends=//p' $work/shlibs.vars)
# Used at run time but not linked: the CA certificates that TLS verification trusts (the
# system's store), and a Secret Service on the session bus for the secrets (fonts come
# with libfontconfig1's own dependencies).
depends="$depends, ca-certificates"
recommends="${recommends:+$recommends, }gnome-keyring | keepassxc, default-dbus-session-bus | dbus-session-bus"
installed_size=$(du -sk --apparent-size $root | cut -f1)
cat >$root/DEBIAN/control <<EOF
Package: $app
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Recommends: $recommends
Section: net
Priority: optional
Homepage: $homepage
Description: configure and verify XDR and KUMA integrations per tenant
 xdrconf is a desktop application, with a command-line twin, with which a SOC
 analyst or an MSSP administrator configures, per tenant, the integrations of
 Kaspersky Next XDR Expert and KUMA, keeps their tokens and keys in the OS
 keyring, and proves that every connection really works.
 .
 This package carries xdrconf frozen with its own Python and Qt under
 /opt/xdrconf; it needs no Python installation.
EOF

# ---- checks, then the artefacts ---------------------------------------------------------------
step "building $deb and checking it"
rm -f "$dist"/${app}_*.deb
# xz (what lintian and every dpkg read); level 1 builds in ~5 s here, level 6 in ~30 s for a
# package ~10 % smaller: XDRCONF_XZ_LEVEL=6 for a release.
dpkg-deb --root-owner-group --threads-max=2 -Zxz -z"${XDRCONF_XZ_LEVEL:-1}" --build $root "$deb" >>"$log"
# desktop-file-validate exits 0 on hints; clean means it says nothing at all.
said=$(desktop-file-validate $root/usr/share/applications/$app.desktop 2>&1) || true
[ -z "$said" ] || { echo "$said" >&2; exit 1; }
appstreamcli validate --no-net $root/usr/share/metainfo/$app_id.metainfo.xml >>"$log" 2>&1 ||
  { appstreamcli validate --no-net $root/usr/share/metainfo/$app_id.metainfo.xml >&2; exit 1; }
lintian --fail-on error "$deb" >$dist/lintian.txt 2>&1 ||
  { cat $dist/lintian.txt >&2; echo "xdrconf: lintian found errors in $deb" >&2; exit 1; }
rm -rf "${dist:?}/$app"
cp -a $root/opt/$app "$dist/$app"
echo "$digest" >"$dist/.build-inputs"
step "built $deb ($(du -h "$deb" | cut -f1); folder $(du -sh "$dist/$app" | cut -f1)); lintian: $(grep -c '^E:' $dist/lintian.txt || true) errors, $(grep -c '^W:' $dist/lintian.txt || true) warnings (dist/lintian.txt)"
