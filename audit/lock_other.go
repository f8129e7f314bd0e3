//go:build !unix

package audit

// lockDir does not lock on this platform: run one writer per log.
func lockDir(dir string) (unlock func(), err error) { return func() {}, nil }
