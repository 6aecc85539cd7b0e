// Package people is what every page for people shares in `blindpack
// serve`: accounts (argon2id passwords, a TOTP second factor enrolled with
// a QR code), one sign-in, one session store (Redis, package state), one
// layout, stylesheet and script, and the access rule each audience's
// prefix is mounted behind.
//
// Audiences and their rules — each checked by Site before any handler of
// the audience runs:
//
//   - administrators, /console/ (package console): Require(RoleAdministrator);
//   - reviewers, /review/ (package review): Require(RoleReviewer);
//   - the public, /results/ and /verify/ (package public): Public;
//   - everyone, /account/ (this package): sign-in, second factor,
//     enrolment, password change, sign-out.
//
// Sign-in is two steps: user name and password, then a six-digit code
// from the person's authenticator app (RFC 6238, 30-second steps, one
// step of clock skew either way, each code good once). An account made or
// reset by an administrator carries a one-time password: the person
// chooses their own, then enrols the second factor by scanning a QR code
// (or typing the secret shown beside it) and typing a code. Failures are
// counted per account and per client address in Redis; past the limit
// the account or address is locked for a while, and every failure, lock,
// sign-in and sign-out lands in the security audit trail.
//
// A session is kept server-side under a digest of its cookie, which is
// HttpOnly, Secure, SameSite=Strict and __Host- prefixed (the whole site,
// this host only). It ends on sign-out, after an idle time, after a fixed
// lifetime, and at once when its account is disabled or its password or
// second factor is reset (package state closes every session of the
// account, and each request also checks the account's epoch). Every form
// that changes something carries the session's anti-forgery token, and
// cross-origin requests are refused before that. Pages carry a strict
// Content-Security-Policy: no inline script or style, no framing.
//
// Passwords are never stored or logged; TOTP secrets are stored sealed
// (AES-256-GCM under a key derived with HKDF from the server's secret,
// bound to the account name).
package people
