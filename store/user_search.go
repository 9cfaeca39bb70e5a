package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// wordPrefixLength is the longest word prefix users.words holds as a lexeme
// of its own (migrations/0015_word_search.sql).
const wordPrefixLength = 10

// searchWords splits a search (q) into the word prefixes it asks for, as
// user_search_words splits the searched names: lower-cased, at whitespace
// and . _ - @ +.
func searchWords(q string) []string {
	return strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("._@+-", r)
	})
}

// prefixTSQuery is the tsquery that holds when every word starts a word of
// users.words: a word of up to wordPrefixLength characters is a lexeme of
// its own there ('lov'), a longer one a prefix of a whole word
// ('lovelacefamily':*). Each word is quoted, so no character of it is
// tsquery syntax, and the query is cast with ::tsquery, so no text search
// configuration changes it.
func prefixTSQuery(words []string) string {
	quote := strings.NewReplacer(`\`, `\\`, `'`, `''`)
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = "'" + quote.Replace(w) + "'"
		if utf8.RuneCountInString(w) > wordPrefixLength {
			terms[i] += ":*"
		}
	}
	return strings.Join(terms, " & ")
}
