//! SQL data types and their PostgreSQL identities.

use std::fmt;

/// A SQL data type. `Unknown` is the type of a string literal before context
/// decides what it is, as in PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `boolean`.
    Boolean,
    /// `integer`.
    Int4,
    /// `bigint`.
    Int8,
    /// `double precision`.
    Float8,
    /// `numeric`.
    Numeric,
    /// `text` (also `varchar`).
    Text,
    /// `bytea`.
    Bytea,
    /// `jsonb`.
    Jsonb,
    /// `timestamp with time zone`.
    Timestamptz,
    /// `interval`.
    Interval,
    /// `date`.
    Date,
    /// A string literal or parameter whose type its context has not decided yet.
    Unknown,
    /// A one-dimensional array of the element type (`integer[]`, `text[]`).
    /// Query results only: tables and views do not store arrays.
    Array(&'static DataType),
    /// `oid`: an unsigned 32-bit object identifier.
    Oid,
    /// An OID alias type (`regclass`, `regtype`, `regnamespace`): an OID
    /// that prints as the name of the object it identifies.
    Reg(RegKind),
    /// A composite value (`record`) with these named fields, as a function
    /// such as `information_schema._pg_expandarray` returns. Query results
    /// only.
    Record(&'static [(&'static str, DataType)]),
}

/// The catalog objects an OID alias type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegKind {
    /// `regclass`: relations.
    Class,
    /// `regtype`: types.
    Type,
    /// `regnamespace`: schemas.
    Namespace,
}

impl RegKind {
    /// Every OID alias type.
    pub const ALL: [RegKind; 3] = [RegKind::Class, RegKind::Type, RegKind::Namespace];

    /// The type's SQL name.
    pub fn name(self) -> &'static str {
        match self {
            RegKind::Class => "regclass",
            RegKind::Type => "regtype",
            RegKind::Namespace => "regnamespace",
        }
    }
}

impl DataType {
    /// Every type a value can have (all but `Unknown`).
    pub const ALL: [DataType; 12] = [
        DataType::Boolean,
        DataType::Bytea,
        DataType::Int8,
        DataType::Int4,
        DataType::Text,
        DataType::Float8,
        DataType::Date,
        DataType::Timestamptz,
        DataType::Interval,
        DataType::Numeric,
        DataType::Jsonb,
        DataType::Oid,
    ];

    /// The type with this built-in OID, if Rivulet has it.
    pub fn from_oid(oid: i64) -> Option<DataType> {
        DataType::ALL
            .into_iter()
            .chain(DataType::ALL.into_iter().map(DataType::array_of))
            .chain(RegKind::ALL.into_iter().map(DataType::Reg))
            .find(|t| t.oid() as i64 == oid)
    }

    /// The array type of `elem` elements (`text[]` for an element type
    /// that is itself an array or unknown).
    pub fn array_of(elem: DataType) -> DataType {
        static ELEMENTS: [DataType; 12] = DataType::ALL;
        match ELEMENTS.iter().find(|t| **t == elem) {
            Some(t) => DataType::Array(t),
            None => DataType::Array(&ELEMENTS[4]),
        }
    }

    /// The element type of an array type.
    pub fn element(self) -> Option<DataType> {
        match self {
            DataType::Array(e) => Some(*e),
            _ => None,
        }
    }

    /// The built-in PostgreSQL type OID.
    pub fn oid(self) -> u32 {
        match self {
            DataType::Boolean => 16,
            DataType::Bytea => 17,
            DataType::Int8 => 20,
            DataType::Int4 => 23,
            DataType::Text | DataType::Unknown => 25,
            DataType::Float8 => 701,
            DataType::Timestamptz => 1184,
            DataType::Interval => 1186,
            DataType::Date => 1082,
            DataType::Numeric => 1700,
            DataType::Jsonb => 3802,
            DataType::Oid => 26,
            DataType::Reg(RegKind::Class) => 2205,
            DataType::Reg(RegKind::Type) => 2206,
            DataType::Reg(RegKind::Namespace) => 4089,
            DataType::Record(_) => 2249,
            DataType::Array(e) => match e {
                DataType::Boolean => 1000,
                DataType::Bytea => 1001,
                DataType::Int8 => 1016,
                DataType::Int4 => 1007,
                DataType::Float8 => 1022,
                DataType::Timestamptz => 1185,
                DataType::Interval => 1187,
                DataType::Date => 1182,
                DataType::Numeric => 1231,
                DataType::Jsonb => 3807,
                DataType::Oid => 1028,
                _ => 1009,
            },
        }
    }

    /// Resolves a type name as written in SQL (`int`, `bigint`, `jsonb`,
    /// `double precision`, ...). Names are compared lower-case.
    pub fn from_name(name: &str) -> Option<DataType> {
        if let Some(elem) = name
            .strip_suffix("[]")
            .map(str::trim_end)
            .or_else(|| name.strip_prefix('_'))
        {
            return DataType::from_name(elem)
                .filter(|e| !matches!(e, DataType::Array(_)))
                .map(DataType::array_of);
        }
        Some(match name {
            "bool" | "boolean" => DataType::Boolean,
            "int" | "int4" | "integer" | "int2" | "smallint" => DataType::Int4,
            "int8" | "bigint" | "regproc" | "xid" => DataType::Int8,
            "oid" => DataType::Oid,
            "regclass" => DataType::Reg(RegKind::Class),
            "regtype" => DataType::Reg(RegKind::Type),
            "regnamespace" => DataType::Reg(RegKind::Namespace),
            "float8" | "double precision" | "double" | "float" | "float4" | "real" => {
                DataType::Float8
            }
            "numeric" | "decimal" => DataType::Numeric,
            "text" | "varchar" | "character varying" | "string" | "name" | "char" | "bpchar"
            | "character" => DataType::Text,
            "bytea" => DataType::Bytea,
            "jsonb" => DataType::Jsonb,
            "timestamptz" | "timestamp with time zone" => DataType::Timestamptz,
            "interval" => DataType::Interval,
            "date" => DataType::Date,
            _ => return None,
        })
    }

    /// Whether PostgreSQL casts `from` to `to` implicitly within the OID
    /// family: an integer to `oid` or an alias, an alias to `oid` and
    /// back.
    pub fn oid_implicit(from: DataType, to: DataType) -> bool {
        matches!(
            (from, to),
            (
                DataType::Int4 | DataType::Int8 | DataType::Oid | DataType::Reg(_),
                DataType::Oid | DataType::Reg(_)
            )
        ) && from != to
    }

    /// Whether the type is one of the numeric family.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::Int4 | DataType::Int8 | DataType::Numeric | DataType::Float8
        )
    }

    /// Rank in PostgreSQL's implicit numeric promotion order.
    pub fn numeric_rank(self) -> u8 {
        match self {
            DataType::Int4 => 1,
            DataType::Int8 => 2,
            DataType::Numeric => 3,
            DataType::Float8 => 4,
            _ => 0,
        }
    }
}

impl fmt::Display for DataType {
    /// Prints the name PostgreSQL uses in messages and `SHOW CREATE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let DataType::Array(e) = self {
            return write!(f, "{e}[]");
        }
        f.write_str(match self {
            DataType::Boolean => "boolean",
            DataType::Int4 => "integer",
            DataType::Int8 => "bigint",
            DataType::Float8 => "double precision",
            DataType::Numeric => "numeric",
            DataType::Text => "text",
            DataType::Bytea => "bytea",
            DataType::Jsonb => "jsonb",
            DataType::Timestamptz => "timestamp with time zone",
            DataType::Interval => "interval",
            DataType::Date => "date",
            DataType::Oid => "oid",
            DataType::Reg(k) => k.name(),
            DataType::Record(_) => "record",
            DataType::Unknown | DataType::Array(_) => "unknown",
        })
    }
}
