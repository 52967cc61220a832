//! The DuckDB ⇄ PostgreSQL type mapping, and the pure encoders/decoders of wire values.
//!
//! | DuckDB | PostgreSQL (OID) | notes |
//! |---|---|---|
//! | BOOLEAN | bool (16) | |
//! | TINYINT, SMALLINT, UTINYINT | int2 (21) | |
//! | INTEGER, USMALLINT | int4 (23) | |
//! | BIGINT, UINTEGER | int8 (20) | |
//! | UBIGINT, HUGEINT, UHUGEINT, BIGNUM | numeric (1700) | no typmod |
//! | DECIMAL(p,s) | numeric (1700) | typmod `((p << 16) \| s) + 4` |
//! | FLOAT / DOUBLE | float4 (700) / float8 (701) | `Infinity`, `-Infinity`, `NaN` |
//! | VARCHAR, ENUM | text (25) | ENUM values as their labels |
//! | JSON | json (114) | |
//! | BLOB | bytea (17) | text form `\x…` hex |
//! | UUID | uuid (2950) | |
//! | DATE | date (1082) | `infinity`, BC years |
//! | TIME, TIME_NS | time (1083) | nanoseconds truncated to microseconds |
//! | TIMETZ | timetz (1266) | |
//! | TIMESTAMP, _S, _MS, _NS | timestamp (1114) | nanoseconds truncated to microseconds |
//! | TIMESTAMPTZ | timestamptz (1184) | rendered in the session `TimeZone` |
//! | INTERVAL | interval (1186) | `IntervalStyle=postgres` |
//! | BIT | varbit (1562) | |
//! | LIST(T), T[n] with T scalar | T's array type (e.g. int4[] 1007) | one dimension, lower bound 1 |
//! | STRUCT, MAP, UNION | json (114) | STRUCT/MAP as a JSON object, UNION as its member's value |
//! | LIST/ARRAY of STRUCT/MAP/UNION | json[] (199) | each element a JSON value |
//! | LIST/ARRAY of LIST/ARRAY | json (114) | the whole value as a JSON array |
//! | NULL (untyped) | text (25) | |
//! | the catalog aliases of [`PgAlias`] | name (19), "char" (18), int2vector (22), oidvector (30) | see [`PgAlias`] |

pub mod binary;
pub mod oid;
pub mod params;
pub mod text;

/// A DuckDB logical type, as far as the wire encoding needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub enum DuckType {
    Boolean,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    UTinyInt,
    USmallInt,
    UInteger,
    UBigInt,
    HugeInt,
    UHugeInt,
    BigNum,
    Float,
    Double,
    Decimal {
        width: u8,
        scale: u8,
    },
    Varchar,
    Json,
    Blob,
    Uuid,
    Date,
    Time,
    TimeNs,
    TimeTz,
    Timestamp,
    TimestampS,
    TimestampMs,
    TimestampNs,
    TimestampTz,
    Interval,
    Enum(Vec<String>),
    Bit,
    List(Box<DuckType>),
    Array(Box<DuckType>, usize),
    Struct(Vec<(String, DuckType)>),
    Map(Box<DuckType>, Box<DuckType>),
    Union(Vec<(String, DuckType)>),
    /// A DuckDB type carrying one of the gateway's registered aliases ([`PgAlias`]), and the
    /// type it aliases (how its values are stored).
    Pg(PgAlias, Box<DuckType>),
    /// The type of an untyped NULL literal.
    Null,
    /// A type we cannot decode (its DuckDB name); values are sent as NULL-free text via a cast.
    Unsupported(String),
}

/// PostgreSQL catalog types that DuckDB has no equivalent of, registered on every database
/// instance as DuckDB type aliases (`duckdb_register_logical_type`, see
/// `engine::ffi::Database::open`) so the catalog views can produce them: `CAST(x AS
/// duckgate_name)`. Drivers decode by type OID: pgx, asyncpg and psycopg 3 in binary format
/// read a `name` column as `name`, and an int2vector as `1 2` rather than an array `{1,2}`.
///
/// DuckDB keeps an alias through column references, views, UNION, CASE, COALESCE, ORDER BY
/// and joins, and drops it when a value is computed from it (`relname || 'x'`); it binds a
/// function to an aliased argument only through a registered implicit cast, which is
/// registered with each alias. A cast to `T[]`/`ANY[]` (what list functions take) cannot be
/// registered, so a vector alias names the *element* type: an int2vector column is
/// `duckgate_int2vector[]`, and `unnest`, `len`, subscripts and `generate_subscripts` work on it
/// as on any list. The names start with `duckgate_` so that no user's type spelling meets them
/// (DuckDB itself reads `oid` as BIGINT and `char` as VARCHAR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgAlias {
    /// `name`: a VARCHAR; PostgreSQL's text and binary forms are the string's bytes.
    Name,
    /// `"char"`: a VARCHAR of at most one byte; binary form is that one byte (0 if empty).
    Char,
    /// `int2vector`: a SMALLINT[]; text form `1 2`, binary form an int2 array with lower bound 0.
    Int2Vector,
    /// `oidvector`: a UINTEGER[]; text form `23 25`, binary form an oid array with lower bound 0.
    OidVector,
}

impl PgAlias {
    pub const ALL: [PgAlias; 4] = [
        PgAlias::Name,
        PgAlias::Char,
        PgAlias::Int2Vector,
        PgAlias::OidVector,
    ];

    /// The DuckDB type name the alias is registered under.
    pub fn alias(self) -> &'static str {
        match self {
            PgAlias::Name => "duckgate_name",
            PgAlias::Char => "duckgate_char",
            PgAlias::Int2Vector => "duckgate_int2vector",
            PgAlias::OidVector => "duckgate_oidvector",
        }
    }

    pub fn from_alias(alias: &str) -> Option<PgAlias> {
        PgAlias::ALL
            .into_iter()
            .find(|a| a.alias().eq_ignore_ascii_case(alias))
    }

    /// int2vector / oidvector: the alias is registered on the element type.
    pub fn is_vector(self) -> bool {
        matches!(self, PgAlias::Int2Vector | PgAlias::OidVector)
    }

    /// The DuckDB type the alias is registered on.
    pub fn registered(self) -> DuckType {
        match self.storage() {
            DuckType::List(e) => *e,
            t => t,
        }
    }

    /// The DuckDB type of a column of this type (without the alias).
    pub fn storage(self) -> DuckType {
        match self {
            PgAlias::Name | PgAlias::Char => DuckType::Varchar,
            PgAlias::Int2Vector => DuckType::List(Box::new(DuckType::SmallInt)),
            PgAlias::OidVector => DuckType::List(Box::new(DuckType::UInteger)),
        }
    }

    pub fn oid(self) -> u32 {
        match self {
            PgAlias::Name => oid::NAME,
            PgAlias::Char => oid::CHAR,
            PgAlias::Int2Vector => oid::INT2VECTOR,
            PgAlias::OidVector => oid::OIDVECTOR,
        }
    }
}

impl DuckType {
    /// The type without a gateway alias: how values are stored and bound.
    pub fn storage(&self) -> &DuckType {
        match self {
            DuckType::Pg(_, t) => t,
            t => t,
        }
    }

    /// Values of these types are written as JSON when nested or at top level.
    pub fn is_json_like(&self) -> bool {
        matches!(
            self,
            DuckType::Struct(_) | DuckType::Map(..) | DuckType::Union(_)
        )
    }

    pub fn is_list_like(&self) -> bool {
        matches!(self, DuckType::List(_) | DuckType::Array(..))
    }

    /// Element type of a LIST or ARRAY.
    pub fn element(&self) -> Option<&DuckType> {
        match self {
            DuckType::List(e) | DuckType::Array(e, _) => Some(e),
            _ => None,
        }
    }

    /// The SQL spelling DuckDB accepts in a cast, for parameters.
    pub fn sql_name(&self) -> String {
        match self {
            DuckType::Boolean => "BOOLEAN".into(),
            DuckType::TinyInt => "TINYINT".into(),
            DuckType::SmallInt => "SMALLINT".into(),
            DuckType::Integer => "INTEGER".into(),
            DuckType::BigInt => "BIGINT".into(),
            DuckType::UTinyInt => "UTINYINT".into(),
            DuckType::USmallInt => "USMALLINT".into(),
            DuckType::UInteger => "UINTEGER".into(),
            DuckType::UBigInt => "UBIGINT".into(),
            DuckType::HugeInt => "HUGEINT".into(),
            DuckType::UHugeInt => "UHUGEINT".into(),
            DuckType::BigNum => "BIGNUM".into(),
            DuckType::Float => "FLOAT".into(),
            DuckType::Double => "DOUBLE".into(),
            DuckType::Decimal { width, scale } => format!("DECIMAL({width},{scale})"),
            DuckType::Varchar | DuckType::Enum(_) | DuckType::Null => "VARCHAR".into(),
            DuckType::Json => "JSON".into(),
            DuckType::Blob => "BLOB".into(),
            DuckType::Uuid => "UUID".into(),
            DuckType::Date => "DATE".into(),
            DuckType::Time | DuckType::TimeNs => "TIME".into(),
            DuckType::TimeTz => "TIMETZ".into(),
            DuckType::Timestamp
            | DuckType::TimestampS
            | DuckType::TimestampMs
            | DuckType::TimestampNs => "TIMESTAMP".into(),
            DuckType::TimestampTz => "TIMESTAMPTZ".into(),
            DuckType::Interval => "INTERVAL".into(),
            DuckType::Bit => "BIT".into(),
            DuckType::List(e) => format!("{}[]", e.sql_name()),
            DuckType::Array(e, n) => format!("{}[{n}]", e.sql_name()),
            DuckType::Struct(_) | DuckType::Map(..) | DuckType::Union(_) => "JSON".into(),
            DuckType::Pg(a, _) => a.alias().into(),
            DuckType::Unsupported(name) => name.clone(),
        }
    }
}

/// How a column is described in RowDescription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgType {
    pub oid: u32,
    pub typlen: i16,
    pub typmod: i32,
}

impl PgType {
    pub const fn new(oid: u32) -> Self {
        PgType {
            oid,
            typlen: 0,
            typmod: -1,
        }
    }

    fn with_len(oid: u32) -> Self {
        PgType {
            oid,
            typlen: oid::type_len(oid),
            typmod: -1,
        }
    }
}

/// The PostgreSQL type a DuckDB type is sent as (see the table at the top of this module).
pub fn pg_type_of(ty: &DuckType) -> PgType {
    use DuckType::*;
    let oid = match ty {
        Boolean => oid::BOOL,
        TinyInt | SmallInt | UTinyInt => oid::INT2,
        Integer | USmallInt => oid::INT4,
        BigInt => oid::INT8,
        // PostgreSQL's unsigned 32-bit integer: asyncpg decodes oid and oid[] without asking
        // the catalog (its type introspection query needs them)
        UInteger => oid::OID,
        UBigInt | HugeInt | UHugeInt | BigNum => oid::NUMERIC,
        Decimal { width, scale } => {
            return PgType {
                oid: oid::NUMERIC,
                typlen: -1,
                typmod: ((i32::from(*width) << 16) | i32::from(*scale)) + 4,
            }
        }
        Float => oid::FLOAT4,
        Double => oid::FLOAT8,
        Varchar | Enum(_) | Null | Unsupported(_) => oid::TEXT,
        Json => oid::JSON,
        Blob => oid::BYTEA,
        Uuid => oid::UUID,
        Date => oid::DATE,
        Time | TimeNs => oid::TIME,
        TimeTz => oid::TIMETZ,
        Timestamp | TimestampS | TimestampMs | TimestampNs => oid::TIMESTAMP,
        TimestampTz => oid::TIMESTAMPTZ,
        Interval => oid::INTERVAL,
        Bit => oid::VARBIT,
        Struct(_) | Map(..) | Union(_) => oid::JSON,
        Pg(a, _) => a.oid(),
        List(e) | Array(e, _) => {
            if e.is_list_like() {
                oid::JSON
            } else if e.is_json_like() {
                oid::JSON_ARRAY
            } else {
                oid::array_of(pg_type_of(e).oid).unwrap_or(oid::TEXT_ARRAY)
            }
        }
    };
    PgType::with_len(oid)
}

/// The DuckDB type a parameter declared with a PostgreSQL OID is bound as.
/// `None` for OIDs we do not know (the parameter is then bound as text and cast by DuckDB).
pub fn duck_type_for_oid(type_oid: u32) -> Option<DuckType> {
    use DuckType::*;
    Some(match type_oid {
        oid::BOOL => Boolean,
        oid::INT2 => SmallInt,
        oid::INT4 | oid::REGPROC | oid::REGCLASS | oid::REGTYPE => Integer,
        oid::OID => UInteger,
        oid::INT8 => BigInt,
        oid::FLOAT4 => Float,
        oid::FLOAT8 => Double,
        oid::NUMERIC => Decimal {
            width: 38,
            scale: 10,
        },
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::CHAR | oid::UNKNOWN => Varchar,
        oid::JSON | oid::JSONB => Json,
        oid::BYTEA => Blob,
        oid::UUID => Uuid,
        oid::DATE => Date,
        oid::TIME => Time,
        oid::TIMETZ => TimeTz,
        oid::TIMESTAMP => Timestamp,
        oid::TIMESTAMPTZ => TimestampTz,
        oid::INTERVAL => Interval,
        oid::BIT | oid::VARBIT => Bit,
        other => List(Box::new(duck_type_for_oid(oid::element_of(other)?)?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_mapping() {
        assert_eq!(pg_type_of(&DuckType::Integer).oid, oid::INT4);
        assert_eq!(pg_type_of(&DuckType::Integer).typlen, 4);
        assert_eq!(pg_type_of(&DuckType::UBigInt).oid, oid::NUMERIC);
        assert_eq!(pg_type_of(&DuckType::Varchar).typlen, -1);
        let d = pg_type_of(&DuckType::Decimal {
            width: 10,
            scale: 2,
        });
        assert_eq!((d.oid, d.typmod), (oid::NUMERIC, (10 << 16 | 2) + 4));
    }

    #[test]
    fn nested_mapping() {
        let l = DuckType::List(Box::new(DuckType::Integer));
        assert_eq!(pg_type_of(&l).oid, oid::INT4_ARRAY);
        let a = DuckType::Array(Box::new(DuckType::Varchar), 3);
        assert_eq!(pg_type_of(&a).oid, oid::TEXT_ARRAY);
        let ls = DuckType::List(Box::new(DuckType::Struct(vec![(
            "a".into(),
            DuckType::Integer,
        )])));
        assert_eq!(pg_type_of(&ls).oid, oid::JSON_ARRAY);
        let ll = DuckType::List(Box::new(l));
        assert_eq!(pg_type_of(&ll).oid, oid::JSON);
        assert_eq!(
            pg_type_of(&DuckType::Map(
                Box::new(DuckType::Varchar),
                Box::new(DuckType::Integer)
            ))
            .oid,
            oid::JSON
        );
    }

    #[test]
    fn catalog_aliases() {
        for a in PgAlias::ALL {
            assert_eq!(PgAlias::from_alias(a.alias()), Some(a));
            assert_eq!(PgAlias::from_alias(&a.alias().to_uppercase()), Some(a));
            let t = DuckType::Pg(a, Box::new(a.storage()));
            assert_eq!(pg_type_of(&t).oid, a.oid());
            assert_eq!(t.storage(), &a.storage());
            // a list of the catalog type has PostgreSQL's array type
            let list = DuckType::List(Box::new(t));
            assert_eq!(pg_type_of(&list).oid, oid::array_of(a.oid()).unwrap());
        }
        assert_eq!(PgAlias::from_alias("name"), None);
        assert_eq!(PgAlias::from_alias("JSON"), None);
        assert_eq!(
            pg_type_of(&DuckType::Pg(PgAlias::Name, Box::new(DuckType::Varchar))).typlen,
            64
        );
        assert_eq!(PgAlias::Int2Vector.registered(), DuckType::SmallInt);
        assert_eq!(PgAlias::OidVector.registered(), DuckType::UInteger);
        assert_eq!(PgAlias::Char.registered(), DuckType::Varchar);
        assert!(PgAlias::OidVector.is_vector() && !PgAlias::Name.is_vector());
    }

    #[test]
    fn oid_to_duck_type() {
        assert_eq!(duck_type_for_oid(oid::INT8), Some(DuckType::BigInt));
        assert_eq!(
            duck_type_for_oid(oid::INT4_ARRAY),
            Some(DuckType::List(Box::new(DuckType::Integer)))
        );
        assert_eq!(duck_type_for_oid(123456), None);
    }

    #[test]
    fn every_array_oid_round_trips_through_its_element() {
        for elem in [
            oid::BOOL,
            oid::INT2,
            oid::INT4,
            oid::INT8,
            oid::TEXT,
            oid::FLOAT8,
            oid::DATE,
            oid::UUID,
            oid::NUMERIC,
            oid::JSON,
        ] {
            let arr = oid::array_of(elem).unwrap();
            assert_eq!(oid::element_of(arr), Some(elem));
        }
    }
}
