package graphql

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
)

// directWrite is one of gqlgen's HTTP transports whose operations'
// responses are written once, as they are. gqlgen's transports marshal the
// finished response again, and encoding/json re-reads (compacts) the whole
// data it holds: 58% of what GraphQL added to the CPU of a page of 50
// users. Everything else (parameters, content negotiation, the status of a
// request error) stays the transport's own.
type directWrite struct{ graphql.Transport }

// Do runs the transport, the response of an operation written directly.
func (t directWrite) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	out := &responseOnce{ResponseWriter: w}
	t.Transport.Do(out, r, directExecutor{GraphExecutor: exec, out: out})
}

// responseOnce drops what the transport writes once the response went out.
type responseOnce struct {
	http.ResponseWriter
	sent bool
}

func (o *responseOnce) Write(b []byte) (int, error) {
	if o.sent {
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

// directExecutor writes each operation's response itself and hands the
// transport an empty one to marshal, which responseOnce drops.
type directExecutor struct {
	graphql.GraphExecutor
	out *responseOnce
}

func (e directExecutor) DispatchOperation(ctx context.Context, opCtx *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	responses, ctx := e.GraphExecutor.DispatchOperation(ctx, opCtx)
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp == nil || e.out.sent {
			return resp
		}
		raw, err := appendResponse(make([]byte, 0, len(resp.Data)+256), resp)
		if err != nil {
			return resp // the transport marshals it, and reports what fails
		}
		_, _ = e.out.Write(raw)
		e.out.sent = true
		return &graphql.Response{}
	}, ctx
}

// appendResponse is resp as encoding/json writes graphql.Response, its
// data (which gqlgen wrote as JSON) copied as it is.
func appendResponse(b []byte, resp *graphql.Response) ([]byte, error) {
	b = append(b, '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `"errors":`...), errs...)
		b = append(b, ',')
	}
	b = append(b, `"data":`...)
	if len(resp.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, resp.Data...)
	}
	for _, f := range []struct {
		key   string
		value any
		set   bool
	}{
		{"label", resp.Label, resp.Label != ""},
		{"path", resp.Path, len(resp.Path) > 0},
		{"hasNext", resp.HasNext, resp.HasNext != nil},
		{"extensions", resp.Extensions, len(resp.Extensions) > 0},
	} {
		if !f.set {
			continue
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, `,"`...), f.key...), `":`...)
		b = append(b, v...)
	}
	return append(b, '}'), nil
}
