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

func TestWorkingDays(t *testing.T) {
	p := Default()
	d := func(s string) time.Time {
		t.Helper()
		v, err := ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		from, to string
		want     int
	}{
		{"2024-09-02", "2024-09-06", 5}, // an ordinary week
		{"2024-09-02", "2024-09-08", 5}, // the weekend does not count
		{"2024-09-12", "2024-09-18", 4}, // 中秋 2024: Sat 14th worked (调休), 15–17 off
		{"2024-09-12", "2024-09-19", 5}, // one more day and it is five
		{"2024-09-28", "2024-10-08", 3}, // 国庆 2024: Sun 29th worked, 1–7 off; 30th and 8th
		{"2024-10-12", "2024-10-12", 1}, // a Saturday worked after 国庆
		{"2025-01-24", "2025-02-09", 7}, // 春节 2025: 24th, Sun 26th, 27th; 28th–4th off; 5th–7th, Sat 8th
		{"2024-12-30", "2025-01-03", 4}, // across the new year: 1 Jan off
		{"2024-09-06", "2024-09-02", 0}, // backwards: nothing
		{"2025-09-29", "2025-10-10", 4}, // 国庆 2025: 29th, 30th; 1st–8th off; 9th, 10th
	} {
		got, known := p.WorkingDays(d(tt.from), d(tt.to))
		if got != tt.want || !known {
			t.Errorf("WorkingDays(%s, %s) = %d (known %t), want %d", tt.from, tt.to, got, known, tt.want)
		}
	}
	if _, known := p.WorkingDays(d("2026-03-02"), d("2026-03-06")); known {
		t.Error("2026 has no calendar in the default policy, yet it counted as known")
	}
}

func TestCalendarValidation(t *testing.T) {
	base := string(defaultYAML)
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"WorkdayOnAWeekday", "workdays: [2024-02-04,", "workdays: [2024-02-05,", "only a weekend day"},
		{"HolidayAndWorkday", "      - 2024-01-01                # 元旦", "      - 2024-02-04", "both a holiday and a working day"},
		{"OtherYear", "      - 2024-01-01                # 元旦", "      - 2023-12-31", "is not in 2024"},
		{"Twice", "      - 2024-01-01                # 元旦", "      - 2024-02-11", "listed twice"},
		{"BadRange", "2024-02-10..2024-02-17", "2024-02-17..2024-02-10", "bad range"},
		{"NoCalendarForCampaign", `submission: ["2024-09-05", "2024-09-30"]`, `submission: ["2026-09-05", "2026-09-30"]`, "no calendar of 2026"},
		{"UnknownKey", "  require_period: false", "  require_period: false\n  required_period: true", "not found"},
		{"MinDays", "  min_working_days: 5", "  min_working_days: 0", "min_working_days"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.from) {
				t.Fatalf("default.yaml lacks %q", tt.from)
			}
			_, err := Parse([]byte(strings.Replace(base, tt.from, tt.to, 1)))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
