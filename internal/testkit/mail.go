package testkit

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Mail is one message as the SMTP server took it.
type Mail struct {
	From   string   // the envelope sender
	To     []string // the envelope recipients
	Data   []byte   // the message as it came, headers and body
	TLS    bool     // the session was encrypted when MAIL FROM came
	AuthAs string   // the user that authenticated, if any

	Header  mail.Header
	Subject string // decoded from its MIME encoded-words
	Body    string // decoded from quoted-printable, multipart parts and all
}

// parseMail fills in m's header, subject and body from its data.
func parseMail(m *Mail) error {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	// Decoding a multipart body whole joins the lines its parts' soft line
	// breaks split, so a long link reads as one; a body that is not
	// quoted-printable stays as it came.
	body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
	if err != nil {
		body = raw
	}
	m.Header, m.Body = msg.Header, string(body)
	m.Subject = msg.Header.Get("Subject")
	var dec mime.WordDecoder
	if s, err := dec.DecodeHeader(m.Subject); err == nil {
		m.Subject = s
	}
	return nil
}

// sentTo reports whether one of m's recipients ends in suffix, ignoring
// case as mail domains do.
func (m Mail) sentTo(suffix string) bool {
	for _, rcpt := range m.To {
		if strings.HasSuffix(strings.ToLower(rcpt), strings.ToLower(suffix)) {
			return true
		}
	}
	return false
}
