// Package stamp makes a reviewer's personal copy of a review packet.
//
// A copy is made the first time a reviewer downloads a packet: every page
// gets a visible stamp naming the reviewer and the time the copy was made
// (“评审专家 E-0042 · 2024-10-03 09:15Z · 仅供评审”), so that a printed,
// photographed or forwarded page says whose copy it was. The packet is
// stamped, not rebuilt: pdfkit.Stamp copies its images and every other
// object byte for byte and adds one content stream per page and one small
// font subset, so a copy of a 60-page packet costs milliseconds and no
// image is decoded. The copy is a single revision, so the packet verifier
// (package verify) accepts it exactly as it accepts the packet.
//
// The copy also carries an invisible mark: the first element of its PDF
// file identifier (/ID) is derived from the reviewer's code and the
// packet's SHA-256 (FileID). It survives copying the file and forwarding
// it, and most editors keep it when they re-save a file (PDF 32000 §14.4
// says the first element stays with the file); it does not survive
// printing, a screenshot, “print to PDF” or a tool that rewrites the
// trailer — those keep only what the pages show, which is the visible
// stamp.
package stamp
