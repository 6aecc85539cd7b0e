package api

import (
	"net/http"

	"github.com/blindpack/blindpack/api/console"
	"github.com/blindpack/blindpack/api/people"
	"github.com/blindpack/blindpack/api/public"
	"github.com/blindpack/blindpack/api/review"
)

// mountPeople serves the pages for people, each audience under its own
// prefix behind its own rule (package people): the sign-in and the shared
// assets, the administrators' console, the reviewers' portal, and the
// public results and verification pages. Bearer tokens are for machines
// (/v1); people sign in with their accounts.
func (s *Server) mountPeople() error {
	site, err := people.New(s.cfg.People, people.Deps{
		State: s.d.State, Secret: s.d.AnonSecret, ClientAddr: s.clientAddr,
		Identified: func(w http.ResponseWriter, v *people.Visitor) {
			if rec, ok := w.(*recorder); ok {
				rec.principal = Principal{Role: Role(v.Role), Subject: v.Account}
			}
		},
		Log: s.log.With("component", "people"),
	})
	if err != nil {
		return err
	}
	s.site = site
	s.mux.Handle(people.AccountPrefix, site.Handler())
	s.mux.Handle(people.AssetsPrefix, site.Handler())
	c, err := console.New(console.Config{}, console.Deps{
		Buckets: s.d.Buckets, Queue: s.d.Queue, Inspector: s.d.Inspector, State: s.d.State, Policy: s.d.Policy,
		Site: site, ClientAddr: s.clientAddr, Log: s.log.With("component", "console"), Now: s.now,
	})
	if err != nil {
		return err
	}
	s.mux.Handle(console.Prefix, c.Handler())
	rcfg := s.cfg.Review
	if rcfg.TempDir == "" {
		rcfg.TempDir = s.cfg.TempDir
	}
	rv, err := review.New(rcfg, review.Deps{
		Site: site, State: s.d.State, Source: reviewSource{s}, Packets: s.d.Buckets.Packets, Renderer: s.renderer(),
		Policy: s.d.Policy, ClientAddr: s.clientAddr, Log: s.log.With("component", "review"),
	})
	if err != nil {
		return err
	}
	s.portal = rv
	s.mux.Handle(review.Prefix, rv.Handler())
	if s.d.Buckets.Results == nil {
		return nil
	}
	pub, err := public.New(s.cfg.Public, public.Deps{Site: site, Results: s.d.Buckets.Results, Roots: s.d.ResultRoots,
		RootsName: s.d.ResultRootsName, Log: s.log.With("component", "public")})
	if err != nil {
		return err
	}
	s.mux.Handle(public.ResultsPrefix, pub.Handler())
	s.mux.Handle(public.VerifyPrefix, pub.Handler())
	s.mux.Handle("GET /{$}", http.RedirectHandler(public.ResultsPrefix, http.StatusSeeOther))
	return nil
}
