package storage

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest key accepted, the S3 limit.
const MaxKeyLen = 1024

// CheckKey returns an error wrapping ErrInvalidKey unless key is a clean,
// relative, slash-separated path: no empty, "." or ".." segments, no leading
// or trailing slash, no backslash, no control characters, valid UTF-8.
func CheckKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why) }
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad("too long")
	case !utf8.ValidString(key):
		return bad("not UTF-8")
	case strings.ContainsRune(key, '\\'):
		return bad("backslash")
	case path.Clean(key) != key || strings.HasPrefix(key, "/"):
		return bad("not a clean relative path")
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." || seg == "" {
			return bad("dot segment")
		}
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return bad("control character")
		}
	}
	return nil
}

// SubmissionKey is where a submission document is kept in the uploads
// bucket. The document names the applicant, so it stays beside the originals
// and only its key travels in a task payload.
func SubmissionKey(campaign, applicantID, submissionID string) string {
	return path.Join("submissions", campaign, applicantID, submissionID+".json")
}

// PacketKey is where the review packet of an applicant is published in the
// packets bucket. It is named by the anonymous code only.
func PacketKey(campaign, anonCode string) string {
	return path.Join(campaign, anonCode, "packet.pdf")
}

// StagedPacketKey is where a packet waits in the uploads bucket, beside
// the originals and out of reviewers' reach, until the OCR gate has passed
// it or an administrator has released it.
func StagedPacketKey(campaign, applicantID, submissionID string) string {
	return path.Join("staged", campaign, applicantID, submissionID+".pdf")
}

// StagedReportKey is where the report of a staged packet waits in the
// uploads bucket while OCR reads the packet: the report proper is written
// only once the gate has decided.
func StagedReportKey(campaign, applicantID, submissionID string) string {
	return path.Join("staged", campaign, applicantID, submissionID+".json")
}

// ReportKey is where the report of one submission is written in the reports
// bucket.
func ReportKey(campaign, applicantID, submissionID string) string {
	return path.Join(campaign, applicantID, submissionID+".json")
}
