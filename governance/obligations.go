package governance

import (
	"encoding/json"
	"fmt"
	"math"
)

// Obligations are what an allowing decision requires of the Gate, from the
// "obligations" object of the policy's decision. For writes: the purpose a
// statement is recorded under, its legal basis, its retention window and
// the paths to remove before it is sealed. For reads: the paths to mask
// in what is returned. For queries: Purpose restricts the rows to those
// recorded for it (an optimisation the store answers from an index; every
// row is still decided).
type Obligations struct {
	Purpose       string
	LegalBasis    string
	RetentionDays int
	Minimise      []string
	Mask          []string
}

// decodeObligations decodes the decision's obligations strictly: an absent
// value is none; anything but an object of the known members with the right
// types, or a path minimisation may not remove, is an error, so that the
// caller fails closed.
func decodeObligations(v any) (Obligations, error) {
	var o Obligations
	if v == nil {
		return o, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return o, fmt.Errorf("obligations is not an object")
	}
	for k, x := range m {
		var err error
		switch k {
		case "purpose":
			o.Purpose, err = obligationString(k, x)
			if err == nil && o.Purpose != "" && !ValidPurpose(o.Purpose) {
				err = fmt.Errorf("obligations.purpose is not a purpose identifier")
			}
		case "legal_basis":
			o.LegalBasis, err = obligationString(k, x)
			if err == nil && o.LegalBasis != "" && !legalBases[o.LegalBasis] {
				err = fmt.Errorf("obligations.legal_basis %q is not a legal basis", o.LegalBasis)
			}
		case "retention_days":
			o.RetentionDays, err = obligationInt(k, x)
		case "minimise":
			o.Minimise, err = obligationPaths(k, x, true)
		case "mask":
			o.Mask, err = obligationPaths(k, x, false)
		default:
			err = fmt.Errorf("obligations has an unknown member %q", k)
		}
		if err != nil {
			return Obligations{}, err
		}
	}
	return o, nil
}

func obligationString(k string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("obligations.%s is not a string", k)
	}
	return s, nil
}

func obligationInt(k string, v any) (int, error) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, fmt.Errorf("obligations.%s is not a number", k)
		}
	case float64:
		f = n
	case int:
		f = float64(n)
	default:
		return 0, fmt.Errorf("obligations.%s is not a number", k)
	}
	if f != math.Trunc(f) || f < 0 || f > 100*366 {
		return 0, fmt.Errorf("obligations.%s must be a whole number of days from 0 to 36600", k)
	}
	return int(f), nil
}

func obligationPaths(k string, v any, minimise bool) ([]string, error) {
	xs, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("obligations.%s is not an array", k)
	}
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("obligations.%s holds a non-string", k)
		}
		if err := checkPath(s, minimise); err != nil {
			return nil, fmt.Errorf("obligations.%s: %w", k, err)
		}
		out = append(out, s)
	}
	return out, nil
}
