package graphql

import (
	"context"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits bound what one request may ask for. Each is checked before any
// resolver runs; a request over one gets an error naming it. Zero fields
// take the defaults.
type Limits struct {
	// Depth is how deeply selections may nest (default 12).
	Depth int
	// Complexity is the most a query may cost: one a field, a list's
	// fields times its page size (first, or 50 when not given), a user's
	// security information more (default 10,000).
	Complexity int
	// Tokens is the parser's token limit (default 10,000).
	Tokens int
	// Aliases is how many aliased fields a query may have (default 30).
	Aliases int
	// BodyBytes limits a POST body (default 1 MiB).
	BodyBytes int64
}

// Default limits.
const (
	DefaultDepth      = 12
	DefaultComplexity = 10000
	DefaultTokens     = 10000
	DefaultAliases    = 30
	DefaultBodyBytes  = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.Depth <= 0 {
		l.Depth = DefaultDepth
	}
	if l.Complexity <= 0 {
		l.Complexity = DefaultComplexity
	}
	if l.Tokens <= 0 {
		l.Tokens = DefaultTokens
	}
	if l.Aliases <= 0 {
		l.Aliases = DefaultAliases
	}
	if l.BodyBytes <= 0 {
		l.BodyBytes = DefaultBodyBytes
	}
	return l
}

// limitCheck checks a parsed and validated operation against the limits,
// and that a GET asks for a query, before it runs.
type limitCheck struct {
	limits Limits
	schema graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*limitCheck)(nil)

func (c *limitCheck) ExtensionName() string { return "RosterLimits" }

func (c *limitCheck) Validate(schema graphql.ExecutableSchema) error {
	c.schema = schema
	return nil
}

func (c *limitCheck) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if readOnly(ctx) && op.Operation != ast.Query {
		err := gqlerror.Errorf("a GET request may only run a query: send mutations with POST")
		errcode.Set(err, errcode.ValidationFailed)
		err.Extensions["method"] = "GET"
		return err
	}
	w := walker{opCtx: opCtx, memo: map[string]size{}}
	size := w.measure(op.SelectionSet)
	if size.depth > c.limits.Depth {
		return limitError("depth", "the query nests %d levels deep, over the depth limit of %d", size.depth, c.limits.Depth)
	}
	if aliases := countAliases(opCtx.Doc); aliases > c.limits.Aliases {
		return limitError("aliases", "the query has %d aliases, over the aliases limit of %d", aliases, c.limits.Aliases)
	}
	// Every field costs at least one: a query whose fragments expand to
	// more fields than the limit is over it before it is priced.
	if size.fields > c.limits.Complexity {
		return limitError("complexity", "the query expands to more than %d fields, over the complexity limit", c.limits.Complexity)
	}
	if cost := complexity.Calculate(ctx, c.schema, op, opCtx.Variables); cost > c.limits.Complexity {
		return limitError("complexity", "the query costs %d, over the complexity limit of %d (a list costs its fields times first)",
			cost, c.limits.Complexity)
	}
	if fields := textProblems(opCtx.Doc, op, opCtx.Variables); len(fields) > 0 {
		return invalidError(fields...)
	}
	return nil
}

// size is how deep a selection nests and how many fields it expands to,
// fragments included (saturating at maxFields).
type size struct{ depth, fields int }

const maxFields = 1 << 30

// walker measures an operation's selections, each fragment once.
type walker struct {
	opCtx *graphql.OperationContext
	memo  map[string]size
}

func (w *walker) measure(set ast.SelectionSet) size {
	var total size
	for _, sel := range set {
		var s size
		switch sel := sel.(type) {
		case *ast.Field:
			s = w.measure(sel.SelectionSet)
			s.depth++
			s.fields = min(s.fields+1, maxFields)
		case *ast.InlineFragment:
			s = w.measure(sel.SelectionSet)
		case *ast.FragmentSpread:
			s = w.fragment(sel.Name)
		}
		total.depth = max(total.depth, s.depth)
		total.fields = min(total.fields+s.fields, maxFields)
	}
	return total
}

func (w *walker) fragment(name string) size {
	if s, ok := w.memo[name]; ok {
		return s
	}
	w.memo[name] = size{} // a cycle (validation refuses them) counts nothing
	var s size
	if frag := w.opCtx.Doc.Fragments.ForName(name); frag != nil {
		s = w.measure(frag.SelectionSet)
	}
	w.memo[name] = s
	return s
}

// countAliases counts the aliased fields written in the document, each
// where it is written.
func countAliases(doc *ast.QueryDocument) int {
	n := 0
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if sel.Alias != "" && sel.Alias != sel.Name {
					n++
				}
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				walk(sel.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return n
}
