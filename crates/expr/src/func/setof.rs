//! Set-returning functions over JSONB: each input value becomes any number
//! of rows (`jsonb_array_elements(doc)`, `jsonb_object_keys(doc)`, ...).
//! The planner reads them in FROM (lateral to the items before them) and
//! the dataflow expands each row's value.

use crate::{DataType, Error, JsonKind, JsonTree, Jsonb, Result, Row, Value};

use super::json::as_jsonb;

/// A set-returning function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetFunc {
    /// `jsonb_array_elements(doc)`: each element, as jsonb.
    ArrayElements,
    /// `jsonb_array_elements_text(doc)`: each element, as text.
    ArrayElementsText,
    /// `jsonb_object_keys(doc)`: each key.
    ObjectKeys,
    /// `jsonb_each(doc)`: each key and value (jsonb).
    Each,
    /// `jsonb_each_text(doc)`: each key and value (text).
    EachText,
    /// `unnest(array)`: each element, of the array's element type.
    Unnest(&'static DataType),
    /// `generate_series(start, stop [, step])` over integers, or over
    /// timestamps with an interval step; its argument is the array
    /// `[start, stop, step]`.
    Series(&'static DataType),
    /// `generate_subscripts(array, dim [, reverse])`: the subscripts of
    /// the array's dimension, ascending or (reversed) descending; its
    /// argument is the array `[array, dim, reverse]`.
    Subscripts,
    /// `pg_options_to_table(options)`: each `name=value` of an options
    /// array as `option_name`, `option_value`.
    OptionsToTable,
    /// `information_schema._pg_expandarray(array)`: each element `x` with
    /// its subscript `n` (what pgJDBC reads keys with): one record `(x,n)`
    /// when called in a select list (`record`), two columns in FROM.
    ExpandArray {
        /// The array's element type.
        elem: &'static DataType,
        /// Whether each row is one record.
        record: bool,
    },
}

/// The fields of `_pg_expandarray`'s records over `elem` elements.
fn expand_fields(elem: DataType) -> &'static [(&'static str, DataType)] {
    const fn fields(t: DataType) -> [(&'static str, DataType); 2] {
        [("x", t), ("n", DataType::Int4)]
    }
    const N: usize = DataType::ALL.len();
    // One field list per element type, in `DataType::ALL`'s order.
    static FIELDS: [[(&str, DataType); 2]; N] = {
        let mut all = [fields(DataType::Text); N];
        let mut i = 0;
        while i < N {
            all[i] = fields(DataType::ALL[i]);
            i += 1;
        }
        all
    };
    // An element type without a list of its own reads as text, as
    // `DataType::array_of` makes its array.
    match DataType::ALL.iter().position(|t| *t == elem) {
        Some(i) => &FIELDS[i],
        None => &[("x", DataType::Text), ("n", DataType::Int4)],
    }
}

/// The most rows one `generate_series` call makes: its rows are built
/// at once, so the call is bounded like any value a query builds.
pub const MAX_SERIES_ROWS: usize = 1_000_000;

impl SetFunc {
    /// The function of this name.
    pub fn from_name(name: &str) -> Option<SetFunc> {
        Some(match name {
            "jsonb_array_elements" => SetFunc::ArrayElements,
            "jsonb_array_elements_text" => SetFunc::ArrayElementsText,
            "jsonb_object_keys" => SetFunc::ObjectKeys,
            "jsonb_each" => SetFunc::Each,
            "jsonb_each_text" => SetFunc::EachText,
            _ => return None,
        })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            SetFunc::ArrayElements => "jsonb_array_elements",
            SetFunc::ArrayElementsText => "jsonb_array_elements_text",
            SetFunc::ObjectKeys => "jsonb_object_keys",
            SetFunc::Each => "jsonb_each",
            SetFunc::EachText => "jsonb_each_text",
            SetFunc::Unnest(_) => "unnest",
            SetFunc::Series(_) => "generate_series",
            SetFunc::Subscripts => "generate_subscripts",
            SetFunc::OptionsToTable => "pg_options_to_table",
            SetFunc::ExpandArray { .. } => "_pg_expandarray",
        }
    }

    /// The columns of its rows: names (`None` for a function of one
    /// column, named after the function or its alias) and types.
    pub fn columns(self) -> Vec<(Option<&'static str>, DataType)> {
        match self {
            SetFunc::ArrayElements => vec![(Some("value"), DataType::Jsonb)],
            SetFunc::ArrayElementsText => vec![(Some("value"), DataType::Text)],
            SetFunc::ObjectKeys => vec![(None, DataType::Text)],
            SetFunc::Each => vec![
                (Some("key"), DataType::Text),
                (Some("value"), DataType::Jsonb),
            ],
            SetFunc::EachText => vec![
                (Some("key"), DataType::Text),
                (Some("value"), DataType::Text),
            ],
            SetFunc::Unnest(e) | SetFunc::Series(e) => vec![(None, *e)],
            SetFunc::Subscripts => vec![(None, DataType::Int4)],
            SetFunc::OptionsToTable => vec![
                (Some("option_name"), DataType::Text),
                (Some("option_value"), DataType::Text),
            ],
            SetFunc::ExpandArray { elem, record: true } => {
                vec![(None, DataType::Record(expand_fields(*elem)))]
            }
            SetFunc::ExpandArray { elem, .. } => {
                vec![(Some("x"), *elem), (Some("n"), DataType::Int4)]
            }
        }
    }

    /// The rows for argument `v` (none for NULL), or PostgreSQL's error for
    /// a document of the wrong kind.
    pub fn expand(self, v: &Value) -> Result<Vec<Row>> {
        if v.is_null() {
            return Ok(Vec::new());
        }
        if let SetFunc::Unnest(_) = self {
            return Ok(match v {
                Value::Array(elems) => elems.iter().map(|e| vec![e.clone()]).collect(),
                _ => Vec::new(),
            });
        }
        if let SetFunc::Series(_) = self {
            return series(v);
        }
        if let SetFunc::Subscripts = self {
            return Ok(subscripts(v));
        }
        if let SetFunc::ExpandArray { record, .. } = self {
            let Value::Array(elems) = v else {
                return Ok(Vec::new());
            };
            return Ok((1..)
                .zip(elems)
                .map(|(n, e)| {
                    let fields = vec![e.clone(), Value::Int4(n)];
                    if record {
                        vec![Value::Record(fields)]
                    } else {
                        fields
                    }
                })
                .collect());
        }
        if let SetFunc::OptionsToTable = self {
            let Value::Array(options) = v else {
                return Ok(Vec::new());
            };
            return Ok(options
                .iter()
                .filter_map(|o| match o {
                    Value::Text(o) => Some(match o.split_once('=') {
                        Some((k, v)) => vec![Value::Text(k.into()), Value::Text(v.into())],
                        None => vec![Value::Text(o.clone()), Value::Null],
                    }),
                    _ => None,
                })
                .collect());
        }
        let doc = as_jsonb(v)?.clone();
        let kind = doc.kind();
        let refuse = |what: &str| Err(Error::InvalidParameterValue(what.to_string()));
        match self {
            SetFunc::ArrayElements | SetFunc::ArrayElementsText => match kind {
                JsonKind::Array => {}
                JsonKind::Object => return refuse("cannot extract elements from an object"),
                _ => return refuse("cannot extract elements from a scalar"),
            },
            SetFunc::ObjectKeys => match kind {
                JsonKind::Object => {}
                JsonKind::Array => return refuse("cannot call jsonb_object_keys on an array"),
                _ => return refuse("cannot call jsonb_object_keys on a scalar"),
            },
            SetFunc::Unnest(_)
            | SetFunc::Series(_)
            | SetFunc::Subscripts
            | SetFunc::OptionsToTable
            | SetFunc::ExpandArray { .. } => {}
            SetFunc::Each | SetFunc::EachText => {
                if kind != JsonKind::Object {
                    return refuse(&format!("cannot call {} on a non-object", self.name()));
                }
            }
        }
        let text = |d: &Jsonb| d.to_text().map_or(Value::Null, Value::Text);
        Ok(match self {
            SetFunc::ArrayElements => elements(&doc)
                .into_iter()
                .map(|e| vec![Value::Jsonb(e)])
                .collect(),
            SetFunc::ArrayElementsText => elements(&doc).iter().map(|e| vec![text(e)]).collect(),
            SetFunc::ObjectKeys => pairs(&doc)
                .into_iter()
                .map(|(k, _)| vec![Value::Text(k)])
                .collect(),
            SetFunc::Each => pairs(&doc)
                .into_iter()
                .map(|(k, v)| vec![Value::Text(k), Value::Jsonb(v)])
                .collect(),
            SetFunc::EachText => pairs(&doc)
                .into_iter()
                .map(|(k, v)| vec![Value::Text(k), text(&v)])
                .collect(),
            SetFunc::Unnest(_)
            | SetFunc::Series(_)
            | SetFunc::Subscripts
            | SetFunc::OptionsToTable
            | SetFunc::ExpandArray { .. } => Vec::new(),
        })
    }
}

fn elements(doc: &Jsonb) -> Vec<Jsonb> {
    doc.elements().unwrap_or_default()
}

/// An object's keys and values, in PostgreSQL's key order.
fn pairs(doc: &Jsonb) -> Vec<(String, Jsonb)> {
    match doc.to_tree() {
        JsonTree::Object(pairs) => pairs
            .into_iter()
            .map(|(k, v)| (k, Jsonb::from_tree(&v)))
            .collect(),
        _ => Vec::new(),
    }
}

/// `generate_subscripts` over `[array, dim, reverse]`: arrays here have
/// one dimension numbered from 1, so any other dimension (or a NULL
/// argument) has none.
fn subscripts(v: &Value) -> Vec<Row> {
    let Value::Array(args) = v else {
        return Vec::new();
    };
    let (Some(Value::Array(elems)), Some(Value::Int4(1))) = (args.first(), args.get(1)) else {
        return Vec::new();
    };
    let n = i32::try_from(elems.len()).unwrap_or(i32::MAX);
    let reverse = matches!(args.get(2), Some(Value::Bool(true)));
    let row = |i: i32| vec![Value::Int4(i)];
    if reverse {
        (1..=n).rev().map(row).collect()
    } else {
        (1..=n).map(row).collect()
    }
}

/// `generate_series` over `[start, stop, step]`: no rows if any is NULL.
fn series(v: &Value) -> Result<Vec<Row>> {
    let Value::Array(args) = v else {
        return Ok(Vec::new());
    };
    if args.iter().any(Value::is_null) {
        return Ok(Vec::new());
    }
    let too_many = || {
        Error::FeatureNotSupported(format!(
            "generate_series of more than {MAX_SERIES_ROWS} rows is not supported"
        ))
    };
    let zero = || Error::InvalidParameterValue("step size cannot equal zero".into());
    let mut out = Vec::new();
    match args.as_slice() {
        [Value::Timestamptz(start), Value::Timestamptz(stop), Value::Interval(step)] => {
            if step.span() == 0 {
                return Err(zero());
            }
            let up = step.span() > 0;
            let mut t = *start;
            while (up && t <= *stop) || (!up && t >= *stop) {
                if out.len() >= MAX_SERIES_ROWS {
                    return Err(too_many());
                }
                out.push(vec![Value::Timestamptz(t)]);
                t = step.add_to_timestamp(t)?;
            }
        }
        [start, stop, rest @ ..] => {
            let int = |v: &Value| match v {
                Value::Int4(i) => Some(i64::from(*i)),
                Value::Int8(i) => Some(*i),
                _ => None,
            };
            let wide = matches!(start, Value::Int8(_)) || matches!(stop, Value::Int8(_));
            let (Some(a), Some(b)) = (int(start), int(stop)) else {
                return Ok(Vec::new());
            };
            let step = match rest.first() {
                Some(s) => int(s).unwrap_or(1),
                None => 1,
            };
            if step == 0 {
                return Err(zero());
            }
            let count = if (step > 0 && a > b) || (step < 0 && a < b) {
                0
            } else {
                ((i128::from(b) - i128::from(a)) / i128::from(step)) as u128 + 1
            };
            if count > MAX_SERIES_ROWS as u128 {
                return Err(too_many());
            }
            let mut x = a;
            for _ in 0..count {
                out.push(vec![if wide {
                    Value::Int8(x)
                } else {
                    Value::Int4(x as i32)
                }]);
                x = x.saturating_add(step);
            }
        }
        _ => {}
    }
    Ok(out)
}
