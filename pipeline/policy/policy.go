package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/blindpack/blindpack/pipeline/clarity"
)

//go:embed default.yaml
var defaultYAML []byte

// Audience says who may see a material.
type Audience string

// Audiences.
const (
	Reviewers      Audience = "reviewers"
	Administrators Audience = "administrators"
)

// Label names a series or level in both languages.
type Label struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

// Material describes one material type.
type Material struct {
	ZH         string   `yaml:"zh"`
	ShortZH    string   `yaml:"short_zh"`
	EN         string   `yaml:"en"`
	Audience   Audience `yaml:"audience"`
	Masks      []string `yaml:"masks"`
	Repeatable bool     `yaml:"repeatable"`
	MaxPages   int      `yaml:"max_pages"`
}

// Requirement lists the required materials of some series × levels.
type Requirement struct {
	Series   []string   `yaml:"series"`
	Levels   []string   `yaml:"levels"`
	Required [][]string `yaml:"required"`
}

// Policy is a loaded, checked policy file.
type Policy struct {
	Version      int                 `yaml:"version"`
	SeriesNames  map[string]Label    `yaml:"series"`
	LevelNames   map[string]Label    `yaml:"levels"`
	Materials    map[string]Material `yaml:"materials"`
	Requirements []Requirement       `yaml:"requirements"`
	PacketOrder  []string            `yaml:"packet_order"`
	// Clarity holds the thresholds of the per-page clarity check. Fields a
	// policy file leaves out keep the values of the built-in default.
	Clarity clarity.Thresholds `yaml:"clarity"`
	// Returns are the rules on returned applications.
	Returns Returns `yaml:"returns"`
	// Campaigns are the calendars of the campaigns open for submissions,
	// by campaign name.
	Campaigns map[string]Campaign `yaml:"campaigns"`
	// Calendars are the official holiday calendars by year ("2024"),
	// which working days are counted by; every campaign's year must have
	// one.
	Calendars map[string]*Calendar `yaml:"calendars"`
	// Publicity is the rule on the employer's publicity period.
	Publicity Publicity `yaml:"publicity"`
}

// MaskKinds are the kinds of mask a submission may carry.
var MaskKinds = []string{"name", "employer"}

// ErrInvalid is returned (wrapped) for a policy file that does not hold
// together.
var ErrInvalid = errors.New("policy: invalid")

// Default returns the policy shipped with blindpack.
func Default() *Policy {
	p, err := Parse(defaultYAML)
	if err != nil {
		panic("policy: embedded default.yaml: " + err.Error())
	}
	return p
}

// defaultClarity is the clarity section of the built-in policy, which
// fills in whatever a loaded policy file does not say: a deployment that
// replaces the policy to change its materials keeps checking clarity.
var defaultClarity = sync.OnceValue(func() clarity.Thresholds {
	var doc struct {
		Clarity clarity.Thresholds `yaml:"clarity"`
	}
	if err := yaml.NewDecoder(strings.NewReader(string(defaultYAML))).Decode(&doc); err != nil {
		panic("policy: embedded default.yaml: " + err.Error())
	}
	return doc.Clarity
})

// Load reads and checks a policy file.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: load: %w", err)
	}
	return Parse(data)
}

// Parse reads and checks a policy document. Unknown fields are errors, so
// that a misspelt key does not silently change the rules.
func Parse(data []byte) (*Policy, error) {
	p := Policy{Clarity: defaultClarity(), Returns: Returns{WindowHours: 48, MaxReturns: 3}, Publicity: Publicity{MinWorkingDays: 5}}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks that every name the policy uses is defined.
func (p *Policy) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
	}
	if p.Version != 1 {
		return bad("version %d, want 1", p.Version)
	}
	if len(p.SeriesNames) == 0 || len(p.LevelNames) == 0 || len(p.Materials) == 0 || len(p.Requirements) == 0 {
		return bad("series, levels, materials and requirements must all be given")
	}
	for t, m := range p.Materials {
		if m.ZH == "" || m.EN == "" {
			return bad("material %s: zh and en names are required", t)
		}
		if m.Audience != Reviewers && m.Audience != Administrators {
			return bad("material %s: audience %q", t, m.Audience)
		}
		for _, k := range m.Masks {
			if !slices.Contains(MaskKinds, k) {
				return bad("material %s: mask kind %q", t, k)
			}
		}
		if m.MaxPages < 1 {
			return bad("material %s: max_pages must be at least 1", t)
		}
	}
	for _, t := range p.PacketOrder {
		if m, ok := p.Materials[t]; !ok || m.Audience != Reviewers {
			return bad("packet_order: %q is not a material for reviewers", t)
		}
	}
	seen := map[[2]string]bool{}
	for i, r := range p.Requirements {
		if len(r.Series) == 0 || len(r.Levels) == 0 {
			return bad("requirement %d: series and levels are required", i)
		}
		for _, s := range r.Series {
			if _, ok := p.SeriesNames[s]; !ok {
				return bad("requirement %d: unknown series %q", i, s)
			}
			for _, l := range r.Levels {
				if _, ok := p.LevelNames[l]; !ok {
					return bad("requirement %d: unknown level %q", i, l)
				}
				if seen[[2]string{s, l}] {
					return bad("requirement %d: %s/%s is listed twice", i, s, l)
				}
				seen[[2]string{s, l}] = true
			}
		}
		for _, group := range r.Required {
			if len(group) == 0 {
				return bad("requirement %d: empty alternative", i)
			}
			for _, t := range group {
				if _, ok := p.Materials[t]; !ok {
					return bad("requirement %d: unknown material %q", i, t)
				}
			}
		}
	}
	if err := p.Returns.validate(); err != nil {
		return err
	}
	for name, c := range p.Calendars {
		if c == nil {
			return bad("calendars: %s is empty", name)
		}
		if err := c.validate(name); err != nil {
			return err
		}
	}
	for name, c := range p.Campaigns {
		if err := c.validate(name); err != nil {
			return err
		}
		// Working days are counted by the calendar of the campaign's year:
		// without it a publicity over a holiday would pass unnoticed.
		from, _ := c.SubmissionPeriod()
		if _, ok := p.Calendars[fmt.Sprint(from.Year())]; !ok {
			return bad("campaign %s: no calendar of %d under calendars: (holidays and adjusted working days)", name, from.Year())
		}
	}
	if err := p.Publicity.validate(); err != nil {
		return err
	}
	if err := p.Clarity.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// requirement returns the rule for series × level, or nil when the notice
// does not open that combination.
func (p *Policy) requirement(series, level string) *Requirement {
	for i := range p.Requirements {
		r := &p.Requirements[i]
		if slices.Contains(r.Series, series) && slices.Contains(r.Levels, level) {
			return r
		}
	}
	return nil
}

// InScope reports whether applications for series × level are accepted.
func (p *Policy) InScope(series, level string) bool { return p.requirement(series, level) != nil }

// Required returns the required materials of series × level: each entry a
// list of alternatives, one of which must be present.
func (p *Policy) Required(series, level string) [][]string {
	if r := p.requirement(series, level); r != nil {
		return r.Required
	}
	return nil
}

// Material returns the description of a material type.
func (p *Policy) Material(typ string) (Material, bool) {
	m, ok := p.Materials[typ]
	return m, ok
}

// Series returns the names of a series.
func (p *Policy) Series(s string) (Label, bool) { l, ok := p.SeriesNames[s]; return l, ok }

// Level returns the names of a level.
func (p *Policy) Level(l string) (Label, bool) { lb, ok := p.LevelNames[l]; return lb, ok }

// PacketRank orders material types in a packet: types listed in
// packet_order by their place there, any other reviewer type after them.
func (p *Policy) PacketRank(typ string) int {
	if i := slices.Index(p.PacketOrder, typ); i >= 0 {
		return i
	}
	return len(p.PacketOrder)
}
