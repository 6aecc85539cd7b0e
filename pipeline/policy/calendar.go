package policy

import (
	"fmt"
	"strings"
	"time"
)

// Calendar is one year's official calendar of the People's Republic of
// China, as the State Council's notice on public holidays for that year
// (国务院办公厅关于某年部分节假日安排的通知) sets it: the days off (放假,
// weekends within a holiday included or not — both are days off) and the
// weekend days that are working days instead (调休上班). Each entry is a
// date (2024-10-01) or an inclusive range (2024-10-01..2024-10-07).
type Calendar struct {
	Holidays []string `yaml:"holidays"`
	Workdays []string `yaml:"workdays"`

	off, on map[string]bool // parsed by validate, by YYYY-MM-DD
}

// Publicity is the rule on the employer's internal publicity of an
// application (通知 三(三)): at least MinWorkingDays working days.
// RequirePeriod makes a submission without the publicity period a
// finding; off by default (see README: the period is an optional field
// of the submission, and the administrators check the uploaded notice).
type Publicity struct {
	MinWorkingDays int  `yaml:"min_working_days"`
	RequirePeriod  bool `yaml:"require_period"`
}

func (p Publicity) validate() error {
	if p.MinWorkingDays < 1 || p.MinWorkingDays > 60 {
		return fmt.Errorf("%w: publicity: min_working_days %d out of 1–60", ErrInvalid, p.MinWorkingDays)
	}
	return nil
}

// maxCalendarDays bounds a range in a calendar and a period counted.
const maxCalendarDays = 366

// expand turns the entries of a calendar list into dates of year.
func expand(year int, entries []string, what string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, e := range entries {
		from, to, isRange := strings.Cut(e, "..")
		if !isRange {
			to = from
		}
		a, err := day(strings.TrimSpace(from))
		if err != nil {
			return nil, fmt.Errorf("%w: calendars: %s %q: want YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD", ErrInvalid, what, e)
		}
		b, err := day(strings.TrimSpace(to))
		if err != nil || b.Before(a) || b.Sub(a) > maxCalendarDays*24*time.Hour {
			return nil, fmt.Errorf("%w: calendars: %s %q: bad range", ErrInvalid, what, e)
		}
		for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
			if d.Year() != year {
				return nil, fmt.Errorf("%w: calendars: %s %q is not in %d", ErrInvalid, what, e, year)
			}
			k := d.Format(time.DateOnly)
			if out[k] {
				return nil, fmt.Errorf("%w: calendars: %s %s listed twice", ErrInvalid, what, k)
			}
			out[k] = true
		}
	}
	return out, nil
}

func (c *Calendar) validate(name string) error {
	var year int
	if _, err := fmt.Sscanf(name, "%4d", &year); err != nil || fmt.Sprint(year) != name {
		return fmt.Errorf("%w: calendars: %q is not a year", ErrInvalid, name)
	}
	var err error
	if c.off, err = expand(year, c.Holidays, "holiday"); err != nil {
		return err
	}
	if c.on, err = expand(year, c.Workdays, "working day"); err != nil {
		return err
	}
	for k := range c.on {
		d, _ := day(k)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return fmt.Errorf("%w: calendars: working day %s is a %s: only a weekend day can be made a working day (调休)", ErrInvalid, k, wd)
		}
		if c.off[k] {
			return fmt.Errorf("%w: calendars: %s is both a holiday and a working day", ErrInvalid, k)
		}
	}
	return nil
}

// working reports whether the day d is a working day under c.
func (c *Calendar) working(d time.Time) bool {
	k := d.Format(time.DateOnly)
	switch {
	case c.off[k]:
		return false
	case c.on[k]:
		return true
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// WorkingDays counts the working days from the day from to the day to,
// both included, under the official calendars of the policy. known is
// false when a day falls in a year the policy has no calendar for; such
// days count Monday to Friday as working days, which overcounts any
// holiday among them.
func (p *Policy) WorkingDays(from, to time.Time) (n int, known bool) {
	known = true
	from = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, Beijing)
	to = time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, Beijing)
	for d, i := from, 0; !d.After(to) && i <= maxCalendarDays; d, i = d.AddDate(0, 0, 1), i+1 {
		c, ok := p.Calendars[fmt.Sprint(d.Year())]
		if !ok {
			known = false
			if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
				n++
			}
			continue
		}
		if c.working(d) {
			n++
		}
	}
	return n, known
}

// ParseDay reads a date (YYYY-MM-DD) as a day in Beijing time, the zone
// of the notice's dates.
func ParseDay(s string) (time.Time, error) { return day(s) }
