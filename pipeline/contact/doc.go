// Package contact draws a contact sheet of a submission: every page as a
// thumbnail, the way the applicant's page is displayed, with the failing
// pages outlined in red and labelled with their reason, and the masks drawn
// as outlines. It is what an administrator would rather look at than read a
// list of findings. It shows the originals, so it is for administrators
// only and is stored beside the uploads, never with packets or reports.
package contact
