package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultPolicyMatchesTheNotice(t *testing.T) {
	p := Default()
	inScope := map[string][]string{
		"economics":   {"associate_senior"},
		"audit":       {"associate_senior"},
		"accounting":  {"associate_senior"},
		"statistics":  {"associate_senior"},
		"engineering": {"junior", "intermediate", "associate_senior"},
	}
	for _, s := range []string{"economics", "audit", "accounting", "statistics", "engineering"} {
		for _, l := range []string{"junior", "intermediate", "associate_senior"} {
			t.Run(s+"/"+l, func(t *testing.T) {
				want := slices.Contains(inScope[s], l)
				if got := p.InScope(s, l); got != want {
					t.Fatalf("InScope = %v, want %v", got, want)
				}
				if !want {
					return
				}
				req := p.Required(s, l)
				has := func(alts ...string) bool {
					for _, g := range req {
						if slices.Equal(g, alts) {
							return true
						}
					}
					return false
				}
				for _, g := range [][]string{{"application_form"}, {"performance_summary"}, {"degree_certificate"},
					{"continuing_education", "ce_exemption"}, {"employer_publicity"}, {"publicity_result"}, {"recommendation_opinion"}} {
					if !has(g...) {
						t.Errorf("missing requirement %v", g)
					}
				}
				titled := has("current_title_certificate", "qualification_certificate")
				if titled != (l != "junior") {
					t.Errorf("title certificate required = %v at %s", titled, l)
				}
				if has("achievements") != (l == "associate_senior") {
					t.Errorf("achievements required = %v at %s", has("achievements"), l)
				}
				if has("papers") {
					t.Error("papers are never required, per the notice")
				}
			})
		}
	}
}

func TestDefaultAudiences(t *testing.T) {
	p := Default()
	reviewers := []string{"application_form", "performance_summary", "achievements", "papers", "degree_certificate",
		"current_title_certificate", "qualification_certificate"}
	for typ, m := range p.Materials {
		want := Administrators
		if slices.Contains(reviewers, typ) {
			want = Reviewers
		}
		if m.Audience != want {
			t.Errorf("%s: audience %s, want %s", typ, m.Audience, want)
		}
	}
	if len(p.Materials) != 14 {
		t.Errorf("%d material types, want the 14 of the contract", len(p.Materials))
	}
	form, _ := p.Material("application_form")
	if !slices.Contains(form.Masks, "name") || !slices.Contains(form.Masks, "employer") {
		t.Error("application form must require name and employer masks")
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":    string(defaultYAML) + "\nextra: 1\n",
		"unknown material": strings.Replace(string(defaultYAML), "- [achievements]", "- [achievments]", 1),
		"bad audience":     strings.Replace(string(defaultYAML), "audience: administrators, max_pages: 2", "audience: everyone, max_pages: 2", 1),
		"version":          strings.Replace(string(defaultYAML), "version: 1", "version: 2", 1),
		"not yaml":         "{{{",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(doc)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCampaignCalendar(t *testing.T) {
	p := Default()
	c, ok := p.Campaign("2024")
	if !ok {
		t.Fatal("no 2024 campaign")
	}
	from, until := c.SubmissionPeriod()
	if from.Format(time.RFC3339) != "2024-09-05T00:00:00+08:00" || until.Format(time.RFC3339) != "2024-10-01T00:00:00+08:00" {
		t.Errorf("submission period %v – %v", from, until)
	}
	if p.Returns.Window() != 48*time.Hour || p.Returns.MaxReturns != 3 {
		t.Errorf("returns %+v", p.Returns)
	}
	bad := strings.Replace(string(defaultYAML), `["2024-09-05", "2024-09-30"]`, `["2024-09-31", "2024-09-30"]`, 1)
	if _, err := Parse([]byte(bad)); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad date accepted: %v", err)
	}
}
