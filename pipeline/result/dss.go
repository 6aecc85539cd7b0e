package result

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/blindpack/blindpack/internal/pdfkit"
)

// dss is what a document security store holds (ISO 32000-2 12.8.4.3,
// ETSI EN 319 142-1 5.4): DER certificates, CRLs and OCSP responses, and
// for each signature (VRI, keyed by the SHA-1 of its /Contents) which of
// them validate it.
type dss struct {
	certs, crls, ocsps [][]byte
	// vri maps the upper-case hex SHA-1 of a signature's /Contents to
	// the indexes of its certs, CRLs and OCSP responses in the lists
	// above, and the time the data was gathered.
	vri map[string]vriEntry
}

type vriEntry struct {
	certs, crls, ocsps []int
	at                 time.Time
}

// vriKey is the key of a signature in the VRI dictionary: the SHA-1 of the
// bytes of its /Contents string, padding included, in upper-case hex.
func vriKey(contents []byte) string {
	sum := sha1.Sum(contents)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// addDER appends der to list unless it is there, and returns its index.
func addDER(list *[][]byte, der []byte) int {
	for i, d := range *list {
		if bytes.Equal(d, der) {
			return i
		}
	}
	*list = append(*list, der)
	return len(*list) - 1
}

// appendDSS writes signed, a signed PDF, followed by an incremental update
// that adds the document security store d to its catalog. The signature's
// byte range is untouched: an update that adds only validation data is the
// one kind of change after signing that PAdES allows (B-LT).
func appendDSS(signed []byte, d *dss) ([]byte, error) {
	xrefAt, eof, err := pdfkit.LastStartxref(signed)
	if err != nil {
		return nil, fmt.Errorf("result: DSS: %w", err)
	}
	if eof != len(bytes.TrimRight(signed, "\r\n")) {
		return nil, errors.New("result: DSS: data after the signed file's %%EOF")
	}
	x, err := pdfkit.ReadXref(signed, xrefAt)
	if err != nil {
		return nil, fmt.Errorf("result: DSS: the signed file's cross-reference section: %w", err)
	}
	root, ok := x.Trailer.Vals["Root"].(pdfkit.ObjRef)
	size, ok2 := x.Trailer.Vals["Size"].(int64)
	if !ok || !ok2 {
		return nil, errors.New("result: DSS: trailer without /Root or /Size")
	}
	cat, err := pdfkit.LookupObject(signed, xrefAt, root.Num)
	if err != nil {
		return nil, fmt.Errorf("result: DSS: catalog: %w", err)
	}
	catalog, ok := cat.Value.(*pdfkit.ObjDict)
	if !ok {
		return nil, errors.New("result: DSS: the catalog is not a dictionary")
	}
	if _, has := catalog.Vals["DSS"]; has {
		return nil, errors.New("result: DSS: the file has a document security store already")
	}

	var b bytes.Buffer
	b.Write(signed)
	if !bytes.HasSuffix(signed, []byte("\n")) {
		b.WriteByte('\n')
	}
	offsets := map[int]int{}
	next := int(size)
	writeObj := func(num int, body func()) {
		offsets[num] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", num)
		body()
		b.WriteString("\nendobj\n")
	}
	stream := func(der []byte) pdfkit.ObjRef {
		num := next
		next++
		writeObj(num, func() {
			fmt.Fprintf(&b, "<</Length %d>>\nstream\n", len(der))
			b.Write(der)
			b.WriteString("\nendstream")
		})
		return pdfkit.ObjRef{Num: num}
	}
	refs := func(list [][]byte) []any {
		out := make([]any, 0, len(list))
		for _, der := range list {
			out = append(out, stream(der))
		}
		return out
	}
	certs, crls, ocsps := refs(d.certs), refs(d.crls), refs(d.ocsps)

	dict := pdfkit.NewObjDict()
	dict.Set("Type", pdfkit.ObjName("DSS"))
	for _, l := range []struct {
		key  string
		refs []any
	}{{"Certs", certs}, {"CRLs", crls}, {"OCSPs", ocsps}} {
		if len(l.refs) > 0 {
			dict.Set(l.key, l.refs)
		}
	}
	if len(d.vri) > 0 {
		vri := pdfkit.NewObjDict()
		keys := make([]string, 0, len(d.vri))
		for k := range d.vri {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e := d.vri[k]
			ed := pdfkit.NewObjDict()
			pick := func(name string, idx []int, all []any) {
				if len(idx) == 0 {
					return
				}
				arr := make([]any, 0, len(idx))
				for _, i := range idx {
					arr = append(arr, all[i])
				}
				ed.Set(name, arr)
			}
			pick("Cert", e.certs, certs)
			pick("CRL", e.crls, crls)
			pick("OCSP", e.ocsps, ocsps)
			if !e.at.IsZero() {
				ed.Set("TU", []byte(pdfDate(e.at)))
			}
			vri.Set(k, ed)
		}
		dict.Set("VRI", vri)
	}
	dssNum := next
	next++
	writeObj(dssNum, func() { pdfkit.WriteValue(&b, dict) })

	// The catalog again, under its own number, with /DSS added.
	newCat := pdfkit.NewObjDict()
	for _, k := range catalog.Keys {
		newCat.Set(k, catalog.Vals[k])
	}
	newCat.Set("DSS", pdfkit.ObjRef{Num: dssNum})
	writeObj(root.Num, func() { pdfkit.WriteValue(&b, newCat) })

	// A classic cross-reference section: the catalog alone, then the new
	// objects in one run.
	xrefStart := b.Len()
	b.WriteString("xref\n")
	fmt.Fprintf(&b, "%d 1\n%010d %05d n\r\n", root.Num, offsets[root.Num], root.Gen)
	fmt.Fprintf(&b, "%d %d\n", size, next-int(size))
	for n := int(size); n < next; n++ {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", offsets[n])
	}
	trailer := pdfkit.NewObjDict()
	trailer.Set("Size", int64(next))
	trailer.Set("Root", root)
	for _, k := range []string{"Info", "ID"} {
		if v, ok := x.Trailer.Vals[k]; ok {
			trailer.Set(k, v)
		}
	}
	trailer.Set("Prev", int64(xrefAt))
	b.WriteString("trailer\n")
	pdfkit.WriteValue(&b, trailer)
	fmt.Fprintf(&b, "\nstartxref\n%d\n%%%%EOF\n", xrefStart)
	return b.Bytes(), nil
}

// pdfDate formats t as a PDF date in UTC.
func pdfDate(t time.Time) string { return "D:" + t.UTC().Format("20060102150405") + "Z" }

// Limits on what a document security store may hold when read, checked
// before the data is decoded.
const (
	maxDSSItems     = 256
	maxDSSItemBytes = maxCRL
)

// readUpdates checks that data[signedEnd:] is nothing but incremental
// updates that add a document security store: each redefines only the
// catalog, with every key it had kept as it was and /DSS added, and adds
// only objects the store refers to. It returns the store the last update
// leaves, or an error that says what else was found; a file that ends at
// signedEnd gives (nil, nil).
func readUpdates(data []byte, signedEnd int) (*dss, error) {
	if len(bytes.TrimSpace(data[signedEnd:])) == 0 {
		return nil, nil
	}
	prevXref, eof, err := pdfkit.LastStartxref(data[:signedEnd])
	if err != nil || len(bytes.TrimSpace(data[eof:signedEnd])) > 0 {
		return nil, errors.New("the signed bytes do not end with a complete revision")
	}
	x, err := pdfkit.ReadXref(data[:signedEnd], prevXref)
	if err != nil {
		return nil, fmt.Errorf("the signed revision's cross-reference section: %w", err)
	}
	root, ok := x.Trailer.Vals["Root"].(pdfkit.ObjRef)
	size, ok2 := x.Trailer.Vals["Size"].(int64)
	if !ok || !ok2 {
		return nil, errors.New("the signed revision's trailer has no /Root or /Size")
	}
	prevTrailer := x.Trailer
	cat, err := pdfkit.LookupObject(data[:signedEnd], prevXref, root.Num)
	if err != nil {
		return nil, fmt.Errorf("the signed revision's catalog: %w", err)
	}
	catalog, ok := cat.Value.(*pdfkit.ObjDict)
	if !ok {
		return nil, errors.New("the signed revision's catalog is not a dictionary")
	}
	if _, has := catalog.Vals["DSS"]; has {
		return nil, errors.New("the signed revision has a document security store already")
	}
	added := map[int]*pdfkit.Object{} // every object the updates add
	p := signedEnd
	for n := 0; ; n++ {
		for p < len(data) && pdfkit.IsSpace(data[p]) {
			p++
		}
		if p == len(data) {
			break
		}
		if n >= 16 {
			return nil, errors.New("more than 16 updates after the signature")
		}
		// Objects up to the cross-reference section.
		objs := map[int]*pdfkit.Object{}
		for !bytes.HasPrefix(data[p:], []byte("xref")) {
			o, err := pdfkit.ReadObject(data, p)
			if err != nil {
				return nil, fmt.Errorf("update %d: %w", n+1, err)
			}
			if _, dup := objs[o.Num]; dup || o.Gen != 0 {
				return nil, fmt.Errorf("update %d: object %d written twice or with a generation", n+1, o.Num)
			}
			objs[o.Num] = o
			for p = o.End; p < len(data) && pdfkit.IsSpace(data[p]); p++ {
			}
		}
		xs, err := pdfkit.ReadXref(data, p)
		if err != nil {
			return nil, fmt.Errorf("update %d: %w", n+1, err)
		}
		if len(xs.Entries) != len(objs) {
			return nil, fmt.Errorf("update %d: its cross-reference section lists %d objects, it has %d", n+1, len(xs.Entries), len(objs))
		}
		for num, off := range xs.Entries {
			if o, ok := objs[num]; !ok || int64(o.Start) != off {
				return nil, fmt.Errorf("update %d: cross-reference entry of object %d points elsewhere", n+1, num)
			}
		}
		// The trailer: same root, info and id; Prev the previous section.
		t := xs.Trailer
		newSize, _ := t.Vals["Size"].(int64)
		if prev, _ := t.Vals["Prev"].(int64); prev != int64(prevXref) {
			return nil, fmt.Errorf("update %d: /Prev is not the signed revision's cross-reference section", n+1)
		}
		for _, k := range t.Keys {
			switch k {
			case "Size", "Prev":
			case "Root", "Info", "ID":
				if !pdfkit.EqualValues(t.Vals[k], prevTrailer.Vals[k]) {
					return nil, fmt.Errorf("update %d: trailer /%s changed", n+1, k)
				}
			default:
				return nil, fmt.Errorf("update %d: trailer adds /%s", n+1, k)
			}
		}
		for _, k := range []string{"Root", "Info", "ID"} {
			if _, ok := prevTrailer.Vals[k]; ok {
				if _, ok := t.Vals[k]; !ok {
					return nil, fmt.Errorf("update %d: trailer drops /%s", n+1, k)
				}
			}
		}
		sx, end, err := pdfkit.StartxrefAt(data, xs.End)
		if err != nil || sx != p {
			return nil, fmt.Errorf("update %d: startxref does not name its cross-reference section", n+1)
		}
		// What the objects may be.
		for num, o := range objs {
			switch {
			case num == root.Num:
				nc, ok := o.Value.(*pdfkit.ObjDict)
				if !ok {
					return nil, fmt.Errorf("update %d: the catalog is not a dictionary", n+1)
				}
				for _, k := range nc.Keys {
					if k == "DSS" {
						continue
					}
					if old, ok := catalog.Vals[k]; !ok || !pdfkit.EqualValues(old, nc.Vals[k]) {
						return nil, fmt.Errorf("update %d: the catalog's /%s changed after signing", n+1, k)
					}
				}
				for _, k := range catalog.Keys {
					if _, ok := nc.Vals[k]; !ok && k != "DSS" {
						return nil, fmt.Errorf("update %d: the catalog's /%s was removed after signing", n+1, k)
					}
				}
				catalog = nc
			case int64(num) < size:
				return nil, fmt.Errorf("update %d: object %d of the signed revision was changed", n+1, num)
			case int64(num) >= newSize:
				return nil, fmt.Errorf("update %d: object %d is beyond the trailer's /Size", n+1, num)
			default:
				added[num] = o
			}
		}
		prevXref, prevTrailer, size = p, t, newSize
		p = end
	}
	return dssOf(catalog, added)
}

// dssOf reads the store the catalog names from the objects the updates
// added; every added object must belong to it.
func dssOf(catalog *pdfkit.ObjDict, added map[int]*pdfkit.Object) (*dss, error) {
	used := map[int]bool{}
	deref := func(v any) (*pdfkit.Object, error) {
		r, ok := v.(pdfkit.ObjRef)
		if !ok {
			return nil, errors.New("document security store: want a reference")
		}
		o, ok := added[r.Num]
		if !ok || r.Gen != 0 {
			return nil, fmt.Errorf("document security store: object %d is not one added after signing", r.Num)
		}
		used[r.Num] = true
		return o, nil
	}
	ref, ok := catalog.Vals["DSS"]
	if !ok {
		if len(added) > 0 {
			return nil, errors.New("objects were added after signing but the catalog has no document security store")
		}
		return nil, errors.New("an update after signing adds no document security store")
	}
	o, err := deref(ref)
	if err != nil {
		return nil, err
	}
	dict, ok := o.Value.(*pdfkit.ObjDict)
	if !ok || o.Stream != nil {
		return nil, errors.New("document security store is not a dictionary")
	}
	d := &dss{vri: map[string]vriEntry{}}
	index := map[int]int{} // object number → position in its list
	readList := func(key string, list *[][]byte) error {
		v, ok := dict.Vals[key]
		if !ok {
			return nil
		}
		arr, ok := v.([]any)
		if !ok || len(arr) > maxDSSItems {
			return fmt.Errorf("document security store: /%s is not an array of at most %d items", key, maxDSSItems)
		}
		for _, e := range arr {
			s, err := deref(e)
			if err != nil {
				return err
			}
			der, err := decodeStream(s)
			if err != nil {
				return fmt.Errorf("document security store: /%s: %w", key, err)
			}
			index[s.Num] = len(*list)
			*list = append(*list, der)
		}
		return nil
	}
	for _, k := range dict.Keys {
		switch k {
		case "Type":
			if dict.Vals[k] != pdfkit.ObjName("DSS") {
				return nil, errors.New("document security store: /Type is not /DSS")
			}
		case "Certs":
			err = readList(k, &d.certs)
		case "CRLs":
			err = readList(k, &d.crls)
		case "OCSPs":
			err = readList(k, &d.ocsps)
		case "VRI":
			err = readVRI(dict.Vals[k], d, index, deref)
		default:
			err = fmt.Errorf("document security store: unexpected /%s", k)
		}
		if err != nil {
			return nil, err
		}
	}
	for num := range added {
		if !used[num] {
			return nil, fmt.Errorf("object %d was added after signing but is not part of the document security store", num)
		}
	}
	return d, nil
}

func readVRI(v any, d *dss, index map[int]int, deref func(any) (*pdfkit.Object, error)) error {
	if r, ok := v.(pdfkit.ObjRef); ok {
		o, err := deref(r)
		if err != nil {
			return err
		}
		v = o.Value
	}
	vri, ok := v.(*pdfkit.ObjDict)
	if !ok || len(vri.Keys) > maxDSSItems {
		return errors.New("document security store: /VRI is not a dictionary")
	}
	for _, key := range vri.Keys {
		if len(key) != 40 {
			return fmt.Errorf("document security store: VRI key %q is not a SHA-1", key)
		}
		ev := vri.Vals[key]
		if r, ok := ev.(pdfkit.ObjRef); ok {
			o, err := deref(r)
			if err != nil {
				return err
			}
			ev = o.Value
		}
		ed, ok := ev.(*pdfkit.ObjDict)
		if !ok {
			return errors.New("document security store: a VRI entry is not a dictionary")
		}
		var e vriEntry
		for _, k := range ed.Keys {
			switch k {
			case "Type":
			case "Cert", "CRL", "OCSP":
				arr, ok := ed.Vals[k].([]any)
				if !ok || len(arr) > maxDSSItems {
					return fmt.Errorf("document security store: VRI /%s is not an array", k)
				}
				for _, r := range arr {
					s, err := deref(r)
					if err != nil {
						return err
					}
					i, ok := index[s.Num]
					if !ok {
						return fmt.Errorf("document security store: VRI /%s names an object not in the store's lists", k)
					}
					switch k {
					case "Cert":
						e.certs = append(e.certs, i)
					case "CRL":
						e.crls = append(e.crls, i)
					default:
						e.ocsps = append(e.ocsps, i)
					}
				}
			case "TU":
				s, ok := ed.Vals[k].([]byte)
				if !ok {
					return errors.New("document security store: VRI /TU is not a date")
				}
				e.at, _ = parsePDFDate(string(s))
			default:
				return fmt.Errorf("document security store: VRI has an unexpected /%s", k)
			}
		}
		d.vri[key] = e
	}
	return nil
}

// decodeStream returns the data of a store's stream: as it stands, or
// inflated when it is /FlateDecode (as other tools write them), never more
// than maxDSSItemBytes.
func decodeStream(o *pdfkit.Object) ([]byte, error) {
	dict, ok := o.Value.(*pdfkit.ObjDict)
	if !ok || o.Stream == nil {
		return nil, fmt.Errorf("object %d is not a stream", o.Num)
	}
	for _, k := range dict.Keys {
		if k != "Length" && k != "Filter" {
			return nil, fmt.Errorf("object %d: unexpected /%s", o.Num, k)
		}
	}
	switch f := dict.Vals["Filter"]; f {
	case nil:
		if len(o.Stream) > maxDSSItemBytes {
			return nil, fmt.Errorf("object %d: more than %d bytes", o.Num, maxDSSItemBytes)
		}
		return o.Stream, nil
	case pdfkit.ObjName("FlateDecode"):
		zr, err := zlib.NewReader(bytes.NewReader(o.Stream))
		if err != nil {
			return nil, fmt.Errorf("object %d: %v", o.Num, err)
		}
		data, err := io.ReadAll(io.LimitReader(zr, maxDSSItemBytes+1))
		if err != nil {
			return nil, fmt.Errorf("object %d: %v", o.Num, err)
		}
		if len(data) > maxDSSItemBytes {
			return nil, fmt.Errorf("object %d: inflates past %d bytes", o.Num, maxDSSItemBytes)
		}
		return data, nil
	}
	return nil, fmt.Errorf("object %d: filter other than FlateDecode", o.Num)
}

// parseCerts parses DER certificates, skipping none: a store entry that is
// not a certificate is a problem.
func parseCerts(ders [][]byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(ders))
	for _, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("document security store: certificate: %v", err)
		}
		out = append(out, c)
	}
	return out, nil
}
