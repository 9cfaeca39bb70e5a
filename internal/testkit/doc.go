// Package testkit holds the helpers that tests of several packages share:
// a real SMTP server on the loopback interface that keeps what it receives,
// TOTP codes computed by oathtool, an authenticator independent of
// Roster's own code, an external identity provider's JWKS and JWTs, and a
// log buffer safe for concurrent handlers. It
// imports nothing of Roster's, so that any package's tests can use it.
package testkit
