package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
	"github.com/blindpack/blindpack/pipeline/finding"
	"github.com/blindpack/blindpack/pipeline/scan"
	"github.com/blindpack/blindpack/workers"
)

// maxIdentityField bounds the name and employer fields of a suggestion
// request, in bytes: the longest employer name is far shorter.
const maxIdentityField = 1 << 10

// suggestMasks answers POST /v1/masks/suggest: where the identity is in a
// file, as masks for the masking tool to pre-fill. The body is
// multipart/form-data with the fields name and employer and either a file
// part "file" or a field "key" naming an object of the uploads bucket.
// The identity and the file are held in memory for the request only:
// nothing is stored, and neither the identity nor the answer is logged
// (the request log has the route and status, never a body).
func (s *Server) suggestMasks(w http.ResponseWriter, r *http.Request, _ Principal) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeError(w, wire.CodeUnsupportedMediaType, fmt.Sprintf("Content-Type %q, want multipart/form-data", r.Header.Get("Content-Type")))
		return
	}
	limit := s.maxFileBytes() + 64<<10
	if r.ContentLength > limit {
		writeError(w, wire.CodeBodyTooLarge, fmt.Sprintf("at most %d bytes", limit))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	reader, err := r.MultipartReader()
	if err != nil {
		writeError(w, wire.CodeInvalidParameter, "the body is not multipart/form-data")
		return
	}
	var name, employer, key string
	var data []byte
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, wire.CodeBodyTooLarge, fmt.Sprintf("at most %d bytes", limit))
			return
		} else if err != nil {
			writeError(w, wire.CodeInvalidParameter, "the multipart body could not be read")
			return
		}
		field := part.FormName()
		var max int64 = maxIdentityField
		if field == "file" {
			max = s.maxFileBytes()
		}
		v, err := io.ReadAll(io.LimitReader(part, max+1))
		part.Close()
		switch {
		case errors.As(err, &mbe), int64(len(v)) > max:
			writeError(w, wire.CodeBodyTooLarge, fmt.Sprintf("field %s: at most %d bytes", field, max))
			return
		case err != nil:
			writeError(w, wire.CodeInvalidParameter, "the multipart body could not be read")
			return
		}
		switch field {
		case "name":
			name = string(v)
		case "employer":
			employer = string(v)
		case "key":
			key = string(v)
		case "file":
			data = v
		default:
			writeError(w, wire.CodeInvalidParameter, fmt.Sprintf("unknown field %q (want name, employer, and file or key)", field))
			return
		}
	}
	for _, f := range []struct{ field, v string }{{"name", name}, {"employer", employer}} {
		if strings.TrimSpace(f.v) == "" || !utf8.ValidString(f.v) {
			writeError(w, wire.CodeInvalidParameter, f.field+": required, UTF-8")
			return
		}
	}
	switch {
	case (data == nil) == (key == ""):
		writeError(w, wire.CodeInvalidParameter, "give either a file part or an uploads key")
		return
	case key != "":
		data, err = s.readUpload(r.Context(), key)
		var fe *finding.Error
		if errors.As(err, &fe) {
			writeError(w, wire.CodeInvalidFile, string(fe.Code))
			return
		} else if err != nil {
			s.internalError(w, r, "suggest masks: read upload", err)
			return
		}
	}
	if !s.suggestSlot(r.Context()) {
		return // the client went away
	}
	defer s.suggestDone()
	sg, err := pipeline.SuggestMasks(r.Context(), data, pipeline.Identity{Name: name, Employer: employer},
		pipeline.SuggestOptions{Limits: scan.Limits{MaxFileBytes: s.maxFileBytes()}, Engine: s.d.MaskOCR})
	var fe *finding.Error
	switch {
	case errors.As(err, &fe):
		writeError(w, wire.CodeInvalidFile, string(fe.Code))
		return
	case err != nil:
		s.internalError(w, r, "suggest masks", err)
		return
	}
	writeJSON(w, http.StatusOK, sg)
}

// maxFileBytes is the largest file a suggestion reads: the workers'
// default limit on an uploaded file (scan.Limits).
func (s *Server) maxFileBytes() int64 { return 50 << 20 }

// suggestSlot waits for one of the suggestion slots (one per CPU: OCR of
// a page takes a core for a second or more), and reports false when ctx
// ends first. suggestDone gives it back.
func (s *Server) suggestSlot(ctx context.Context) bool {
	select {
	case s.suggestSem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) suggestDone() { <-s.suggestSem }

// readUpload reads an object of the uploads bucket within the file limit,
// as a worker would: a missing or invalid key is a *finding.Error.
func (s *Server) readUpload(ctx context.Context, key string) ([]byte, error) {
	rc, err := workers.Source(s.d.Buckets.Uploads).Open(ctx, key)
	switch {
	case errors.Is(err, pipeline.ErrFileNotFound):
		return nil, finding.Errorf(finding.FileMissing, 0, "", err)
	case errors.Is(err, pipeline.ErrInvalidFile):
		return nil, finding.Errorf(finding.InvalidField, 0, "key", err)
	case err != nil:
		return nil, err
	}
	defer rc.Close()
	limit := s.maxFileBytes()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, finding.Errorf(finding.FileTooLarge, 0, "", nil)
	}
	return data, nil
}
