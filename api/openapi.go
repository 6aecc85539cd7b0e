package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"go.yaml.in/yaml/v3"
)

// openapiYAML is the API's description (OpenAPI 3.1), written by hand
// beside the routes; a test fails when a route registered here is missing
// from it or the other way round, and the API tests validate every answer
// against it.
//
//go:embed openapi.yaml
var openapiYAML []byte

var (
	openapiOnce sync.Once
	openapiDoc  []byte
	openapiErr  error
)

// OpenAPI is the API's OpenAPI 3.1 document as JSON, as /v1/openapi.json
// serves it.
func OpenAPI() ([]byte, error) {
	openapiOnce.Do(func() {
		var doc any
		if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
			openapiErr = fmt.Errorf("api: openapi.yaml: %w", err)
			return
		}
		openapiDoc, openapiErr = json.Marshal(doc)
	})
	return openapiDoc, openapiErr
}

// openapi serves the document to any authenticated caller: it maps every
// route, which an anonymous caller should not learn.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request, _ Principal) {
	doc, err := OpenAPI()
	if err != nil {
		s.internalError(w, r, "openapi", err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(doc)
}
