package governance

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"custodia/xapi"
)

// recordKindCredential is the system-record kind credentials are kept under.
const recordKindCredential = "credential"

// Argon2id parameters for credential secrets (RFC 9106 §4, second
// recommended option scaled down: 19 MiB, 2 passes, 1 lane, as OWASP advises).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// Credential is a Basic key/secret credential and what it stands for. The
// secret itself is never kept; only its Argon2id hash.
type Credential struct {
	Key     string      `json:"key"`
	Name    string      `json:"name"`
	Roles   []string    `json:"roles"`
	Scopes  []string    `json:"scopes"`
	Agent   *xapi.Agent `json:"-"`
	Purpose string      `json:"purpose,omitempty"`
	Created time.Time   `json:"created"`
}

// MarshalJSON encodes c with its agent as an xAPI Agent object.
func (c Credential) MarshalJSON() ([]byte, error) {
	type plain Credential
	return json.Marshal(struct {
		plain
		Agent *xapi.Agent `json:"agent,omitempty"`
	}{plain(c), c.Agent})
}

// CredentialRequest asks for a new credential.
type CredentialRequest struct {
	Name    string
	Roles   []string
	Scopes  []string
	Agent   *xapi.Agent
	Purpose string
}

type storedCredential struct {
	Key     string          `json:"key"`
	Name    string          `json:"name"`
	Roles   []string        `json:"roles"`
	Scopes  []string        `json:"scopes"`
	Agent   json.RawMessage `json:"agent,omitempty"`
	Purpose string          `json:"purpose,omitempty"`
	Created time.Time       `json:"created"`
	Hash    string          `json:"hash"` // $argon2id$v=19$m=…,t=…,p=…$salt$hash
}

// credentialCache remembers recently verified credentials, so that the slow
// KDF runs once per credential rather than once per request. It holds a
// SHA-256 of the secret, never the secret.
//
// gen counts revocations: a verification that started before a revocation
// must not repopulate the cache after it (putIf), or a revoked credential
// would keep working until restart.
type credentialCache struct {
	mu  sync.Mutex
	m   map[string]cachedCredential
	gen uint64
	// kdf bounds how many Argon2id hashes (19 MiB each) run at once, so that
	// a burst of wrong secrets cannot exhaust memory.
	kdf chan struct{}
}

type cachedCredential struct {
	digest [32]byte
	cred   Credential
}

func newCredentialCache() *credentialCache {
	return &credentialCache{m: map[string]cachedCredential{}, kdf: make(chan struct{}, 2)}
}

// generation reports the revocation count, for putIf.
func (c *credentialCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// putIf caches v unless a credential was revoked since generation gen.
func (c *credentialCache) putIf(key string, v cachedCredential, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[key] = v
}

// checkSecret runs the KDF with at most cap(c.kdf) at a time.
func (c *credentialCache) checkSecret(ctx context.Context, encoded, secret string) (bool, error) {
	select {
	case c.kdf <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-c.kdf }()
	return checkSecret(encoded, secret), nil
}

func (c *credentialCache) get(key string) (cachedCredential, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

// drop forgets key and invalidates verifications under way.
func (c *credentialCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, key)
}

var errBadCredentials = &xapi.Error{Kind: xapi.Unauthorized, Op: "governance.Authenticate", Msg: "invalid credentials"}

// Authenticate checks a Basic key and secret and returns the principal they
// stand for, with purpose set to the credential's default. Unknown keys,
// wrong secrets and revoked credentials are Unauthorized.
func (g *Gate) Authenticate(ctx context.Context, key, secret string) (Principal, error) {
	digest := sha256.Sum256([]byte(secret))
	if c, ok := g.creds.get(key); ok {
		if subtle.ConstantTimeCompare(c.digest[:], digest[:]) == 1 {
			return c.cred.principal(), nil
		}
		return Principal{}, errBadCredentials
	}
	gen := g.creds.generation()
	raw, err := g.cfg.Records.GetRecord(ctx, recordKindCredential, key)
	if xapi.ErrorKind(err) == xapi.NotFound {
		return Principal{}, errBadCredentials
	}
	if err != nil {
		return Principal{}, err
	}
	sc, cred, err := decodeCredential(raw)
	if err != nil {
		return Principal{}, err
	}
	ok, err := g.creds.checkSecret(ctx, sc.Hash, secret)
	if err != nil {
		return Principal{}, err
	}
	if !ok {
		return Principal{}, errBadCredentials
	}
	g.creds.putIf(key, cachedCredential{digest: digest, cred: cred}, gen)
	return cred.principal(), nil
}

func (c Credential) principal() Principal {
	return Principal{ID: c.Key, Name: c.Name, Roles: c.Roles, Scopes: c.Scopes, Agent: c.Agent, Purpose: c.Purpose}
}

// CreateCredential creates a credential on behalf of p and returns it with
// its secret, which is shown this once and never stored.
func (g *Gate) CreateCredential(ctx context.Context, p Principal, req CredentialRequest) (Credential, string, error) {
	const op = "governance.CreateCredential"
	key, secret := randomToken(12), randomToken(24)
	if err := g.allow(ctx, op, p, "credentials.manage", g.credentialResource(key)); err != nil {
		return Credential{}, "", err
	}
	if err := validateCredentialRequest(req); err != nil {
		return Credential{}, "", err
	}
	c := Credential{Key: key, Name: req.Name, Roles: req.Roles, Scopes: req.Scopes, Agent: req.Agent, Purpose: req.Purpose, Created: g.cfg.Now().UTC()}
	if err := g.putCredential(ctx, c, secret); err != nil {
		return Credential{}, "", err
	}
	return c, secret, nil
}

// ListCredentials lists all credentials, for p.
func (g *Gate) ListCredentials(ctx context.Context, p Principal) ([]Credential, error) {
	if err := g.allow(ctx, "governance.ListCredentials", p, "credentials.manage", []string{"credentials"}); err != nil {
		return nil, err
	}
	recs, err := g.cfg.Records.ListRecords(ctx, recordKindCredential)
	if err != nil {
		return nil, err
	}
	out := make([]Credential, 0, len(recs))
	for _, raw := range recs {
		_, c, err := decodeCredential(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || (out[i].Created.Equal(out[j].Created) && out[i].Key < out[j].Key)
	})
	return out, nil
}

// RevokeCredential deletes the credential key on behalf of p; it stops
// working on the next request.
func (g *Gate) RevokeCredential(ctx context.Context, p Principal, key string) error {
	if err := g.allow(ctx, "governance.RevokeCredential", p, "credentials.manage", g.credentialResource(key)); err != nil {
		return err
	}
	err := g.cfg.Records.DeleteRecord(ctx, recordKindCredential, key)
	g.creds.drop(key) // after the delete: no verification under way can cache it again
	if xapi.ErrorKind(err) == xapi.NotFound {
		return &xapi.Error{Kind: xapi.NotFound, Op: "governance.RevokeCredential", Msg: "no credential with that key"}
	}
	return err
}

// RotateCredential gives the credential key a new secret on behalf of p
// and returns it, shown this once: the old secret stops working at once.
// The key, roles, scopes and agent stay. An unknown key is NotFound.
func (g *Gate) RotateCredential(ctx context.Context, p Principal, key string) (Credential, string, error) {
	const op = "governance.RotateCredential"
	if err := g.allow(ctx, op, p, "credentials.manage", g.credentialResource(key)); err != nil {
		return Credential{}, "", err
	}
	raw, err := g.cfg.Records.GetRecord(ctx, recordKindCredential, key)
	if xapi.ErrorKind(err) == xapi.NotFound {
		return Credential{}, "", &xapi.Error{Kind: xapi.NotFound, Op: op, Msg: "no credential with that key"}
	}
	if err != nil {
		return Credential{}, "", err
	}
	_, c, err := decodeCredential(raw)
	if err != nil {
		return Credential{}, "", err
	}
	secret := randomToken(24)
	err = g.putCredential(ctx, c, secret)
	g.creds.drop(key) // after the write: no verification under way can cache the old secret again
	if err != nil {
		return Credential{}, "", err
	}
	return c, secret, nil
}

// Bootstrap makes sure an admin credential exists. With key and secret
// given, it creates or replaces that admin credential. Otherwise, when no
// admin credential exists yet, it generates one and returns its secret,
// which the caller shows once; secret is "" when nothing was generated.
func (g *Gate) Bootstrap(ctx context.Context, key, secret string) (c Credential, generated string, err error) {
	if key == "" {
		recs, err := g.cfg.Records.ListRecords(ctx, recordKindCredential)
		if err != nil {
			return Credential{}, "", err
		}
		for _, raw := range recs {
			_, c, err := decodeCredential(raw)
			if err != nil {
				return Credential{}, "", err
			}
			if c.principal().HasRole(RoleAdmin) {
				return c, "", nil
			}
		}
		key, secret = randomToken(12), randomToken(24)
		generated = secret
	}
	c = Credential{Key: key, Name: "bootstrap admin", Roles: []string{RoleAdmin}, Scopes: []string{"all"}, Created: g.cfg.Now().UTC()}
	system := Principal{ID: "system", Roles: []string{RoleAdmin}}
	if err := g.allow(ctx, "governance.Bootstrap", system, "credentials.manage", g.credentialResource(key)); err != nil {
		return Credential{}, "", err
	}
	g.creds.drop(key)
	if err := g.putCredential(ctx, c, secret); err != nil {
		return Credential{}, "", err
	}
	return c, generated, nil
}

func (g *Gate) putCredential(ctx context.Context, c Credential, secret string) error {
	sc := storedCredential{Key: c.Key, Name: c.Name, Roles: c.Roles, Scopes: c.Scopes, Purpose: c.Purpose, Created: c.Created, Hash: hashSecret(secret)}
	if c.Agent != nil {
		b, err := json.Marshal(c.Agent)
		if err != nil {
			return err
		}
		sc.Agent = b
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	return g.cfg.Records.PutRecord(ctx, recordKindCredential, c.Key, b)
}

// allow decides action for p and records the decision; it returns Forbidden
// when refused.
func (g *Gate) allow(ctx context.Context, op string, p Principal, action string, resources []string) error {
	d, err := g.decide(ctx, Input{Principal: p, Action: action, Resource: map[string]any{"kind": "credential"}})
	if err != nil {
		return g.refuse(ctx, op, p, action, resources, err)
	}
	e := g.entry(ctx, p, action, resources, d.Revision)
	e.noteBreakGlass(d)
	e.Reasons = d.Reasons
	if !d.Allow {
		e.Decision = "deny"
		if err := g.record(ctx, e); err != nil {
			return err
		}
		return &xapi.Error{Kind: xapi.Forbidden, Op: op, Msg: "refused by policy: " + strings.Join(d.Reasons, "; ")}
	}
	e.Decision, e.Count = "allow", 1
	return g.record(ctx, e)
}

// credentialResource names a credential in an audit entry by the same
// pseudonym its principal has there.
func (g *Gate) credentialResource(key string) []string {
	return []string{"credential:" + g.cfg.Pseudonymizer.Pseudonym("principal:"+key)}
}

func validateCredentialRequest(r CredentialRequest) error {
	const op = "governance.CreateCredential"
	if strings.TrimSpace(r.Name) == "" || len(r.Name) > 200 {
		return xapi.Errorf(xapi.Invalid, op, "name is required (at most 200 bytes)")
	}
	if len(r.Roles) == 0 {
		return xapi.Errorf(xapi.Invalid, op, "roles: at least one role is required")
	}
	if hasDuplicates(r.Roles) || hasDuplicates(r.Scopes) {
		return xapi.Errorf(xapi.Invalid, op, "roles and scopes must not repeat a value")
	}
	for _, role := range r.Roles {
		if !knownRoles[role] {
			return xapi.Errorf(xapi.Invalid, op, "roles: unknown role %q (known: admin, compliance, hr, auditor, learner, client)", role)
		}
	}
	for _, s := range r.Scopes {
		if !knownScopes[s] {
			return xapi.Errorf(xapi.Invalid, op, "scopes: unknown xAPI scope %q", s)
		}
	}
	for _, role := range r.Roles {
		if role == RoleLearner && r.Agent == nil {
			return xapi.Errorf(xapi.Invalid, op, "agent: a learner credential must name the agent it stands for")
		}
	}
	if r.Purpose != "" && !ValidPurpose(r.Purpose) {
		return xapi.Errorf(xapi.Invalid, op, "purpose must be a purpose identifier: 1 to 64 of a-z, 0-9, '.', '_', '-'")
	}
	if r.Agent != nil && (r.Agent.IsGroup() || r.Agent.IFI() == "") {
		return xapi.Errorf(xapi.Invalid, op, "agent: must be an Agent with one inverse functional identifier")
	}
	return nil
}

// ValidPurpose reports whether s has the form of a purpose identifier: 1 to
// 64 of a-z, 0-9, '.', '_', '-'. Purposes are written to the audit log, so
// free text is refused.
func ValidPurpose(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func hasDuplicates(s []string) bool {
	seen := map[string]bool{}
	for _, v := range s {
		if seen[v] {
			return true
		}
		seen[v] = true
	}
	return false
}

func decodeCredential(raw []byte) (storedCredential, Credential, error) {
	var sc storedCredential
	if err := json.Unmarshal(raw, &sc); err != nil {
		return sc, Credential{}, fmt.Errorf("governance: decoding credential: %w", err)
	}
	c := Credential{Key: sc.Key, Name: sc.Name, Roles: sc.Roles, Scopes: sc.Scopes, Purpose: sc.Purpose, Created: sc.Created}
	if len(sc.Agent) > 0 {
		a, err := xapi.ParseAgent(sc.Agent, xapi.V200)
		if err != nil {
			return sc, Credential{}, fmt.Errorf("governance: decoding credential agent: %w", err)
		}
		c.Agent = &a
	}
	return sc, c, nil
}

func hashSecret(secret string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic("governance: crypto/rand failed: " + err.Error())
	}
	sum := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(sum))
}

func checkSecret(encoded, secret string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(secret), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// randomToken returns n random bytes, base64url-encoded without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("governance: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
