package heif

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// wasmGz is libheif 1.18.2 with libde265 1.0.15 built for WASI by
// github.com/gen2brain/heic v0.4.5 (wasm/Makefile, wasm/heif.c), copied
// byte for byte: that package cannot be given a memory cap or a deadline,
// and it loads the machine's libheif.so instead when one is installed.
//
//go:embed wasm/heif.wasm.gz
var wasmGz []byte

// wasmSHA256 is the digest of wasm/heif.wasm.gz as gen2brain/heic v0.4.5
// ships it; a different file is refused.
const wasmSHA256 = "3634a6447ea3915633667f39e01ff540a60f4e2f837a8391d044d76dfd8a0435"

// Limits bound one decode. The zero value means the defaults.
type Limits struct {
	// MaxPixels is the most pixels the primary image may have (default 80
	// million, the page limit of package scan).
	MaxPixels int64
	// MemoryBytes caps the module's linear memory (default 512 MiB): the
	// input, libheif's and libde265's working state and the decoded image.
	// A 12-Mpx photo needs between 64 and 160 MiB.
	MemoryBytes int64
	// Timeout stops a decode that runs longer (default 120 s). A 12-Mpx
	// photo takes 5–9 s of CPU in the sandbox, a 3-Mpx one about 1 s.
	Timeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = 80_000_000
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = 512 << 20
	}
	if l.Timeout <= 0 {
		l.Timeout = 120 * time.Second
	}
	return l
}

// Validate reports limits that cannot work.
func (l Limits) Validate() error {
	if l.MemoryBytes > 4<<30 {
		return fmt.Errorf("heif: memory cap %d bytes exceeds WebAssembly's 4 GiB", l.MemoryBytes)
	}
	return nil
}

// Info is what libheif says of a file's primary image without decoding it:
// its size as displayed, after the file's rotation, mirroring and crop.
type Info struct {
	Width, Height int
}

// Errors of this package. Anything wrong with the file itself is
// ErrDecode; the others say the sandbox stopped it.
var (
	ErrDecode  = errors.New("heif: libheif could not decode the image")
	ErrTimeout = errors.New("heif: decode exceeded its deadline")
	ErrMemory  = errors.New("heif: decode exceeded its memory cap")
)

// the colour spaces and chroma formats of libheif's heif.h.
const (
	colorspaceYCbCr      = 0
	colorspaceRGB        = 1
	colorspaceMonochrome = 2
	chroma420            = 1
	chroma422            = 2
	chroma444            = 3
)

// wasmRuntime is one wazero runtime per memory cap, with the module compiled
// once: compiling costs about a second, instantiating a millisecond.
type wasmRuntime struct {
	rt wazero.Runtime
	cm wazero.CompiledModule
}

var (
	runtimesMu sync.Mutex
	runtimes   = map[uint32]*wasmRuntime{}
)

func getRuntime(pages uint32) (*wasmRuntime, error) {
	runtimesMu.Lock()
	defer runtimesMu.Unlock()
	if r := runtimes[pages]; r != nil {
		return r, nil
	}
	sum := sha256.Sum256(wasmGz)
	if hex.EncodeToString(sum[:]) != wasmSHA256 {
		return nil, errors.New("heif: embedded module is not the one pinned")
	}
	zr, err := gzip.NewReader(bytes.NewReader(wasmGz))
	if err != nil {
		return nil, fmt.Errorf("heif: module: %w", err)
	}
	bin, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("heif: module: %w", err)
	}
	ctx := context.Background()
	// Closing on a done context is what stops a looping decoder: the
	// compiled code checks for it, so a deadline ends the call.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithMemoryLimitPages(pages).
		WithCloseOnContextDone(true))
	// WASI without a file system, environment, arguments, clock or
	// randomness: the module sees the bytes it is given and nothing else.
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("heif: wasi: %w", err)
	}
	cm, err := rt.CompileModule(ctx, bin)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("heif: compile: %w", err)
	}
	r := &wasmRuntime{rt: rt, cm: cm}
	runtimes[pages] = r
	return r, nil
}

// Warm compiles the module now rather than on the first decode.
func Warm(lim Limits) error {
	_, err := getRuntime(memoryPages(lim.withDefaults()))
	return err
}

func memoryPages(l Limits) uint32 {
	return uint32(min(65536, max(1, l.MemoryBytes>>16)))
}

// instance is one module instance: its own linear memory, discarded after
// one file.
type instance struct {
	ctx      context.Context
	capBytes int64
	mod      api.Module
	malloc   api.Function
	free     api.Function
	decode   api.Function
}

func start(ctx context.Context, lim Limits) (*instance, context.CancelFunc, error) {
	r, err := getRuntime(memoryPages(lim))
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	// No stdout or stderr (libheif's messages would be the file's words in
	// our logs), no start arguments.
	mod, err := r.rt.InstantiateModule(ctx, r.cm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		cancel()
		return nil, nil, sandboxErr(ctx, fmt.Errorf("heif: instantiate: %w", err))
	}
	in := &instance{ctx: ctx, mod: mod, capBytes: int64(memoryPages(lim)) << 16,
		malloc: mod.ExportedFunction("malloc"), free: mod.ExportedFunction("free"), decode: mod.ExportedFunction("decode")}
	if in.malloc == nil || in.free == nil || in.decode == nil {
		mod.Close(ctx)
		cancel()
		return nil, nil, errors.New("heif: module lacks malloc, free or decode")
	}
	return in, func() { mod.Close(context.Background()); cancel() }, nil
}

// sandboxErr says why a call into the module failed: its deadline, its
// memory cap, or the file (a trap: libheif aborted, or read out of bounds).
func sandboxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %v", ErrDecode, firstLine(err))
}

// firstLine is an error's first line: a trap's message is followed by the
// module's stack.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// full reports whether the module's memory has grown to within 16 MiB of
// its cap: a failure then is most likely an allocation that did not fit.
func (in *instance) full() bool {
	return int64(in.mod.Memory().Size())+16<<20 >= in.capBytes
}

func (in *instance) alloc(n int) (uint32, error) {
	res, err := in.malloc.Call(in.ctx, uint64(n))
	if err != nil {
		return 0, sandboxErr(in.ctx, fmt.Errorf("heif: malloc: %w", err))
	}
	if res[0] == 0 {
		return 0, ErrMemory
	}
	return uint32(res[0]), nil
}

// header is what decode reports of the primary image.
type header struct {
	width, height, colorspace, chroma, premultiplied uint32
}

// run calls the module's decode with the file at in and, when out is not
// 0, the planes written to out.
func (in *instance) run(file uint32, size int, info, out uint32) (header, error) {
	configOnly := uint64(0)
	if out == 0 {
		configOnly = 1
	}
	res, err := in.decode.Call(in.ctx, uint64(file), uint64(size), configOnly,
		uint64(info), uint64(info+4), uint64(info+8), uint64(info+12), uint64(info+16), uint64(out))
	if err != nil {
		err = sandboxErr(in.ctx, fmt.Errorf("heif: decode: %w", err))
		if in.full() && errors.Is(err, ErrDecode) {
			return header{}, fmt.Errorf("%w: %v", ErrMemory, err)
		}
		return header{}, err
	}
	if res[0] == 0 && in.full() {
		return header{}, ErrMemory
	}
	if res[0] == 0 {
		return header{}, ErrDecode
	}
	var h header
	for i, p := range []*uint32{&h.width, &h.height, &h.colorspace, &h.chroma, &h.premultiplied} {
		v, ok := in.mod.Memory().ReadUint32Le(info + uint32(4*i))
		if !ok {
			return header{}, ErrDecode
		}
		*p = v
	}
	return h, nil
}

// load starts an instance and copies the file into it.
func load(ctx context.Context, data []byte, lim Limits) (*instance, func(), uint32, uint32, error) {
	lim = lim.withDefaults()
	if int64(len(data)) >= lim.MemoryBytes {
		return nil, nil, 0, 0, ErrMemory
	}
	in, stop, err := start(ctx, lim)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	file, err := in.alloc(len(data))
	if err == nil && !in.mod.Memory().Write(file, data) {
		err = ErrMemory
	}
	var info uint32
	if err == nil {
		info, err = in.alloc(20)
	}
	if err != nil {
		stop()
		return nil, nil, 0, 0, err
	}
	return in, stop, file, info, nil
}

// Config reads the primary image's displayed size with libheif, in the
// sandbox, without decoding it.
func Config(ctx context.Context, data []byte, lim Limits) (Info, error) {
	in, stop, file, info, err := load(ctx, data, lim)
	if err != nil {
		return Info{}, err
	}
	defer stop()
	h, err := in.run(file, len(data), info, 0)
	if err != nil {
		return Info{}, err
	}
	return Info{Width: int(h.width), Height: int(h.height)}, nil
}

// Decode decodes the primary image of a HEIF file as displayed — libheif
// applies the file's rotation, mirroring and crop — into Go memory:
// *image.YCbCr, *image.Gray or *image.NRGBA/*image.RGBA. The module's
// memory is released before it returns. Images over lim.MaxPixels are
// refused before any pixel is decoded.
func Decode(ctx context.Context, data []byte, lim Limits) (image.Image, error) {
	lim = lim.withDefaults()
	in, stop, file, info, err := load(ctx, data, lim)
	if err != nil {
		return nil, err
	}
	defer stop()
	h, err := in.run(file, len(data), info, 0)
	if err != nil {
		return nil, err
	}
	w, ht := int(h.width), int(h.height)
	if w <= 0 || ht <= 0 || w > 65535 || ht > 65535 || int64(w)*int64(ht) > lim.MaxPixels {
		return nil, fmt.Errorf("%w: primary image %dx%d", ErrDecode, w, ht)
	}
	rect := image.Rect(0, 0, w, ht)
	// The layout heif.c writes: planes with 16-byte aligned strides.
	var size, stride, cw, ch int
	var ratio image.YCbCrSubsampleRatio
	switch h.colorspace {
	case colorspaceYCbCr:
		switch h.chroma {
		case chroma420:
			ratio, cw, ch = image.YCbCrSubsampleRatio420, (w+1)/2, (ht+1)/2
		case chroma422:
			ratio, cw, ch = image.YCbCrSubsampleRatio422, (w+1)/2, ht
		case chroma444:
			ratio, cw, ch = image.YCbCrSubsampleRatio444, w, ht
		default:
			return nil, fmt.Errorf("%w: chroma format %d", ErrDecode, h.chroma)
		}
		stride, cw = align16(w), align16(cw)
		size = stride*ht + 2*cw*ch
	case colorspaceMonochrome:
		stride = align16(w)
		size = stride * ht
	case colorspaceRGB:
		stride = align16(4 * w)
		size = stride * ht
	default:
		return nil, fmt.Errorf("%w: colour space %d", ErrDecode, h.colorspace)
	}
	out, err := in.alloc(size)
	if err != nil {
		return nil, err
	}
	if h2, err := in.run(file, len(data), info, out); err != nil {
		return nil, err
	} else if h2 != h {
		return nil, fmt.Errorf("%w: header changed between calls", ErrDecode)
	}
	view, ok := in.mod.Memory().Read(out, uint32(size))
	if !ok {
		return nil, ErrMemory
	}
	// A copy: a view would keep the module's whole memory alive as long
	// as the image.
	pix := bytes.Clone(view)
	switch h.colorspace {
	case colorspaceYCbCr:
		i0, i1 := stride*ht, stride*ht+cw*ch
		return &image.YCbCr{Y: pix[:i0:i0], Cb: pix[i0:i1:i1], Cr: pix[i1:], SubsampleRatio: ratio,
			YStride: stride, CStride: cw, Rect: rect}, nil
	case colorspaceMonochrome:
		return &image.Gray{Pix: pix, Stride: stride, Rect: rect}, nil
	}
	if h.premultiplied == 1 {
		return &image.RGBA{Pix: pix, Stride: stride, Rect: rect}, nil
	}
	return &image.NRGBA{Pix: pix, Stride: stride, Rect: rect}, nil
}

func align16(n int) int { return (n + 15) &^ 15 }
