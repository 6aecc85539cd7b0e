package storage

import "path"

// ReviewerCopyKey is where a reviewer's personal, stamped copy of a packet
// is kept in the packets bucket: beside the packet, under reviewers/, named
// by the anonymous code and the reviewer's code only.
func ReviewerCopyKey(campaign, anonCode, reviewer string) string {
	return path.Join(campaign, anonCode, "reviewers", reviewer+".pdf")
}
