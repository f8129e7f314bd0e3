package crypto_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	lrscrypto "custodia/crypto"
)

// openKeyring opens a keyring on dir with its root key in dir/root/root.agekey.
func openKeyring(t testing.TB, dir string, o lrscrypto.Options) *lrscrypto.Keyring {
	t.Helper()
	k, err := lrscrypto.OpenKeyring(filepath.Join(dir, "keys"), filepath.Join(dir, "root", "root.agekey"), o)
	if err != nil {
		t.Fatalf("OpenKeyring(%s) = %v", dir, err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func seal(t testing.TB, k *lrscrypto.Keyring, subject, id, pt string) []byte {
	t.Helper()
	sealed, err := k.Seal(context.Background(), subject, []byte(id), []byte(pt))
	if err != nil {
		t.Fatalf("Seal(%q, %q) = %v", subject, id, err)
	}
	return sealed
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := openKeyring(t, t.TempDir(), lrscrypto.Options{})
	ctx := context.Background()
	tests := []struct {
		name      string
		subject   string
		recordID  string
		plaintext []byte
	}{
		{"system subject", "", "r1", []byte(`{"id":"r1"}`)},
		{"mbox", "mailto:learner@example.org", "6690e6c9-3ef0-4ed3-8b37-7f3964730bee", []byte("statement body")},
		{"empty plaintext", "account::https://lms.example.org::42", "r2", []byte{}},
		{"empty record id", "mailto:x@example.org", "", []byte("x")},
		{"1 KiB", "mailto:x@example.org", "r3", bytes.Repeat([]byte{0xa5}, 1024)},
		{"unicode subject", "openid:https://例え.jp/ü", "r4", []byte("ünïcode")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := k.Seal(ctx, tt.subject, []byte(tt.recordID), tt.plaintext)
			if err != nil {
				t.Fatalf("Seal = %v", err)
			}
			if want := 1 + 24 + len(tt.plaintext) + 16; len(sealed) != want {
				t.Errorf("len(Seal) = %d, want %d", len(sealed), want)
			}
			if len(tt.plaintext) > 4 && bytes.Contains(sealed, tt.plaintext) {
				t.Errorf("Seal output contains the plaintext")
			}
			got, err := k.Open(ctx, tt.subject, []byte(tt.recordID), sealed)
			if err != nil {
				t.Fatalf("Open(Seal(p)) = %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open(Seal(p)) = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestSealNoncesDiffer(t *testing.T) {
	k := openKeyring(t, t.TempDir(), lrscrypto.Options{})
	a := seal(t, k, "s", "r", "same")
	b := seal(t, k, "s", "r", "same")
	if bytes.Equal(a, b) {
		t.Errorf("two Seals of the same input are equal: %x", a)
	}
}

func TestOpenRejects(t *testing.T) {
	k := openKeyring(t, t.TempDir(), lrscrypto.Options{})
	ctx := context.Background()
	const subject, id = "mailto:a@example.org", "rec-1"
	sealed := seal(t, k, subject, id, strings.Repeat("payload ", 8))
	seal(t, k, "mailto:b@example.org", "other", "b's record") // b has a key too

	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	n := len(sealed)
	tests := []struct {
		name     string
		subject  string
		recordID string
		sealed   []byte
		want     error
	}{
		{"wrong record id", subject, "rec-2", sealed, lrscrypto.ErrOpen},
		{"empty record id", subject, "", sealed, lrscrypto.ErrOpen},
		{"wrong subject with a key", "mailto:b@example.org", id, sealed, lrscrypto.ErrOpen},
		{"subject without a key", "mailto:nobody@example.org", id, sealed, lrscrypto.ErrShredded},
		{"version byte", subject, id, flip(0), lrscrypto.ErrOpen},
		{"first nonce byte", subject, id, flip(1), lrscrypto.ErrOpen},
		{"last nonce byte", subject, id, flip(24), lrscrypto.ErrOpen},
		{"first ciphertext byte", subject, id, flip(25), lrscrypto.ErrOpen},
		{"middle ciphertext byte", subject, id, flip(25 + (n-41)/2), lrscrypto.ErrOpen},
		{"first tag byte", subject, id, flip(n - 16), lrscrypto.ErrOpen},
		{"last tag byte", subject, id, flip(n - 1), lrscrypto.ErrOpen},
		{"truncated tag", subject, id, sealed[:n-1], lrscrypto.ErrOpen},
		{"appended byte", subject, id, append(bytes.Clone(sealed), 0), lrscrypto.ErrOpen},
		{"too short", subject, id, sealed[:20], lrscrypto.ErrOpen},
		{"empty", subject, id, nil, lrscrypto.ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Open(ctx, tt.subject, []byte(tt.recordID), tt.sealed)
			if !errors.Is(err, tt.want) {
				t.Errorf("Open(%q, %q, …) = %q, %v, want error %v", tt.subject, tt.recordID, got, err, tt.want)
			}
		})
	}
	// Every single-bit flip anywhere must fail.
	for i := range sealed {
		if _, err := k.Open(ctx, subject, []byte(id), flip(i)); !errors.Is(err, lrscrypto.ErrOpen) {
			t.Errorf("Open(byte %d flipped) = %v, want %v", i, err, lrscrypto.ErrOpen)
		}
	}
}

func TestShred(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	k := openKeyring(t, dir, lrscrypto.Options{})
	const gone, kept = "mailto:gone@example.org", "mailto:kept@example.org"
	sGone := seal(t, k, gone, "r1", "erase me")
	sKept := seal(t, k, kept, "r2", "keep me")

	if err := k.Shred(ctx, gone); err != nil {
		t.Fatalf("Shred = %v", err)
	}
	if _, err := k.Open(ctx, gone, []byte("r1"), sGone); !errors.Is(err, lrscrypto.ErrShredded) {
		t.Errorf("Open after Shred = %v, want %v", err, lrscrypto.ErrShredded)
	}
	if got, err := k.Open(ctx, kept, []byte("r2"), sKept); err != nil || string(got) != "keep me" {
		t.Errorf("Open(other subject) after Shred = %q, %v, want %q", got, err, "keep me")
	}
	if err := k.Shred(ctx, gone); err != nil {
		t.Errorf("Shred twice = %v, want nil", err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	// A new keyring (as in a new process) has nothing cached.
	k2 := openKeyring(t, dir, lrscrypto.Options{})
	if _, err := k2.Open(ctx, gone, []byte("r1"), sGone); !errors.Is(err, lrscrypto.ErrShredded) {
		t.Errorf("Open after Shred and reopen = %v, want %v", err, lrscrypto.ErrShredded)
	}
	if got, err := k2.Open(ctx, kept, []byte("r2"), sKept); err != nil || string(got) != "keep me" {
		t.Errorf("Open(other subject) after reopen = %q, %v, want %q", got, err, "keep me")
	}
	// Sealing for the subject again makes a fresh key that cannot open the old record.
	fresh := seal(t, k2, gone, "r3", "new")
	if _, err := k2.Open(ctx, gone, []byte("r1"), sGone); !errors.Is(err, lrscrypto.ErrOpen) {
		t.Errorf("Open(old record) with the subject's new key = %v, want %v", err, lrscrypto.ErrOpen)
	}
	if got, err := k2.Open(ctx, gone, []byte("r3"), fresh); err != nil || string(got) != "new" {
		t.Errorf("Open(new record) = %q, %v, want %q", got, err, "new")
	}
}

func TestShredRemovesKeyFile(t *testing.T) {
	dir := t.TempDir()
	k := openKeyring(t, dir, lrscrypto.Options{})
	before := keyFiles(t, filepath.Join(dir, "keys"))
	seal(t, k, "mailto:a@example.org", "r", "x")
	with := keyFiles(t, filepath.Join(dir, "keys"))
	if len(with) != len(before)+1 {
		t.Fatalf("key files after first Seal = %d, want %d", len(with), len(before)+1)
	}
	if err := k.Shred(context.Background(), "mailto:a@example.org"); err != nil {
		t.Fatal(err)
	}
	if after := keyFiles(t, filepath.Join(dir, "keys")); len(after) != len(before) {
		t.Errorf("key files after Shred = %v, want %v", after, before)
	}
}

func keyFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestKeyStoreHidesSubjects(t *testing.T) {
	dir := t.TempDir()
	k := openKeyring(t, dir, lrscrypto.Options{})
	subjects := []string{"mailto:alice.wonder@example.org", "account::https://lms.example.org::bob-1234", "charlie"}
	for i, s := range subjects {
		seal(t, k, s, fmt.Sprint(i), "x")
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range subjects {
			for _, form := range []string{s, hex.EncodeToString([]byte(s))} {
				if strings.Contains(path, form) || bytes.Contains(b, []byte(form)) {
					t.Errorf("%s contains subject %q", path, s)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestKeysPersistAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	k := openKeyring(t, dir, lrscrypto.Options{})
	sealed := seal(t, k, "mailto:a@example.org", "r1", "persisted")
	blind := k.Blind("actor", "mailto:a@example.org")
	pseudo := k.Pseudonym("mailto:a@example.org")
	recipient := k.Recipient()
	k.Close()

	k2 := openKeyring(t, dir, lrscrypto.Options{})
	if k2.Generated() {
		t.Errorf("Generated() on reopen = true, want false")
	}
	if got := k2.Recipient(); got != recipient {
		t.Errorf("Recipient() after reopen = %q, want %q", got, recipient)
	}
	got, err := k2.Open(ctx, "mailto:a@example.org", []byte("r1"), sealed)
	if err != nil || string(got) != "persisted" {
		t.Errorf("Open after reopen = %q, %v, want %q", got, err, "persisted")
	}
	if got := k2.Blind("actor", "mailto:a@example.org"); !bytes.Equal(got, blind) {
		t.Errorf("Blind after reopen = %x, want %x", got, blind)
	}
	if got := k2.Pseudonym("mailto:a@example.org"); got != pseudo {
		t.Errorf("Pseudonym after reopen = %q, want %q", got, pseudo)
	}
}

func TestRootKeyFile(t *testing.T) {
	dir := t.TempDir()
	k := openKeyring(t, dir, lrscrypto.Options{})
	if !k.Generated() {
		t.Errorf("Generated() on first open = false, want true")
	}
	if r := k.Recipient(); !strings.HasPrefix(r, "age1") {
		t.Errorf("Recipient() = %q, want an age1… recipient", r)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{
		{filepath.Join(dir, "root", "root.agekey"), 0o600},
		{filepath.Join(dir, "root"), 0o700},
		{filepath.Join(dir, "keys"), 0o700},
	} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != c.want {
			t.Errorf("mode of %s = %v, want %v", c.path, got, c.want)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "root", "root.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("AGE-SECRET-KEY-1")) || !bytes.Contains(b, []byte(k.Recipient())) {
		t.Errorf("root key file = %d bytes without an age identity and its recipient", len(b))
	}
}

func TestOpenKeyringWrongRoot(t *testing.T) {
	dir := t.TempDir()
	k := openKeyring(t, dir, lrscrypto.Options{})
	seal(t, k, "s", "r", "x")
	k.Close()
	// A missing root is not regenerated for an existing key store.
	missing := filepath.Join(t.TempDir(), "missing.agekey")
	if k2, err := lrscrypto.OpenKeyring(filepath.Join(dir, "keys"), missing, lrscrypto.Options{}); err == nil {
		k2.Close()
		t.Errorf("OpenKeyring(store, missing root) = nil error, want an error")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("OpenKeyring(store, missing root) generated %s", missing)
	}
	// Another root cannot unwrap the key store.
	other := filepath.Join(t.TempDir(), "other.agekey")
	k3, err := lrscrypto.OpenKeyring(filepath.Join(t.TempDir(), "fresh"), other, lrscrypto.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k3.Close()
	if k2, err := lrscrypto.OpenKeyring(filepath.Join(dir, "keys"), other, lrscrypto.Options{}); err == nil {
		k2.Close()
		t.Errorf("OpenKeyring(store, another root) = nil error, want an error")
	}
}

func TestOpenKeyringBadInput(t *testing.T) {
	dir := t.TempDir()
	notAKey := filepath.Join(dir, "junk")
	if err := os.WriteFile(notAKey, []byte("not an age key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		keys string
		root string
		o    lrscrypto.Options
	}{
		{"empty dir", "", filepath.Join(dir, "r"), lrscrypto.Options{}},
		{"empty root", filepath.Join(dir, "k"), "", lrscrypto.Options{}},
		{"negative cache", filepath.Join(dir, "k"), filepath.Join(dir, "r"), lrscrypto.Options{CacheSize: -1}},
		{"root not an age key", filepath.Join(dir, "k"), notAKey, lrscrypto.Options{}},
		{"failing rand", filepath.Join(dir, "k2"), filepath.Join(dir, "r2"), lrscrypto.Options{Rand: errReader{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := lrscrypto.OpenKeyring(tt.keys, tt.root, tt.o)
			if err == nil {
				k.Close()
				t.Errorf("OpenKeyring(%q, %q) = nil error, want an error", tt.keys, tt.root)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestClosed(t *testing.T) {
	k := openKeyring(t, t.TempDir(), lrscrypto.Options{})
	sealed := seal(t, k, "s", "r", "x")
	k.Close()
	ctx := context.Background()
	if _, err := k.Seal(ctx, "s", []byte("r"), []byte("x")); !errors.Is(err, lrscrypto.ErrClosed) {
		t.Errorf("Seal after Close = %v, want %v", err, lrscrypto.ErrClosed)
	}
	if _, err := k.Open(ctx, "s", []byte("r"), sealed); !errors.Is(err, lrscrypto.ErrClosed) {
		t.Errorf("Open after Close = %v, want %v", err, lrscrypto.ErrClosed)
	}
	if err := k.Shred(ctx, "s"); !errors.Is(err, lrscrypto.ErrClosed) {
		t.Errorf("Shred after Close = %v, want %v", err, lrscrypto.ErrClosed)
	}
}

func TestCanceledContext(t *testing.T) {
	k := openKeyring(t, t.TempDir(), lrscrypto.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.Seal(ctx, "s", []byte("r"), []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Seal(canceled ctx) = %v, want %v", err, context.Canceled)
	}
}

func TestConcurrentSealOpen(t *testing.T) {
	dir := t.TempDir()
	// A cache smaller than the subjects forces evictions and reloads.
	k := openKeyring(t, dir, lrscrypto.Options{CacheSize: 4})
	ctx := context.Background()
	const workers, rounds, subjects = 8, 40, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				subject := fmt.Sprintf("mailto:s%d@example.org", (w+i)%subjects)
				id := []byte(fmt.Sprintf("w%d-r%d", w, i))
				pt := []byte(fmt.Sprintf("payload %d %d", w, i))
				sealed, err := k.Seal(ctx, subject, id, pt)
				if err != nil {
					errs <- fmt.Errorf("Seal(%s) = %v", subject, err)
					return
				}
				got, err := k.Open(ctx, subject, id, sealed)
				if err != nil || !bytes.Equal(got, pt) {
					errs <- fmt.Errorf("Open(Seal(%s)) = %q, %v, want %q", subject, got, err, pt)
					return
				}
				k.Blind("actor", subject)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Concurrent first use created exactly one key per subject.
	var deks int
	for _, name := range keyFiles(t, filepath.Join(dir, "keys")) {
		if strings.HasPrefix(name, "dek-") {
			deks++
		}
	}
	if deks != subjects {
		t.Errorf("data key files = %d, want %d", deks, subjects)
	}
}

func TestBlind(t *testing.T) {
	k := openKeyring(t, t.TempDir(), lrscrypto.Options{})
	other := openKeyring(t, t.TempDir(), lrscrypto.Options{})
	const v = "mailto:a@example.org"
	a := k.Blind("actor", v)
	if len(a) != 32 {
		t.Fatalf("len(Blind) = %d, want 32", len(a))
	}
	tests := []struct {
		name  string
		got   []byte
		equal bool
	}{
		{"same field and value", k.Blind("actor", v), true},
		{"other field", k.Blind("verb", v), false},
		{"other value", k.Blind("actor", "mailto:b@example.org"), false},
		{"field/value boundary", k.Blind("actorm", "ailto:a@example.org"), false},
		{"other key store", other.Blind("actor", v), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bytes.Equal(tt.got, a); got != tt.equal {
				t.Errorf("Blind = %x equal to Blind(actor, v) = %x: %v, want %v", tt.got, a, got, tt.equal)
			}
		})
	}
	p := k.Pseudonym(v)
	if len(p) != 32 {
		t.Errorf("len(Pseudonym(v)) = %d, want 32", len(p))
	}
	if _, err := hex.DecodeString(p); err != nil {
		t.Errorf("Pseudonym(v) = %q, not hex", p)
	}
	if got := k.Pseudonym(v); got != p {
		t.Errorf("Pseudonym(v) = %q then %q, want stable", p, got)
	}
	if got := k.Pseudonym("mailto:b@example.org"); got == p {
		t.Errorf("Pseudonym of two values = %q, want different", got)
	}
	if strings.HasPrefix(hex.EncodeToString(a), p) {
		t.Errorf("Pseudonym(v) is a prefix of Blind(actor, v): fields not separated")
	}
}

func TestBlindConcurrentFields(t *testing.T) {
	k := openKeyring(t, t.TempDir(), lrscrypto.Options{})
	want := map[string][]byte{}
	fields := []string{"actor", "verb", "activity", "registration"}
	for _, f := range fields {
		want[f] = k.Blind(f, "value")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 4 {
		wg.Go(func() {
			for i := range 200 {
				f := fields[i%len(fields)]
				if got := k.Blind(f, "value"); !bytes.Equal(got, want[f]) {
					mu.Lock()
					t.Errorf("Blind(%s, value) = %x, want %x", f, got, want[f])
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

func TestInterruptedShred(t *testing.T) {
	dir := t.TempDir()
	k := openKeyring(t, dir, lrscrypto.Options{})
	before := keyFiles(t, filepath.Join(dir, "keys"))
	sealed := seal(t, k, "mailto:a@example.org", "r", "x")
	k.Close()
	// A crash after Shred overwrote the key file but before it removed it.
	for _, name := range keyFiles(t, filepath.Join(dir, "keys")) {
		if !slices.Contains(before, name) {
			p := filepath.Join(dir, "keys", name)
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, make([]byte, st.Size()), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	k2 := openKeyring(t, dir, lrscrypto.Options{})
	if _, err := k2.Open(context.Background(), "mailto:a@example.org", []byte("r"), sealed); !errors.Is(err, lrscrypto.ErrShredded) {
		t.Errorf("Open after an interrupted Shred = %v, want %v", err, lrscrypto.ErrShredded)
	}
	if after := keyFiles(t, filepath.Join(dir, "keys")); !slices.Equal(after, before) {
		t.Errorf("key files after an interrupted Shred = %v, want %v", after, before)
	}
	fresh := seal(t, k2, "mailto:a@example.org", "r2", "y")
	if got, err := k2.Open(context.Background(), "mailto:a@example.org", []byte("r2"), fresh); err != nil || string(got) != "y" {
		t.Errorf("Open(new record) = %q, %v, want %q", got, err, "y")
	}
}
