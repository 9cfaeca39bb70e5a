package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// SignHook returns the webhook-signature header of a Standard Webhooks
// message: "v1," and the base64 HMAC-SHA256, keyed with the secret, of
// "id.timestamp.body", the timestamp in Unix seconds.
func SignHook(key []byte, id string, at time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
