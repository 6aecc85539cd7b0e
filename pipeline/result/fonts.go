package result

import (
	"fmt"
	"os"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

// FontConfig says which TrueType fonts set the document. The zero value
// picks Debian's fonts: AR PL UMing (fonts-arphic-uming, a Ming/Song face)
// for the text and the seal, and WenQuanYi Zen Hei (fonts-wqy-zenhei) for
// headings, falling back to Zen Hei for everything when UMing is missing.
//
// GB/T 9704 asks for FangSong body text and a 小标宋 heading; no free
// TrueType FangSong is packaged, and Song/Ming is the closest face that is.
type FontConfig struct {
	// SongFile is the body, title and seal font (.ttf or .ttc).
	SongFile  string
	SongIndex int
	// HeiFile is the heading font, for the table header.
	HeiFile  string
	HeiIndex int
}

// Debian locations tried, in order, for a zero FontConfig.
var (
	songCandidates = []fontFile{
		{"/usr/share/fonts/truetype/arphic/uming.ttc", 0}, // UMingCN: simplified-Chinese glyph forms
		{"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},
	}
	heiCandidates = []fontFile{
		{"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},
		{"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0},
	}
)

type fontFile struct {
	path  string
	index int
}

// Fonts are the loaded fonts of a document, shared by every document a
// process issues.
type Fonts struct {
	Song, Hei *pdfkit.Font
	// SongPath and HeiPath say which files were used.
	SongPath, HeiPath string
}

// LoadFonts loads the fonts cfg names or, for empty names, the first
// candidate present.
func LoadFonts(cfg FontConfig) (*Fonts, error) {
	song := []fontFile{{cfg.SongFile, cfg.SongIndex}}
	if cfg.SongFile == "" {
		song = songCandidates
	}
	hei := []fontFile{{cfg.HeiFile, cfg.HeiIndex}}
	if cfg.HeiFile == "" {
		hei = heiCandidates
	}
	sf, err := firstFont(song)
	if err != nil {
		return nil, fmt.Errorf("result: body font: %w (apt-get install fonts-arphic-uming, or configure one)", err)
	}
	hf, err := firstFont(hei)
	if err != nil {
		return nil, fmt.Errorf("result: heading font: %w (apt-get install fonts-wqy-zenhei, or configure one)", err)
	}
	return &Fonts{Song: sf.pdf, Hei: hf.pdf, SongPath: sf.path, HeiPath: hf.path}, nil
}

type loaded struct {
	path string
	pdf  *pdfkit.Font
}

func firstFont(cands []fontFile) (loaded, error) {
	var firstErr error
	for _, c := range cands {
		if _, err := os.Stat(c.path); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		f, err := pdfkit.LoadFont(c.path, c.index)
		if err != nil {
			return loaded{}, fmt.Errorf("%s: %w", c.path, err)
		}
		return loaded{path: c.path, pdf: f}, nil
	}
	return loaded{}, fmt.Errorf("%w: no font file found: %v", ErrConfig, firstErr)
}
