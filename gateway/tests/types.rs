//! Every DuckDB type through the wire, in text (simple query) and binary (extended query) format,
//! as results and as parameters, including NULLs and extreme values.

mod common;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use common::start;
use rust_decimal::Decimal;
use std::str::FromStr;
use tokio_postgres::types::Type;
use tokio_postgres::SimpleQueryMessage;

async fn text_of(c: &tokio_postgres::Client, expr: &str) -> Option<String> {
    let msgs = c.simple_query(&format!("SELECT {expr}")).await.unwrap();
    for m in msgs {
        if let SimpleQueryMessage::Row(r) = m {
            return r.get(0).map(str::to_owned);
        }
    }
    panic!("no row for {expr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_format_matches_postgres() {
    let gw = start().await;
    let c = gw.connect().await;
    let cases: &[(&str, &str)] = &[
        ("true", "t"),
        ("false", "f"),
        ("(-5)::TINYINT", "-5"),
        ("32767::SMALLINT", "32767"),
        ("(-2147483648)::INTEGER", "-2147483648"),
        ("9223372036854775807::BIGINT", "9223372036854775807"),
        ("255::UTINYINT", "255"),
        ("65535::USMALLINT", "65535"),
        ("4294967295::UINTEGER", "4294967295"),
        ("18446744073709551615::UBIGINT", "18446744073709551615"),
        (
            "(-170141183460469231731687303715884105728)::HUGEINT",
            "-170141183460469231731687303715884105728",
        ),
        (
            "340282366920938463463374607431768211455::UHUGEINT",
            "340282366920938463463374607431768211455",
        ),
        ("1.5::FLOAT", "1.5"),
        ("0.1::DOUBLE", "0.1"),
        ("1e100::DOUBLE", "1e+100"),
        ("'infinity'::DOUBLE", "Infinity"),
        ("'-infinity'::FLOAT", "-Infinity"),
        ("'nan'::DOUBLE", "NaN"),
        ("123.45::DECIMAL(10,2)", "123.45"),
        ("(-0.5)::DECIMAL(4,3)", "-0.500"),
        (
            "12345678901234567890.123456789::DECIMAL(38,9)",
            "12345678901234567890.123456789",
        ),
        ("'hé \"x\"'::VARCHAR", "hé \"x\""),
        ("'\\xDE\\xAD'::BLOB", "\\xdead"),
        (
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        ),
        (
            "'00000000-0000-0000-0000-000000000000'::UUID",
            "00000000-0000-0000-0000-000000000000",
        ),
        (
            "'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
        ),
        ("DATE '2024-02-29'", "2024-02-29"),
        ("DATE '0044-03-15 (BC)'", "0044-03-15 BC"),
        ("'infinity'::DATE", "infinity"),
        ("TIME '12:34:56.789'", "12:34:56.789"),
        ("TIMETZ '12:00:00+05:30'", "12:00:00+05:30"),
        (
            "TIMESTAMP '2024-01-02 03:04:05.123456'",
            "2024-01-02 03:04:05.123456",
        ),
        ("TIMESTAMP_S '2024-01-02 03:04:05'", "2024-01-02 03:04:05"),
        (
            "TIMESTAMP_MS '2024-01-02 03:04:05.120'",
            "2024-01-02 03:04:05.12",
        ),
        (
            "TIMESTAMP_NS '2024-01-02 03:04:05.123456789'",
            "2024-01-02 03:04:05.123456",
        ),
        ("'-infinity'::TIMESTAMP", "-infinity"),
        (
            "TIMESTAMPTZ '2024-06-01 12:00:00+02'",
            "2024-06-01 10:00:00+00",
        ),
        (
            "INTERVAL '1 year 2 months 3 days 04:05:06.5'",
            "1 year 2 mons 3 days 04:05:06.5",
        ),
        ("INTERVAL '-1 day'", "-1 days"),
        ("'{\"a\": [1, 2]}'::JSON", "{\"a\": [1, 2]}"),
        ("'101'::BIT", "101"),
        ("[1, 2, NULL]::INTEGER[]", "{1,2,NULL}"),
        (
            "['a b', '', 'NULL', 'q\"']",
            "{\"a b\",\"\",\"NULL\",\"q\\\"\"}",
        ),
        ("[1.5, 2, NULL]::DOUBLE[3]", "{1.5,2,NULL}"),
        ("[]::INTEGER[]", "{}"),
        ("{'x': 1, 'y': 'two'}", "{\"x\":1,\"y\":\"two\"}"),
        ("MAP {'k': 1}", "{\"k\":1}"),
        ("[{'a': 1}, NULL]", "{\"{\\\"a\\\":1}\",NULL}"),
        ("[[1, 2], [3]]", "[[1,2],[3]]"),
        (
            "union_value(num := 2)::UNION(num INTEGER, str VARCHAR)",
            "2",
        ),
        ("NULL", ""),
    ];
    let mut enums = c
        .simple_query("CREATE TYPE mood AS ENUM ('sad', 'happy')")
        .await;
    assert!(enums.as_mut().is_ok(), "{enums:?}");
    assert_eq!(text_of(&c, "'happy'::mood").await.as_deref(), Some("happy"));
    for (expr, want) in cases {
        let got = text_of(&c, expr).await;
        if *expr == "NULL" {
            assert_eq!(got, None);
        } else {
            assert_eq!(got.as_deref(), Some(*want), "text of {expr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_results_decode_in_a_real_driver() {
    let gw = start().await;
    let c = gw.connect().await;
    let row = c
        .query_one(
            "SELECT true, (-5)::TINYINT, 300::SMALLINT, 70000::INTEGER, 5000000000::BIGINT,
                    1.25::FLOAT, 2.5::DOUBLE, 'txt', '\\x01\\x02'::BLOB,
                    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID, DATE '2024-02-29',
                    TIME '01:02:03.5', TIMESTAMP '2024-01-02 03:04:05.25',
                    TIMESTAMPTZ '2024-06-01 12:00:00+02', '{\"a\":1}'::JSON,
                    123.45::DECIMAL(10,2), 18446744073709551615::UBIGINT,
                    [1,2,NULL]::INTEGER[], ['x','y'], 255::UTINYINT, 4000000000::UINTEGER",
            &[],
        )
        .await
        .unwrap();
    let types: Vec<Type> = row.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        vec![
            Type::BOOL,
            Type::INT2,
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::FLOAT4,
            Type::FLOAT8,
            Type::TEXT,
            Type::BYTEA,
            Type::UUID,
            Type::DATE,
            Type::TIME,
            Type::TIMESTAMP,
            Type::TIMESTAMPTZ,
            Type::JSON,
            Type::NUMERIC,
            Type::NUMERIC,
            Type::INT4_ARRAY,
            Type::TEXT_ARRAY,
            Type::INT2,
            // UINTEGER travels as PostgreSQL's unsigned 32-bit oid
            Type::OID
        ]
    );
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, i16>(1), -5);
    assert_eq!(row.get::<_, i16>(2), 300);
    assert_eq!(row.get::<_, i32>(3), 70000);
    assert_eq!(row.get::<_, i64>(4), 5_000_000_000);
    assert_eq!(row.get::<_, f32>(5), 1.25);
    assert_eq!(row.get::<_, f64>(6), 2.5);
    assert_eq!(row.get::<_, String>(7), "txt");
    assert_eq!(row.get::<_, Vec<u8>>(8), vec![1, 2]);
    assert_eq!(
        row.get::<_, uuid::Uuid>(9).to_string(),
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    );
    assert_eq!(
        row.get::<_, NaiveDate>(10),
        NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
    );
    assert_eq!(
        row.get::<_, NaiveTime>(11),
        NaiveTime::from_hms_milli_opt(1, 2, 3, 500).unwrap()
    );
    assert_eq!(
        row.get::<_, NaiveDateTime>(12),
        NaiveDate::from_ymd_opt(2024, 1, 2)
            .unwrap()
            .and_hms_milli_opt(3, 4, 5, 250)
            .unwrap()
    );
    assert_eq!(
        row.get::<_, DateTime<Utc>>(13).to_rfc3339(),
        "2024-06-01T10:00:00+00:00"
    );
    assert_eq!(
        row.get::<_, serde_json::Value>(14),
        serde_json::json!({"a": 1})
    );
    assert_eq!(
        row.get::<_, Decimal>(15),
        Decimal::from_str("123.45").unwrap()
    );
    assert_eq!(
        row.get::<_, Decimal>(16),
        Decimal::from_str("18446744073709551615").unwrap()
    );
    assert_eq!(
        row.get::<_, Vec<Option<i32>>>(17),
        vec![Some(1), Some(2), None]
    );
    assert_eq!(row.get::<_, Vec<String>>(18), vec!["x", "y"]);
    assert_eq!(row.get::<_, i16>(19), 255);
    assert_eq!(row.get::<_, u32>(20), 4_000_000_000);

    // extremes and specials in binary
    let row = c
        .query_one(
            "SELECT 'infinity'::DOUBLE, 'nan'::DOUBLE, (-9223372036854775808)::BIGINT,
                    'infinity'::TIMESTAMP, NULL::INTEGER, (-0.001)::DECIMAL(10,3)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, f64>(0), f64::INFINITY);
    assert!(row.get::<_, f64>(1).is_nan());
    assert_eq!(row.get::<_, i64>(2), i64::MIN);
    assert_eq!(row.get::<_, Option<i32>>(4), None);
    assert_eq!(
        row.get::<_, Decimal>(5),
        Decimal::from_str("-0.001").unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_round_trip_in_binary() {
    let gw = start().await;
    let c = gw.connect().await;
    let d = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
    let ts = d.and_hms_micro_opt(23, 59, 58, 123_456).unwrap();
    let tstz: DateTime<Utc> = DateTime::from_naive_utc_and_offset(ts, Utc);
    let u = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    let j = serde_json::json!({"k": [1, "two", null]});
    let dec = Decimal::from_str("-12345.6789").unwrap();
    let row = c
        .query_one(
            "SELECT $1::BOOLEAN, $2::SMALLINT, $3::INTEGER, $4::BIGINT, $5::FLOAT, $6::DOUBLE,
                    $7::VARCHAR, $8::BLOB, $9::UUID, $10::DATE, $11::TIMESTAMP, $12::TIMESTAMPTZ,
                    $13::JSON, $14::DECIMAL(18,4), $15::INTEGER[], $16::VARCHAR[], $17::TIME",
            &[
                &true,
                &i16::MIN,
                &i32::MAX,
                &i64::MIN,
                &f32::NEG_INFINITY,
                &f64::MAX,
                &"ünïcødé ' \" \\",
                &vec![0u8, 255, 10],
                &u,
                &d,
                &ts,
                &tstz,
                &j,
                &dec,
                &vec![Some(1i32), None, Some(3)],
                &vec!["a".to_owned(), "b c".to_owned()],
                &NaiveTime::from_hms_micro_opt(13, 14, 15, 16).unwrap(),
            ],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, i16>(1), i16::MIN);
    assert_eq!(row.get::<_, i32>(2), i32::MAX);
    assert_eq!(row.get::<_, i64>(3), i64::MIN);
    assert_eq!(row.get::<_, f32>(4), f32::NEG_INFINITY);
    assert_eq!(row.get::<_, f64>(5), f64::MAX);
    assert_eq!(row.get::<_, String>(6), "ünïcødé ' \" \\");
    assert_eq!(row.get::<_, Vec<u8>>(7), vec![0u8, 255, 10]);
    assert_eq!(row.get::<_, uuid::Uuid>(8), u);
    assert_eq!(row.get::<_, NaiveDate>(9), d);
    assert_eq!(row.get::<_, NaiveDateTime>(10), ts);
    assert_eq!(row.get::<_, DateTime<Utc>>(11), tstz);
    assert_eq!(row.get::<_, serde_json::Value>(12), j);
    assert_eq!(row.get::<_, Decimal>(13), dec);
    assert_eq!(
        row.get::<_, Vec<Option<i32>>>(14),
        vec![Some(1), None, Some(3)]
    );
    assert_eq!(row.get::<_, Vec<String>>(15), vec!["a", "b c"]);
    assert_eq!(
        row.get::<_, NaiveTime>(16),
        NaiveTime::from_hms_micro_opt(13, 14, 15, 16).unwrap()
    );
    // NULL in every parameter position
    let row = c
        .query_one(
            "SELECT $1::INTEGER IS NULL AND $2::VARCHAR IS NULL AND $3::DATE IS NULL",
            &[&None::<i32>, &None::<String>, &None::<NaiveDate>],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_columns_round_trip() {
    let gw = start().await;
    let c = gw.connect().await;
    c.batch_execute(
        "CREATE TABLE all_types(b BOOLEAN, i INTEGER, h HUGEINT, d DECIMAL(12,3), s VARCHAR,
                                ts TIMESTAMP, tz TIMESTAMPTZ, iv INTERVAL, l BIGINT[], st STRUCT(a INTEGER, b VARCHAR))",
    )
    .await
    .unwrap();
    let ins = c
        .prepare("INSERT INTO all_types VALUES ($1, $2, $3::VARCHAR::HUGEINT, $4, $5, $6, $7, $8::VARCHAR::INTERVAL, $9, $10::VARCHAR::JSON::STRUCT(a INTEGER, b VARCHAR))")
        .await
        .unwrap();
    c.execute(
        &ins,
        &[
            &false,
            &7i32,
            &"-12345678901234567890123456",
            &Decimal::from_str("1.500").unwrap(),
            &"x",
            &NaiveDate::from_ymd_opt(2020, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            &DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap(),
            &"1 day 02:00:00",
            &vec![1i64, 2, 3],
            &"{\"a\": 1, \"b\": \"z\"}",
        ],
    )
    .await
    .unwrap();
    c.execute(
        &ins,
        &[
            &None::<bool>,
            &None::<i32>,
            &None::<String>,
            &None::<Decimal>,
            &None::<String>,
            &None::<NaiveDateTime>,
            &None::<DateTime<Utc>>,
            &None::<String>,
            &None::<Vec<i64>>,
            &None::<String>,
        ],
    )
    .await
    .unwrap();
    let msgs = c
        .simple_query("SELECT * FROM all_types ORDER BY i NULLS LAST")
        .await
        .unwrap();
    let rows: Vec<Vec<Option<String>>> = msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        rows[0],
        vec![
            Some("f".into()),
            Some("7".into()),
            Some("-12345678901234567890123456".into()),
            Some("1.500".into()),
            Some("x".into()),
            Some("2020-01-01 00:00:00".into()),
            Some("2023-11-14 22:13:20+00".into()),
            Some("1 day 02:00:00".into()),
            Some("{1,2,3}".into()),
            Some("{\"a\":1,\"b\":\"z\"}".into()),
        ]
    );
    assert!(rows[1].iter().all(Option::is_none));
    // the binary path for the same rows, including the NULL row
    let rows = c
        .query("SELECT h, l, st FROM all_types ORDER BY i NULLS LAST", &[])
        .await
        .unwrap();
    assert_eq!(
        rows[0].get::<_, Decimal>(0),
        Decimal::from_str("-12345678901234567890123456").unwrap()
    );
    assert_eq!(rows[0].get::<_, Vec<i64>>(1), vec![1, 2, 3]);
    assert_eq!(
        rows[0].get::<_, serde_json::Value>(2),
        serde_json::json!({"a": 1, "b": "z"})
    );
    assert_eq!(rows[1].get::<_, Option<Decimal>>(0), None);
}
