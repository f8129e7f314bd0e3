package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"custodia/governance"
	"custodia/xapi"
)

// Bearer JWTs (RFC 7519) from the identity providers an operator trusts.
//
// A token is accepted only when it is a compact JWS (RFC 7515 §7.1) whose
// header names an algorithm on its issuer's allow-list (asymmetric only:
// never "none", never HMAC) and, by kid, a key in that issuer's configured
// key set; whose signature verifies with that key; and whose claims pass
// validation: iss and aud as configured, exp required, exp/nbf/iat within
// the issuer's clock skew, sub present. Keys named by the token itself
// (jku, x5u, jwk, x5c) are never used: a token carrying them is refused
// (RFC 8725 §3.10), as is one with critical extensions. Claims are read only
// from a verified token. Every refusal is Unauthorized and happens before the
// Gate is called.

// MaxTokenBytes is the largest Bearer token accepted.
const MaxTokenBytes = 8 << 10

// Issuer is a trusted issuer of Bearer JWTs, as configured in the issuers
// file (see ParseIssuers and the README).
type Issuer struct {
	// Issuer is the exact iss claim of its tokens.
	Issuer string `json:"iss"`
	// Name is shown as the name of the authority of statements written with
	// its tokens; default: Issuer. It names the identity provider, never a person.
	Name string `json:"name,omitempty"`
	// Audience must be among the token's aud values.
	Audience string `json:"audience"`
	// JWKSFile is a JWK Set file (RFC 7517 §5) with the issuer's public
	// keys; a relative path is relative to the issuers file.
	JWKSFile string `json:"jwks_file,omitempty"`
	// JWKSURL is fetched, only from this URL (https, or http on a loopback
	// address), cached and refreshed every JWKSRefresh; a token whose kid is
	// not in the cached set triggers at most one early refresh a minute.
	JWKSURL string `json:"jwks_url,omitempty"`
	// JWKSRefresh is how often the set at JWKSURL is fetched again
	// (Go duration; default 15m, at least 1m).
	JWKSRefresh string `json:"jwks_refresh,omitempty"`
	// Algs are the signature algorithms accepted: RS256/384/512,
	// PS256/384/512, ES256/384/512, EdDSA.
	Algs []string `json:"algs"`
	// ClockSkew bounds how far exp, nbf and iat may be off (Go duration;
	// default 60s, at most 5m).
	ClockSkew string `json:"clock_skew,omitempty"`
	// RolesClaim names the claim holding the roles (an array of strings or
	// a space-separated string); default "roles".
	RolesClaim string `json:"roles_claim,omitempty"`
	// RoleMap maps values of the roles claim to Custodia roles; it is
	// required ({} grants no role), and values it does not list are
	// ignored: no IdP value grants a role by its name alone.
	RoleMap map[string]string `json:"role_map,omitempty"`
	// ScopesClaim names the claim holding the xAPI scopes (a space-separated
	// string, or an array); default "scope". Values that are not xAPI
	// scopes are ignored.
	ScopesClaim string `json:"scopes_claim,omitempty"`
	// DefaultScopes apply when the token has no scopes claim; default: as
	// for a credential created without scopes.
	DefaultScopes []string `json:"default_scopes,omitempty"`
	// Agent says which claim names the person: "email" (an mbox; a token
	// with email_verified false is refused), "sub" (an account with the
	// issuer as homePage; the default), or "none".
	Agent string `json:"agent,omitempty"`
	// PurposeClaim names the claim with the default purpose of the token's
	// requests; default "purpose". Absent: no default purpose.
	PurposeClaim string `json:"purpose_claim,omitempty"`
}

// ParseIssuers parses an issuers file: {"issuers": [Issuer…]}, strictly
// (unknown keys are refused), and checks each issuer.
func ParseIssuers(data []byte) ([]Issuer, error) {
	var f struct {
		Issuers []Issuer `json:"issuers"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("issuers file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("issuers file: more than one JSON value")
	}
	seen := map[string]bool{}
	for i, is := range f.Issuers {
		if _, err := is.check(); err != nil {
			return nil, fmt.Errorf("issuers[%d]: %w", i, err)
		}
		if seen[is.Issuer] {
			return nil, fmt.Errorf("issuers[%d]: iss %q is configured twice", i, is.Issuer)
		}
		seen[is.Issuer] = true
	}
	return f.Issuers, nil
}

// acceptedAlgs are the signature algorithms an issuer may allow: the
// asymmetric ones. "none" and HMAC (whose key would be public) never.
var acceptedAlgs = map[string]jwa.SignatureAlgorithm{
	"RS256": jwa.RS256, "RS384": jwa.RS384, "RS512": jwa.RS512,
	"PS256": jwa.PS256, "PS384": jwa.PS384, "PS512": jwa.PS512,
	"ES256": jwa.ES256, "ES384": jwa.ES384, "ES512": jwa.ES512,
	"EdDSA": jwa.EdDSA,
}

// issuerSettings are an Issuer's checked settings.
type issuerSettings struct {
	algs    map[jwa.SignatureAlgorithm]bool
	skew    time.Duration
	refresh time.Duration
}

func (is Issuer) check() (issuerSettings, error) {
	var st issuerSettings
	if is.Issuer == "" || is.Audience == "" {
		return st, errors.New("iss and audience are required")
	}
	if (is.JWKSFile == "") == (is.JWKSURL == "") {
		return st, errors.New("exactly one of jwks_file and jwks_url is required")
	}
	if is.JWKSURL != "" {
		u, err := url.Parse(is.JWKSURL)
		if err != nil || u.Host == "" || u.User != nil || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
			return st, fmt.Errorf("jwks_url %q must be an https URL (http only on a loopback address)", is.JWKSURL)
		}
	}
	if len(is.Algs) == 0 {
		return st, errors.New("algs: at least one signature algorithm is required")
	}
	st.algs = map[jwa.SignatureAlgorithm]bool{}
	for _, a := range is.Algs {
		alg, ok := acceptedAlgs[a]
		if !ok {
			return st, fmt.Errorf("algs: %q is not accepted (asymmetric algorithms only: RS256…, PS256…, ES256…, EdDSA)", a)
		}
		st.algs[alg] = true
	}
	var err error
	if st.skew, err = durationOr(is.ClockSkew, time.Minute); err != nil || st.skew < 0 || st.skew > 5*time.Minute {
		return st, fmt.Errorf("clock_skew %q: want a duration from 0s to 5m", is.ClockSkew)
	}
	if st.refresh, err = durationOr(is.JWKSRefresh, 15*time.Minute); err != nil || st.refresh < time.Minute {
		return st, fmt.Errorf("jwks_refresh %q: want a duration of at least 1m", is.JWKSRefresh)
	}
	switch is.Agent {
	case "", "sub":
		if u, err := url.Parse(is.Issuer); err != nil || !u.IsAbs() || u.Host == "" {
			return st, errors.New(`agent "sub" makes an account whose homePage is iss: iss must be an absolute URL`)
		}
	case "email", "none":
	default:
		return st, fmt.Errorf(`agent %q: want "email", "sub" or "none"`, is.Agent)
	}
	if is.RoleMap == nil {
		return st, errors.New(`role_map is required: it lists which values of the roles claim grant which Custodia role ({} for none); nothing is granted by name alone`)
	}
	for k, r := range is.RoleMap {
		if !governance.ValidRole(r) {
			return st, fmt.Errorf("role_map[%q]: %q is not a role", k, r)
		}
	}
	for _, s := range is.DefaultScopes {
		if !governance.ValidScope(s) {
			return st, fmt.Errorf("default_scopes: %q is not an xAPI scope", s)
		}
	}
	return st, nil
}

func durationOr(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	return time.ParseDuration(s)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TokenOptions configure a TokenVerifier.
type TokenOptions struct {
	// Dir is the directory relative jwks_file paths are read from.
	Dir string
	// HTTPClient fetches jwks_url sets; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock tokens are validated against; nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// TokenVerifier verifies Bearer JWTs of the configured issuers and maps
// them to principals.
type TokenVerifier struct {
	issuers []*issuer
	now     func() time.Time
	log     *slog.Logger
}

type issuer struct {
	cfg Issuer
	st  issuerSettings
	set jwk.Set    // from jwks_file
	jc  *jwk.Cache // for jwks_url

	mu     sync.Mutex
	forced time.Time // last refresh forced by an unknown kid
}

// NewTokenVerifier loads the key sets of issuers: files are read now, URLs
// are registered with a cache (refreshed in the background until ctx ends)
// and fetched once now; a URL that cannot be fetched yet is logged and
// retried on use.
func NewTokenVerifier(ctx context.Context, issuers []Issuer, opts TokenOptions) (*TokenVerifier, error) {
	v := &TokenVerifier{now: opts.Now, log: opts.Logger}
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	var cache *jwk.Cache
	for i, cfg := range issuers {
		st, err := cfg.check()
		if err != nil {
			return nil, fmt.Errorf("issuers[%d]: %w", i, err)
		}
		is := &issuer{cfg: cfg, st: st}
		if cfg.JWKSFile != "" {
			path := cfg.JWKSFile
			if !filepath.IsAbs(path) {
				path = filepath.Join(opts.Dir, path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("issuers[%d]: jwks_file %s cannot be read: %w", i, path, err)
			}
			set, err := jwk.Parse(b)
			if err != nil {
				return nil, fmt.Errorf("issuers[%d]: jwks_file %s is not a JWK Set", i, path)
			}
			if set.Len() == 0 {
				return nil, fmt.Errorf("issuers[%d]: jwks_file %s holds no key", i, path)
			}
			if is.set, err = publicSet(set); err != nil {
				return nil, fmt.Errorf("issuers[%d]: jwks_file %s: %w", i, path, err)
			}
		} else {
			if cache == nil {
				cache = jwk.NewCache(ctx, jwk.WithErrSink(logSink{v.log}))
			}
			only := cfg.JWKSURL
			err := cache.Register(only,
				jwk.WithHTTPClient(client),
				jwk.WithRefreshInterval(st.refresh),
				jwk.WithMinRefreshInterval(time.Minute),
				// Only ever this URL, whatever a fetched document says.
				jwk.WithFetchWhitelist(jwk.WhitelistFunc(func(u string) bool { return u == only })),
				jwk.WithPostFetcher(jwk.PostFetchFunc(func(_ string, set jwk.Set) (jwk.Set, error) { return publicSet(set) })),
			)
			if err != nil {
				return nil, fmt.Errorf("issuers[%d]: jwks_url: %w", i, err)
			}
			is.jc = cache
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err = cache.Refresh(fctx, only)
			cancel()
			if err != nil {
				v.log.Warn("could not fetch an issuer's JWK Set yet; retrying on use", "iss", cfg.Issuer, "err", err)
			}
		}
		v.issuers = append(v.issuers, is)
	}
	return v, nil
}

// logSink logs background fetch errors of the key-set cache.
type logSink struct{ log *slog.Logger }

func (s logSink) Error(err error) { s.log.Warn("refreshing a JWK Set failed", "err", err) }

// publicSet returns the public keys of set, refusing symmetric keys (a
// shared secret must never be an issuer key) and keys without a kid.
func publicSet(set jwk.Set) (jwk.Set, error) {
	for i := range set.Len() {
		k, _ := set.Key(i)
		if k.KeyType() == "oct" {
			return nil, errors.New("a symmetric (oct) key is not accepted in an issuer's key set")
		}
		if k.KeyID() == "" {
			return nil, fmt.Errorf("key %d has no kid", i)
		}
	}
	return jwk.PublicSetOf(set)
}

// keys returns the issuer's current key set.
func (is *issuer) keys(ctx context.Context) (jwk.Set, error) {
	if is.set != nil {
		return is.set, nil
	}
	return is.jc.Get(ctx, is.cfg.JWKSURL)
}

// lookup finds kid in the issuer's set, refreshing a URL set early (at
// most once a minute) when kid is unknown: the issuer may have rotated keys.
func (is *issuer) lookup(ctx context.Context, kid string, now time.Time) (jwk.Key, bool) {
	set, err := is.keys(ctx)
	if err == nil {
		if k, ok := set.LookupKeyID(kid); ok {
			return k, true
		}
	}
	if is.jc == nil {
		return nil, false
	}
	is.mu.Lock()
	if now.Sub(is.forced) < time.Minute && !is.forced.IsZero() {
		is.mu.Unlock()
		return nil, false
	}
	is.forced = now
	is.mu.Unlock()
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	set, err = is.jc.Refresh(fctx, is.cfg.JWKSURL)
	if err != nil {
		return nil, false
	}
	return set.LookupKeyID(kid)
}

var errBadToken = &xapi.Error{Kind: xapi.Unauthorized, Op: "server.bearer", Msg: "invalid bearer token"}

// compactJWS matches the compact serialization of a JWS with a
// non-empty signature: three base64url parts.
func isCompactJWS(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// keyFits reports whether key k may verify signatures of alg: its type
// matches the algorithm's family and its own alg and use, when set, agree.
func keyFits(k jwk.Key, alg jwa.SignatureAlgorithm) bool {
	var kty jwa.KeyType
	switch alg {
	case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
		kty = jwa.RSA
	case jwa.ES256, jwa.ES384, jwa.ES512:
		kty = jwa.EC
	case jwa.EdDSA:
		kty = jwa.OKP
	default:
		return false
	}
	if k.KeyType() != kty {
		return false
	}
	if a := k.Algorithm(); a != nil && a.String() != "" && a.String() != alg.String() {
		return false
	}
	return k.KeyUsage() == "" || k.KeyUsage() == string(jwk.ForSignature)
}

// Verify checks a Bearer token and returns the principal it stands for.
// Any failure is Unauthorized with a generic message; the reason is logged
// at debug level, never the token.
func (v *TokenVerifier) Verify(ctx context.Context, tok string) (governance.Principal, error) {
	p, reason := v.verify(ctx, tok)
	if reason != "" {
		v.log.DebugContext(ctx, "bearer token refused", "reason", reason, "request_id", governance.RequestID(ctx))
		return governance.Principal{}, errBadToken
	}
	return p, nil
}

func (v *TokenVerifier) verify(ctx context.Context, tok string) (governance.Principal, string) {
	if len(tok) > MaxTokenBytes {
		return governance.Principal{}, "token too large"
	}
	if !isCompactJWS(tok) {
		return governance.Principal{}, "not a signed JWT in compact serialization"
	}
	// The protected header alone is decoded here, to choose the key; the
	// claims are read only from a verified token.
	raw, err := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
	if err != nil {
		return governance.Principal{}, "header is not base64url"
	}
	hdr := jws.NewHeaders()
	if err := json.Unmarshal(raw, hdr); err != nil {
		return governance.Principal{}, "header is not a JWS header"
	}
	for _, name := range []string{jws.JWKSetURLKey, jws.X509URLKey, jws.JWKKey, jws.X509CertChainKey} {
		if _, ok := hdr.Get(name); ok {
			return governance.Principal{}, "header names a key by " + name
		}
	}
	if len(hdr.Critical()) > 0 {
		return governance.Principal{}, "header has critical extensions"
	}
	if typ := strings.ToLower(hdr.Type()); typ != "" && typ != "jwt" && typ != "at+jwt" && typ != "application/at+jwt" {
		return governance.Principal{}, "typ is not JWT"
	}
	alg, kid := hdr.Algorithm(), hdr.KeyID()
	if kid == "" {
		return governance.Principal{}, "no kid"
	}
	now := v.now()
	reason := "no configured issuer has a key with that kid for that alg"
	for _, is := range v.issuers {
		if !is.st.algs[alg] {
			continue
		}
		key, ok := is.lookup(ctx, kid, now)
		if !ok || !keyFits(key, alg) {
			continue
		}
		t, err := jwt.Parse([]byte(tok),
			jwt.WithKey(alg, key),
			jwt.WithValidate(true),
			jwt.WithIssuer(is.cfg.Issuer),
			jwt.WithAudience(is.cfg.Audience),
			jwt.WithRequiredClaim(jwt.ExpirationKey),
			jwt.WithRequiredClaim(jwt.SubjectKey),
			jwt.WithAcceptableSkew(is.st.skew),
			jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
			jwt.WithContext(ctx),
		)
		if err != nil {
			reason = tokenRefusal(err)
			continue
		}
		p, err := is.principal(t)
		if err != nil {
			return governance.Principal{}, err.Error()
		}
		return p, ""
	}
	return governance.Principal{}, reason
}

// tokenRefusal is the fixed reason, fit for a log, for a token that jwt.Parse
// refused. The library's own error text is never used: it may quote claim
// values (an aud, an iss, a subject's email).
func tokenRefusal(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired()):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotYetValid()):
		return "not yet valid"
	case errors.Is(err, jwt.ErrInvalidIssuedAt()):
		return "issued in the future"
	case errors.Is(err, jwt.ErrInvalidAudience()):
		return "wrong audience"
	case errors.Is(err, jwt.ErrInvalidIssuer()):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrRequiredClaim()):
		return "a required claim (exp or sub) is missing"
	case jwt.IsValidationError(err):
		return "claims not valid"
	case jws.IsVerificationError(err):
		return "signature does not verify"
	}
	return "not a valid signed JWT"
}

// principal maps a verified token's claims to a principal.
func (is *issuer) principal(t jwt.Token) (governance.Principal, error) {
	cfg := is.cfg
	sub := t.Subject()
	if sub == "" || len(sub) > 255 {
		return governance.Principal{}, errors.New("sub is empty or longer than 255 bytes")
	}
	p := governance.Principal{ID: "jwt|" + cfg.Issuer + "|" + sub, Name: cfg.Name}
	if p.Name == "" {
		p.Name = cfg.Issuer
	}
	rolesClaim := cmpOr(cfg.RolesClaim, "roles")
	seen := map[string]bool{}
	for _, v := range claimStrings(t, rolesClaim) {
		// Only the roles role_map grants count: an identity provider's
		// group named "admin" is not Custodia's admin unless mapped so.
		r := cfg.RoleMap[v]
		if governance.ValidRole(r) && !seen[r] {
			seen[r] = true
			p.Roles = append(p.Roles, r)
		}
	}
	scopesClaim := cmpOr(cfg.ScopesClaim, "scope")
	if _, ok := t.Get(scopesClaim); ok {
		p.Scopes = []string{}
		for _, s := range claimStrings(t, scopesClaim) {
			if governance.ValidScope(s) && !slices.Contains(p.Scopes, s) {
				p.Scopes = append(p.Scopes, s)
			}
		}
	} else if len(cfg.DefaultScopes) > 0 {
		p.Scopes = slices.Clone(cfg.DefaultScopes)
	} else {
		p.Scopes = defaultScopes(p.Roles)
	}
	var agentJSON []byte
	switch cfg.Agent {
	case "", "sub":
		agentJSON, _ = json.Marshal(map[string]any{"account": map[string]string{"homePage": cfg.Issuer, "name": sub}})
	case "email":
		email, _ := claimString(t, "email")
		if email == "" {
			break
		}
		if verified, ok := t.Get("email_verified"); ok && verified != true {
			return governance.Principal{}, errors.New("email_verified is not true")
		}
		agentJSON, _ = json.Marshal(map[string]string{"mbox": "mailto:" + email})
	}
	if agentJSON != nil {
		a, err := xapi.ParseAgent(agentJSON, xapi.V200)
		if err != nil {
			return governance.Principal{}, errors.New("the agent claim does not make an xAPI agent")
		}
		p.Agent = &a
	}
	if p.HasRole(governance.RoleLearner) && p.Agent == nil {
		return governance.Principal{}, errors.New("learner role without an agent claim")
	}
	if purpose, _ := claimString(t, cmpOr(cfg.PurposeClaim, "purpose")); purpose != "" {
		if !governance.ValidPurpose(purpose) {
			return governance.Principal{}, errors.New("purpose claim is not a purpose identifier")
		}
		p.Purpose = purpose
	}
	return p, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func claimString(t jwt.Token, name string) (string, bool) {
	v, ok := t.Get(name)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// claimStrings reads a claim that is an array of strings or a
// space-separated string (as OAuth's scope).
func claimStrings(t jwt.Token, name string) []string {
	v, ok := t.Get(name)
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
