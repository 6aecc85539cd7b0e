package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"

	"github.com/blindpack/blindpack/api/console"
)

// mountConsole serves the administrators' console (package console) under
// /console/, authenticating with the same tokens as the API.
func (s *Server) mountConsole() error {
	principal := func(p Principal) console.Principal {
		return console.Principal{Administrator: p.Role == RoleAdministrator, Role: string(p.Role), Subject: p.Subject, Actor: p.Actor()}
	}
	c, err := console.New(console.Config{}, console.Deps{
		Buckets: s.d.Buckets, Queue: s.d.Queue, Inspector: s.d.Inspector, State: s.d.State, Policy: s.d.Policy,
		Authenticate: func(tok string) (console.Principal, bool) {
			p, ok := s.d.Tokens.Authenticate(tok)
			cp := principal(p)
			cp.TokenID = HashToken(tok)
			return cp, ok
		},
		Lookup: func(id string) (console.Principal, bool) {
			p, ok := s.d.Tokens.lookup(id)
			cp := principal(p)
			cp.TokenID = id
			return cp, ok
		},
		ClientAddr: s.clientAddr,
		Identified: func(w http.ResponseWriter, p console.Principal) {
			if rec, ok := w.(*recorder); ok {
				rec.principal = Principal{Role: Role(p.Role), Subject: p.Subject}
			}
		},
		Log: s.log.With("component", "console"),
		Now: s.now,
	})
	if err != nil {
		return err
	}
	s.mux.Handle(console.Prefix, c.Handler())
	return nil
}

// lookup finds a token's principal by the token's SHA-256 in hex, as a
// console session keeps it; like Authenticate, in constant time over every
// entry.
func (t *Tokens) lookup(sumHex string) (Principal, bool) {
	sum, err := hex.DecodeString(sumHex)
	if err != nil || len(sum) != sha256.Size {
		return Principal{}, false
	}
	var found Principal
	match := 0
	for _, e := range t.entries {
		eq := subtle.ConstantTimeCompare(sum, e.sum[:])
		if eq == 1 {
			found = e.p
		}
		match |= eq
	}
	return found, match == 1
}
