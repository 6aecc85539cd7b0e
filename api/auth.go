package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/blindpack/blindpack/pipeline"
)

// Role is what a token may do.
type Role string

// Roles.
const (
	// RoleUploadService enqueues submissions and reads their state.
	RoleUploadService Role = "upload_service"
	// RoleReviewer downloads the packets assigned to its subject, the
	// reviewer's code.
	RoleReviewer Role = "reviewer"
	// RoleAdministrator assigns reviewers, reprocesses, lists failures,
	// issues results and reads audit trails; its subject is the
	// administrator's name.
	RoleAdministrator Role = "administrator"
)

func (r Role) valid() bool {
	return r == RoleUploadService || r == RoleReviewer || r == RoleAdministrator
}

// Principal is who a request comes from, as its token says.
type Principal struct {
	Role    Role
	Subject string
}

// Actor names the principal in audit trails: "reviewer:E-0042",
// "admin:wang.li", "upload-service:portal".
func (p Principal) Actor() string {
	switch p.Role {
	case RoleAdministrator:
		return "admin:" + p.Subject
	case RoleUploadService:
		return "upload-service:" + p.Subject
	}
	return string(p.Role) + ":" + p.Subject
}

// TokenEntry is one token of the tokens file: never the token itself,
// only its SHA-256 in hex.
type TokenEntry struct {
	SHA256  string `yaml:"sha256"`
	Role    Role   `yaml:"role"`
	Subject string `yaml:"subject"`
}

// tokensFile is the YAML document: {tokens: [...]}.
type tokensFile struct {
	Tokens []TokenEntry `yaml:"tokens"`
}

// Tokens authenticates bearer tokens against their stored hashes. The set
// can be replaced while requests are answered (Replace, WatchTokens), so
// that a token taken out of the file stops working without a restart.
type Tokens struct {
	set atomic.Pointer[[]token]
}

func (t *Tokens) entries() []token {
	if p := t.set.Load(); p != nil {
		return *p
	}
	return nil
}

type token struct {
	sum [sha256.Size]byte
	p   Principal
}

// LoadTokens reads a tokens file (YAML). It is checked strictly: unknown
// keys, bad hashes, unknown roles, a reviewer code that is not a valid id
// and a hash given twice are errors, since a mistake here is a hole.
func LoadTokens(path string) (*Tokens, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokens, err)
	}
	return ParseTokens(data)
}

// ParseTokens parses the YAML of a tokens file:
//
//	tokens:
//	  - sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	    role: reviewer          # upload_service | reviewer | administrator
//	    subject: E-0042         # the reviewer's code, the admin's name, the service's name
func ParseTokens(data []byte) (*Tokens, error) {
	var f tokensFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokens, err)
	}
	t := &Tokens{}
	var entries []token
	seen := map[string]bool{}
	for i, e := range f.Tokens {
		sum, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(e.SHA256)))
		switch {
		case err != nil || len(sum) != sha256.Size:
			return nil, fmt.Errorf("%w: entry %d: sha256 must be 64 hex digits", ErrTokens, i+1)
		case !e.Role.valid():
			return nil, fmt.Errorf("%w: entry %d: role %q: want upload_service, reviewer or administrator", ErrTokens, i+1, e.Role)
		case e.Role == RoleReviewer && !pipeline.ValidID(e.Subject):
			return nil, fmt.Errorf("%w: entry %d: a reviewer's subject is the reviewer code (letters, digits, . _ -), got %q", ErrTokens, i+1, e.Subject)
		case strings.TrimSpace(e.Subject) == "" || len(e.Subject) > 64 || strings.ContainsAny(e.Subject, "\x00\r\n"):
			return nil, fmt.Errorf("%w: entry %d: subject must name someone (at most 64 bytes, one line)", ErrTokens, i+1)
		case seen[string(sum)]:
			return nil, fmt.Errorf("%w: entry %d: the same token hash is listed twice", ErrTokens, i+1)
		}
		seen[string(sum)] = true
		var tk token
		copy(tk.sum[:], sum)
		tk.p = Principal{Role: e.Role, Subject: e.Subject}
		entries = append(entries, tk)
	}
	t.set.Store(&entries)
	return t, nil
}

// Len is the number of tokens.
func (t *Tokens) Len() int { return len(t.entries()) }

// Authenticate returns the principal of a bearer token. The token's hash is
// compared with every stored hash in constant time, and every entry is
// compared whatever matched, so the time taken says nothing about which
// token, if any, is close.
func (t *Tokens) Authenticate(bearer string) (Principal, bool) {
	if bearer == "" {
		return Principal{}, false
	}
	sum := sha256.Sum256([]byte(bearer))
	var found Principal
	match := 0
	for _, e := range t.entries() {
		eq := subtle.ConstantTimeCompare(sum[:], e.sum[:])
		if eq == 1 {
			found = e.p
		}
		match |= eq
	}
	return found, match == 1
}

// HashToken is the SHA-256 in hex of a token, as the tokens file holds it.
func HashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// NewToken makes a random token: 32 bytes from crypto/rand, URL-safe
// base64 with a "bp_" prefix that secret scanners can recognise.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("api: new token: %w", err)
	}
	return "bp_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// bearer extracts the token of an Authorization: Bearer header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
