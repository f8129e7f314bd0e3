package crypto_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	lrscrypto "custodia/crypto"
)

func ExampleKeyring() {
	dir, err := os.MkdirTemp("", "keyring-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	k, err := lrscrypto.OpenKeyring(filepath.Join(dir, "keys"), filepath.Join(dir, "root.agekey"), lrscrypto.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer k.Close()
	ctx := context.Background()
	subject := "mailto:learner@example.org"

	sealed, _ := k.Seal(ctx, subject, []byte("statement-1"), []byte(`{"verb":"completed"}`))
	plain, _ := k.Open(ctx, subject, []byte("statement-1"), sealed)
	fmt.Printf("%s\n", plain)

	_ = k.Shred(ctx, subject)
	_, err = k.Open(ctx, subject, []byte("statement-1"), sealed)
	fmt.Println(errors.Is(err, lrscrypto.ErrShredded))
	// Output:
	// {"verb":"completed"}
	// true
}
