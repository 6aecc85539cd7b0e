package policy

import (
	"fmt"
	"time"
)

// Returns are the notice's rules on returned applications: the applicant
// has WindowHours to fix and resubmit, and once an application has been
// returned MaxReturns times its next submission is refused.
type Returns struct {
	WindowHours int `yaml:"window_hours"`
	MaxReturns  int `yaml:"max_returns"`
}

// Window is the resubmission window.
func (r Returns) Window() time.Duration { return time.Duration(r.WindowHours) * time.Hour }

func (r Returns) validate() error {
	if r.WindowHours < 1 || r.MaxReturns < 1 {
		return fmt.Errorf("%w: returns: window_hours and max_returns must be at least 1", ErrInvalid)
	}
	return nil
}

// Campaign is one campaign's calendar: the online submission period and
// the material review period, as inclusive dates (YYYY-MM-DD) in Beijing
// time, which the notice's dates are in.
type Campaign struct {
	Submission [2]string `yaml:"submission"`
	Review     [2]string `yaml:"review"`
}

// Beijing is the time zone of the notice's dates (UTC+8, kept by
// Xinjiang's offices for official deadlines).
var Beijing = time.FixedZone("CST", 8*3600)

func day(s string) (time.Time, error) { return time.ParseInLocation("2006-01-02", s, Beijing) }

// Period returns the first instant of the first day and the first instant
// after the last day of an inclusive date range.
func period(r [2]string) (time.Time, time.Time, error) {
	from, err := day(r[0])
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to, err := day(r[1])
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return from, to.AddDate(0, 0, 1), nil
}

// SubmissionPeriod is the online submission period as [from, until).
func (c Campaign) SubmissionPeriod() (from, until time.Time) {
	from, until, _ = period(c.Submission) // checked when the policy was loaded
	return from, until
}

func (c Campaign) validate(name string) error {
	for _, r := range [][2]string{c.Submission, c.Review} {
		from, until, err := period(r)
		if err != nil || !from.Before(until) {
			return fmt.Errorf("%w: campaign %s: bad period %v", ErrInvalid, name, r)
		}
	}
	return nil
}

// Campaign returns a campaign's calendar.
func (p *Policy) Campaign(name string) (Campaign, bool) {
	c, ok := p.Campaigns[name]
	return c, ok
}
