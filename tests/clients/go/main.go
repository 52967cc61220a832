// pgx v5 (extended protocol, binary formats, CopyFrom, batch) and lib/pq against the gateway.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/lib/pq"
)

var failed int

func emit(client, feature, status, detail string) {
	detail = strings.Join(strings.Fields(detail), " ")
	if len(detail) > 400 {
		detail = detail[:400]
	}
	fmt.Printf("RESULT\t%s\t%s\t%s\t%s\n", client, feature, status, detail)
}

func check(client, feature string, gap bool, fn func() error) bool {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return fn()
	}()
	if err == nil {
		emit(client, feature, "PASS", "")
		return true
	}
	if gap {
		emit(client, feature, "GAP", err.Error())
	} else {
		failed++
		emit(client, feature, "FAIL", err.Error())
	}
	return false
}

func want(what string, got, exp any) error {
	if !reflect.DeepEqual(got, exp) {
		return fmt.Errorf("%s: got %#v, want %#v", what, got, exp)
	}
	return nil
}

func first(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func dsn() string {
	e := os.Getenv
	return fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=verify-full sslrootcert=%s",
		e("PGHOST"), e("PGPORT"), e("PGUSER"), e("PGPASSWORD"), e("PGDATABASE"), e("PGSSLROOTCERT"))
}

const typesSQL = "SELECT 1::SMALLINT, 2::INTEGER, 3000000000::BIGINT, 1.5::FLOAT, 2.25::DOUBLE," +
	" 12.34::DECIMAL(10,2), 'héllo'::TEXT, true, DATE '2024-01-02', TIME '12:34:56.789'," +
	" TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMPTZ '2024-01-02 03:04:05+00'," +
	" INTERVAL '1 day 2 hours', UUID '12345678-1234-5678-1234-567812345678'," +
	" '\\x01\\x02\\xFF'::BLOB, '{\"a\": [1, 2]}'::JSON, [1, 2, 3], ['a', NULL], NULL::INTEGER"

func pgxTests(ctx context.Context) {
	const C = "go-pgx"
	var conn *pgx.Conn
	if !check(C, "connect+scram+tls", false, func() error {
		var err error
		conn, err = pgx.Connect(ctx, dsn())
		if err != nil {
			return err
		}
		if conn.PgConn().Conn() == nil {
			return fmt.Errorf("no connection")
		}
		var n int32
		if err := conn.QueryRow(ctx, "SELECT 41 + 1").Scan(&n); err != nil {
			return err
		}
		return want("select", n, int32(42))
	}) {
		return
	}
	defer conn.Close(ctx)

	check(C, "types binary", false, func() error {
		rows, err := conn.Query(ctx, typesSQL)
		if err != nil {
			return err
		}
		var oids []uint32
		for _, f := range rows.FieldDescriptions() {
			oids = append(oids, f.DataTypeOID)
		}
		vals := []any{}
		var formats []int16
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				return err
			}
			vals = v
			for _, f := range rows.FieldDescriptions() {
				formats = append(formats, f.Format)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(vals) != 19 {
			return fmt.Errorf("got %d values", len(vals))
		}
		num := vals[5].(pgtype.Numeric)
		iv := vals[12].(pgtype.Interval)
		return first(
			want("oids", oids, []uint32{21, 23, 20, 700, 701, 1700, 25, 16, 1082, 1083, 1114, 1184, 1186, 2950, 17, 114, 1007, 1009, 23}),
			want("binary formats", formats[0:6], []int16{1, 1, 1, 1, 1, 1}),
			want("ints/floats", vals[0:5], []any{int16(1), int32(2), int64(3000000000), float32(1.5), float64(2.25)}),
			want("numeric", [2]any{num.Int, num.Exp}, [2]any{big.NewInt(1234), int32(-2)}),
			want("text,bool", vals[6:8], []any{"héllo", true}),
			want("date", vals[8], time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)),
			want("time", vals[9], pgtype.Time{Microseconds: (12*3600+34*60+56)*1e6 + 789000, Valid: true}),
			want("timestamp", vals[10], time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)),
			want("timestamptz", vals[11].(time.Time).UTC(), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)),
			want("interval", [3]any{iv.Days, iv.Microseconds}, [3]any{int32(1), int64(2 * 3600e6)}),
			want("uuid", vals[13], [16]byte{0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78}),
			want("bytea", vals[14], []byte{1, 2, 255}),
			want("json", vals[15], map[string]any{"a": []any{float64(1), float64(2)}}),
			want("int4[]", vals[16], []any{int32(1), int32(2), int32(3)}),
			want("text[]", vals[17], []any{"a", nil}),
			want("null", vals[18], nil),
		)
	})

	check(C, "params binary", false, func() error {
		if _, err := conn.Exec(ctx, "CREATE OR REPLACE TABLE go_t (id BIGINT, name VARCHAR, amount DECIMAL(12,3),"+
			" ts TIMESTAMP, tstz TIMESTAMPTZ, day DATE, data BLOB, tags INTEGER[], ok BOOLEAN, f REAL)"); err != nil {
			return err
		}
		ts := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
		day := time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC)
		amount := pgtype.Numeric{Int: big.NewInt(-12345), Exp: -3, Valid: true}
		for i := int64(1); i <= 3; i++ {
			if _, err := conn.Exec(ctx, "INSERT INTO go_t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
				i, fmt.Sprintf("n%d", i), amount, ts, ts.Add(time.Hour), day, []byte{byte(i), 0, 255},
				[]int32{int32(i), 7}, i%2 == 0, float32(i)/4); err != nil {
				return err
			}
		}
		var (
			name  string
			amt   pgtype.Numeric
			gotTs time.Time
			tstz  time.Time
			gotD  time.Time
			data  []byte
			tags  []int32
			ok    bool
			f     float32
		)
		err := conn.QueryRow(ctx, "SELECT name, amount, ts, tstz, day, data, tags, ok, f FROM go_t WHERE id = $1", int64(2)).
			Scan(&name, &amt, &gotTs, &tstz, &gotD, &data, &tags, &ok, &f)
		if err != nil {
			return err
		}
		return first(
			want("name", name, "n2"), want("amount", [2]any{amt.Int, amt.Exp}, [2]any{big.NewInt(-12345), int32(-3)}),
			want("ts", gotTs, ts), want("tstz", tstz.UTC(), ts.Add(time.Hour)), want("day", gotD, day),
			want("data", data, []byte{2, 0, 255}), want("tags", tags, []int32{2, 7}), want("ok", ok, true),
			want("f", f, float32(0.5)),
		)
	})

	check(C, "text format (QueryExecModeExec)", false, func() error {
		var s string
		var n int64
		err := conn.QueryRow(ctx, "SELECT $1::VARCHAR || '!', $2::BIGINT * 2", pgx.QueryExecModeExec, "hey", int64(21)).Scan(&s, &n)
		return first(err, want("values", [2]any{s, n}, [2]any{"hey!", int64(42)}))
	})

	check(C, "simple protocol", false, func() error {
		var s string
		var n int32
		err := conn.QueryRow(ctx, "SELECT $1::VARCHAR, $2::INTEGER", pgx.QueryExecModeSimpleProtocol, "it's", int32(5)).Scan(&s, &n)
		return first(err, want("values", [2]any{s, n}, [2]any{"it's", int32(5)}))
	})

	check(C, "CopyFrom (binary COPY)", false, func() error {
		if _, err := conn.Exec(ctx, "CREATE OR REPLACE TABLE go_copy (id INTEGER, name VARCHAR, ts TIMESTAMPTZ, v DOUBLE)"); err != nil {
			return err
		}
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		var rows [][]any
		for i := 0; i < 1000; i++ {
			var name any = fmt.Sprintf("row %d", i)
			if i%100 == 0 {
				name = nil
			}
			rows = append(rows, []any{int32(i), name, base.Add(time.Duration(i) * time.Minute), float64(i) / 2})
		}
		n, err := conn.CopyFrom(ctx, pgx.Identifier{"go_copy"}, []string{"id", "name", "ts", "v"}, pgx.CopyFromRows(rows))
		if err != nil {
			return err
		}
		var cnt, nulls int64
		var sum float64
		var last time.Time
		err = conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE name IS NULL), sum(v), max(ts) FROM go_copy").Scan(&cnt, &nulls, &sum, &last)
		return first(err, want("copied", n, int64(1000)), want("count", cnt, int64(1000)), want("nulls", nulls, int64(10)),
			want("sum", sum, 249750.0), want("max", last.UTC(), base.Add(999*time.Minute)))
	})

	check(C, "batch", false, func() error {
		// pgx prepares every statement of a batch before running it (as PostgreSQL would need too)
		if _, err := conn.Exec(ctx, "CREATE OR REPLACE TABLE go_batch (a INTEGER)"); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for i := 1; i <= 5; i++ {
			b.Queue("INSERT INTO go_batch VALUES ($1)", int32(i))
		}
		var sum int64
		b.Queue("SELECT sum(a) FROM go_batch").QueryRow(func(r pgx.Row) error { return r.Scan(&sum) })
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return want("sum", sum, int64(15))
	})

	check(C, "transactions", false, func() error {
		if _, err := conn.Exec(ctx, "CREATE OR REPLACE TABLE go_tx (a INTEGER)"); err != nil {
			return err
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		tx.Exec(ctx, "INSERT INTO go_tx VALUES (1)")
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		tx, _ = conn.Begin(ctx)
		tx.Exec(ctx, "INSERT INTO go_tx VALUES (2)")
		_, err = tx.Exec(ctx, "SELECT * FROM go_missing")
		var pgErr *pgconn.PgError
		if !asPgErr(err, &pgErr) || pgErr.Code != "42P01" {
			return fmt.Errorf("want 42P01, got %v", err)
		}
		_, err = tx.Exec(ctx, "SELECT 1")
		if !asPgErr(err, &pgErr) || pgErr.Code != "25P02" {
			return fmt.Errorf("want 25P02, got %v", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			return err
		}
		var cnt int64
		err = conn.QueryRow(ctx, "SELECT count(*) FROM go_tx").Scan(&cnt)
		return first(err, want("rows", cnt, int64(1)))
	})

	check(C, "cursor rows (large result)", false, func() error {
		rows, err := conn.Query(ctx, "SELECT i, repeat('x', 100) FROM range(200000) t(i)")
		if err != nil {
			return err
		}
		var n, sum int64
		for rows.Next() {
			var i int64
			var s string
			if err := rows.Scan(&i, &s); err != nil {
				return err
			}
			n++
			sum += i
		}
		return first(rows.Err(), want("rows", n, int64(200000)), want("sum", sum, int64(199999*200000/2)))
	})
}

func asPgErr(err error, target **pgconn.PgError) bool {
	if e, ok := err.(*pgconn.PgError); ok {
		*target = e
		return true
	}
	return false
}

func pqTests() {
	const C = "go-libpq"
	var db *sql.DB
	if !check(C, "connect+scram+tls", false, func() error {
		var err error
		db, err = sql.Open("postgres", dsn())
		if err != nil {
			return err
		}
		db.SetMaxOpenConns(2)
		var n int
		return first(db.QueryRow("SELECT 41 + 1").Scan(&n), want("select", n, 42))
	}) {
		return
	}
	defer db.Close()

	check(C, "types + params", false, func() error {
		var (
			i  int64
			f  float64
			s  string
			b  bool
			d  time.Time
			ts time.Time
			by []byte
			u  string
			n  string
		)
		err := db.QueryRow("SELECT $1::BIGINT, $2::DOUBLE, $3::VARCHAR, $4::BOOLEAN, $5::DATE, $6::TIMESTAMPTZ, $7::BLOB, $8::UUID, 12.50::DECIMAL(5,2)",
			int64(-7), 0.25, "naïve 'q'", true, "2024-02-29", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), []byte{0, 1, 254},
			"12345678-1234-5678-1234-567812345678").Scan(&i, &f, &s, &b, &d, &ts, &by, &u, &n)
		return first(err, want("values", []any{i, f, s, b, d.Format("2006-01-02"), ts.UTC(), by, u, n},
			[]any{int64(-7), 0.25, "naïve 'q'", true, "2024-02-29", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), []byte{0, 1, 254},
				"12345678-1234-5678-1234-567812345678", "12.50"}))
	})

	check(C, "arrays (pq.Array)", false, func() error {
		var ints []int64
		var strs []string
		err := db.QueryRow("SELECT $1::BIGINT[], ['x', 'y z']", pq.Array([]int64{3, 1, 2})).Scan(pq.Array(&ints), pq.Array(&strs))
		return first(err, want("ints", ints, []int64{3, 1, 2}), want("strs", strs, []string{"x", "y z"}))
	})

	check(C, "prepared + tx", false, func() error {
		if _, err := db.Exec("CREATE OR REPLACE TABLE pq_t (id INTEGER, v VARCHAR)"); err != nil {
			return err
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		st, err := tx.Prepare("INSERT INTO pq_t VALUES ($1, $2)")
		if err != nil {
			return err
		}
		for i := 0; i < 5; i++ {
			if _, err := st.Exec(i, fmt.Sprintf("v%d", i)); err != nil {
				return err
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
		tx, _ = db.Begin()
		tx.Exec("DELETE FROM pq_t")
		tx.Rollback()
		var cnt int
		var agg string
		err = db.QueryRow("SELECT count(*), string_agg(v, ',' ORDER BY id) FROM pq_t").Scan(&cnt, &agg)
		return first(err, want("rows", cnt, 5), want("agg", agg, "v0,v1,v2,v3,v4"))
	})

	check(C, "CopyIn", false, func() error {
		if _, err := db.Exec("CREATE OR REPLACE TABLE pq_copy (id INTEGER, name VARCHAR)"); err != nil {
			return err
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		st, err := tx.Prepare(pq.CopyIn("pq_copy", "id", "name"))
		if err != nil {
			return err
		}
		for i := 0; i < 100; i++ {
			var name any = fmt.Sprintf("tab\there %d", i)
			if i == 50 {
				name = nil
			}
			if _, err := st.Exec(i, name); err != nil {
				return err
			}
		}
		if _, err := st.Exec(); err != nil {
			return err
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
		var cnt, nulls int
		var s string
		err = db.QueryRow("SELECT count(*), count(*) FILTER (WHERE name IS NULL), max(name) FILTER (WHERE id = 7) FROM pq_copy").Scan(&cnt, &nulls, &s)
		return first(err, want("values", []any{cnt, nulls, s}, []any{100, 1, "tab\there 7"}))
	})

	check(C, "errors", false, func() error {
		_, err := db.Exec("SELECT * FROM pq_missing")
		pe, ok := err.(*pq.Error)
		if !ok || pe.Code != "42P01" {
			return fmt.Errorf("want 42P01, got %v", err)
		}
		var buf bytes.Buffer
		buf.WriteString(string(pe.Code))
		return want("code", buf.String(), "42P01")
	})
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pgxTests(ctx)
	pqTests()
	if failed > 0 {
		os.Exit(1)
	}
}
