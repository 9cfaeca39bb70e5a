package store

import (
	"strings"
	"unicode"
)

// searchWords splits a search (q) into the word prefixes it asks for, as
// migrations/0015_word_search.sql splits users.words: lower-cased, at
// whitespace and . _ - @ +.
func searchWords(q string) []string {
	return strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("._@+-", r)
	})
}

// prefixTSQuery is the tsquery that holds when every word is the start of a
// lexeme: 'ada':* & 'lov':*. Each word is quoted, so no character of it is
// tsquery syntax, and cast with ::tsquery, so no text search configuration
// changes it.
func prefixTSQuery(words []string) string {
	quote := strings.NewReplacer(`\`, `\\`, `'`, `''`)
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = "'" + quote.Replace(w) + "':*"
	}
	return strings.Join(terms, " & ")
}
