package store_test

import (
	"context"
	"fmt"

	"custodia/store"
	"custodia/xapi"
)

func ExampleDB_QueryStatements() {
	ctx := context.Background()
	db, err := store.Open("", newSealer(), store.Options{InMemory: true})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	for _, js := range []string{
		`{"id":"00000000-0000-4000-8000-000000000001","actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course"}}`,
		`{"id":"00000000-0000-4000-8000-000000000002","actor":{"mbox":"mailto:bob@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.com/course"}}`,
		`{"id":"00000000-0000-4000-8000-000000000003","actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attempted"},"object":{"id":"http://example.com/course"}}`,
	} {
		s, err := xapi.ParseStatement([]byte(js), xapi.V103)
		if err != nil {
			panic(err)
		}
		s.Prepare(xapi.Prepare{Authority: xapi.Agent{Mbox: "mailto:lms@example.com"}, Version: xapi.V103})
		if err := db.PutStatements(ctx, []*xapi.Statement{s}, nil); err != nil {
			panic(err)
		}
	}
	q := xapi.Query{Agent: &xapi.Agent{Mbox: "mailto:ann@example.com"}}
	for after := ""; ; {
		page, next, err := db.QueryStatements(ctx, q, after, 1, nil)
		if err != nil {
			panic(err)
		}
		for _, s := range page {
			fmt.Println(s.ID())
		}
		if next == "" {
			break
		}
		after = next
	}
	// Output:
	// 00000000-0000-4000-8000-000000000003
	// 00000000-0000-4000-8000-000000000001
}
