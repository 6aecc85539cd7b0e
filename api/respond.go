package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/internal/strictjson"
)

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeError answers code in the one error shape (wire.Error), with the
// request id withRequestID put in the header.
func writeError(w http.ResponseWriter, code wire.Code, detail string) {
	writeJSON(w, code.Status(), wire.NewError(code, detail, w.Header().Get(HeaderRequestID)))
}

// internalError logs err with the request id (never identity: errors here
// come from Redis, S3 and our own code) and answers 500 without details.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, op string, err error) {
	s.log.Error("request failed", "request_id", requestID(r.Context()), "op", op, "route", r.Pattern, "err", err)
	writeError(w, wire.CodeInternal, "")
}

// maxSmallBody bounds the JSON bodies of administrators' requests.
const maxSmallBody = 64 << 10

// readJSONBody reads a request body that must be JSON (Content-Type
// application/json, UTF-8 if a charset is given) of at most limit bytes:
// 415 and 413 otherwise.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" || params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") {
		writeError(w, wire.CodeUnsupportedMediaType, fmt.Sprintf("Content-Type %q", r.Header.Get("Content-Type")))
		return nil, false
	}
	if r.ContentLength > limit {
		writeError(w, wire.CodeBodyTooLarge, fmt.Sprintf("at most %d bytes", limit))
		return nil, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(w, wire.CodeBodyTooLarge, fmt.Sprintf("at most %d bytes", limit))
		return nil, false
	case err != nil:
		writeError(w, wire.CodeMalformedJSON, "the body could not be read")
		return nil, false
	}
	return data, true
}

// decodeBody reads a JSON body of at most limit bytes into v with the one
// strict decoder (strictjson): unknown, repeated or case-mismatched
// members, trailing data and invalid UTF-8 are 400 malformed_json.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	data, ok := readJSONBody(w, r, limit)
	if !ok {
		return false
	}
	if err := strictjson.Decode(data, limit, v); err != nil {
		writeError(w, wire.CodeMalformedJSON, err.Error())
		return false
	}
	return true
}
