#!/usr/bin/env bash
# Makes the browser build's fonts: egui's four default fonts (epaint_default_fonts 0.36.2), cut
# down with fonttools' pyftsubset to the characters the UI can show. The page then embeds
# 0.20 MB of fonts instead of 1.41 MB (0.11 MB gzipped instead of 0.78 MB): the text fonts also lose
# their device-metric tables (hdmx, VDMX, LTSH), which egui's rasteriser never reads. The native build keeps
# egui's full fonts.
#
#   pip install fonttools && assets/fonts/subset.sh
#
# Text fonts (Ubuntu Light, Hack): Latin (Basic, Latin-1, Extended-A), Greek, punctuation,
# super/subscripts, currency, letter-like symbols, arrows, mathematical operators, technical and
# geometric shapes, miscellaneous symbols and dingbats: everything a scene name or a label in
# Western European languages needs. Symbol fonts (Noto Emoji, egui's icon font): only the symbols
# that string literals of qtwin, egui, egui_plot and bevy_egui contain.
set -euo pipefail
cd "$(dirname "$0")"
src=$(ls -d "$HOME"/.cargo/registry/src/*/epaint_default_fonts-0.36.2/fonts | head -1)
symbols=$(python3 - <<'PY'
import glob, os, re
home = os.path.expanduser("~/.cargo/registry/src")
roots = ["../../src"] + [d + "/src" for c in ("egui-0.36.2", "egui_plot-0.37.0", "bevy_egui-0.42.0")
                         for d in glob.glob(f"{home}/*/{c}")]
chars = set()
for root in roots:
    for f in glob.glob(root + "/**/*.rs", recursive=True):
        for line in open(f, encoding="utf8"):
            if line.strip().startswith("//"):
                continue
            for m in re.finditer(r'"([^"\\]|\\.)*"|\'.\'', line):
                chars.update(c for c in m.group(0) if ord(c) > 127)
chars.add("\u25fb")  # egui draws a missing glyph as this square
print(",".join("U+%04X" % ord(c) for c in sorted(chars)))
PY
)
text="U+0020-007E,U+00A0-017F,U+0370-03FF,U+2000-206F,U+2070-209F,U+20A0-20CF,U+2100-214F,U+2190-21FF,U+2200-22FF,U+2300-23FF,U+25A0-25FF,U+2600-27BF,U+FFFD"
mono="U+0020-007E,U+00A0-00FF,U+0394,U+2013,U+2014,U+2026,U+2192,U+2212,U+2264,U+2265"
pyftsubset "$src/Ubuntu-Light.ttf" --unicodes="$text,$symbols" --drop-tables+=hdmx,VDMX,LTSH --output-file=Ubuntu-Light.subset.ttf
pyftsubset "$src/Hack-Regular.ttf" --unicodes="$mono" --drop-tables+=hdmx,VDMX,LTSH --output-file=Hack-Regular.subset.ttf
pyftsubset "$src/NotoEmoji-Regular.ttf" --unicodes="$symbols" --output-file=NotoEmoji-Regular.subset.ttf
pyftsubset "$src/emoji-icon-font.ttf" --unicodes="$symbols" --output-file=emoji-icon-font.subset.ttf
cp "$src"/UFL.txt "$src"/OFL.txt "$src"/Hack-Regular.txt "$src"/emoji-icon-font-mit-license.txt .
ls -l ./*.subset.ttf
