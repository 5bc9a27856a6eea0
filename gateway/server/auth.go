package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/hush-gateway/hush/gateway"
)

type tokenKey struct{}

// callerName is the name of the token that authenticated the request ("ops"), for the
// CreatedBy/LiftedBy fields: "admin:ops".
func callerName(ctx context.Context) string {
	if t, ok := ctx.Value(tokenKey{}).(*Token); ok {
		return "admin:" + t.Name
	}
	return "admin"
}

// authenticator checks bearer tokens against the configured ones.
type authenticator struct {
	tokens []Token
	hashes [][sha256.Size]byte
}

func newAuthenticator(tokens []Token) *authenticator {
	a := &authenticator{tokens: tokens}
	for _, t := range tokens {
		a.hashes = append(a.hashes, sha256.Sum256([]byte(t.Token)))
	}
	return a
}

// find returns the token matching presented. Comparing fixed-size hashes in constant time,
// and always against every token, keeps both the value and the length of the configured
// tokens out of reach of timing.
func (a *authenticator) find(presented string) *Token {
	h := sha256.Sum256([]byte(presented))
	var found *Token
	for i := range a.tokens {
		if a.tokens[i].Token == "" {
			continue // an unset ${VAR} must not make the empty token valid
		}
		if subtle.ConstantTimeCompare(h[:], a.hashes[i][:]) == 1 {
			found = &a.tokens[i]
		}
	}
	return found
}

// require lets through requests bearing a token whose role is one of roles: 401 without a
// valid token, 403 with a token of another role.
func (a *authenticator) require(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, presented, ok := strings.Cut(r.Header.Get("Authorization"), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(presented) == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hush"`)
				writeErrorCode(w, gateway.CodeUnauthorized, "an Authorization: Bearer <token> header is required")
				return
			}
			tok := a.find(strings.TrimSpace(presented))
			if tok == nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hush", error="invalid_token"`)
				writeErrorCode(w, gateway.CodeUnauthorized, "the bearer token is not valid")
				return
			}
			if !slices.Contains(roles, tok.Role) {
				writeErrorCode(w, gateway.CodeForbidden, "token "+tok.Name+" (role "+tok.Role+") may not use this route")
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
		})
	}
}
