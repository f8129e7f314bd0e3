package audit

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"
)

const (
	entriesFile     = "entries.jsonl"
	hashesFile      = "hashes"
	checkpointsFile = "checkpoints"
	signerFile      = "signer.key"
	verifierFile    = "verifier.key"
	cutFile         = "uncommitted.jsonl" // entries cut by recovery, kept for inspection
	witnessesFile   = "witnesses"         // verifier keys of the witnesses configured, one a line
	keyName         = "custodia-audit"

	maxEntrySize      = 1 << 20 // canonical JSON of one entry
	maxCheckpointSize = 64 << 10
	frameHeader       = 4
)

// fileHashes reads stored hashes from a hashes file.
type fileHashes struct{ f *os.File }

// ReadHashes implements tlog.HashReader.
func (r fileHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if _, err := r.f.ReadAt(out[i][:], idx*tlog.HashSize); err != nil {
			return nil, fmt.Errorf("stored hash %d: %w", idx, err)
		}
	}
	return out, nil
}

// frame is one record of the checkpoints file.
type frame struct {
	off  int64 // offset of the header
	note []byte
}

// readFrames reads the checkpoints file. It returns the complete frames and
// the offset where a torn (incomplete) final frame starts, or the file size
// when there is none. A frame is torn when the file ends inside it, or when
// its length is zero (space the file system allocated but never wrote).
func readFrames(f *os.File) (frames []frame, end int64, err error) {
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 64<<10)
	var off int64
	for {
		var hdr [frameHeader]byte
		n, err := io.ReadFull(br, hdr[:])
		if err == io.EOF {
			return frames, off, nil
		}
		if err == io.ErrUnexpectedEOF {
			return frames, off, nil
		}
		if err != nil {
			return nil, 0, err
		}
		size := int64(binary.BigEndian.Uint32(hdr[:]))
		if size == 0 {
			// Zeros to the end are space allocated but never written.
			if rest, err := io.ReadAll(br); err != nil || len(bytes.TrimLeft(rest, "\x00")) != 0 {
				return nil, 0, fmt.Errorf("checkpoint at offset %d: zero length", off)
			}
			return frames, off, nil
		}
		if size > maxCheckpointSize {
			return nil, 0, fmt.Errorf("checkpoint at offset %d: length %d over the limit", off, size)
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(br, buf); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				return frames, off, nil
			}
			return nil, 0, err
		}
		frames = append(frames, frame{off: off, note: buf})
		off += int64(n) + size
	}
}

func appendFrame(dst, note []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(note)))
	return append(dst, note...)
}

// writeNew stores data under dir/name atomically without replacing an
// existing file (temp file, fsync, hard link, directory fsync).
func writeNew(dir, name string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", filepath.Base(path), max)
	}
	return b, nil
}

// scanEntries calls fn with each complete line of the entries file (without
// its newline) and its index and offset, and returns the number of complete
// lines and the offset just past the last one. Bytes after it are a torn
// tail.
func scanEntries(f *os.File, fn func(i, off int64, line []byte) error) (n, end int64, err error) {
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 256<<10)
	var buf []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			buf = append(buf[:0], line...)
			for err == bufio.ErrBufferFull && len(buf) <= maxEntrySize {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
			if err == bufio.ErrBufferFull {
				return n, end, fmt.Errorf("entry %d at offset %d: longer than %d bytes", n, end, maxEntrySize)
			}
		}
		if err == io.EOF {
			return n, end, nil // line, if any, is a torn tail
		}
		if err != nil {
			return n, end, err
		}
		if fn != nil {
			if err := fn(n, end, line[:len(line)-1]); err != nil {
				return n, end, err
			}
		}
		n++
		end += int64(len(line))
	}
}
