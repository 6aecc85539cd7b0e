#!/usr/bin/env bash
# Makes the seed files of the image fuzz targets (FuzzOpenTIFF, FuzzOpenHEIC,
# FuzzOpenWebP, FuzzOpenBMP) with the tools that make such files in the world
# — libtiff's tiffcp and tiffset, ImageMagick, libheif's heif-enc, libwebp's
# cwebp — and writes them into testdata/fuzz/<target>/ in go test's corpus
# format. Run from pipeline/scan: testdata/make-image-seeds.sh
set -euo pipefail
out=$(pwd)/testdata/fuzz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
font=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
convert -size 64x48 xc:white -font "$font" -fill black -pointsize 14 -draw "text 4,20 '张三 p1'" \
  -fill '#c04040' -draw "rectangle 4,30 50,40" s.png
convert s.png -type TrueColor -compress none rgb.tif
convert s.png -colorspace gray -depth 8 -compress none g.tif
convert s.png -threshold 50% -type bilevel -depth 1 -compress none bw.tif
tiffcp -c g4 bw.tif tiff-g4.tif
tiffcp -c g3 bw.tif tiff-g3.tif
tiffcp -c lzw:2 g.tif tiff-lzw-pred.tif
tiffcp -c zip rgb.tif tiff-zip-rgb.tif
tiffcp -c packbits g.tif tiff-packbits.tif
tiffcp -c jpeg -r 16 rgb.tif tiff-jpeg-strips.tif
tiffcp -c jpeg -t -w 16 -l 16 rgb.tif tiff-jpeg-tiles.tif
tiffcp -c lzw -t -w 16 -l 16 g.tif tiff-lzw-tiles.tif
convert s.png -colorspace cmyk -compress lzw tiff-cmyk.tif
convert s.png -type Palette -compress none tiff-palette.tif
convert s.png -type TrueColor -compress JPEG tiff-jpeg-rgb-im.tif
tiffcp tiff-g4.tif tiff-jpeg-strips.tif tiff-lzw-pred.tif tiff-multi.tif
cp tiff-lzw-pred.tif tiff-orient6.tif && tiffset -s 274 6 tiff-orient6.tif
convert s.png -type TrueColorAlpha -alpha set -compress none tiff-rgba.tif
convert s.png -quality 90 s.jpg
heif-enc -q 50 s.jpg -o heic-plain.heic
heif-enc -q 50 -L s.jpg -o heic-lossless.heic
cp s.jpg e.jpg && exiftool -q -overwrite_original -Orientation#=6 e.jpg && heif-enc -q 50 e.jpg -o heic-exif6.heic
# An iPhone's irot: the last property, pixi, turned into an irot of the same size (see withIrot in
# pipeline/formats_image_test.go).
python3 - heic-plain.heic heic-irot.heic <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.index(b'pixi'); size = struct.unpack('>I', d[i-4:i])[0]
d[i:i+4] = b'irot'; d[i+4:i-4+size] = bytes(size-8); d[i+4] = 3
open(sys.argv[2], 'wb').write(d)
PY
cwebp -quiet -q 70 s.png -o webp-lossy.webp
cwebp -quiet -lossless s.png -o webp-lossless.webp
convert s.png -alpha set -channel A -evaluate set 50% +channel png:- | cwebp -quiet -q 70 -o webp-alpha.webp -- -
convert s.png -type TrueColor bmp-24.bmp
convert s.png -type Palette -compress none bmp-8.bmp
convert s.png -type TrueColorAlpha bmp-32.bmp
seed() { # target file
  mkdir -p "$out/$1"
  python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print("go test fuzz v1"); print("[]byte(" + "\"" + "".join("\\x%02x" % b for b in d) + "\")")' "$2" >"$out/$1/seed-${2%.*}"
}
for f in tiff-*.tif; do seed FuzzOpenTIFF "$f"; done
for f in heic-*.heic; do seed FuzzOpenHEIC "$f"; done
for f in webp-*.webp; do seed FuzzOpenWebP "$f"; done
for f in bmp-*.bmp; do seed FuzzOpenBMP "$f"; done
