// Package testkit holds the helpers that tests of several packages share:
// a real SMTP server on the loopback interface that keeps what it receives,
// and TOTP codes computed by oathtool, an authenticator independent of
// Roster's own code.
package testkit
