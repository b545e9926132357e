#!/usr/bin/env bash
# Builds the installers from a configured, built tree, unpacks the .deb into a
# temporary root, runs the installed programs on a shapes-world image with the
# installed default model, and requires lintian to report no errors.
# Usage: check_deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$build"
cpack -G "DEB;RPM;TGZ" -B "$work/out" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/out/*.deb)
ls "$work"/out/*.rpm "$work"/out/*.tar.gz >/dev/null
echo "built: $(cd "$work/out" && ls *.deb *.rpm *.tar.gz | tr '\n' ' ')"

dpkg-deb --field "$deb" Depends | tee "$work/depends"
for dep in libtorch libopenblas0-pthread libopencv-core libqt6widgets6; do
  grep -q "$dep" "$work/depends" || { echo "Depends lacks $dep"; exit 1; }
done

root="$work/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/autoglm usr/bin/autoglm-studio usr/bin/autoglm-train \
         usr/share/open-autoglm/models/default/model.safetensors \
         usr/share/applications/autoglm-studio.desktop \
         usr/share/metainfo/org.openautoglm.studio.metainfo.xml \
         usr/share/icons/hicolor/256x256/apps/autoglm-studio.png \
         usr/share/icons/hicolor/scalable/apps/autoglm-studio.svg \
         usr/share/doc/open-autoglm-studio/copyright; do
  [ -e "$root/$f" ] || { echo "missing from the package: $f"; exit 1; }
done
grep -q '^MimeType=.*image/png' "$root/usr/share/applications/autoglm-studio.desktop"

"$root/usr/bin/autoglm" --version | grep -q '^autoglm [0-9]'
"$root/usr/bin/autoglm" info --json > "$work/info.json"
grep -q "\"path\":\"$root/usr/share/open-autoglm/models/default\"" "$work/info.json" ||
  { echo "the installed autoglm did not use the installed model:"; cat "$work/info.json"; exit 1; }
"$root/usr/bin/autoglm-train" generate --out "$work/data" --count 1 --seed 5
question=$(sed -n 's/.*"question":"\([^"]*\)".*/\1/p' "$work/data/requests.jsonl")
"$root/usr/bin/autoglm" ask --image "$work/data/images/000000.png" --question "$question" --json > "$work/answer.json"
grep -q '"error":null' "$work/answer.json" || { cat "$work/answer.json"; exit 1; }
echo "installed autoglm answered: $(cut -c1-160 "$work/answer.json")"
QT_QPA_PLATFORM=offscreen "$root/usr/bin/autoglm-studio" --version | grep -q '[0-9]'

if command -v lintian >/dev/null; then
  lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" | tee "$work/lintian.log"
  echo "lintian: no errors ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"
else
  echo "lintian not installed"; exit 1
fi
