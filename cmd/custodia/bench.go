package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/dgraph-io/badger/v4"

	"custodia/xapi"
)

// benchCorpus generates the statements of custodia bench: learners
// answering questions in the modules of courses.
type benchCorpus struct {
	learners, courses int
}

// statement returns a realistic statement of about 1 KB: a learner
// answering a question in a course module, with result and context. The
// registration is one per learner and course.
func (c benchCorpus) statement(r *mrand.Rand) []byte {
	learner, course, module := r.IntN(c.learners), r.IntN(c.courses), r.IntN(10)
	return []byte(fmt.Sprintf(`{"actor":{"objectType":"Agent","name":"Learner %d","mbox":"mailto:learner%d@example.com"},
"verb":{"id":"http://adlnet.gov/expapi/verbs/answered","display":{"en-US":"answered"}},
"object":{"objectType":"Activity","id":"http://courses.example.com/c%d/m%d/q%d","definition":{"name":{"en-US":"Question %d of module %d"},"description":{"en-US":"A multiple choice question about workplace safety procedures."},"type":"http://adlnet.gov/expapi/activities/cmi.interaction","interactionType":"choice","correctResponsesPattern":["b"],"choices":[{"id":"a","description":{"en-US":"Option A"}},{"id":"b","description":{"en-US":"Option B"}},{"id":"c","description":{"en-US":"Option C"}}]}},
"result":{"score":{"scaled":0.8,"raw":8,"min":0,"max":10},"success":true,"completion":true,"response":"b","duration":"PT%dS"},
"context":{"registration":"%08x-1234-4abc-8def-0123456789ab","platform":"Example LMS","language":"en-US","contextActivities":{"parent":[{"id":"http://courses.example.com/c%d/m%d"}],"grouping":[{"id":"http://courses.example.com/c%d"}]}},
"timestamp":"2026-11-%02dT10:%02d:00Z"}`, learner, learner, course, module, r.IntN(30), r.IntN(30), module, 5+r.IntN(100), learner*100+course, course, module, course, 1+r.IntN(28), r.IntN(60)))
}

// benchConfig is the command line of custodia bench.
type benchConfig struct {
	Endpoint, Key, Secret string
	Statements            int
	Concurrency           int
	Batch                 int
	Learners, Courses     int
	QueryRounds           int
	CeilingDir            string
	NoCeiling             bool
	JSON                  bool
	AllowRemote           bool
}

// latencies summarises request durations.
type latencies struct {
	Requests int     `json:"requests"`
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	P99ms    float64 `json:"p99_ms"`
}

func summarise(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := min(len(ds)-1, int(q*float64(len(ds))))
		return float64(ds[i].Microseconds()) / 1000
	}
	return latencies{Requests: len(ds), P50ms: at(0.50), P95ms: at(0.95), P99ms: at(0.99)}
}

// benchResult is what custodia bench reports (its --json output).
type benchResult struct {
	Statements       int                  `json:"statements"`
	Batch            int                  `json:"batch"`
	Concurrency      int                  `json:"concurrency"`
	AvgBytes         int                  `json:"avg_statement_bytes"`
	IndexKeys        int                  `json:"index_keys_per_statement"`
	IngestPerSec     float64              `json:"ingest_statements_per_s"`
	Ingest           latencies            `json:"ingest_latency"`
	Queries          map[string]latencies `json:"queries"`
	CeilingSync      float64              `json:"ceiling_fsync_statements_per_s,omitempty"`
	CeilingNoSync    float64              `json:"ceiling_nofsync_statements_per_s,omitempty"`
	RatioToCeiling   float64              `json:"ratio_to_fsync_ceiling,omitempty"`
	RatioToNoSyncCap float64              `json:"ratio_to_nofsync_ceiling,omitempty"`
}

func parseBenchFlags(args []string, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Endpoint, "endpoint", "http://127.0.0.1:8080/xapi", "xAPI endpoint of the running server")
	fs.StringVar(&c.Key, "key", "", "Basic credential key (a client allowed statements/write and statements/read)")
	fs.StringVar(&c.Secret, "secret", "", "Basic credential secret")
	fs.IntVar(&c.Statements, "statements", 10000, "statements to ingest")
	fs.IntVar(&c.Concurrency, "concurrency", 8, "concurrent connections")
	fs.IntVar(&c.Batch, "batch", 100, "statements per POST (1 to 1000)")
	fs.IntVar(&c.Learners, "learners", 500, "learners in the corpus")
	fs.IntVar(&c.Courses, "courses", 20, "courses in the corpus")
	fs.IntVar(&c.QueryRounds, "query-rounds", 50, "times each typical query is run")
	fs.StringVar(&c.CeilingDir, "ceiling-dir", "", "where to measure the raw Badger ceiling (default a temp dir, removed after)")
	fs.BoolVar(&c.NoCeiling, "no-ceiling", false, "skip the raw Badger ceiling")
	fs.BoolVar(&c.JSON, "json", false, "print the result as JSON")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow an endpoint that is not on 127.0.0.1 or localhost")
	if err := fs.Parse(args); err != nil {
		return c, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Sprintf("bench: unexpected argument %q", fs.Arg(0))}
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return c, usageError{fmt.Sprintf("bench: --endpoint %q: want an http(s) URL", c.Endpoint)}
	}
	if h := u.Hostname(); !c.AllowRemote && h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return c, usageError{fmt.Sprintf("bench: --endpoint host %q is not local; pass --allow-remote to load it", h)}
	}
	c.Endpoint = strings.TrimSuffix(c.Endpoint, "/")
	switch {
	case c.Statements < 1 || c.Statements > 10_000_000:
		return c, usageError{"bench: --statements: want 1 to 10000000"}
	case c.Concurrency < 1 || c.Concurrency > 1024:
		return c, usageError{"bench: --concurrency: want 1 to 1024"}
	case c.Batch < 1 || c.Batch > 1000:
		return c, usageError{"bench: --batch: want 1 to 1000"}
	case c.Learners < 1 || c.Courses < 1:
		return c, usageError{"bench: --learners and --courses: want at least 1"}
	case c.QueryRounds < 1 || c.QueryRounds > 100000:
		return c, usageError{"bench: --query-rounds: want 1 to 100000"}
	}
	return c, nil
}

// runBench loads a running server with a generated corpus, times typical
// queries and measures the raw Badger ceiling of the same bytes.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	corpus := benchCorpus{learners: c.Learners, courses: c.Courses}
	r := mrand.New(mrand.NewPCG(1, 2))
	stmts := make([][]byte, c.Statements)
	total := 0
	for i := range stmts {
		stmts[i] = corpus.statement(r)
		total += len(stmts[i])
	}
	s, err := xapi.ParseStatement(stmts[0], xapi.V200)
	if err != nil {
		return fmt.Errorf("bench: corpus: %w", err)
	}
	f := s.Facts()
	// One facts record, the statement, and one index entry per fact value.
	keys := 2 + len(f.Agents) + len(f.RelatedAgents) + len(f.Activities) + len(f.RelatedActivities) + len(f.Subjects)
	if f.Verb != "" {
		keys++
	}
	if f.Registration != "" {
		keys++
	}
	res := benchResult{Statements: c.Statements, Batch: c.Batch, Concurrency: c.Concurrency, AvgBytes: total / len(stmts), IndexKeys: keys}
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: c.Concurrency + 4}}
	b := bencher{c: c, client: client, stderr: stderr}

	elapsed, lat, err := b.ingest(ctx, stmts)
	if err != nil {
		return err
	}
	res.IngestPerSec = float64(len(stmts)) / elapsed.Seconds()
	res.Ingest = summarise(lat)
	if res.Queries, err = b.queries(ctx); err != nil {
		return err
	}
	if !c.NoCeiling {
		dir := c.CeilingDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "custodia-ceiling-"); err != nil {
				return err
			}
			defer os.RemoveAll(dir)
		}
		for _, fsync := range []bool{true, false} {
			rate, err := ceiling(ctx, dir, fsync, stmts, keys, c.Batch, c.Concurrency)
			if err != nil {
				return fmt.Errorf("bench: ceiling: %w", err)
			}
			if fsync {
				res.CeilingSync, res.RatioToCeiling = rate, res.IngestPerSec/rate
			} else {
				res.CeilingNoSync, res.RatioToNoSyncCap = rate, res.IngestPerSec/rate
			}
		}
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printBench(stdout, res)
	return nil
}

func printBench(w io.Writer, res benchResult) {
	fmt.Fprintf(w, "%d statements of %d bytes on average, %d index keys each, batch %d, %d connections\n\n",
		res.Statements, res.AvgBytes, res.IndexKeys, res.Batch, res.Concurrency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measure\trequests\tstatements/s\tp50 ms\tp95 ms\tp99 ms\t")
	fmt.Fprintf(tw, "ingest (HTTP)\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t\n", res.Ingest.Requests, res.IngestPerSec, res.Ingest.P50ms, res.Ingest.P95ms, res.Ingest.P99ms)
	if res.CeilingSync > 0 {
		fmt.Fprintf(tw, "ceiling (Badger, fsync)\t\t%.0f\t\t\t\t\n", res.CeilingSync)
		fmt.Fprintf(tw, "ceiling (Badger, no fsync)\t\t%.0f\t\t\t\t\n", res.CeilingNoSync)
	}
	names := make([]string, 0, len(res.Queries))
	for n := range res.Queries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		q := res.Queries[n]
		fmt.Fprintf(tw, "query %s\t%d\t\t%.2f\t%.2f\t%.2f\t\n", n, q.Requests, q.P50ms, q.P95ms, q.P99ms)
	}
	tw.Flush()
	if res.CeilingSync > 0 {
		fmt.Fprintf(w, "\nHTTP ingest / ceiling: %.0f %% of fsync, %.0f %% of no fsync\n", 100*res.RatioToCeiling, 100*res.RatioToNoSyncCap)
	}
}

// bencher sends the requests of custodia bench.
type bencher struct {
	c      benchConfig
	client *http.Client
	stderr io.Writer
}

func (b bencher) do(ctx context.Context, method, path string, body []byte) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, method, b.c.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.SetBasicAuth(b.c.Key, b.c.Secret)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return nil, d, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, d, fmt.Errorf("bench: %s %s = %d: %.200s", method, path, resp.StatusCode, out)
	}
	return out, d, nil
}

// ingest posts stmts in batches from c.Concurrency connections.
func (b bencher) ingest(ctx context.Context, stmts [][]byte) (time.Duration, []time.Duration, error) {
	var next atomic.Int64
	var done atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // progress on stderr
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(b.stderr, "\ringest %d/%d", done.Load(), len(stmts))
			}
		}
	}()
	start := time.Now()
	for range b.c.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for {
				lo := int(next.Add(int64(b.c.Batch))) - b.c.Batch
				if lo >= len(stmts) || ctx.Err() != nil {
					return
				}
				hi := min(lo+b.c.Batch, len(stmts))
				body := stmts[lo]
				if b.c.Batch > 1 {
					body = append([]byte{'['}, bytes.Join(stmts[lo:hi], []byte{','})...)
					body = append(body, ']')
				}
				_, d, err := b.do(ctx, "POST", "/statements", body)
				if err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					return
				}
				mine = append(mine, d)
				done.Add(int64(hi - lo))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	fmt.Fprintf(b.stderr, "\ringest %d/%d\n", done.Load(), len(stmts))
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return elapsed, lat, firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// queries runs the typical queries, each c.QueryRounds times, and the
// paging of one learner's statements with more to the end.
func (b bencher) queries(ctx context.Context) (map[string]latencies, error) {
	agent := func(i int) string {
		return url.QueryEscape(fmt.Sprintf(`{"mbox":"mailto:learner%d@example.com"}`, i))
	}
	rounds := b.c.QueryRounds
	qs := []struct {
		name  string
		query func(i int) string
	}{
		{"agent", func(i int) string { return "agent=" + agent(i%b.c.Learners) + "&limit=100" }},
		{"verb+activity", func(i int) string {
			return "verb=" + url.QueryEscape("http://adlnet.gov/expapi/verbs/answered") +
				"&activity=" + url.QueryEscape(fmt.Sprintf("http://courses.example.com/c%d/m%d/q%d", i%b.c.Courses, i%10, i%30)) + "&limit=100"
		}},
		{"registration", func(i int) string {
			return fmt.Sprintf("registration=%08x-1234-4abc-8def-0123456789ab&limit=100", (i%b.c.Learners)*100+i%b.c.Courses)
		}},
		{"since+until", func(i int) string {
			d := 1 + i%27
			return fmt.Sprintf("since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z&limit=100&ascending=%t", d%2 == 0)
		}},
		{"related_activities", func(i int) string {
			return "activity=" + url.QueryEscape(fmt.Sprintf("http://courses.example.com/c%d", i%b.c.Courses)) + "&related_activities=true&limit=100"
		}},
	}
	out := map[string]latencies{}
	for _, q := range qs {
		var lat []time.Duration
		for i := range rounds {
			_, d, err := b.do(ctx, "GET", "/statements?"+q.query(i), nil)
			if err != nil {
				return nil, err
			}
			lat = append(lat, d)
		}
		out[q.name] = summarise(lat)
	}
	// Paging: all statements of course 0, 100 a page, following more.
	var lat []time.Duration
	path := "/statements?activity=" + url.QueryEscape("http://courses.example.com/c0") + "&related_activities=true&limit=100"
	for page := 0; path != "" && page < 1_000_000; page++ {
		body, d, err := b.do(ctx, "GET", path, nil)
		if err != nil {
			return nil, err
		}
		lat = append(lat, d)
		var res struct {
			More string `json:"more"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("bench: paging: %w", err)
		}
		path = ""
		if res.More != "" {
			u, err := url.Parse(res.More)
			if err != nil {
				return nil, fmt.Errorf("bench: paging: more %q: %w", res.More, err)
			}
			base, _ := url.Parse(b.c.Endpoint)
			path = strings.TrimPrefix(u.Path, base.Path) + "?" + u.RawQuery
		}
	}
	out["paging (more)"] = summarise(lat)
	return out, nil
}

// ceiling writes stmts straight into a fresh Badger under dir, each with
// keys-1 further index entries of 40-byte keys, in batches of batch
// statements per transaction from conc writers, and returns statements/s.
// No HTTP, no policy, no sealing, no audit: the raw ceiling of the machine.
func ceiling(ctx context.Context, dir string, fsync bool, stmts [][]byte, keys, batch, conc int) (float64, error) {
	path, err := os.MkdirTemp(dir, fmt.Sprintf("sync-%t-", fsync))
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(path)
	db, err := badger.Open(badger.DefaultOptions(path).WithSyncWrites(fsync).WithLogger(nil))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(batch))) - batch
				if lo >= len(stmts) || ctx.Err() != nil {
					return
				}
				hi := min(lo+batch, len(stmts))
				err := db.Update(func(txn *badger.Txn) error {
					for i := lo; i < hi; i++ {
						id := make([]byte, 17)
						id[0] = 's'
						rand.Read(id[1:])
						if err := txn.Set(id, stmts[i]); err != nil {
							return err
						}
						for range keys - 1 {
							k := make([]byte, 40)
							k[0] = 'i'
							rand.Read(k[1:32])
							binary.BigEndian.PutUint64(k[32:], uint64(i))
							if err := txn.Set(k, id[1:]); err != nil {
								return err
							}
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(len(stmts)) / elapsed.Seconds(), ctx.Err()
}
