package api

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	for _, tc := range []struct {
		name  string
		trust bool
		xff   []string
		want  string
	}{
		{"connection", false, nil, "192.0.2.1:1234"},
		{"header ignored unless trusted", false, []string{"203.0.113.9"}, "192.0.2.1:1234"},
		{"trusted, no header", true, nil, "192.0.2.1:1234"},
		{"trusted: the proxy's entry, the last", true, []string{"198.51.100.7, 203.0.113.9"}, "203.0.113.9 (via 192.0.2.1:1234)"},
		{"trusted: last header", true, []string{"198.51.100.7", "203.0.113.9"}, "203.0.113.9 (via 192.0.2.1:1234)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "192.0.2.1:1234"
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			s := &Server{cfg: Config{TrustForwardedFor: tc.trust}}
			if got := s.clientAddr(r); got != tc.want {
				t.Errorf("clientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}
