//! PostgreSQL type OIDs used on the wire (from `pg_type.dat`).

pub const BOOL: u32 = 16;
pub const BYTEA: u32 = 17;
pub const CHAR: u32 = 18;
pub const NAME: u32 = 19;
pub const INT8: u32 = 20;
pub const INT2: u32 = 21;
pub const INT2VECTOR: u32 = 22;
pub const INT4: u32 = 23;
pub const REGPROC: u32 = 24;
pub const TEXT: u32 = 25;
pub const OID: u32 = 26;
pub const OIDVECTOR: u32 = 30;
pub const JSON: u32 = 114;
pub const FLOAT4: u32 = 700;
pub const FLOAT8: u32 = 701;
pub const UNKNOWN: u32 = 705;
pub const BPCHAR: u32 = 1042;
pub const VARCHAR: u32 = 1043;
pub const DATE: u32 = 1082;
pub const TIME: u32 = 1083;
pub const TIMESTAMP: u32 = 1114;
pub const TIMESTAMPTZ: u32 = 1184;
pub const INTERVAL: u32 = 1186;
pub const TIMETZ: u32 = 1266;
pub const BIT: u32 = 1560;
pub const VARBIT: u32 = 1562;
pub const NUMERIC: u32 = 1700;
pub const REGCLASS: u32 = 2205;
pub const REGTYPE: u32 = 2206;
pub const UUID: u32 = 2950;
pub const JSONB: u32 = 3802;

pub const JSON_ARRAY: u32 = 199;
pub const CHAR_ARRAY: u32 = 1002;
pub const NAME_ARRAY: u32 = 1003;
pub const INT2VECTOR_ARRAY: u32 = 1006;
pub const OIDVECTOR_ARRAY: u32 = 1013;
pub const BOOL_ARRAY: u32 = 1000;
pub const BYTEA_ARRAY: u32 = 1001;
pub const INT2_ARRAY: u32 = 1005;
pub const INT4_ARRAY: u32 = 1007;
pub const TEXT_ARRAY: u32 = 1009;
pub const VARCHAR_ARRAY: u32 = 1015;
pub const INT8_ARRAY: u32 = 1016;
pub const FLOAT4_ARRAY: u32 = 1021;
pub const FLOAT8_ARRAY: u32 = 1022;
pub const OID_ARRAY: u32 = 1028;
pub const TIMESTAMP_ARRAY: u32 = 1115;
pub const DATE_ARRAY: u32 = 1182;
pub const TIME_ARRAY: u32 = 1183;
pub const TIMESTAMPTZ_ARRAY: u32 = 1185;
pub const INTERVAL_ARRAY: u32 = 1187;
pub const NUMERIC_ARRAY: u32 = 1231;
pub const TIMETZ_ARRAY: u32 = 1270;
pub const VARBIT_ARRAY: u32 = 1563;
pub const UUID_ARRAY: u32 = 2951;
pub const JSONB_ARRAY: u32 = 3807;

/// The array type whose elements have type `elem`, if PostgreSQL has one we use.
pub fn array_of(elem: u32) -> Option<u32> {
    Some(match elem {
        BOOL => BOOL_ARRAY,
        BYTEA => BYTEA_ARRAY,
        INT2 => INT2_ARRAY,
        INT4 => INT4_ARRAY,
        INT8 => INT8_ARRAY,
        TEXT => TEXT_ARRAY,
        VARCHAR => VARCHAR_ARRAY,
        FLOAT4 => FLOAT4_ARRAY,
        FLOAT8 => FLOAT8_ARRAY,
        OID => OID_ARRAY,
        TIMESTAMP => TIMESTAMP_ARRAY,
        DATE => DATE_ARRAY,
        TIME => TIME_ARRAY,
        TIMESTAMPTZ => TIMESTAMPTZ_ARRAY,
        INTERVAL => INTERVAL_ARRAY,
        NUMERIC => NUMERIC_ARRAY,
        TIMETZ => TIMETZ_ARRAY,
        VARBIT => VARBIT_ARRAY,
        UUID => UUID_ARRAY,
        JSON => JSON_ARRAY,
        JSONB => JSONB_ARRAY,
        CHAR => CHAR_ARRAY,
        NAME => NAME_ARRAY,
        INT2VECTOR => INT2VECTOR_ARRAY,
        OIDVECTOR => OIDVECTOR_ARRAY,
        _ => return None,
    })
}

/// The element type of an array type we know.
pub fn element_of(array: u32) -> Option<u32> {
    Some(match array {
        BOOL_ARRAY => BOOL,
        BYTEA_ARRAY => BYTEA,
        INT2_ARRAY => INT2,
        INT4_ARRAY => INT4,
        INT8_ARRAY => INT8,
        TEXT_ARRAY => TEXT,
        VARCHAR_ARRAY => VARCHAR,
        FLOAT4_ARRAY => FLOAT4,
        FLOAT8_ARRAY => FLOAT8,
        OID_ARRAY => OID,
        TIMESTAMP_ARRAY => TIMESTAMP,
        DATE_ARRAY => DATE,
        TIME_ARRAY => TIME,
        TIMESTAMPTZ_ARRAY => TIMESTAMPTZ,
        INTERVAL_ARRAY => INTERVAL,
        NUMERIC_ARRAY => NUMERIC,
        TIMETZ_ARRAY => TIMETZ,
        VARBIT_ARRAY => VARBIT,
        UUID_ARRAY => UUID,
        JSON_ARRAY => JSON,
        JSONB_ARRAY => JSONB,
        CHAR_ARRAY => CHAR,
        NAME_ARRAY => NAME,
        INT2VECTOR_ARRAY => INT2VECTOR,
        OIDVECTOR_ARRAY => OIDVECTOR,
        1014 => BPCHAR,
        _ => return None,
    })
}

/// `pg_type.typlen` for the types we send (-1 = variable length).
pub fn type_len(oid: u32) -> i16 {
    match oid {
        BOOL | CHAR => 1,
        INT2 => 2,
        INT4 | OID | FLOAT4 | DATE | REGPROC | REGCLASS | REGTYPE => 4,
        INT8 | FLOAT8 | TIME | TIMESTAMP | TIMESTAMPTZ => 8,
        TIMETZ => 12,
        INTERVAL | UUID => 16,
        NAME => 64,
        _ => -1,
    }
}
