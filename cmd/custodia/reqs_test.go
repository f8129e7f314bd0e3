package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// requirementsFile, when set, makes TestEveryRequirementHasATest rewrite
// idsFile from that copy of XAPI-REQUIREMENTS.md before checking. The
// requirements file lives outside the repository; regenerate with
//
//	go test ./cmd/custodia -run TestEveryRequirementHasATest -requirements /path/to/XAPI-REQUIREMENTS.md
var requirementsFile = flag.String("requirements", "", "derive "+idsFile+" from this XAPI-REQUIREMENTS.md")

const idsFile = "../../testdata/xapi-requirement-ids.txt"

// idRun matches a requirement id and the ids written after it in short
// form: XAPI-00003/4/5, XAPI-00027..30, XAPI-00164, 00166..00181.
var idRun = regexp.MustCompile(`XAPI-(\d{5})((?:(?:/|\.\.|, )\d+)*)`)
var idTail = regexp.MustCompile(`(/|\.\.|, )(\d+)`)

// anID matches one requirement id written in full.
var anID = regexp.MustCompile(`XAPI-\d{5}`)

// requirementIDs returns every id the text names, sorted, each once. A short
// form replaces the last digits of the run's first id (00149/154 is 00154),
// ".." is an inclusive range from the id before it.
func requirementIDs(text string) []string {
	seen := map[int]bool{}
	for _, m := range idRun.FindAllStringSubmatch(text, -1) {
		base := m[1]
		last, _ := strconv.Atoi(base)
		seen[last] = true
		for _, t := range idTail.FindAllStringSubmatch(m[2], -1) {
			n, _ := strconv.Atoi(base[:max(0, 5-len(t[2]))] + t[2])
			if t[1] == ".." {
				for i := last; i <= n; i++ {
					seen[i] = true
				}
			} else {
				seen[n] = true
			}
			last = n
		}
	}
	var out []string
	for n := range seen {
		out = append(out, fmt.Sprintf("XAPI-%05d", n))
	}
	slices.Sort(out)
	return out
}

func TestRequirementIDs(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"reject it. XAPI-00001", "XAPI-00001"},
		{"(XAPI-00003/4/5)", "XAPI-00003 XAPI-00004 XAPI-00005"},
		{"XAPI-00027..30.", "XAPI-00027 XAPI-00028 XAPI-00029 XAPI-00030"},
		{"(XAPI-00149/154/110/113)", "XAPI-00110 XAPI-00113 XAPI-00149 XAPI-00154"},
		{"XAPI-00164, 00166..00168.", "XAPI-00164 XAPI-00166 XAPI-00167 XAPI-00168"},
		{"(XAPI-00183/184, 234/279)", "XAPI-00183 XAPI-00184 XAPI-00234 XAPI-00279"},
		{"XAPI-00024/98 and XAPI-00024", "XAPI-00024 XAPI-00098"},
		{"no id here, 00012", ""},
	}
	for _, tc := range tests {
		if got := strings.Join(requirementIDs(tc.in), " "); got != tc.want {
			t.Errorf("requirementIDs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestEveryRequirementHasATest checks that each requirement id of the
// XAPI-REQUIREMENTS.md checklist (an LRS obligation, copied to idsFile) is
// named by a test: it appears, outside a comment line, in a *_test.go file
// of the module.
func TestEveryRequirementHasATest(t *testing.T) {
	if *requirementsFile != "" {
		b, err := os.ReadFile(*requirementsFile)
		if err != nil {
			t.Fatal(err)
		}
		ids := requirementIDs(string(b))
		header := "# The requirement ids of XAPI-REQUIREMENTS.md, one per line; each must be named by a test\n" +
			"# (cmd/custodia TestEveryRequirementHasATest). Regenerate with\n" +
			"#   go test ./cmd/custodia -run TestEveryRequirementHasATest -requirements /path/to/XAPI-REQUIREMENTS.md\n"
		if err := os.WriteFile(idsFile, []byte(header+strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(idsFile)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if anID.FindString(line) != line || len(ids) > 0 && line <= ids[len(ids)-1] {
			t.Fatalf("%s:%d: %q is not a requirement id in ascending order", idsFile, i+1, line)
		}
		ids = append(ids, line)
	}
	if len(ids) < 200 {
		t.Fatalf("%s lists %d ids, want the whole checklist", idsFile, len(ids))
	}

	named := map[string]bool{}
	self, _ := filepath.Abs("reqs_test.go")
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != "../..") {
			return filepath.SkipDir
		}
		if abs, _ := filepath.Abs(path); d.IsDir() || !strings.HasSuffix(path, "_test.go") || abs == self {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			for _, id := range anID.FindAllString(line, -1) {
				named[id] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, id := range ids {
		if !named[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d requirement ids are named by no test: %s", len(missing), len(ids), strings.Join(missing, " "))
	}
}
