package people

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/blindpack/blindpack/pipeline/policy"
)

// Link is one entry of an audience's navigation.
type Link struct {
	Href, ZH, EN string
	// ID is the element id, for tests and skip links.
	ID string
}

// Audience describes whose pages a set of templates renders: its name
// (console, review, public, account), its title in both languages, its
// home and navigation.
type Audience struct {
	Name             string
	TitleZH, TitleEN string
	Home             string
	Nav              []Link
}

// Frame is what the shared layout needs around every page.
type Frame struct {
	Audience Audience
	Title    string
	// Who is the signed-in account's name ("" when nobody is).
	Who, Actor string
	CSRF       string
	Body       any
	BodyClass  string
	// Path is the request's path, to mark the current navigation entry.
	Path string
}

// Pages renders one audience's templates inside the shared layout.
type Pages struct {
	site  *Site
	aud   Audience
	pages map[string]*template.Template
}

// Funcs are the template functions every page may use.
var Funcs = template.FuncMap{
	"bj": Beijing,
}

// Beijing formats a time as the notice states times: Beijing time, to the
// minute ("" for the zero time).
func Beijing(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(policy.Beijing).Format("2006-01-02 15:04")
}

// Pages parses the templates names (templates/NAME.html in fsys, each
// defining "content") with the shared layout, for one audience.
func (s *Site) Pages(aud Audience, fsys fs.FS, funcs template.FuncMap, names ...string) (*Pages, error) {
	p := &Pages{site: s, aud: aud, pages: map[string]*template.Template{}}
	for _, name := range append(names, "error") {
		if _, done := p.pages[name]; done {
			continue
		}
		t := template.New("layout.html").Funcs(Funcs).Funcs(funcs)
		t, err := t.ParseFS(templateFS, "templates/layout.html")
		if err != nil {
			return nil, fmt.Errorf("people: layout: %w", err)
		}
		src := fsys
		if name == "error" {
			src = templateFS
		}
		if t, err = t.ParseFS(src, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("people: template %s: %w", name, err)
		}
		p.pages[name] = t
	}
	return p, nil
}

// titled lets a page's body give its own title.
type titled interface{ Title() string }

// Show renders a page for the visitor the gate put in r's context. It is
// rendered into a buffer first, so that a template error is a clean 500,
// never half a page.
func (p *Pages) Show(w http.ResponseWriter, r *http.Request, code int, name, title string, body any) {
	f := Frame{Audience: p.aud, Title: title, Body: body, BodyClass: p.aud.Name + " " + name, Path: r.URL.Path}
	if t, ok := body.(titled); ok {
		f.Title = t.Title()
	}
	if v := FromContext(r.Context()); v.SignedIn() {
		f.Who, f.Actor, f.CSRF = v.Account, v.Actor(), v.CSRF
	}
	t, ok := p.pages[name]
	var b bytes.Buffer
	if !ok {
		p.site.log.Error("people: no such template", "page", name)
	} else if err := t.Execute(&b, f); err != nil {
		p.site.log.Error("people: render", "page", name, "err", err)
		ok = false
	}
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("internal error; see the server log\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// ErrorView is the body of the error page.
type ErrorView struct {
	Code                 int
	ZH, EN               string
	Back, BackZH, BackEN string
}

// Error answers an error as a small page in both languages, in this
// audience's frame.
func (p *Pages) Error(w http.ResponseWriter, r *http.Request, code int, zh, en string) {
	ev := &ErrorView{Code: code, ZH: zh, EN: en, Back: p.aud.Home, BackZH: "返回首页", BackEN: "Back to the start"}
	if ev.Back == "" {
		ev.Back = "/"
	}
	p.Show(w, r, code, "error", fmt.Sprintf("%d 错误 Error", code), ev)
}

// Error answers an error page outside any audience (the gate's refusals).
func (s *Site) Error(w http.ResponseWriter, r *http.Request, code int, zh, en string) {
	s.pages.Error(w, r, code, zh, en)
}

// InternalError logs err (errors here come from Redis, S3 and our own
// code, never identity) and answers 500 without details.
func (p *Pages) InternalError(w http.ResponseWriter, r *http.Request, op string, err error) {
	p.site.log.Error("request failed", "op", op, "path", r.URL.Path, "err", err)
	p.Error(w, r, http.StatusInternalServerError, "服务器内部错误，请查看服务器日志。", "Internal error; see the server log.")
}
