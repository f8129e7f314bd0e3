package server

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"custodia/xapi"
)

// statementsBody is a PUT or POST /statements body: the statements' JSON
// and the attachment data parts, by the lower-case hex of the hash their
// X-Experience-API-Hash header gives (checked against the bytes).
type statementsBody struct {
	json  []byte
	parts map[string][]byte
}

// readStatementsBody reads application/json, or multipart/mixed with the
// statements as the first part and one part per attachment after it
// (xAPI Communication §1.5.2, RFC 2046).
func readStatementsBody(r *http.Request, op string) (statementsBody, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		b, err := readJSONBody(r, op)
		return statementsBody{json: b}, err
	}
	boundary := params["boundary"]
	if boundary == "" {
		return statementsBody{}, xapi.Errorf(xapi.Invalid, op, "Content-Type multipart/mixed needs a boundary parameter")
	}
	mr := multipart.NewReader(r.Body, boundary)
	var out statementsBody
	for i := 0; ; i++ {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return statementsBody{}, bodyError(err, op, "body is not valid multipart/mixed (check the boundary)")
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return statementsBody{}, bodyError(err, op, "reading a multipart part failed")
		}
		if i == 0 {
			if pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type")); err != nil || pt != "application/json" {
				return statementsBody{}, xapi.Errorf(xapi.Invalid, op, "the first multipart part must hold the statements as application/json")
			}
			out.json, out.parts = data, map[string][]byte{}
			continue
		}
		sum := strings.ToLower(strings.TrimSpace(part.Header.Get("X-Experience-API-Hash")))
		if sum == "" {
			return statementsBody{}, xapi.Errorf(xapi.Invalid, op, "multipart part %d has no X-Experience-API-Hash header", i)
		}
		if cte := part.Header.Get("Content-Transfer-Encoding"); !strings.EqualFold(cte, "binary") {
			return statementsBody{}, xapi.Errorf(xapi.Invalid, op, "multipart part %d must have Content-Transfer-Encoding: binary", i)
		}
		h := sha2For(sum)
		if h == nil {
			return statementsBody{}, xapi.Errorf(xapi.Invalid, op, "multipart part %d: X-Experience-API-Hash is not a hex SHA-256, SHA-384 or SHA-512", i)
		}
		h.Write(data)
		if hex.EncodeToString(h.Sum(nil)) != sum {
			return statementsBody{}, xapi.Errorf(xapi.Invalid, op, "multipart part %d: its data does not match its X-Experience-API-Hash", i)
		}
		out.parts[sum] = data
	}
	if out.json == nil {
		return statementsBody{}, xapi.Errorf(xapi.Invalid, op, "multipart/mixed body has no parts")
	}
	return out, nil
}

// sha2For returns the SHA-2 function whose hex digest has the length of sum.
func sha2For(sum string) hash.Hash {
	if _, err := hex.DecodeString(sum); err != nil {
		return nil
	}
	switch len(sum) {
	case 64:
		return sha256.New()
	case 96:
		return sha512.New384()
	case 128:
		return sha512.New()
	}
	return nil
}

// matchAttachments pairs data parts with the statements' attachment
// objects, by hash only (xAPI Communication §1.5.2): every attachment
// without fileUrl needs a part (XAPI-00129), and every part must belong to
// an attachment (XAPI-00128). It returns the data by each attachment's sha2.
// The declared length is not compared with the part: the hash already binds
// the data, and the ADL conformance suite itself sends parts whose length
// differs from the declared one (XAPI-00127 sends hex text for a JPEG).
func matchAttachments(stmts []*xapi.Statement, parts map[string][]byte, op string) (map[string][]byte, error) {
	atts := map[string][]byte{}
	used := map[string]bool{}
	for i, st := range stmts {
		for j, a := range st.Attachments() {
			data, ok := parts[strings.ToLower(a.SHA2)]
			if ok {
				atts[a.SHA2] = data
				used[strings.ToLower(a.SHA2)] = true
				continue
			}
			if a.FileURL == "" {
				return nil, xapi.Errorf(xapi.Invalid, op, "statements[%d].attachments[%d]: has no fileUrl and no multipart part with its sha2", i, j)
			}
		}
	}
	for sum := range parts {
		if !used[sum] {
			return nil, xapi.Errorf(xapi.Invalid, op, "a multipart part (X-Experience-API-Hash %s…) matches no attachment of the statements", sum[:min(12, len(sum))])
		}
	}
	return atts, nil
}
