package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/blindpack/blindpack/api"
	"github.com/blindpack/blindpack/api/wire"
	"github.com/blindpack/blindpack/pipeline"
)

// loadDoc loads the served document with kin-openapi, which reads OpenAPI
// 3.1 and validates its schemas with a JSON Schema 2020-12 validator
// (santhosh-tekuri/jsonschema).
func loadDoc(t testing.TB) *openapi3.T {
	t.Helper()
	data, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.IsOpenAPI32OrLater() {
		t.Fatalf("openapi %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3.1: %v", err)
	}
	return doc
}

// muxPath turns an OpenAPI path into the router's pattern form; they are
// the same ({name} parameters).
func operations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	return ops
}

// TestOpenAPIMatchesRouter: every /v1 route the router registers is in the
// document with the roles that may use it, and every /v1 operation of the
// document is registered — and answered by the live router, not by its
// 404/405 fallback. The error codes the document lists are wire's.
func TestOpenAPIMatchesRouter(t *testing.T) {
	doc := loadDoc(t)
	e := newEnv(t)
	s, err := api.New(api.Config{}, e.deps)
	if err != nil {
		t.Fatal(err)
	}
	ops := operations(doc)
	registered := map[string]bool{}
	for _, r := range s.Routes() {
		registered[r.Pattern] = true
		op, ok := ops[r.Pattern]
		if !ok {
			t.Errorf("route %s is not in openapi.yaml", r.Pattern)
			continue
		}
		var roles []string
		if raw, ok := op.Extensions["x-roles"]; ok {
			b, _ := json.Marshal(raw)
			json.Unmarshal(b, &roles)
		}
		want := make([]string, len(r.Roles))
		for i, role := range r.Roles {
			want[i] = string(role)
		}
		sort.Strings(roles)
		sort.Strings(want)
		if !slices.Equal(roles, want) {
			t.Errorf("%s: x-roles %v, the router allows %v", r.Pattern, roles, want)
		}
	}
	for pattern := range ops {
		method, path, _ := strings.Cut(pattern, " ")
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		if !registered[pattern] {
			t.Errorf("openapi.yaml has %s, which the router does not register", pattern)
		}
		// The live router takes it (any answer but the fallback's).
		concrete := strings.NewReplacer("{id}", "X-r1", "{anon}", "2024-AAAA-AAAA", "{reviewer}", "E-1",
			"{campaign}", "2024", "{applicant}", "A1").Replace(path)
		r := e.do(method, concrete, e.tok["admin"], nil)
		var body wire.Error
		json.Unmarshal(r.body, &body)
		if body.Code == wire.CodeNotFound || body.Code == wire.CodeMethodNotAllowed {
			t.Errorf("%s %s: the router answers %s", method, concrete, body.Code)
		}
	}
	var codes []string
	for _, c := range wire.Codes() {
		codes = append(codes, string(c))
	}
	var enum []string
	for _, v := range doc.Components.Schemas["Error"].Value.Properties["code"].Value.Enum {
		enum = append(enum, fmt.Sprint(v))
	}
	sort.Strings(codes)
	sort.Strings(enum)
	if !slices.Equal(codes, enum) {
		t.Errorf("Error.code enum %v, wire has %v", enum, codes)
	}
	// The statuses and states are pipeline's vocabulary, spelled once.
	schema := func(path ...string) *openapi3.Schema {
		sc := doc.Components.Schemas[path[0]].Value
		for _, p := range path[1:] {
			sc = sc.Properties[p].Value
		}
		return sc
	}
	states := []string{string(pipeline.Queued), string(pipeline.Processing), string(pipeline.Retrying), string(pipeline.Failed)}
	var statuses, apps []string
	for _, st := range pipeline.Statuses() {
		states = append(states, string(st.State()))
		statuses = append(statuses, string(st))
	}
	for _, a := range pipeline.ApplicationStatuses() {
		apps = append(apps, string(a))
	}
	for _, tc := range []struct {
		what string
		enum []any
		want []string
	}{
		{"SubmissionView.state", schema("SubmissionView", "state").Enum, states},
		{"SubmissionView.application.status", schema("SubmissionView", "application", "status").Enum, apps},
		{"Report.status", schema("Report", "status").Enum, statuses},
	} {
		var got []string
		for _, v := range tc.enum {
			got = append(got, fmt.Sprint(v))
		}
		sort.Strings(got)
		sort.Strings(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: openapi.yaml has %v, pipeline %v", tc.what, got, tc.want)
		}
	}
	var events []string
	for name := range doc.Webhooks {
		events = append(events, name)
	}
	var types []string
	for _, et := range wire.EventTypes {
		types = append(types, string(et))
	}
	sort.Strings(events)
	sort.Strings(types)
	if !slices.Equal(events, types) {
		t.Errorf("webhooks %v, wire has %v", events, types)
	}
}

// TestOpenAPIServed: /v1/openapi.json is the document, for any role, and
// 401 without a token.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	want, _ := api.OpenAPI()
	for _, who := range []string{"upload", "admin", "E-0042"} {
		r := e.do("GET", "/v1/openapi.json", e.tok[who], nil)
		if r.code != 200 || !bytes.Equal(r.body, want) || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: %d %.80s", who, r.code, r.body)
		}
	}
	if r := e.do("GET", "/v1/openapi.json", "", nil); r.code != 401 {
		t.Errorf("without a token: %d", r.code)
	}
}

// validator checks every answer a test gets against the document: the
// operation's documented status, headers (X-Request-Id on every answer)
// and body schema. Answers to paths no operation has (404, 405) must be
// the Error schema. It records which operations it saw.
type validator struct {
	t      testing.TB
	doc    *openapi3.T
	router routers.Router
	next   http.RoundTripper

	mu   sync.Mutex
	seen map[string]int // operationId → answers validated
	// ops is the host of the operators' listener: not the API the
	// document describes, beyond /readyz.
	ops string
}

func newValidator(t testing.TB, next http.RoundTripper) *validator {
	doc := loadDoc(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &validator{t: t, doc: doc, router: router, next: next, seen: map[string]int{}}
}

func (v *validator) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil || strings.HasPrefix(req.URL.Path, "/console/") {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		v.t.Errorf("read answer of %s %s: %v", req.Method, req.URL.Path, rerr)
		return resp, nil
	}
	v.check(req, resp, body)
	return resp, nil
}

func (v *validator) check(req *http.Request, resp *http.Response, body []byte) {
	where := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, resp.StatusCode)
	if resp.Header.Get("X-Request-Id") == "" {
		v.t.Errorf("%s: no X-Request-Id", where)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		v.t.Errorf("%s: no X-Content-Type-Options: nosniff", where)
	}
	if resp.StatusCode >= 400 && req.URL.Path != "/readyz" { // readyz's 503 is its own shape
		var e wire.Error
		if err := json.Unmarshal(body, &e); err != nil || e.RequestID != resp.Header.Get("X-Request-Id") {
			v.t.Errorf("%s: error body %q does not carry the request id %s", where, body, resp.Header.Get("X-Request-Id"))
		}
	}
	route, params, err := v.router.FindRoute(req)
	if err == nil && req.URL.Host == v.ops && req.URL.Path != "/readyz" {
		err = fmt.Errorf("%s is not the API's listener", v.ops)
	}
	if err != nil {
		// Not an operation (/metrics, /console/, a path nothing takes):
		// an error answer must still be an Error.
		if resp.StatusCode < 400 {
			return
		}
		var value any
		if jerr := json.Unmarshal(body, &value); jerr != nil {
			v.t.Errorf("%s: not JSON: %q", where, body)
			return
		}
		if err := v.doc.Components.Schemas["Error"].Value.VisitJSON(value, openapi3.EnableJSONSchema2020()); err != nil {
			v.t.Errorf("%s: not an Error: %v", where, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		v.t.Errorf("%s does not match openapi.yaml: %v\n%.2000s", where, err, body)
		return
	}
	v.mu.Lock()
	v.seen[route.Operation.OperationID]++
	v.mu.Unlock()
}

// unseen lists the document's operations no validated answer came from.
func (v *validator) unseen() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, op := range operations(v.doc) {
		if v.seen[op.OperationID] == 0 {
			out = append(out, op.OperationID)
		}
	}
	sort.Strings(out)
	return out
}
