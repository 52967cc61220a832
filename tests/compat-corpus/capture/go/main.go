// pgx v5: LoadType / LoadTypes query pg_type for types pgx has no codec for (enum, composite,
// their arrays); the extended protocol's statement cache otherwise sends only the user's SQL.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

const own = "/*own*/ "

func env(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func step(what string, err error) {
	if err != nil {
		fmt.Printf("  error %s: %v\n", what, err)
	} else {
		fmt.Printf("  ok    %s\n", what)
	}
}

func main() {
	ctx := context.Background()
	dsn := fmt.Sprintf("host=%s port=%s user=%s dbname=%s application_name=pgx sslmode=disable",
		env("CORPUS_HOST", "127.0.0.1"), env("CORPUS_PORT", "54333"), env("CORPUS_USER", "corpus"), env("CORPUS_DB", "corpus"))
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close(ctx)
	var name string
	step("query with param", c.QueryRow(ctx, own+"SELECT name FROM customers WHERE id = $1", 1).Scan(&name))
	t, err := c.LoadType(ctx, "mood")
	step("LoadType(mood)", err)
	if err == nil {
		c.TypeMap().RegisterType(t)
	}
	t, err = c.LoadType(ctx, "_mood")
	step("LoadType(_mood)", err)
	if err == nil {
		c.TypeMap().RegisterType(t)
	}
	ts, err := c.LoadTypes(ctx, []string{"address", "_address"})
	step("LoadTypes(address, _address)", err)
	if err == nil {
		c.TypeMap().RegisterTypes(ts)
	}
	var tags []string
	step("array result", c.QueryRow(ctx, own+"SELECT tags FROM customers WHERE id = $1", 1).Scan(&tags))
	var m string
	step("enum result", c.QueryRow(ctx, own+"SELECT mood FROM customers WHERE id = $1", 1).Scan(&m))
	tx, err := c.Begin(ctx)
	step("begin", err)
	if err == nil {
		_, err = tx.Exec(ctx, own+"SELECT 1")
		step("exec in tx", err)
		step("rollback", tx.Rollback(ctx))
	}
	b := &pgx.Batch{}
	b.Queue(own+"SELECT 1")
	b.Queue(own+"SELECT $1::int", 2)
	step("batch", c.SendBatch(ctx, b).Close())
}
