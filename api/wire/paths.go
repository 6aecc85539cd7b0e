package wire

import (
	"net/url"
	"strings"
)

// ResultFilesPrefix is where published result files are downloaded by
// anyone, without a token: the public results pages (package api/public)
// serve a file of the results bucket under its key, and result.issued
// links to it.
const ResultFilesPrefix = "/results/files/"

// ResultFilePath is the public path of the result file stored under key in
// the results bucket ("2024/头人社发-2024-12号.pdf" →
// "/results/files/2024/%E5%A4%B4…pdf"), or "" for a key the public pages
// do not serve (not a PDF). The key is the file's name for good: a
// document number is issued once, and issuing it again replaces the file
// under the same key.
func ResultFilePath(key string) string {
	if key == "" || !strings.HasSuffix(key, ".pdf") || strings.HasPrefix(key, "/") {
		return ""
	}
	return ResultFilesPrefix + (&url.URL{Path: key}).EscapedPath()
}
