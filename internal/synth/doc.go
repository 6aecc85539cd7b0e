// Package synth draws synthetic scans of the documents a professional-title
// (职称) applicant uploads — application form, work summary, certificates,
// publicity notices — with a fake name and employer at known positions.
//
// Tests, the demo and benchmarks need pages that look like real uploads, and
// they need to know exactly where the identity was drawn so that they can
// check masks against it: a real scan cannot tell them that. Everything is
// deterministic (same inputs, same bytes), so fixtures can be committed and
// regenerated without noise in diffs.
//
// The text is drawn with the WenQuanYi Zen Hei font that blindpack already
// depends on (Debian package fonts-wqy-zenhei). Generating a page costs a few
// tens of milliseconds at 150 ppi; loading the font once costs about 50 ms.
package synth
