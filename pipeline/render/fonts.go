package render

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// DefaultFonts are the fallback fonts a Renderer looks for when its Config
// names none: Debian's CJK TrueType collections (fonts-wqy-zenhei, which
// blindpack's packets already use, and fonts-arphic-uming, a Song face).
// Those present are shown to pdfium.
var DefaultFonts = []string{
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/truetype/arphic/uming.ttc",
}

// fontDir is where pdfium's Linux font enumeration looks first
// (CFX_LinuxFontInfo: /usr/share/fonts, then three X11 and local
// directories). The fonts are mounted under the module's root rather than
// at fontDir itself: pdfium stops listing a directory at the first entry it
// cannot stat, and ".." of a mount point is outside the mount.
const fontDir = "usr/share/fonts"

// fontFS is the whole file system the module sees: the font files, each
// at usr/share/fonts/NAME, and the three directories above them. It is
// read-only (wazero mounts an fs.FS so) and nothing else of the host is
// reachable through it.
type fontFS struct {
	names []string          // sorted
	files map[string]string // NAME → host path
}

// newFontFS shows the existing files of paths; it returns nil when none
// exists.
func newFontFS(paths []string) *fontFS {
	f := &fontFS{files: map[string]string{}}
	for i, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		name := filepath.Base(p)
		if _, dup := f.files[name]; dup {
			name = strconv.Itoa(i) + "-" + name
		}
		f.files[name] = p
		f.names = append(f.names, name)
	}
	if len(f.names) == 0 {
		return nil
	}
	slices.Sort(f.names)
	return f
}

// Open implements fs.FS.
func (f *fontFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	switch name {
	case ".":
		return f.dir(".", []string{"usr"}), nil
	case "usr":
		return f.dir("usr", []string{"share"}), nil
	case "usr/share":
		return f.dir("share", []string{"fonts"}), nil
	case fontDir:
		return f.dir("fonts", f.names), nil
	}
	if dir, base := path.Split(name); dir == fontDir+"/" {
		if p, ok := f.files[base]; ok {
			file, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			return fontFile{file, base}, nil
		}
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// dir is a directory of fontFS listing names: subdirectories above
// fontDir, the fonts in it.
func (f *fontFS) dir(name string, names []string) fs.File {
	return &dirFile{fs: f, name: name, names: names}
}

type dirFile struct {
	fs    *fontFS
	name  string
	names []string
	next  int
}

type dirInfo string

func (d dirInfo) Name() string                { return string(d) }
func (dirInfo) Size() int64                   { return 0 }
func (dirInfo) Mode() fs.FileMode             { return fs.ModeDir | 0o555 }
func (dirInfo) ModTime() time.Time            { return time.Time{} }
func (dirInfo) IsDir() bool                   { return true }
func (dirInfo) Sys() any                      { return nil }
func (d *dirFile) Stat() (fs.FileInfo, error) { return dirInfo(d.name), nil }
func (d *dirFile) Close() error               { return nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for d.next < len(d.names) && (n <= 0 || len(out) < n) {
		name := d.names[d.next]
		d.next++
		if p, ok := d.fs.files[name]; ok && d.name == "fonts" {
			st, err := os.Stat(p)
			if err != nil {
				continue
			}
			out = append(out, fs.FileInfoToDirEntry(namedInfo{st, name}))
			continue
		}
		out = append(out, fs.FileInfoToDirEntry(dirInfo(name)))
	}
	if n > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

// namedInfo is a host file's information under its name in fontFS.
type namedInfo struct {
	fs.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }

// fontFile is an open font under its name in fontFS (reads, seeks and
// ReadAt are the host file's).
type fontFile struct {
	*os.File
	name string
}

func (f fontFile) Stat() (fs.FileInfo, error) {
	st, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return namedInfo{st, f.name}, nil
}
