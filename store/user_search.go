package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// wordPrefixLength is the longest word prefix users.words holds as a lexeme
// of its own (migrations/0015_word_search.sql).
const wordPrefixLength = 10

// searchTerms splits a search (q) at whitespace into what its terms ask
// for. A term with @ after a letter or digit is the start of an e-mail
// address (olga.tanaka@example.org, olga.tanaka@): what scripts look a
// person up by, found on users_email_local_idx. Any other term's words
// are word prefixes, split as user_search_words splits the searched names:
// lower-cased, at . _ - @ +.
func searchTerms(q string) (words, addresses []string) {
	for _, term := range strings.FieldsFunc(q, unicode.IsSpace) {
		if at := strings.IndexByte(term, '@'); at > 0 && strings.IndexFunc(term[:at], isWordRune) >= 0 {
			addresses = append(addresses, term)
			continue
		}
		words = append(words, strings.FieldsFunc(strings.ToLower(term), func(r rune) bool {
			return strings.ContainsRune("._@+-", r)
		})...)
	}
	return words, addresses
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// isSearch reports whether q asks for anything.
func isSearch(q string) bool {
	words, addresses := searchTerms(q)
	return len(words) > 0 || len(addresses) > 0
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
