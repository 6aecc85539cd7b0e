// Package packet assembles a reviewer's packet: a cover page with the
// anonymous applicant code and an index of materials, then every page of
// every material for reviewers as an image built here — masks burned in, a
// visible watermark stamped over it — with a bookmark per material.
//
// Pages are added one at a time and written straight out, so a packet of
// hundreds of pages never sits in memory. A JPEG page without masks goes in
// as its original compressed bytes (metadata stripped by package scan): no
// re-encoding, no quality loss, almost no CPU.
package packet
