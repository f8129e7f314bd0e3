package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// The keys commands help an operator try Bearer authentication without an
// identity provider: jwk-gen makes a signing key and the JWK Set an issuers
// file points to; jwt-sign issues a token with it. A real deployment uses
// its identity provider's keys and tokens instead.

// runKeys runs `custodia keys jwk-gen|jwt-sign`.
func runKeys(args []string, now func() time.Time, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "jwk-gen":
		return runJWKGen(args[1:], stdout, stderr)
	case "jwt-sign":
		return runJWTSign(args[1:], now, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown keys command %q\n%s", args[0], usage)}
}

// runJWKGen writes a new private signing key as a JWK (mode 0600) and its
// public JWK Set.
func runJWKGen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys jwk-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", "ES256", "signature algorithm: RS256, ES256 or EdDSA")
	kid := fs.String("kid", "", "key id (default: a random one)")
	priv := fs.String("private", "", "file to write the private JWK to (mode 0600; must not exist)")
	pub := fs.String("public", "", "file to write the public JWK Set to (must not exist)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *priv == "" || *pub == "" || fs.NArg() > 0 {
		return usageError{"keys jwk-gen: --private FILE and --public FILE are required"}
	}
	var raw any
	var err error
	switch *alg {
	case "RS256":
		raw, err = rsa.GenerateKey(rand.Reader, 3072)
	case "ES256":
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	default:
		return usageError{fmt.Sprintf("keys jwk-gen: --alg %q: want RS256, ES256 or EdDSA", *alg)}
	}
	if err != nil {
		return fmt.Errorf("keys jwk-gen: %w", err)
	}
	key, err := jwk.FromRaw(raw)
	if err != nil {
		return fmt.Errorf("keys jwk-gen: %w", err)
	}
	if *kid == "" {
		var b [9]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		*kid = fmt.Sprintf("%x", b)
	}
	for k, v := range map[string]any{jwk.KeyIDKey: *kid, jwk.AlgorithmKey: jwa.SignatureAlgorithm(*alg), jwk.KeyUsageKey: jwk.ForSignature} {
		if err := key.Set(k, v); err != nil {
			return fmt.Errorf("keys jwk-gen: %w", err)
		}
	}
	public, err := jwk.PublicKeyOf(key)
	if err != nil {
		return fmt.Errorf("keys jwk-gen: %w", err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(public); err != nil {
		return err
	}
	if err := writeNewJSON(*priv, key, 0o600); err != nil {
		return fmt.Errorf("keys jwk-gen: %w", err)
	}
	if err := writeNewJSON(*pub, set, 0o644); err != nil {
		return fmt.Errorf("keys jwk-gen: %w", err)
	}
	fmt.Fprintf(stdout, "private key %s (kid %s, %s) written to %s; public JWK Set written to %s\n", key.KeyType(), *kid, *alg, *priv, *pub)
	return nil
}

// writeNewJSON writes v as JSON to a file that must not exist yet.
func writeNewJSON(path string, v any, mode os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runJWTSign prints a JWT signed with a private JWK from jwk-gen.
func runJWTSign(args []string, now func() time.Time, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys jwt-sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "private JWK file (from keys jwk-gen)")
	iss := fs.String("iss", "", "issuer (iss), as in the issuers file")
	aud := fs.String("aud", "", "audience (aud), as in the issuers file")
	sub := fs.String("sub", "", "subject (sub)")
	email := fs.String("email", "", "email claim (the person, for an issuer with agent \"email\")")
	roles := fs.String("roles", "", "comma-separated roles claim")
	scope := fs.String("scope", "", "space-separated xAPI scopes (the scope claim); empty: none given")
	purpose := fs.String("purpose", "", "default purpose claim")
	ttl := fs.Duration("ttl", time.Hour, "lifetime of the token")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *keyFile == "" || *iss == "" || *aud == "" || *sub == "" || fs.NArg() > 0 {
		return usageError{"keys jwt-sign: --key, --iss, --aud and --sub are required"}
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("keys jwt-sign: %w", err)
	}
	key, err := jwk.ParseKey(b)
	if err != nil {
		return fmt.Errorf("keys jwt-sign: %s is not a JWK: %w", *keyFile, err)
	}
	alg, ok := key.Algorithm().(jwa.SignatureAlgorithm)
	if !ok || alg == "" {
		return errors.New("keys jwt-sign: the key names no signature algorithm (alg)")
	}
	t0 := now().Truncate(time.Second)
	tok := jwt.New()
	set := map[string]any{
		jwt.IssuerKey: *iss, jwt.AudienceKey: *aud, jwt.SubjectKey: *sub,
		jwt.IssuedAtKey: t0, jwt.NotBeforeKey: t0, jwt.ExpirationKey: t0.Add(*ttl),
	}
	if *email != "" {
		set["email"] = *email
	}
	if *roles != "" {
		set["roles"] = strings.Split(*roles, ",")
	}
	if *scope != "" {
		set["scope"] = *scope
	}
	if *purpose != "" {
		set["purpose"] = *purpose
	}
	for k, v := range set {
		if err := tok.Set(k, v); err != nil {
			return fmt.Errorf("keys jwt-sign: %s: %w", k, err)
		}
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		return fmt.Errorf("keys jwt-sign: %w", err)
	}
	fmt.Fprintln(stdout, string(signed))
	return nil
}
