#!/usr/bin/env bash
# Installs what `make test` and `make demo` need on a fresh Debian machine with Go:
#   - from apt: redis-server, poppler-utils (pdftotext, pdfimages, pdftoppm, pdfsig), qpdf,
#     fonts-wqy-zenhei (the CJK TrueType font blindpack embeds), and for tests that make or check
#     files with other tools: libimage-exiftool-perl, imagemagick, libjpeg-turbo-progs,
#     libtiff-tools, libheif-examples, webp;
#   - from the Go module proxy: the Apache-2.0 versitygw S3 gateway, built once and cached.
# Anything already present is left alone, so a second run costs nothing.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
BIN_DIR=${BLINDPACK_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/blindpack/bin}

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v qpdf >/dev/null || need+=(qpdf)
command -v exiftool >/dev/null || need+=(libimage-exiftool-perl)
[ -x /usr/bin/convert ] || need+=(imagemagick)
command -v jpegtran >/dev/null || need+=(libjpeg-turbo-progs)
[ -e /usr/include/jpeglib.h ] || need+=(libjpeg62-turbo-dev)
command -v img2pdf >/dev/null || need+=(img2pdf)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
command -v certutil >/dev/null || need+=(libnss3-tools)
[ -e /usr/share/fonts/truetype/arphic/uming.ttc ] || need+=(fonts-arphic-uming)
command -v tesseract >/dev/null || need+=(tesseract-ocr)
[ -e /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata ] || need+=(tesseract-ocr-chi-sim)
command -v chromium >/dev/null || need+=(chromium)
# Image files made the way scanners and phones make them, for the format tests:
# tiffcp/tiffset (TIFF), heif-enc (HEIC), cwebp/webpmux (WebP).
command -v tiffcp >/dev/null || need+=(libtiff-tools)
command -v heif-enc >/dev/null || need+=(libheif-examples)
command -v cwebp >/dev/null || need+=(webp)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! [ -x "$BIN_DIR/versitygw" ] || ! [ -f "$BIN_DIR/versitygw.$VERSITYGW_VERSION" ]; then
  echo "install-deps: building versitygw $VERSITYGW_VERSION (once; takes a few minutes)" >&2
  mkdir -p "$BIN_DIR"
  GOBIN="$BIN_DIR" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  touch "$BIN_DIR/versitygw.$VERSITYGW_VERSION"
fi
