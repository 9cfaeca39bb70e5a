package auth

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// PasskeyConfig is the WebAuthn relying party: the domain passkeys are
// bound to, the name authenticators show, and the origins (scheme, host,
// port) browsers may run the ceremonies from.
type PasskeyConfig struct {
	RPID    string
	RPName  string
	Origins []string
}

// NewPasskeyConfig returns the relying party of ROSTER_WEBAUTHN_RP_ID,
// ROSTER_WEBAUTHN_RP_NAME and ROSTER_WEBAUTHN_ORIGINS (comma-separated),
// each "" for its default: the host and the origin of publicURL, and
// "Roster".
func NewPasskeyConfig(publicURL, rpID, rpName, origins string) (PasskeyConfig, error) {
	c := PasskeyConfig{RPID: rpID, RPName: rpName}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
			return c, fmt.Errorf("ROSTER_WEBAUTHN_ORIGINS: %q is not an origin such as https://id.example.com", o)
		}
		c.Origins = append(c.Origins, o)
	}
	if c.RPID == "" || len(c.Origins) == 0 {
		u, err := url.Parse(publicURL)
		if err != nil || u.Host == "" {
			return c, fmt.Errorf("the WebAuthn relying party needs ROSTER_WEBAUTHN_RP_ID and ROSTER_WEBAUTHN_ORIGINS, or a ROSTER_PUBLIC_URL to derive them from")
		}
		host := u.Host
		if net.ParseIP(u.Hostname()) != nil {
			// WebAuthn has no relying party on an IP address; a service
			// reached at one (in development) offers passkeys on localhost.
			host = "localhost"
			if port := u.Port(); port != "" {
				host += ":" + port
			}
		}
		if c.RPID == "" {
			c.RPID = strings.Split(host, ":")[0]
		}
		if len(c.Origins) == 0 {
			c.Origins = []string{u.Scheme + "://" + host}
		}
	}
	if c.RPName == "" {
		c.RPName = DefaultTOTPIssuer
	}
	return c, nil
}
