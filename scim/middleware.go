package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	scimContentType = "application/scim+json"
	errorMessageURN = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// writeError answers with an RFC 7644 §3.12 error; its status member is
// the HTTP status as a string.
func writeError(w http.ResponseWriter, status int, scimType, detail string) {
	body, err := encodeJSON(struct {
		Schemas  []string `json:"schemas"`
		ScimType string   `json:"scimType,omitempty"`
		Detail   string   `json:"detail,omitempty"`
		Status   string   `json:"status"`
	}{[]string{errorMessageURN}, scimType, detail, strconv.Itoa(status)})
	if err != nil {
		w.WriteHeader(status)
		return
	}
	h := w.Header()
	h.Del("Etag")
	h.Del("Location")
	h.Set("Content-Type", scimContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone
}

// fixResponses completes what the library writes: absolute meta.location
// and Location, ETag from meta.version, list responses with the counts
// RFC 7644 §3.4.2 asks for, the SCIM media type everywhere, and SCIM
// errors in place of anything the library lets out of a failed handler.
// A GET whose If-None-Match holds the resource's ETag is answered 304.
// base is the service's public base URL (https://host/scim/v2); with a nil
// base, it is taken from each request's Host and scheme.
func fixResponses(base *url.URL, log *slog.Logger) func(http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if base != nil {
		b := *base
		b.Path = strings.TrimSuffix(b.Path, "/") + "/"
		b.RawPath = ""
		base = &b
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			base := base
			if base == nil {
				base = requestBase(r)
			}
			buf := newBufferedWriter(w)
			next.ServeHTTP(buf, r)
			if buf.status == 0 {
				buf.status = http.StatusOK
			}
			status, body := buf.status, buf.body.Bytes()
			switch {
			case status >= 500:
				// The library puts a failed handler's error text in detail.
				log.ErrorContext(r.Context(), "scim: internal error hidden from the client",
					"method", r.Method, "path", r.URL.Path, "status", status, "body", string(body))
				copyHeader(w.Header(), buf.header)
				writeError(w, status, "", serverErrorDetail(status))
				return
			case len(body) == 0 && (status == http.StatusNoContent || status == http.StatusNotModified):
				buf.header.Del("Content-Type")
				buf.flush()
				return
			}
			buf.header.Set("Content-Type", scimContentType)
			doc, err := decodeJSONObject(body)
			if status >= 400 && (err != nil || !isErrorMessage(doc)) {
				copyHeader(w.Header(), buf.header)
				writeError(w, status, "", strings.ToLower(http.StatusText(status)))
				return
			}
			if err != nil {
				buf.flush()
				return
			}
			switch {
			case status >= 400:
				doc["status"] = strconv.Itoa(status)
			case hasSchema(doc, listResponseURN):
				fixList(doc, base)
			case status < 300:
				fixResource(doc, base, buf.header, status == http.StatusCreated && r.Method == http.MethodPost)
				if r.Method == http.MethodGet && status == http.StatusOK && notModified(r, buf.header.Get("Etag")) {
					writeNotModified(w, buf.header)
					return
				}
			}
			if err := rewriteBody(buf, doc); err != nil {
				log.ErrorContext(r.Context(), "scim: response not rewritten", "err", err)
			}
			buf.flush()
		})
	}
}

// requestBase is the SCIM root as the client reached it.
func requestBase(r *http.Request) *url.URL {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: r.Host, Path: "/scim/v2/"}
}

// fixList makes Resources an array, itemsPerPage its length and the counts
// integers, as clients (Entra among them) parse them strictly.
func fixList(doc map[string]any, base *url.URL) {
	resources, _ := doc["Resources"].([]any)
	if resources == nil {
		resources = []any{}
	}
	doc["Resources"] = resources
	for _, res := range resources {
		if m, ok := res.(map[string]any); ok {
			fixLocation(m, base)
		}
	}
	doc["itemsPerPage"] = len(resources)
	total, ok := asInt(doc["totalResults"])
	if !ok {
		total = len(resources)
	}
	doc["totalResults"] = total
	start, ok := asInt(doc["startIndex"])
	if !ok || start < 1 {
		start = 1
	}
	doc["startIndex"] = start
}

// fixResource makes meta.location absolute, sets ETag from meta.version
// and, for a creation, Location.
func fixResource(doc map[string]any, base *url.URL, h http.Header, created bool) {
	loc := fixLocation(doc, base)
	if created && loc != "" {
		h.Set("Location", loc)
	}
	meta, _ := doc["meta"].(map[string]any)
	version, _ := meta["version"].(string)
	if tag, ok := entityTag(version); ok {
		meta["version"] = tag
		h.Set("Etag", tag)
	}
}

// fixLocation resolves meta.location against base (RFC 7643 §3.1: it is
// the URI of the resource) and returns it.
func fixLocation(res map[string]any, base *url.URL) string {
	meta, _ := res["meta"].(map[string]any)
	loc, _ := meta["location"].(string)
	if loc == "" || base == nil {
		return loc
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	abs := base.ResolveReference(ref).String()
	meta["location"] = abs
	return abs
}

// entityTag turns a version into an RFC 9110 entity tag, quoting a bare
// one; a version that cannot be an entity tag gives no ETag at all.
func entityTag(version string) (string, bool) {
	if version == "" {
		return "", false
	}
	tag := version
	opaque, weak := strings.CutPrefix(version, "W/")
	switch {
	case len(opaque) >= 2 && opaque[0] == '"' && opaque[len(opaque)-1] == '"':
		opaque = opaque[1 : len(opaque)-1]
	case weak:
		return "", false
	default:
		tag = `"` + version + `"`
	}
	for i := 0; i < len(opaque); i++ {
		if c := opaque[i]; c == '"' || c < 0x21 || c == 0x7f {
			return "", false
		}
	}
	return tag, true
}

func serverErrorDetail(status int) string {
	if status == http.StatusInternalServerError {
		return "internal error"
	}
	return strings.ToLower(http.StatusText(status))
}

func isErrorMessage(doc map[string]any) bool {
	return hasSchema(doc, errorMessageURN)
}

func hasSchema(doc map[string]any, urn string) bool {
	schemas, _ := doc["schemas"].([]any)
	for _, s := range schemas {
		if s, ok := s.(string); ok && strings.EqualFold(s, urn) {
			return true
		}
	}
	return false
}

// asInt reads a count however a handler wrote it: 5, 5.0 or "5".
func asInt(v any) (int, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return int(i), true
		}
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	case float64:
		f = n
	case int:
		return n, true
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		return i, err == nil
	default:
		return 0, false
	}
	if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// rewriteBody replaces the held body with doc.
func rewriteBody(buf *bufferedWriter, doc map[string]any) error {
	body, err := encodeJSON(doc)
	if err != nil {
		return err
	}
	buf.body.Reset()
	buf.body.Write(body)
	buf.header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// decodeJSONObject reads one JSON object, keeping numbers as written.
func decodeJSONObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode json object: %w", err)
	}
	if doc == nil {
		return nil, errors.New("decode json object: null")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode json object: trailing data")
	}
	return doc, nil
}

// encodeJSON marshals v without HTML escaping, which SCIM clients do not
// expect in values such as filters in $ref.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
