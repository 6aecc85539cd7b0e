package verify

import (
	"regexp"
	"sort"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/blindpack/blindpack/pipeline/finding"
)

// Keys blindpack writes; anything else in these dictionaries was not put
// there by blindpack.
var (
	catalogKeys   = keySet("Type", "Pages", "Outlines", "PageMode", "Lang")
	pageKeys      = keySet("Type", "Parent", "MediaBox", "Resources", "Contents")
	resourceKeys  = keySet("Font", "XObject", "ExtGState")
	extGStateKeys = keySet("Type", "ca", "CA")
	infoKeys      = keySet("Producer", "Creator")
)

func keySet(ks ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range ks {
		m[k] = true
	}
	return m
}

func (v *verifier) unexpectedKeys(d types.Dict, allowed map[string]bool, page int, where string) {
	var extra []string
	for k := range d {
		if !allowed[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		if _, flagged := forbiddenKeys[k]; !flagged { // already reported with its own code
			v.add(finding.ForeignContent, page, "%s /%s", where, k)
		}
	}
}

// outlineTitle is the form of every bookmark blindpack writes.
var outlineTitle = regexp.MustCompile(`^(封面 Cover|\d+\. \p{Han}+ 第\d+(–\d+)?页)$`)

func (v *verifier) catalog() {
	xt := v.ctx.XRefTable
	root, err := xt.Catalog()
	if err != nil {
		v.add(finding.UnverifiablePacket, 0, "catalog: %v", err)
		return
	}
	v.unexpectedKeys(root, catalogKeys, 0, "catalog")
	if xt.Info != nil {
		if info, err := xt.DereferenceDict(*xt.Info); err == nil {
			for k := range info {
				if !infoKeys[k] {
					v.add(finding.MetadataPresent, 0, "document information /%s", k)
				}
			}
		}
	}
	if o, ok := root.Find("Outlines"); ok {
		if d, err := xt.DereferenceDict(o); err == nil && d != nil {
			v.outline(d, 0)
		}
	}
}

// outline checks that every bookmark title has blindpack's form. (Titles
// are also searched for the identity with every other string.)
func (v *verifier) outline(d types.Dict, depth int) {
	xt := v.ctx.XRefTable
	item, _ := d.Find("First")
	for n := 0; item != nil && n < 10000; n++ {
		it, err := xt.DereferenceDict(item)
		if err != nil || it == nil {
			v.add(finding.ForeignContent, 0, "outline: %v", err)
			return
		}
		if o, ok := it.Find("Title"); ok {
			title, err := xt.DereferenceText(o)
			if err != nil || !outlineTitle.MatchString(title) {
				v.add(finding.ForeignContent, 0, "outline title not written by blindpack")
			}
		}
		if _, ok := it.Find("A"); ok {
			v.add(finding.JavaScriptPresent, 0, "outline item with an action")
		}
		if depth < 4 {
			v.outline(it, depth+1)
		}
		item, _ = it.Find("Next")
	}
}

// fontOK reports whether a font resource is one blindpack embeds: Type0,
// Identity-H, a ToUnicode map, one CIDFontType2 descendant with a TrueType
// program.
func (v *verifier) fontOK(d types.Dict) bool {
	xt := v.ctx.XRefTable
	if sub := d.Subtype(); sub == nil || *sub != "Type0" {
		return false
	}
	if enc := d.NameEntry("Encoding"); enc == nil || *enc != "Identity-H" {
		return false
	}
	if _, ok := d.Find("ToUnicode"); !ok {
		return false
	}
	arr, err := xt.DereferenceArray(d["DescendantFonts"])
	if err != nil || len(arr) != 1 {
		return false
	}
	cid, err := xt.DereferenceDict(arr[0])
	if err != nil || cid == nil {
		return false
	}
	if sub := cid.Subtype(); sub == nil || *sub != "CIDFontType2" {
		return false
	}
	fd, err := xt.DereferenceDict(cid["FontDescriptor"])
	if err != nil || fd == nil {
		return false
	}
	_, ok := fd.Find("FontFile2")
	return ok
}
