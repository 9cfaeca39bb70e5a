package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/rosterhq/roster"
)

// Message is one email. To and Text are required. HTML is optional: when
// set, the mail is sent as multipart/alternative with Text as the plain part.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer sends email. Send returns an error when the message is invalid or
// the server does not accept it; a nil error means the server took it.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// recipient validates m and returns its parsed recipient.
func (m Message) recipient() (*mail.Address, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("notify: invalid recipient address: %w", err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("notify: subject must be a single line")
	}
	if m.Text == "" {
		return nil, fmt.Errorf("notify: message to %s has no text", roster.MaskEmail(to.Address))
	}
	return to, nil
}
