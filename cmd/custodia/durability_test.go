package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDurabilityAfterSIGKILL: a 200 means the statements are on disk. The
// test builds custodia, starts it as a child process, loads it from eight
// clients, kills it with SIGKILL in the middle of the load, starts it again
// on the same data and finds every statement it had acknowledged.
func TestDurabilityAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "custodia")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	start := func() (*exec.Cmd, string) {
		t.Helper()
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "error")
		cmd.Env = append(os.Environ(), "CUSTODIA_ADMIN_KEY=admin", "CUSTODIA_ADMIN_SECRET=adminsecret")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		lines := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`serving xAPI at (http://127\.0\.0\.1:\d+)/xapi/`)
		for lines.Scan() {
			if m := re.FindStringSubmatch(lines.Text()); m != nil {
				go func() {
					for lines.Scan() {
					}
				}()
				return cmd, m[1]
			}
		}
		t.Fatalf("custodia serve did not say where it serves; stderr:\n%s", stderr.String())
		return nil, ""
	}
	post := func(client *http.Client, base string, body []byte) (int, error) {
		req, err := http.NewRequest("POST", base+"/xapi/statements", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.SetBasicAuth("admin", "adminsecret")
		req.Header.Set("X-Experience-API-Version", "2.0.0")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	cmd, base := start()
	client := &http.Client{Timeout: 30 * time.Second}
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	corpus := benchCorpus{learners: 50, courses: 5}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for n := 0; n < 1000; n++ { // bounded: the kill comes long before
				ids := make([]string, 10)
				var body bytes.Buffer
				body.WriteByte('[')
				for i := range ids {
					ids[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1))
					s := corpus.statement(r)
					if i > 0 {
						body.WriteByte(',')
					}
					body.WriteString(`{"id":"` + ids[i] + `",`)
					body.Write(s[1:])
				}
				body.WriteByte(']')
				code, err := post(client, base, body.Bytes())
				if err != nil {
					return // the server is gone
				}
				if code != http.StatusOK {
					t.Errorf("POST = %d, want 200", code)
					return
				}
				mu.Lock()
				acked = append(acked, ids...)
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 500 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()
	mu.Lock()
	ids := append([]string(nil), acked...)
	mu.Unlock()
	if len(ids) == 0 {
		t.Fatal("no statement was acknowledged before the kill")
	}

	_, base = start()
	for _, id := range ids {
		req, _ := http.NewRequest("GET", base+"/xapi/statements?statementId="+id, nil)
		req.SetBasicAuth("admin", "adminsecret")
		req.Header.Set("X-Experience-API-Version", "2.0.0")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET acknowledged statement %s after SIGKILL = %d, want 200", id, resp.StatusCode)
		}
	}
	t.Logf("%d acknowledged statements all found after SIGKILL", len(ids))
}
