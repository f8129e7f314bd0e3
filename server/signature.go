package server

import (
	"bytes"
	"crypto/rsa"
	"mime"
	"strconv"

	"github.com/lestrrat-go/jwx/v2/cert"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"custodia/xapi"
)

// usageSignature is the attachment usageType of a statement signature
// (xAPI Data §2.6).
const usageSignature = "http://adlnet.gov/expapi/attachments/signature"

// checkSignatures checks every signature attachment of stmts (xAPI Data
// §2.6, XAPI-00115..00117). atts holds the attachment data by sha2, as
// matchAttachments returns it. A signature must arrive as a multipart part
// with contentType application/octet-stream, and its data must pass
// verifySignature against the statement carrying it.
func checkSignatures(stmts []*xapi.Statement, atts map[string][]byte, v xapi.Version, op string) error {
	for i, st := range stmts {
		for j, a := range st.Attachments() {
			if a.UsageType != usageSignature {
				continue
			}
			if mt, _, err := mime.ParseMediaType(a.ContentType); err != nil || mt != "application/octet-stream" {
				return xapi.Errorf(xapi.Invalid, op, "statements[%d].attachments[%d]: a signature must have contentType application/octet-stream", i, j)
			}
			data, ok := atts[a.SHA2]
			if !ok {
				return xapi.Errorf(xapi.Invalid, op, "statements[%d].attachments[%d]: a signature must be sent as a multipart part, not by fileUrl", i, j)
			}
			if err := verifySignature(data, st, v); err != nil {
				return xapi.Errorf(xapi.Invalid, op, "statements[%d].attachments[%d]: %s", i, j, xapi.ErrorMessage(err))
			}
		}
	}
	return nil
}

// verifySignature checks a statement signature: a JWS in compact
// serialization (RFC 7515 §7.1) with alg RS256, RS384 or RS512, no critical
// extensions, and a payload that parses as a statement under the rules of v
// and equals st by the comparison rules of xAPI Data §2.3.1 (which leave the
// attachments out). When both carry an id or a timestamp, those must agree
// too.
//
// When the JWS header has x5c, the signature must verify with the public
// key of its first certificate; the payload is read only from a verified
// JWS. This proves that the statement and the signature belong together, not
// that the signer is trusted: the chain is not checked against any root.
// Without x5c there is no key to verify with, and only the structure and the
// payload are checked.
func verifySignature(sig []byte, st *xapi.Statement, v xapi.Version) error {
	const op = "server.verifySignature"
	sig = bytes.TrimSpace(sig)
	if bytes.HasPrefix(sig, []byte("{")) {
		return xapi.Errorf(xapi.Invalid, op, "the signature must be a JWS in compact serialization, not JSON")
	}
	msg, err := jws.Parse(sig, jws.WithCompact())
	if err != nil {
		return xapi.Errorf(xapi.Invalid, op, "the signature is not a valid JWS in compact serialization")
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return xapi.Errorf(xapi.Invalid, op, "the signature JWS must carry exactly one signature")
	}
	hdr := sigs[0].ProtectedHeaders()
	alg := hdr.Algorithm()
	switch alg {
	case jwa.RS256, jwa.RS384, jwa.RS512:
	default:
		return xapi.Errorf(xapi.Invalid, op, "the signature JWS uses alg %s; only RS256, RS384 and RS512 are allowed", quoteShort(alg.String()))
	}
	if len(sigs[0].Signature()) == 0 {
		return xapi.Errorf(xapi.Invalid, op, "the signature JWS has an empty signature")
	}
	if len(hdr.Critical()) > 0 {
		return xapi.Errorf(xapi.Invalid, op, "the signature JWS has critical header parameters this LRS does not understand")
	}
	if b64, ok := hdr.Get("b64"); ok && b64 != true {
		return xapi.Errorf(xapi.Invalid, op, "the signature JWS must have a base64url-encoded payload")
	}
	// Keys named by the token itself are never trusted (RFC 8725 §3.10):
	// only x5c is used, and only to check consistency.
	for _, name := range []string{"jwk", "jku", "x5u"} {
		if _, ok := hdr.Get(name); ok {
			return xapi.Errorf(xapi.Invalid, op, "the signature JWS names a key by %s; only x5c is accepted", name)
		}
	}
	payload := msg.Payload()
	if _, ok := hdr.Get("x5c"); ok && (hdr.X509CertChain() == nil || hdr.X509CertChain().Len() == 0) {
		return xapi.Errorf(xapi.Invalid, op, "the signature JWS has an empty x5c")
	}
	if chain := hdr.X509CertChain(); chain != nil && chain.Len() > 0 {
		der, _ := chain.Get(0)
		c, err := cert.Parse(der)
		if err != nil {
			return xapi.Errorf(xapi.Invalid, op, "the first x5c certificate of the signature JWS cannot be parsed")
		}
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			return xapi.Errorf(xapi.Invalid, op, "the first x5c certificate of the signature JWS has no RSA public key")
		}
		payload, err = jws.Verify(sig, jws.WithCompact(), jws.WithKey(alg, pub))
		if err != nil {
			return xapi.Errorf(xapi.Invalid, op, "the signature does not verify with the public key of its x5c certificate")
		}
	}
	signed, err := xapi.ParseStatement(payload, v)
	if err != nil {
		return xapi.Errorf(xapi.Invalid, op, "the signature JWS payload is not a valid statement: %s", xapi.ErrorMessage(err))
	}
	if !signed.Equal(st) || !sameIfBoth(signed.ID(), st.ID()) ||
		!signed.Timestamp().IsZero() && !st.Timestamp().IsZero() && !signed.Timestamp().Equal(st.Timestamp()) {
		return xapi.Errorf(xapi.Invalid, op, "the signature JWS payload does not match the statement")
	}
	return nil
}

// sameIfBoth reports whether a and b are equal or one of them is empty.
func sameIfBoth(a, b string) bool { return a == "" || b == "" || a == b }

// quoteShort quotes s for an error message, cut to 32 bytes.
func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return strconv.Quote(s)
}
