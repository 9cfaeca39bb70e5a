package flow

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
	for _, o := range c.Origins {
		if !withinRPID(o, c.RPID) {
			return c, fmt.Errorf("ROSTER_WEBAUTHN_RP_ID %q must be the host of each origin or a domain above it, and %s is neither: "+
				"browsers would refuse every passkey ceremony there", c.RPID, o)
		}
	}
	if c.RPName == "" {
		c.RPName = DefaultTOTPIssuer
	}
	return c, nil
}

// withinRPID reports whether a browser at origin may use the relying
// party rpID: the origin's host is rpID or a subdomain of it (WebAuthn
// Level 3, 5.1.4.1, "is a registrable domain suffix of or is equal to").
func withinRPID(origin, rpID string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	host, id := strings.ToLower(u.Hostname()), strings.ToLower(rpID)
	return host == id || strings.HasSuffix(host, "."+id)
}
