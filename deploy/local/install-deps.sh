#!/usr/bin/env bash
# Installs what blindpack needs on a fresh Debian machine with Go, for one of two uses:
#   install-deps.sh demo   what `make demo` uses: fonts-wqy-zenhei (the CJK TrueType font packets
#                          embed) and libjpeg62-turbo-dev (the cgo JPEG codec; without a C compiler
#                          Go builds the pure-Go codec and the header is not needed). Nothing else:
#                          the demo runs on an embedded Redis and a local directory.
#   install-deps.sh test   (the default) what `make test` needs: the demo's, and from apt
#                          redis-server, poppler-utils (pdftotext, pdfimages, pdftoppm, pdfsig), qpdf,
#                          fonts-arphic-uming, fonts-arphic-ukai (the OCR screen's Kai), and for tests that make or check files with other tools:
#                          libimage-exiftool-perl, imagemagick, libjpeg-turbo-progs, img2pdf,
#                          libnss3-tools, tesseract-ocr with tesseract-ocr-chi-sim, chromium,
#                          libtiff-tools, libheif-examples, webp (TIFF, HEIC and WebP inputs),
#                          libreoffice-writer-nogui (typed PDFs for the render path), poppler-data
#                          (poppler's CJK cmaps, to read PDFs whose Chinese font is not embedded); from the
#                          Go module proxy the Apache-2.0 versitygw S3 gateway, built once and cached.
#   install-deps.sh --list demo|test   prints the set's Debian packages, installs nothing.
# Anything already present is left alone, so a second run costs nothing.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
BIN_DIR=${BLINDPACK_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/blindpack/bin}

list=false
if [ "${1:-}" = --list ]; then
  list=true
  shift
fi
set_name=${1:-test}
case "$set_name" in
  demo|test) ;;
  *) echo "usage: install-deps.sh [--list] demo|test" >&2; exit 2 ;;
esac

# want PACKAGE PRESENT-TEST...: the package is needed unless the test succeeds.
need=()
want() {
  local pkg=$1
  shift
  if $list; then
    echo "$pkg"
  elif ! "$@" >/dev/null 2>&1; then
    need+=("$pkg")
  fi
}

# demo
want libjpeg62-turbo-dev test -e /usr/include/jpeglib.h
want fonts-wqy-zenhei test -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
if [ "$set_name" = test ]; then
  want redis-server command -v redis-server
  want poppler-utils command -v pdftotext
  want qpdf command -v qpdf
  want libimage-exiftool-perl command -v exiftool
  want imagemagick test -x /usr/bin/convert
  want libjpeg-turbo-progs command -v jpegtran
  want img2pdf command -v img2pdf
  want libnss3-tools command -v certutil
  want fonts-arphic-uming test -e /usr/share/fonts/truetype/arphic/uming.ttc
  want fonts-arphic-ukai test -e /usr/share/fonts/truetype/arphic/ukai.ttc  # Kai templates of the OCR screen
  want tesseract-ocr command -v tesseract
  want tesseract-ocr-chi-sim test -e /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata
  want chromium command -v chromium
  want openssl command -v openssl
  # Image files made the way scanners and phones make them, for the format tests:
  # tiffcp/tiffset (TIFF), heif-enc (HEIC), cwebp/webpmux (WebP).
  want libtiff-tools command -v tiffcp
  want libheif-examples command -v heif-enc
  want webp command -v cwebp
  # Typed PDFs made as applicants make them (soffice --convert-to pdf), for the render path.
  want libreoffice-writer-nogui command -v soffice
  # poppler's Adobe-GB1 cmaps: pdftotext/pdffonts/pdftoppm read a PDF whose Chinese font is not embedded.
  want poppler-data test -e /usr/share/poppler/cMap/Adobe-GB1/UniGB-UCS2-H
fi
if $list; then
  exit 0
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "$set_name" = test ] && { ! [ -x "$BIN_DIR/versitygw" ] || ! [ -f "$BIN_DIR/versitygw.$VERSITYGW_VERSION" ]; }; then
  echo "install-deps: building versitygw $VERSITYGW_VERSION (once; takes a few minutes)" >&2
  mkdir -p "$BIN_DIR"
  GOBIN="$BIN_DIR" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  touch "$BIN_DIR/versitygw.$VERSITYGW_VERSION"
fi

# axe-core, the accessibility checker the browser tests inject into Chromium (npm package,
# installed once into a cache directory; the tests read node_modules/axe-core/axe.min.js).
AXE_VERSION=4.14.1
NPM_DIR=${BLINDPACK_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/blindpack/npm}
if [ "$set_name" = test ] && { ! [ -f "$NPM_DIR/node_modules/axe-core/axe.min.js" ] || ! [ -f "$NPM_DIR/axe-core.$AXE_VERSION" ]; }; then
  if ! command -v npm >/dev/null; then
    echo "install-deps: apt-get install npm" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "install-deps: npm install axe-core@$AXE_VERSION into $NPM_DIR" >&2
  mkdir -p "$NPM_DIR"
  npm install --silent --no-audit --no-fund --prefix "$NPM_DIR" "axe-core@$AXE_VERSION" >/dev/null
  touch "$NPM_DIR/axe-core.$AXE_VERSION"
fi
