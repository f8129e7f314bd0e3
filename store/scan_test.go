package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"custodia/xapi"
)

func TestScanStatements(t *testing.T) {
	db, clk := openMem(t)
	var want []string
	for i := 1; i <= 5; i++ {
		s := stmt(t, spec{id: uuid(i), extra: "response"})
		put(t, db, s)
		want = append(want, s.ID())
		clk.Advance(time.Second)
	}
	// A voiding statement voids uuid(2); both are still scanned.
	voider := stmt(t, spec{id: uuid(6), verb: "http://adlnet.gov/expapi/verbs/voided", refTarget: uuid(2)})
	put(t, db, voider)
	want = append(want, uuid(6))

	tests := []struct {
		name string
		stop int // stop after this many; 0: never
		want []string
	}{
		{"all, voided ones included, in stored order", 0, want},
		{"stopped after three", 3, want[:3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := db.ScanStatements(context.Background(), func(s *xapi.Statement) (bool, error) {
				got = append(got, s.ID())
				return tt.stop == 0 || len(got) < tt.stop, nil
			})
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ScanStatements = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
	t.Run("opens each statement", func(t *testing.T) {
		err := db.ScanStatements(context.Background(), func(s *xapi.Statement) (bool, error) {
			if s.Stored().IsZero() {
				t.Errorf("statement %s has no stored time", s.ID())
			}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fn error is returned", func(t *testing.T) {
		boom := errors.New("boom")
		n := 0
		err := db.ScanStatements(context.Background(), func(*xapi.Statement) (bool, error) {
			n++
			return true, boom
		})
		if !errors.Is(err, boom) || n != 1 {
			t.Errorf("ScanStatements with a failing fn = %v after %d calls, want boom after 1", err, n)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := db.ScanStatements(ctx, func(*xapi.Statement) (bool, error) { return true, nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ScanStatements(cancelled) = %v, want context.Canceled", err)
		}
	})
}
