package api

import (
	"context"
	"net/http"
	"sync"
)

// healthz answers while the process serves: a liveness probe, which must
// not depend on Redis or S3 (a restart would not bring them back).
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when every dependency answers within ReadyTimeout,
// 503 otherwise, naming the ones that did not — so that a load balancer
// stops sending traffic to a server that cannot reach Redis or S3. The
// checks run in parallel.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	results := make(map[string]string, len(s.d.Ready))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.d.Ready {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadyTimeout)
			defer cancel()
			status := "ok"
			if err := c.Ping(ctx); err != nil {
				status = "unavailable"
				s.log.Warn("readiness check failed", "check", c.Name, "err", err)
			}
			mu.Lock()
			results[c.Name] = status
			mu.Unlock()
		}()
	}
	wg.Wait()
	code := http.StatusOK
	for _, v := range results {
		if v != "ok" {
			code = http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, map[string]any{"ready": code == http.StatusOK, "checks": results})
}
