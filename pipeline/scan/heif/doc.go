// Package heif decodes HEIC/HEIF photos — what iPhones save — with libheif
// and libde265 compiled to WebAssembly, run in-process by wazero: no cgo,
// no native HEVC decoder in the worker, no file system, network, clock or
// output for the module, a cap on its memory and a deadline on every call.
// Each file gets a fresh module instance whose memory is dropped after it.
//
// The module is gen2brain/heic v0.4.5's build, embedded in wasm/ with its
// licences (libheif and libde265 are LGPL-3.0) and pinned by digest; see
// the README's notes on why it is used through this wrapper rather than
// that package's API.
package heif
