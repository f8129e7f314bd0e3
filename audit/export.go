package audit

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ExportOptions configures Export.
type ExportOptions struct {
	// NoBodies leaves the sealed bodies out: the export then holds the
	// commitments and months only, says so (a member named
	// "bodies-omitted"), and verifies with the bodies not checked.
	NoBodies bool
}

// bodiesOmittedFile marks an export written with NoBodies.
const bodiesOmittedFile = "bodies-omitted"

// exportFiles are the files an export may hold, in the order written.
var exportFiles = []string{verifierFile, witnessesFile, bodiesOmittedFile, publishedFile, checkpointsFile, entriesFile, hashesFile}

// Export writes the log stored in dir to w as a self-contained tar archive
// that Verify can check (see VerifyExport): the entries (commitments and,
// unless NoBodies, sealed bodies), the stored hashes, the commit and
// published checkpoints, and the verifier key. It may run while a writer
// has the log open: it exports the log as of the current checkpoint.
func Export(dir string, w io.Writer, o ExportOptions) error {
	vb, err := readSmall(filepath.Join(dir, verifierFile), 4<<10)
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(vb)))
	if err != nil {
		return fmt.Errorf("audit: export: verifier key: %w", err)
	}
	// Published checkpoints first, then the commit checkpoints: neither can
	// then cover entries the files read afterwards lack.
	pub, err := readFramesFile(filepath.Join(dir, publishedFile))
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	cps, err := readFramesFile(filepath.Join(dir, checkpointsFile))
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	var size int64
	if len(cps) > 0 {
		_, t, _, err := openCheckpointNote(cps[len(cps)-1].note, v, note.VerifierList(v))
		if err != nil {
			return fmt.Errorf("audit: export: current checkpoint: %w", err)
		}
		size = t.N
	}

	tmp, err := os.CreateTemp("", "custodia-audit-export-*")
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	ef, err := os.Open(filepath.Join(dir, entriesFile))
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	defer ef.Close()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	errDone := errors.New("done")
	n, _, err := scanEntries(ef, func(i, _ int64, line []byte) error {
		if i >= size {
			return errDone
		}
		if o.NoBodies {
			sl, err := parseLine(line, nil)
			if err != nil {
				return fmt.Errorf("entry %d: %w", i, err)
			}
			sl.Sealed = nil
			line, _ = json.Marshal(sl)
		}
		bw.Write(line)
		return bw.WriteByte('\n')
	})
	if err != nil && err != errDone {
		return fmt.Errorf("audit: export: %s: %w", entriesFile, err)
	}
	if err == nil && n < size {
		return fmt.Errorf("audit: export: %s holds %d entries, the checkpoint covers %d; run audit verify", entriesFile, n, size)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	hashes, err := os.Open(filepath.Join(dir, hashesFile))
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	defer hashes.Close()

	tw := tar.NewWriter(w)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.CopyN(tw, r, size)
		return err
	}
	frames := func(fs []frame) []byte {
		var b []byte
		for _, f := range fs {
			b = appendFrame(b, f.note)
		}
		return b
	}
	pb, cb := frames(pub), frames(cps)
	entriesSize, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	wb, err := readSmall(filepath.Join(dir, witnessesFile), 64<<10)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit: export: %w", err)
	}
	type member struct {
		name string
		size int64
		r    io.Reader
	}
	members := []member{{verifierFile, int64(len(vb)), strings.NewReader(string(vb))}}
	if len(wb) > 0 {
		members = append(members, member{witnessesFile, int64(len(wb)), strings.NewReader(string(wb))})
	}
	if o.NoBodies {
		members = append(members, member{bodiesOmittedFile, 0, strings.NewReader("")})
	}
	members = append(members,
		member{publishedFile, int64(len(pb)), strings.NewReader(string(pb))},
		member{checkpointsFile, int64(len(cb)), strings.NewReader(string(cb))},
		member{entriesFile, entriesSize, io.NewSectionReader(tmp, 0, entriesSize)},
		member{hashesFile, tlog.StoredHashCount(size) * tlog.HashSize, hashes})
	for _, f := range members {
		if err := add(f.name, f.size, f.r); err != nil {
			return fmt.Errorf("audit: export: %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

// readFramesFile reads the complete frames of a checkpoints file; a missing
// file has none.
func readFramesFile(path string) ([]frame, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	frames, _, err := readFrames(f)
	return frames, err
}

// VerifyExport checks an archive written by Export, as Verify checks a log
// directory. o.Key is required: the verifier key inside the archive is not
// trusted.
func VerifyExport(path string, o VerifyOptions) (Report, error) {
	if o.Key == "" {
		return Report{}, errors.New("audit: verify export: the log's verifier key is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify export: %w", err)
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "custodia-audit-verify-*")
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify export: %w", err)
	}
	defer os.RemoveAll(dir)
	tr := tar.NewReader(f)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Report{}, &VerifyError{Index: -1, Offset: -1, Reason: fmt.Sprintf("export archive: %v", err)}
		}
		known := false
		for _, n := range exportFiles {
			known = known || h.Name == n
		}
		if !known || seen[h.Name] || h.Typeflag != tar.TypeReg {
			return Report{}, &VerifyError{Index: -1, Offset: -1, Reason: fmt.Sprintf("export archive: unexpected member %q", h.Name)}
		}
		seen[h.Name] = true
		out, err := os.OpenFile(filepath.Join(dir, h.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return Report{}, fmt.Errorf("audit: verify export: %w", err)
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return Report{}, fmt.Errorf("audit: verify export: %w", err)
		}
	}
	for _, n := range []string{checkpointsFile, entriesFile, hashesFile, publishedFile} {
		if !seen[n] {
			return Report{}, &VerifyError{Index: -1, File: n, Offset: -1, Reason: fmt.Sprintf("export archive: %s missing", n)}
		}
	}
	return verify(dir, o, seen[bodiesOmittedFile])
}
