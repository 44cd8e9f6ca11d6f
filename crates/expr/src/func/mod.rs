//! Builtin functions: name and argument-type resolution, and evaluation.
//!
//! One file per family: [`crypto`] (hmac, sha256, md5, secure_compare),
//! [`encoding`] (encode, decode, convert_to, convert_from), [`text`]
//! (lower, upper, length, substr, split_part, concat, trim, replace,
//! strpos, regexp_replace), [`json`] (path access, `?`, `@>`, jsonb_typeof,
//! jsonb_array_length, jsonb_extract_path[_text], jsonb_build_object),
//! [`json_edit`] (jsonb_set, jsonb_insert, `-`, `#-`, jsonb_strip_nulls,
//! jsonb_pretty, to_jsonb),
//! [`time`] (date_trunc, extract, date_part, to_timestamp) and [`system`]
//! (version).

mod crypto;
mod encoding;
pub(crate) mod json;
pub(crate) mod json_edit;
mod math;
mod setof;
pub use setof::SetFunc;
mod system;

pub use system::{quote_ident, type_name, type_oid};
mod text;
mod time;

use std::fmt;

pub use text::TrimSide;

use crate::{DataType, Error, RegKind, Result, Value};

/// A resolved builtin function. Unless [`Func::is_strict`] says otherwise,
/// a NULL argument gives a NULL result without calling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `(record).field`: the record's field at this position.
    RecordField(usize),
    /// `hmac(key, data, algorithm)`.
    Hmac,
    /// `sha224`, `sha256`, `sha384`, `sha512` (bytea), by output bits.
    Sha(u16),
    /// `secure_compare(a, b)`: constant-time equality.
    SecureCompare,
    /// `encode(bytea, format)`.
    Encode,
    /// `decode(text, format)`.
    Decode,
    /// `convert_to(text, encoding)`.
    ConvertTo,
    /// `convert_from(bytea, encoding)`.
    ConvertFrom,
    /// `lower`.
    Lower,
    /// `upper`.
    Upper,
    /// `length(text)`.
    LengthText,
    /// `length(bytea)`.
    LengthBytea,
    /// `substr`/`substring`.
    Substr,
    /// `split_part`.
    SplitPart,
    /// `concat`.
    Concat,
    /// `btrim`/`ltrim`/`rtrim`.
    Trim(TrimSide),
    /// `replace`.
    Replace,
    /// `strpos`.
    Strpos,
    /// `like_escape(pattern, escape)`: the pattern with `escape` as its
    /// escape character, rewritten to use backslash.
    LikeEscape,
    /// `jsonb_typeof`.
    JsonbTypeof,
    /// `jsonb_array_length`.
    JsonbArrayLength,
    /// `jsonb_extract_path`.
    JsonbExtractPath,
    /// `jsonb_extract_path_text`.
    JsonbExtractPathText,
    /// `jsonb_build_object`.
    JsonbBuildObject,
    /// `date_trunc`.
    DateTrunc,
    /// `extract(field FROM ts)`.
    Extract,
    /// `date_part(field, ts)`.
    DatePart,
    /// `to_timestamp(seconds)`.
    ToTimestamp,
    /// `version()`.
    Version,
    /// `pg_get_userbyid`.
    PgGetUserById,
    /// `pg_encoding_to_char`.
    PgEncodingToChar,
    /// `pg_table_is_visible`.
    PgTableIsVisible,
    /// `pg_size_pretty(bytes)`: `10 kB`, `3 MB`, as PostgreSQL rounds.
    PgSizePretty,
    /// `floor`, `ceil`, `round`, `trunc`.
    Round(math::Rounding),
    /// `abs`.
    Abs,
    /// `sign`.
    Sign,
    /// `format_type`.
    FormatType,
    /// `quote_ident`.
    QuoteIdent,
    /// `quote_literal`.
    QuoteLiteral,
    /// `current_database()`.
    CurrentDatabase,
    /// `current_schema()`.
    CurrentSchema,
    /// `array_to_string`.
    ArrayToString,
    /// `jsonb_set(target, path, value [, create_if_missing])`.
    JsonbSet,
    /// `jsonb_insert(target, path, value [, insert_after])`.
    JsonbInsert,
    /// `jsonb_delete`: `jsonb - text | text[] | integer`.
    JsonbDelete,
    /// `jsonb_delete_path`: `jsonb #- text[]`.
    JsonbDeletePath,
    /// `jsonb_strip_nulls`.
    JsonbStripNulls,
    /// `jsonb ?| text[]` (`jsonb_exists_any`).
    JsonbExistsAny,
    /// `jsonb ?& text[]` (`jsonb_exists_all`).
    JsonbExistsAll,
    /// `jsonb_build_array(...)`.
    JsonbBuildArray,
    /// `jsonb_object_agg`'s last step: `[key, value]` pairs as one object.
    JsonbObjectFromPairs,
    /// `string_agg`'s final step: the collected values' non-NULL ones
    /// joined by the delimiter (NULL when there are none).
    StringAggFinal,
    /// `jsonb_pretty`.
    JsonbPretty,
    /// `to_jsonb` / `to_json`.
    ToJsonb,
    /// `md5(text | bytea)`: the hex digest.
    Md5,
    /// `regexp_replace(source, pattern, replacement [, flags])`.
    RegexpReplace,
    /// `initcap(text)`.
    Initcap,
    /// `repeat(text, n)`.
    Repeat,
    /// `left(text, n)` (`true`) or `right(text, n)`.
    LeftRight(bool),
    /// `lpad` (`true`) or `rpad(text, n [, fill])`.
    Pad(bool),
    /// `reverse(text)`.
    Reverse,
    /// `string_to_array(text, delimiter [, null_string])`.
    StringToArray,
    /// `starts_with(text, prefix)`.
    StartsWith,
    /// `chr(code)`.
    Chr,
    /// `ascii(text)`.
    Ascii,
    /// A `double precision` function.
    Float(math::FloatFn),
    /// `pi()`.
    Pi,
    /// `mod(a, b)`.
    Mod,
    /// `pg_sleep(seconds)`: waits, then returns NULL (for tests and tools).
    PgSleep,
    /// `pg_is_in_recovery()`: always false (there are no standbys).
    PgIsInRecovery,
    /// `to_regtype(name)`.
    ToRegtype,
    /// `now()` where it is evaluated for each input, not replaced by the
    /// statement's start time: in a webhook table's VALIDATE, the time the
    /// request is checked.
    Now,
    /// Catalog lookups Rivulet has nothing for (`pg_get_expr`,
    /// `obj_description`, ...): always NULL.
    NoInformation,
    /// `set_config`/`current_setting` whose setting varies by row
    /// (`set_config(name, ...) FROM pg_settings`): sessions replace calls
    /// with constant arguments before planning; one left for each row is
    /// refused when a row reaches it.
    SessionPerRow,
    /// An empty string: what PostgreSQL answers for what Rivulet keeps in
    /// its default place (`pg_tablespace_location` of the built-in
    /// tablespaces).
    EmptyText,
}

use DataType::{
    Array, Boolean, Bytea, Date, Float8, Int4, Int8, Interval, Jsonb, Numeric, Oid, Reg, Text,
    Timestamptz,
};

/// One overload: function, parameter types, result type.
type Signature = (Func, &'static [DataType], DataType);

/// Every fixed-arity overload, by SQL name. Unknown-typed arguments (string
/// literals) match any parameter type; numbers widen implicitly.
const SIGNATURES: &[(&str, Signature)] = &[
    ("hmac", (Func::Hmac, &[Text, Bytea, Text], Bytea)),
    ("hmac", (Func::Hmac, &[Bytea, Bytea, Text], Bytea)),
    ("hmac", (Func::Hmac, &[Text, Text, Text], Bytea)),
    ("sha224", (Func::Sha(224), &[Bytea], Bytea)),
    ("sha256", (Func::Sha(256), &[Bytea], Bytea)),
    ("sha384", (Func::Sha(384), &[Bytea], Bytea)),
    ("sha512", (Func::Sha(512), &[Bytea], Bytea)),
    (
        "secure_compare",
        (Func::SecureCompare, &[Text, Text], Boolean),
    ),
    ("encode", (Func::Encode, &[Bytea, Text], Text)),
    ("decode", (Func::Decode, &[Text, Text], Bytea)),
    ("convert_to", (Func::ConvertTo, &[Text, Text], Bytea)),
    ("convert_from", (Func::ConvertFrom, &[Bytea, Text], Text)),
    ("lower", (Func::Lower, &[Text], Text)),
    ("upper", (Func::Upper, &[Text], Text)),
    ("length", (Func::LengthText, &[Text], Int4)),
    ("length", (Func::LengthBytea, &[Bytea], Int4)),
    ("char_length", (Func::LengthText, &[Text], Int4)),
    ("octet_length", (Func::LengthBytea, &[Bytea], Int4)),
    ("substr", (Func::Substr, &[Text, Int4], Text)),
    ("substr", (Func::Substr, &[Text, Int4, Int4], Text)),
    ("substring", (Func::Substr, &[Text, Int4], Text)),
    ("substring", (Func::Substr, &[Text, Int4, Int4], Text)),
    ("split_part", (Func::SplitPart, &[Text, Text, Int4], Text)),
    ("btrim", (Func::Trim(TrimSide::Both), &[Text], Text)),
    ("btrim", (Func::Trim(TrimSide::Both), &[Text, Text], Text)),
    ("ltrim", (Func::Trim(TrimSide::Leading), &[Text], Text)),
    (
        "ltrim",
        (Func::Trim(TrimSide::Leading), &[Text, Text], Text),
    ),
    ("rtrim", (Func::Trim(TrimSide::Trailing), &[Text], Text)),
    (
        "rtrim",
        (Func::Trim(TrimSide::Trailing), &[Text, Text], Text),
    ),
    ("replace", (Func::Replace, &[Text, Text, Text], Text)),
    ("strpos", (Func::Strpos, &[Text, Text], Int4)),
    ("like_escape", (Func::LikeEscape, &[Text, Text], Text)),
    ("jsonb_typeof", (Func::JsonbTypeof, &[Jsonb], Text)),
    (
        "jsonb_array_length",
        (Func::JsonbArrayLength, &[Jsonb], Int4),
    ),
    (
        "date_trunc",
        (Func::DateTrunc, &[Text, Timestamptz], Timestamptz),
    ),
    ("extract", (Func::Extract, &[Text, Timestamptz], Numeric)),
    ("extract", (Func::Extract, &[Text, Interval], Numeric)),
    ("extract", (Func::Extract, &[Text, Date], Numeric)),
    ("date_part", (Func::DatePart, &[Text, Timestamptz], Float8)),
    ("date_part", (Func::DatePart, &[Text, Interval], Float8)),
    ("date_part", (Func::DatePart, &[Text, Date], Float8)),
    ("to_timestamp", (Func::ToTimestamp, &[Float8], Timestamptz)),
    ("version", (Func::Version, &[], Text)),
    ("pg_sleep", (Func::PgSleep, &[Float8], Text)),
    ("pg_is_in_recovery", (Func::PgIsInRecovery, &[], Boolean)),
    ("to_regtype", (Func::ToRegtype, &[Text], Reg(RegKind::Type))),
    ("now", (Func::Now, &[], Timestamptz)),
    ("pg_get_userbyid", (Func::PgGetUserById, &[Oid], Text)),
    (
        "pg_encoding_to_char",
        (Func::PgEncodingToChar, &[Int4], Text),
    ),
    (
        "pg_table_is_visible",
        (Func::PgTableIsVisible, &[Oid], Boolean),
    ),
    ("format_type", (Func::FormatType, &[Oid, Int4], Text)),
    ("pg_size_pretty", (Func::PgSizePretty, &[Int8], Text)),
    // Rounding: float8 first, so an integer argument rounds as double
    // precision (PostgreSQL's preferred numeric type) on a tie.
    (
        "floor",
        (Func::Round(math::Rounding::Floor), &[Float8], Float8),
    ),
    (
        "floor",
        (Func::Round(math::Rounding::Floor), &[Numeric], Numeric),
    ),
    (
        "ceil",
        (Func::Round(math::Rounding::Ceil), &[Float8], Float8),
    ),
    (
        "ceil",
        (Func::Round(math::Rounding::Ceil), &[Numeric], Numeric),
    ),
    (
        "ceiling",
        (Func::Round(math::Rounding::Ceil), &[Float8], Float8),
    ),
    (
        "ceiling",
        (Func::Round(math::Rounding::Ceil), &[Numeric], Numeric),
    ),
    (
        "round",
        (Func::Round(math::Rounding::Round), &[Float8], Float8),
    ),
    (
        "round",
        (Func::Round(math::Rounding::Round), &[Numeric], Numeric),
    ),
    (
        "round",
        (
            Func::Round(math::Rounding::Round),
            &[Numeric, Int4],
            Numeric,
        ),
    ),
    (
        "trunc",
        (Func::Round(math::Rounding::Trunc), &[Float8], Float8),
    ),
    (
        "trunc",
        (Func::Round(math::Rounding::Trunc), &[Numeric], Numeric),
    ),
    (
        "trunc",
        (
            Func::Round(math::Rounding::Trunc),
            &[Numeric, Int4],
            Numeric,
        ),
    ),
    ("abs", (Func::Abs, &[Int4], Int4)),
    ("abs", (Func::Abs, &[Int8], Int8)),
    ("abs", (Func::Abs, &[Float8], Float8)),
    ("abs", (Func::Abs, &[Numeric], Numeric)),
    ("sign", (Func::Sign, &[Float8], Float8)),
    ("sign", (Func::Sign, &[Numeric], Numeric)),
    // Function, type and collation visibility: everything Rivulet has is
    // on the search path but information_schema's relations.
    (
        "pg_function_is_visible",
        (Func::PgTableIsVisible, &[Oid], Boolean),
    ),
    (
        "pg_type_is_visible",
        (Func::PgTableIsVisible, &[Oid], Boolean),
    ),
    (
        "pg_collation_is_visible",
        (Func::PgTableIsVisible, &[Oid], Boolean),
    ),
    // Sizes Rivulet does not track per relation: NULL, as PostgreSQL
    // answers for a relation it cannot size.
    ("pg_table_size", (Func::NoInformation, &[Oid], Int8)),
    ("pg_relation_size", (Func::NoInformation, &[Oid], Int8)),
    (
        "pg_total_relation_size",
        (Func::NoInformation, &[Oid], Int8),
    ),
    ("pg_indexes_size", (Func::NoInformation, &[Oid], Int8)),
    ("pg_database_size", (Func::NoInformation, &[Text], Int8)),
    ("pg_database_size", (Func::NoInformation, &[Oid], Int8)),
    // Definitions of object kinds Rivulet never has.
    (
        "pg_get_function_result",
        (Func::NoInformation, &[Oid], Text),
    ),
    (
        "pg_get_function_arguments",
        (Func::NoInformation, &[Oid], Text),
    ),
    (
        "pg_get_function_identity_arguments",
        (Func::NoInformation, &[Oid], Text),
    ),
    (
        "pg_get_serial_sequence",
        (Func::NoInformation, &[Text, Text], Text),
    ),
    (
        "shobj_description",
        (Func::NoInformation, &[Oid, Text], Text),
    ),
    ("quote_ident", (Func::QuoteIdent, &[Text], Text)),
    ("quote_literal", (Func::QuoteLiteral, &[Text], Text)),
    ("current_database", (Func::CurrentDatabase, &[], Text)),
    ("current_schema", (Func::CurrentSchema, &[], Text)),
    (
        "array_to_string",
        (Func::ArrayToString, &[Text, Text], Text),
    ),
    // Privileges are not tracked: no default ACL (pg_dump then dumps no
    // GRANTs, as for objects whose ACL is NULL).
    (
        "acldefault",
        (Func::NoInformation, &[Text, Oid], Array(&Text)),
    ),
    ("pg_get_triggerdef", (Func::NoInformation, &[Oid], Text)),
    (
        "set_config",
        (Func::SessionPerRow, &[Text, Text, Boolean], Text),
    ),
    ("current_setting", (Func::SessionPerRow, &[Text], Text)),
    (
        "current_setting",
        (Func::SessionPerRow, &[Text, Boolean], Text),
    ),
    // Partitioning and scan statistics Rivulet does not have.
    ("pg_get_partkeydef", (Func::NoInformation, &[Oid], Text)),
    ("pg_stat_get_numscans", (Func::NoInformation, &[Oid], Int8)),
    ("pg_get_ruledef", (Func::NoInformation, &[Oid], Text)),
    (
        "pg_get_ruledef",
        (Func::NoInformation, &[Oid, Boolean], Text),
    ),
    // The built-in tablespaces live in the data directory: '' as for
    // PostgreSQL's own.
    ("pg_tablespace_location", (Func::EmptyText, &[Oid], Text)),
    (
        "pg_get_triggerdef",
        (Func::NoInformation, &[Oid, Boolean], Text),
    ),
    ("pg_get_expr", (Func::NoInformation, &[Text, Oid], Text)),
    (
        "pg_get_expr",
        (Func::NoInformation, &[Text, Oid, Boolean], Text),
    ),
    (
        "jsonb_set",
        (Func::JsonbSet, &[Jsonb, Array(&Text), Jsonb], Jsonb),
    ),
    (
        "jsonb_set",
        (
            Func::JsonbSet,
            &[Jsonb, Array(&Text), Jsonb, Boolean],
            Jsonb,
        ),
    ),
    (
        "jsonb_insert",
        (Func::JsonbInsert, &[Jsonb, Array(&Text), Jsonb], Jsonb),
    ),
    (
        "jsonb_insert",
        (
            Func::JsonbInsert,
            &[Jsonb, Array(&Text), Jsonb, Boolean],
            Jsonb,
        ),
    ),
    ("jsonb_delete", (Func::JsonbDelete, &[Jsonb, Text], Jsonb)),
    ("jsonb_delete", (Func::JsonbDelete, &[Jsonb, Int4], Jsonb)),
    (
        "jsonb_delete",
        (Func::JsonbDelete, &[Jsonb, Array(&Text)], Jsonb),
    ),
    (
        "jsonb_delete_path",
        (Func::JsonbDeletePath, &[Jsonb, Array(&Text)], Jsonb),
    ),
    (
        "jsonb_strip_nulls",
        (Func::JsonbStripNulls, &[Jsonb], Jsonb),
    ),
    ("jsonb_pretty", (Func::JsonbPretty, &[Jsonb], Text)),
    (
        "jsonb_exists_any",
        (Func::JsonbExistsAny, &[Jsonb, Array(&Text)], Boolean),
    ),
    (
        "jsonb_exists_all",
        (Func::JsonbExistsAll, &[Jsonb, Array(&Text)], Boolean),
    ),
    ("json_typeof", (Func::JsonbTypeof, &[Jsonb], Text)),
    (
        "jsonb_object_agg_finalfn",
        (Func::JsonbObjectFromPairs, &[Array(&Jsonb)], Jsonb),
    ),
    (
        "string_agg_finalfn",
        (Func::StringAggFinal, &[Array(&Text), Text], Text),
    ),
    (
        "json_array_length",
        (Func::JsonbArrayLength, &[Jsonb], Int4),
    ),
    ("to_jsonb", (Func::ToJsonb, &[Jsonb], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Jsonb], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Text], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Text], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Int4], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Int4], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Int8], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Int8], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Numeric], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Numeric], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Float8], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Float8], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Boolean], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Boolean], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Timestamptz], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Timestamptz], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Date], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Date], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Interval], Jsonb)),
    ("to_json", (Func::ToJsonb, &[Interval], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Int4)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Int8)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Numeric)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Float8)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Text)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Boolean)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Jsonb)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Timestamptz)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Date)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Interval)], Jsonb)),
    ("to_jsonb", (Func::ToJsonb, &[Array(&Bytea)], Jsonb)),
    ("initcap", (Func::Initcap, &[Text], Text)),
    ("repeat", (Func::Repeat, &[Text, Int4], Text)),
    ("left", (Func::LeftRight(true), &[Text, Int4], Text)),
    ("right", (Func::LeftRight(false), &[Text, Int4], Text)),
    ("lpad", (Func::Pad(true), &[Text, Int4], Text)),
    ("lpad", (Func::Pad(true), &[Text, Int4, Text], Text)),
    ("rpad", (Func::Pad(false), &[Text, Int4], Text)),
    ("rpad", (Func::Pad(false), &[Text, Int4, Text], Text)),
    ("reverse", (Func::Reverse, &[Text], Text)),
    (
        "string_to_array",
        (Func::StringToArray, &[Text, Text], Array(&Text)),
    ),
    (
        "string_to_array",
        (Func::StringToArray, &[Text, Text, Text], Array(&Text)),
    ),
    ("starts_with", (Func::StartsWith, &[Text, Text], Boolean)),
    ("chr", (Func::Chr, &[Int4], Text)),
    ("ascii", (Func::Ascii, &[Text], Int4)),
    (
        "sqrt",
        (Func::Float(math::FloatFn::Sqrt), &[Float8], Float8),
    ),
    ("ln", (Func::Float(math::FloatFn::Ln), &[Float8], Float8)),
    (
        "log",
        (Func::Float(math::FloatFn::Log10), &[Float8], Float8),
    ),
    (
        "log10",
        (Func::Float(math::FloatFn::Log10), &[Float8], Float8),
    ),
    ("exp", (Func::Float(math::FloatFn::Exp), &[Float8], Float8)),
    (
        "power",
        (Func::Float(math::FloatFn::Power), &[Float8, Float8], Float8),
    ),
    (
        "pow",
        (Func::Float(math::FloatFn::Power), &[Float8, Float8], Float8),
    ),
    ("pi", (Func::Pi, &[], Float8)),
    ("mod", (Func::Mod, &[Int4, Int4], Int4)),
    ("mod", (Func::Mod, &[Int8, Int8], Int8)),
    ("mod", (Func::Mod, &[Numeric, Numeric], Numeric)),
    ("md5", (Func::Md5, &[Text], Text)),
    ("md5", (Func::Md5, &[Bytea], Text)),
    (
        "regexp_replace",
        (Func::RegexpReplace, &[Text, Text, Text], Text),
    ),
    (
        "regexp_replace",
        (Func::RegexpReplace, &[Text, Text, Text, Text], Text),
    ),
    ("pg_get_viewdef", (Func::NoInformation, &[Oid], Text)),
];

/// How well an argument type fits a parameter type (lower is better).
fn fit(arg: DataType, param: DataType) -> Option<u32> {
    if arg == param {
        Some(0)
    } else if arg == DataType::Unknown {
        Some(1)
    } else if (arg.is_numeric() && param.is_numeric() && arg.numeric_rank() < param.numeric_rank())
        || (arg == DataType::Date && param == DataType::Timestamptz)
        || DataType::oid_implicit(arg, param)
    {
        Some(2)
    } else {
        None
    }
}

/// A function taking any number of arguments, resolved by the binder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variadic {
    /// Every argument is cast to text; NULLs are skipped.
    Concat,
    /// The first argument jsonb, the rest text.
    ExtractPath(bool),
    /// Key/value pairs of any type.
    BuildObject,
    /// Values of any type.
    BuildArray,
}

impl Func {
    /// The variadic builtin of this name, if it is one.
    pub fn variadic(name: &str) -> Option<Variadic> {
        Some(match name {
            "concat" => Variadic::Concat,
            "jsonb_extract_path" => Variadic::ExtractPath(false),
            "jsonb_extract_path_text" => Variadic::ExtractPath(true),
            // json_build_object answers jsonb: the same document, with
            // jsonb's key order and spacing (there is no json type).
            "jsonb_build_object" | "json_build_object" => Variadic::BuildObject,
            "jsonb_build_array" | "json_build_array" => Variadic::BuildArray,
            _ => return None,
        })
    }

    /// The function implementing a variadic builtin, and its result type.
    pub fn of_variadic(v: Variadic) -> (Func, DataType) {
        match v {
            Variadic::Concat => (Func::Concat, Text),
            Variadic::ExtractPath(false) => (Func::JsonbExtractPath, Jsonb),
            Variadic::ExtractPath(true) => (Func::JsonbExtractPathText, Text),
            Variadic::BuildObject => (Func::JsonbBuildObject, Jsonb),
            Variadic::BuildArray => (Func::JsonbBuildArray, Jsonb),
        }
    }

    /// Chooses the overload of `name` for `args`, returning the function,
    /// the parameter types each argument must be cast to, and the result
    /// type. The cheapest match wins (exact over literal casts over
    /// numeric widening).
    pub fn resolve(name: &str, args: &[DataType]) -> Result<(Func, Vec<DataType>, DataType)> {
        let mut best: Option<(u32, &Signature)> = None;
        for (_, sig) in SIGNATURES.iter().filter(|(n, _)| *n == name) {
            if sig.1.len() != args.len() {
                continue;
            }
            let cost: Option<u32> = args.iter().zip(sig.1).map(|(a, p)| fit(*a, *p)).sum();
            if let Some(cost) = cost {
                if best.is_none_or(|(c, _)| cost < c) {
                    best = Some((cost, sig));
                }
            }
        }
        match best {
            Some((_, (f, params, ret))) => Ok((*f, params.to_vec(), *ret)),
            None => Err(Error::UndefinedFunction(format!(
                "function {name}({}) does not exist",
                args.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Whether two calls with the same arguments may give different
    /// results, so a call is never folded into a constant.
    pub fn is_volatile(self) -> bool {
        matches!(self, Func::Now | Func::PgSleep | Func::SessionPerRow)
    }

    /// Whether a NULL argument makes the result NULL without evaluation.
    pub fn is_strict(self) -> bool {
        !matches!(
            self,
            Func::Concat
                | Func::JsonbBuildObject
                | Func::JsonbBuildArray
                | Func::NoInformation
                | Func::SessionPerRow
                | Func::StringToArray
                | Func::FormatType
                | Func::StringAggFinal
        )
    }

    /// Evaluates the function on already-cast arguments.
    pub fn eval(self, args: &[Value]) -> Result<Value> {
        if self.is_strict() && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        match self {
            Func::Hmac => crypto::hmac(&args[0], &args[1], &args[2]),
            Func::Sha(bits) => crypto::sha(bits, &args[0]),
            Func::SecureCompare => crypto::secure_compare(&args[0], &args[1]),
            Func::Encode => encoding::encode(&args[0], &args[1]),
            Func::Decode => encoding::decode(&args[0], &args[1]),
            Func::ConvertTo => encoding::convert_to(&args[0], &args[1]),
            Func::ConvertFrom => encoding::convert_from(&args[0], &args[1]),
            Func::Lower => text::lower(&args[0]),
            Func::Upper => text::upper(&args[0]),
            Func::LengthText => text::length_text(&args[0]),
            Func::LengthBytea => text::length_bytea(&args[0]),
            Func::Substr => text::substr(args),
            Func::SplitPart => text::split_part(args),
            Func::Concat => text::concat(args),
            Func::Trim(side) => text::trim(side, args),
            Func::Replace => text::replace(args),
            Func::Strpos => text::strpos(args),
            Func::LikeEscape => text::like_escape(args),
            Func::JsonbTypeof => json::type_of(&args[0]),
            Func::JsonbArrayLength => json::array_length(&args[0]),
            Func::JsonbExtractPath => json::extract_path(args, false),
            Func::JsonbExtractPathText => json::extract_path(args, true),
            Func::JsonbBuildObject => json::build_object(args),
            Func::DateTrunc => time::date_trunc(&args[0], &args[1]),
            Func::Extract => time::extract(&args[0], &args[1]),
            Func::DatePart => time::date_part(&args[0], &args[1]),
            Func::ToTimestamp => time::to_timestamp(&args[0]),
            Func::Version => Ok(system::version()),
            // The one login role, and the role PostgreSQL 15 makes the
            // public schema's owner.
            Func::PgGetUserById => Ok(Value::Text(
                if args[0] == Value::Oid(6171) {
                    "pg_database_owner"
                } else {
                    "root"
                }
                .into(),
            )),
            Func::PgEncodingToChar => Ok(Value::Text(
                if args[0] == Value::Int4(6) {
                    "UTF8"
                } else {
                    ""
                }
                .into(),
            )),
            // Relations in pg_catalog and public are on the search path;
            // information_schema's (OIDs 13000..16383) are not.
            Func::PgTableIsVisible => Ok(Value::Bool(
                !matches!(args[0], Value::Oid(oid) if (13_000..16_384).contains(&oid)),
            )),
            Func::FormatType => Ok(system::format_type(&args[0], &args[1])),
            Func::Round(how) => math::round(how, args),
            Func::Abs => math::abs(&args[0]),
            Func::Sign => math::sign(&args[0]),
            Func::PgSizePretty => Ok(match args[0] {
                Value::Int8(n) => Value::Text(system::size_pretty(n)),
                _ => Value::Null,
            }),
            Func::QuoteIdent => Ok(Value::Text(system::quote_ident(as_text(&args[0])?))),
            Func::QuoteLiteral => Ok(Value::Text(system::quote_literal(as_text(&args[0])?))),
            Func::CurrentDatabase => Ok(Value::Text("dev".into())),
            Func::PgIsInRecovery => Ok(Value::Bool(false)),
            Func::RecordField(i) => Ok(match &args[0] {
                Value::Record(fields) => fields.get(i).cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            }),
            Func::ToRegtype => Ok(system::to_regtype(as_text(&args[0])?)),
            Func::CurrentSchema => Ok(Value::Text("public".into())),
            Func::ArrayToString => Ok(args[0].clone()),
            Func::JsonbSet => json_edit::set(args),
            Func::JsonbInsert => json_edit::insert(args),
            Func::JsonbDelete => json_edit::delete(&args[0], &args[1]),
            Func::JsonbDeletePath => json_edit::delete_path(&args[0], &args[1]),
            Func::JsonbStripNulls => json_edit::strip_nulls(&args[0]),
            Func::JsonbExistsAny => json_edit::exists_keys(&args[0], &args[1], false),
            Func::JsonbObjectFromPairs => json_edit::object_from_pairs(&args[0]),
            Func::StringAggFinal => string_agg_final(&args[0], &args[1]),
            Func::JsonbExistsAll => json_edit::exists_keys(&args[0], &args[1], true),
            Func::JsonbBuildArray => Ok(Value::Jsonb(crate::Jsonb::from_tree(
                &crate::JsonTree::Array(args.iter().map(json::to_jsonb).collect()),
            ))),
            Func::JsonbPretty => json_edit::pretty(&args[0]),
            Func::ToJsonb => json_edit::to_jsonb_value(&args[0]),
            Func::Md5 => crypto::md5(&args[0]),
            Func::RegexpReplace => text::regexp_replace(args),
            Func::Initcap => text::initcap(&args[0]),
            Func::Repeat => text::repeat(args),
            Func::LeftRight(left) => text::left_right(args, left),
            Func::Pad(left) => text::pad(args, left),
            Func::Reverse => text::reverse(&args[0]),
            Func::StringToArray => text::string_to_array(args),
            Func::StartsWith => text::starts_with(args),
            Func::Chr => text::chr(&args[0]),
            Func::Ascii => text::ascii(&args[0]),
            Func::Float(f) => math::float_fn(f, args),
            Func::Pi => Ok(Value::Float8(std::f64::consts::PI)),
            Func::Mod => math::modulo(args),
            Func::NoInformation => Ok(Value::Null),
            Func::EmptyText => Ok(Value::Text(String::new())),
            Func::SessionPerRow => Err(Error::FeatureNotSupported(
                "set_config and current_setting with a setting that varies by row are not supported"
                    .into(),
            )),
            Func::PgSleep => {
                if let Value::Float8(secs) = args[0] {
                    if secs > 0.0 && secs.is_finite() {
                        std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(86_400.0)));
                    }
                }
                Ok(Value::Null)
            }
            Func::Now => Ok(Value::Timestamptz(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as i64),
            )),
        }
    }

    /// The SQL name, for printing.
    pub fn name(self) -> &'static str {
        match self {
            Func::Hmac => "hmac",
            Func::Sha(224) => "sha224",
            Func::Sha(384) => "sha384",
            Func::Sha(512) => "sha512",
            Func::Sha(_) => "sha256",
            Func::SecureCompare => "secure_compare",
            Func::Encode => "encode",
            Func::Decode => "decode",
            Func::ConvertTo => "convert_to",
            Func::ConvertFrom => "convert_from",
            Func::Lower => "lower",
            Func::Upper => "upper",
            Func::LengthText => "length",
            Func::LengthBytea => "octet_length",
            Func::Substr => "substr",
            Func::SplitPart => "split_part",
            Func::Concat => "concat",
            Func::Trim(TrimSide::Both) => "btrim",
            Func::Trim(TrimSide::Leading) => "ltrim",
            Func::Trim(TrimSide::Trailing) => "rtrim",
            Func::Replace => "replace",
            Func::Strpos => "strpos",
            Func::LikeEscape => "like_escape",
            Func::JsonbTypeof => "jsonb_typeof",
            Func::JsonbArrayLength => "jsonb_array_length",
            Func::JsonbExtractPath => "jsonb_extract_path",
            Func::JsonbExtractPathText => "jsonb_extract_path_text",
            Func::JsonbBuildObject => "jsonb_build_object",
            Func::DateTrunc => "date_trunc",
            Func::Extract => "extract",
            Func::DatePart => "date_part",
            Func::ToTimestamp => "to_timestamp",
            Func::Version => "version",
            Func::PgGetUserById => "pg_get_userbyid",
            Func::PgEncodingToChar => "pg_encoding_to_char",
            Func::PgTableIsVisible => "pg_table_is_visible",
            Func::PgSizePretty => "pg_size_pretty",
            Func::Round(how) => how.name(),
            Func::Abs => "abs",
            Func::Sign => "sign",
            Func::FormatType => "format_type",
            Func::QuoteIdent => "quote_ident",
            Func::QuoteLiteral => "quote_literal",
            Func::CurrentDatabase => "current_database",
            Func::CurrentSchema => "current_schema",
            Func::ArrayToString => "array_to_string",
            Func::JsonbSet => "jsonb_set",
            Func::JsonbInsert => "jsonb_insert",
            Func::JsonbDelete => "jsonb_delete",
            Func::JsonbDeletePath => "jsonb_delete_path",
            Func::JsonbStripNulls => "jsonb_strip_nulls",
            Func::JsonbExistsAny => "jsonb_exists_any",
            Func::JsonbExistsAll => "jsonb_exists_all",
            Func::JsonbBuildArray => "jsonb_build_array",
            Func::JsonbObjectFromPairs => "jsonb_object_agg_finalfn",
            Func::StringAggFinal => "string_agg_finalfn",
            Func::JsonbPretty => "jsonb_pretty",
            Func::ToJsonb => "to_jsonb",
            Func::Md5 => "md5",
            Func::RegexpReplace => "regexp_replace",
            Func::Initcap => "initcap",
            Func::Repeat => "repeat",
            Func::LeftRight(true) => "left",
            Func::LeftRight(false) => "right",
            Func::Pad(true) => "lpad",
            Func::Pad(false) => "rpad",
            Func::Reverse => "reverse",
            Func::StringToArray => "string_to_array",
            Func::StartsWith => "starts_with",
            Func::Chr => "chr",
            Func::Ascii => "ascii",
            Func::Float(f) => f.name(),
            Func::Pi => "pi",
            Func::Mod => "mod",
            Func::NoInformation => "pg_get_expr",
            Func::EmptyText => "pg_tablespace_location",
            Func::SessionPerRow => "set_config",
            Func::PgSleep => "pg_sleep",
            Func::Now => "now",
            Func::PgIsInRecovery => "pg_is_in_recovery",
            Func::RecordField(_) => "record_field",
            Func::ToRegtype => "to_regtype",
        }
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Extracts a text argument; the binder guarantees the type.
fn as_text(v: &Value) -> Result<&str> {
    match v {
        Value::Text(s) => Ok(s),
        other => Err(Error::DatatypeMismatch(format!(
            "expected text, got {}",
            other.data_type()
        ))),
    }
}

/// Extracts a bytea argument; the binder guarantees the type.
fn as_bytes(v: &Value) -> Result<&[u8]> {
    match v {
        Value::Bytea(b) => Ok(b),
        Value::Text(s) => Ok(s.as_bytes()),
        other => Err(Error::DatatypeMismatch(format!(
            "expected bytea, got {}",
            other.data_type()
        ))),
    }
}

/// `string_agg`'s result from its collected values: the non-NULL ones
/// joined by `delimiter` (none for a NULL one), NULL when there are none.
fn string_agg_final(values: &Value, delimiter: &Value) -> Result<Value> {
    let Value::Array(values) = values else {
        return Ok(Value::Null);
    };
    let delimiter = match delimiter {
        Value::Text(d) => d.as_str(),
        _ => "",
    };
    let mut out: Option<String> = None;
    for v in values {
        if let Value::Text(s) = v {
            match &mut out {
                Some(o) => {
                    o.push_str(delimiter);
                    o.push_str(s);
                }
                None => out = Some(s.clone()),
            }
            if out
                .as_ref()
                .is_some_and(|o| o.len() > crate::MAX_VALUE_BYTES)
            {
                return Err(Error::ValueTooLarge);
            }
        }
    }
    Ok(out.map_or(Value::Null, Value::Text))
}
