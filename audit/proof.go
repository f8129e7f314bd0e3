package audit

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

// ErrRange reports a proof asked for sizes or an index outside the log.
var ErrRange = errors.New("audit: out of range")

// TreeHash returns the RFC 6962 root hash of the first size entries, as a
// checkpoint of that size signs it. size must not exceed Size.
func (l *Log) TreeHash(ctx context.Context, size int64) (tlog.Hash, error) {
	hf, err := l.inRange(ctx, size)
	if err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(size, fileHashes{hf})
}

// ProveInclusion returns the RFC 6962 audit path (tlog.RecordProof) showing
// that the tree of size entries contains entry index, and that entry's leaf
// hash. Check it with tlog.CheckRecord(proof, size, treeHash, index, leaf),
// treeHash taken from a signed checkpoint of that size.
func (l *Log) ProveInclusion(ctx context.Context, index, size int64) (proof tlog.RecordProof, leaf tlog.Hash, err error) {
	hf, err := l.inRange(ctx, size)
	if err != nil {
		return nil, tlog.Hash{}, err
	}
	if index < 0 || index >= size {
		return nil, tlog.Hash{}, fmt.Errorf("%w: index %d must be below size %d", ErrRange, index, size)
	}
	hr := fileHashes{hf}
	p, err := tlog.ProveRecord(size, index, hr)
	if err != nil {
		return nil, tlog.Hash{}, fmt.Errorf("audit: prove inclusion: %w", err)
	}
	hs, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		return nil, tlog.Hash{}, fmt.Errorf("audit: prove inclusion: %w", err)
	}
	return p, hs[0], nil
}

// ProveConsistency returns the RFC 6962 consistency proof (tlog.TreeProof)
// that the tree of size newSize contains the tree of size oldSize as a
// prefix. Check it with tlog.CheckTree(proof, newSize, newHash, oldSize,
// oldHash), the hashes taken from signed checkpoints.
func (l *Log) ProveConsistency(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	hf, err := l.inRange(ctx, newSize)
	if err != nil {
		return nil, err
	}
	if oldSize < 1 || oldSize > newSize {
		return nil, fmt.Errorf("%w: old size %d must be from 1 to the new size %d", ErrRange, oldSize, newSize)
	}
	p, err := tlog.ProveTree(newSize, oldSize, fileHashes{hf})
	if err != nil {
		return nil, fmt.Errorf("audit: prove consistency: %w", err)
	}
	return p, nil
}

// inRange checks that size is within the log and returns the hashes file
// to read.
func (l *Log) inRange(ctx context.Context, size int64) (*os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.RLock()
	closed, n, hf := l.closed, l.size, l.hashes
	l.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if size < 0 || size > n {
		return nil, fmt.Errorf("%w: size %d is beyond the log's %d entries", ErrRange, size, n)
	}
	return hf, nil
}
