package xapi

import "strings"

// Account is an Agent's account IFI (xAPI Data §2.4.2.4).
type Account struct {
	HomePage string `json:"homePage"`
	Name     string `json:"name"`
}

// Agent is an Agent or a Group (xAPI Data §2.4.2).
type Agent struct {
	ObjectType  string   // "Agent" or "Group"; "" is an Agent
	Name        string   // optional
	Mbox        string   // "mailto:…"
	MboxSHA1Sum string   // hex SHA-1 of the mailto IRI
	OpenID      string   // URI
	Account     *Account // homePage + name
	Member      []Agent  // a Group's members
}

// IsGroup reports whether a is a Group.
func (a Agent) IsGroup() bool { return a.ObjectType == "Group" }

// IFI reports a's inverse functional identifier as one canonical string
// ("mbox:mailto:…", "mbox_sha1sum:…", "openid:…", "account:<homePage> <name>"),
// or "" for an Anonymous Group. Two Agents are the same iff their IFIs are equal.
//
// The mbox domain and the mbox_sha1sum hex digits are lower-cased, as they
// are case-insensitive; everything else is kept as given.
func (a Agent) IFI() string {
	switch {
	case a.Mbox != "":
		return "mbox:" + canonicalMbox(a.Mbox)
	case a.MboxSHA1Sum != "":
		return "mbox_sha1sum:" + strings.ToLower(a.MboxSHA1Sum)
	case a.OpenID != "":
		return "openid:" + a.OpenID
	case a.Account != nil:
		return "account:" + a.Account.HomePage + " " + a.Account.Name
	}
	return ""
}

// MarshalJSON encodes a as an xAPI Agent or Group object.
func (a Agent) MarshalJSON() ([]byte, error) { return encodeJSON(agentTree(a)) }

// ParseAgent parses and validates an Agent or Group given as JSON, as in the
// agent query parameter. It applies the rules of Statements for version v:
// exactly one IFI for an Agent, members for an Anonymous Group, no Group
// members, no unknown or mis-cased keys, no null.
func ParseAgent(data []byte, v Version) (Agent, error) {
	const op = "xapi.ParseAgent"
	tree, err := decodeJSON(data, op, "agent")
	if err != nil {
		return Agent{}, err
	}
	c := checker{v: v, op: op}
	if err := c.agent(tree, "agent", anyAgent); err != nil {
		return Agent{}, err
	}
	return agentFrom(tree.(map[string]any)), nil
}

// agentTree converts a to the generic tree form of a Statement.
func agentTree(a Agent) map[string]any {
	m := make(map[string]any, 4)
	if a.ObjectType != "" {
		m["objectType"] = a.ObjectType
	}
	if a.Name != "" {
		m["name"] = a.Name
	}
	switch {
	case a.Mbox != "":
		m["mbox"] = a.Mbox
	case a.MboxSHA1Sum != "":
		m["mbox_sha1sum"] = a.MboxSHA1Sum
	case a.OpenID != "":
		m["openid"] = a.OpenID
	case a.Account != nil:
		m["account"] = map[string]any{"homePage": a.Account.HomePage, "name": a.Account.Name}
	}
	if len(a.Member) > 0 {
		ms := make([]any, len(a.Member))
		for i, x := range a.Member {
			ms[i] = agentTree(x)
		}
		m["member"] = ms
	}
	return m
}

// agentFrom reads an Agent from a validated tree.
func agentFrom(m map[string]any) Agent {
	a := Agent{
		ObjectType:  str(m["objectType"]),
		Name:        str(m["name"]),
		Mbox:        str(m["mbox"]),
		MboxSHA1Sum: str(m["mbox_sha1sum"]),
		OpenID:      str(m["openid"]),
	}
	if acc := obj(m["account"]); acc != nil {
		a.Account = &Account{HomePage: str(acc["homePage"]), Name: str(acc["name"])}
	}
	for _, mm := range list(m["member"]) {
		a.Member = append(a.Member, agentFrom(obj(mm)))
	}
	return a
}

// agentIFIs appends the IFI of the Agent or Group m and of its members.
func agentIFIs(dst []string, m map[string]any) []string {
	if m == nil {
		return dst
	}
	if id := agentFrom(m).IFI(); id != "" {
		dst = append(dst, id)
	}
	for _, x := range list(m["member"]) {
		if id := agentFrom(obj(x)).IFI(); id != "" {
			dst = append(dst, id)
		}
	}
	return dst
}
