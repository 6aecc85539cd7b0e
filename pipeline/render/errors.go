package render

import "errors"

// ErrPage is returned (wrapped) when pdfium cannot draw a page of a file:
// it could not read the document or the page, the instance trapped, ran
// out of its memory cap, or the page passed its deadline. It is the file's
// doing; any other error from Render is the renderer's own failure (the
// module could not be compiled or instantiated) and is transient.
var ErrPage = errors.New("render: page could not be drawn")

// ErrTimeout is returned (wrapped, together with ErrPage) when a page
// passed its deadline.
var ErrTimeout = errors.New("render: page passed its deadline")

// ErrTooLarge is returned (wrapped, together with ErrPage) when a page at
// the asked resolution would have more pixels than allowed.
var ErrTooLarge = errors.New("render: page has too many pixels")

// ErrFontMissing is returned (wrapped, together with ErrPage) when a page
// has Chinese, Japanese or Korean text in a font the file does not embed
// and the renderer has no fallback font to draw it with: the page would be
// drawn without that text.
var ErrFontMissing = errors.New("render: text in a font that is not embedded, and no fallback font")
