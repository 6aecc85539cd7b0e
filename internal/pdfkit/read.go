package pdfkit

// The few reading steps over pdfcpu's model that both package scan
// (uploads) and package verify (finished packets) need.

import (
	"bytes"
	"fmt"

	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// DecodeStream applies a stream's filters with an output limit. A copy is
// decoded so that pdfcpu's shared object stays as it was read.
func DecodeStream(sd *types.StreamDict, limit int64) ([]byte, error) {
	c := *sd
	c.Content = nil
	if err := c.DecodeWithLimit(limit); err != nil {
		return nil, err
	}
	if int64(len(c.Content)) > limit {
		return nil, filter.ErrDecodeLimitExceeded
	}
	return c.Content, nil
}

// PageContents returns a page's content streams decoded and joined, at most
// limit bytes in all.
func PageContents(xt *model.XRefTable, page types.Dict, limit int64) ([]byte, error) {
	o, found := page.Find("Contents")
	if !found || o == nil {
		return nil, nil
	}
	o, err := xt.Dereference(o)
	if err != nil {
		return nil, err
	}
	var parts []types.Object
	switch o := o.(type) {
	case types.StreamDict:
		parts = []types.Object{o}
	case types.Array:
		parts = o
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("page /Contents is a %T", o)
	}
	var b bytes.Buffer
	for _, part := range parts {
		sd, _, err := xt.DereferenceStreamDict(part)
		if err != nil || sd == nil {
			return nil, fmt.Errorf("content stream: %v", err)
		}
		data, err := DecodeStream(sd, limit)
		if err != nil {
			return nil, err
		}
		b.Write(data)
		b.WriteByte('\n')
		if int64(b.Len()) > limit {
			return nil, fmt.Errorf("content streams: %w", filter.ErrDecodeLimitExceeded)
		}
	}
	return b.Bytes(), nil
}
