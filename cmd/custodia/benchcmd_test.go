package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestBenchCommand runs custodia bench against a running server: it stores
// every generated statement, times each typical query and pages to the end,
// and measures the raw ceiling.
func TestBenchCommand(t *testing.T) {
	l := startLRS(t, "")
	for _, batch := range []string{"1", "100"} {
		t.Run("batch="+batch, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"bench", "--endpoint", l.base + "/xapi", "--key", l.key, "--secret", l.secret,
				"--statements", "250", "--batch", batch, "--concurrency", "4", "--learners", "5", "--courses", "2",
				"--query-rounds", "3", "--ceiling-dir", t.TempDir(), "--json"},
				func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
			if err != nil {
				t.Fatalf("bench = %v; stderr:\n%s", err, errOut.String())
			}
			var res benchResult
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("bench --json output %q: %v", out.String(), err)
			}
			if res.Statements != 250 || res.IngestPerSec <= 0 || res.CeilingSync <= 0 || res.CeilingNoSync <= 0 || res.RatioToCeiling <= 0 {
				t.Errorf("bench result = %+v, want 250 statements, positive rates and ratio", res)
			}
			if res.AvgBytes < 900 || res.AvgBytes > 1300 {
				t.Errorf("bench average statement = %d bytes, want about 1 KB", res.AvgBytes)
			}
			for _, q := range []string{"agent", "verb+activity", "registration", "since+until", "related_activities"} {
				if got := res.Queries[q].Requests; got != 3 {
					t.Errorf("bench query %s requests = %d, want 3", q, got)
				}
			}
			// Course 0 of 2 holds about half the statements stored so far: two
			// or more pages of 100.
			if got := res.Queries["paging (more)"].Requests; got < 2 {
				t.Errorf("bench paging requests = %d, want at least 2", got)
			}
		})
	}
}

func TestBenchFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--endpoint", "http://example.com/xapi"},
		{"--endpoint", "ftp://127.0.0.1/xapi"},
		{"--batch", "0"},
		{"--batch", "1001"},
		{"--concurrency", "0"},
		{"--statements", "0"},
		{"--learners", "0"},
		{"extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := parseBenchFlags(args, io.Discard)
			if _, ok := err.(usageError); !ok {
				t.Errorf("parseBenchFlags(%q) = %v, want a usage error", args, err)
			}
		})
	}
	c, err := parseBenchFlags([]string{"--endpoint", "http://example.com/xapi/", "--allow-remote"}, io.Discard)
	if err != nil || c.Endpoint != "http://example.com/xapi" {
		t.Errorf("parseBenchFlags(--allow-remote) = %+v, %v, want the endpoint without its trailing slash", c, err)
	}
}

// TestServeSyncFlag: commits are fsynced unless --sync=false (or
// CUSTODIA_SYNC=false) trades that away, and the server says so.
func TestServeSyncFlag(t *testing.T) {
	for _, c := range []struct {
		args   []string
		env    string
		noSync bool
	}{
		{nil, "", false},
		{[]string{"--sync=false"}, "", true},
		{[]string{"--sync=true"}, "false", false},
		{nil, "false", true},
	} {
		cfg, err := parseServeFlags(c.args, func(k string) string {
			if k == "CUSTODIA_SYNC" {
				return c.env
			}
			return ""
		}, io.Discard)
		if err != nil || cfg.NoSync != c.noSync {
			t.Errorf("parseServeFlags(%q, CUSTODIA_SYNC=%q).NoSync = %v, %v, want %v", c.args, c.env, cfg.NoSync, err, c.noSync)
		}
	}
	l := startLRS(t, "", "--sync=false")
	l.stop()
	if !strings.Contains(l.stderr.String(), "--sync=false") {
		t.Errorf("serve --sync=false log = %q, want a warning naming --sync=false", l.stderr.String())
	}
}
