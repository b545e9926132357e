#!/usr/bin/env bash
# The Windows installer as far as Linux can check it: CPack writes the NSIS
# script from packaging/CMakeLists.txt and makensis (Debian's nsis) compiles it
# into an installer. The programs inside are this build's Linux ones; the
# script, the Start-menu entry, "Open with" and the uninstaller are the same
# as on Windows. Usage: check_nsis.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
command -v makensis >/dev/null || { echo "makensis not installed (apt install nsis)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$build"
# zlib keeps the check fast; the real installer uses the default (LZMA).
cpack -G NSIS -B "$work/out" -D CPACK_NSIS_COMPRESSOR=zlib -D CPACK_PACKAGING_INSTALL_PREFIX= \
  >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; cat "$work"/out/_CPack_Packages/*/NSIS/NSISOutput.log 2>/dev/null | tail -40; exit 1; }
exe=$(ls "$work"/out/*.exe)
[ "$(head -c 2 "$exe")" = "MZ" ] || { echo "$exe is not a Windows executable"; exit 1; }
nsi=$(ls "$work"/out/_CPack_Packages/*/NSIS/project.nsi)
need=(
  "WriteRegStr HKCR 'OpenAutoGLM.Image\\shell\\open\\command' '' '\"\$INSTDIR\\bin\\autoglm-studio.exe\" \"%1\"'"
  "WriteRegStr HKCR '.png\\OpenWithProgids' 'OpenAutoGLM.Image' ''"
  "WriteRegStr HKCR '.webp\\OpenWithProgids' 'OpenAutoGLM.Image' ''"
  "DeleteRegValue HKCR '.jpg\\OpenWithProgids' 'OpenAutoGLM.Image'"
  "DeleteRegKey HKCR 'OpenAutoGLM.Image'"
  "Open-AutoGLM Studio.lnk"
  "WriteUninstaller"
)
for line in "${need[@]}"; do
  grep -qF -- "$line" "$nsi" || { echo "the NSIS script lacks: $line"; exit 1; }
done
# Every file of the install tree is in the installer, the model included.
for f in bin/autoglm bin/autoglm-studio bin/autoglm-train; do
  grep -qF "${f//\//\\}" "$nsi" || grep -qF "$(basename "$f")" "$nsi" || { echo "installer lacks $f"; exit 1; }
done
grep -qF "model.safetensors" "$nsi" || { echo "installer lacks the default model"; exit 1; }
echo "NSIS installer built by makensis $(makensis -VERSION): $(basename "$exe"), $(($(stat -c %s "$exe") / 1024 / 1024)) MiB"
