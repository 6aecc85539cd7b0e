package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a code read
// aloud or copied by hand is not mistaken.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// AnonCode is the applicant's anonymous code for a campaign: a keyed hash
// (HMAC-SHA256) of campaign and applicant id, 40 bits shown as two groups of
// four characters after the campaign, e.g. "2024-7K3M-9QXD". It is the same
// for every resubmission, so a reviewer's assignment survives a return, and
// without the secret it cannot be turned back into an applicant id or
// guessed from one.
func AnonCode(secret []byte, campaign, applicantID string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("blindpack/anon/v1\x00" + campaign + "\x00" + applicantID))
	sum := mac.Sum(nil)
	var b strings.Builder
	b.WriteString(campaign)
	// 40 bits → 8 symbols of 5 bits.
	v := uint64(sum[0])<<32 | uint64(sum[1])<<24 | uint64(sum[2])<<16 | uint64(sum[3])<<8 | uint64(sum[4])
	for i := 0; i < 8; i++ {
		if i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford[(v>>(35-5*i))&31])
	}
	return b.String()
}
