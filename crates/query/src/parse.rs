//! The entry point [`parse`]: splits the query string into parameters, turns every non-reserved
//! parameter into filter conditions (suffix operators, casting by schema) and hands the reserved
//! ones to [`crate::options`].

use std::collections::HashMap;

use crate::ast::{Condition, Filter, ListQuery, Op};
use crate::error::QueryError;
use crate::limits::{MAX_IN_VALUES, MAX_PARAMS, MAX_QUERY_BYTES};
use crate::options::{self, Reserved};
use crate::path::FieldPath;
use crate::pattern::{PatternError, RegexPattern};
use crate::schema::{FieldType, Schema};
use crate::value::{self, js_trim};

/// The operator a parameter name selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
    Ne,
    In,
    Exists,
    Regex,
}

/// Suffix operators, longest first (none is a suffix of another, so the order only documents
/// intent).
const SUFFIXES: [(&str, Kind); 8] = [
    ("_exists", Kind::Exists),
    ("_regex", Kind::Regex),
    ("_gte", Kind::Gte),
    ("_lte", Kind::Lte),
    ("_gt", Kind::Gt),
    ("_lt", Kind::Lt),
    ("_ne", Kind::Ne),
    ("_in", Kind::In),
];

/// Parses the query string of `GET /api/data/:collection` (the part after `?`, still
/// percent-encoded, `+` meaning space) against the collection's schema.
///
/// See the crate documentation for the language, the casting rules and the limits.
///
/// # Errors
/// A [`QueryError`] (always a 400) whose `Display` text is the client-facing message.
pub fn parse(raw_query: &str, schema: &Schema) -> Result<ListQuery, QueryError> {
    if raw_query.len() > MAX_QUERY_BYTES {
        return Err(QueryError::QueryTooLong);
    }
    let mut reserved = Reserved::default();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (n, (key, value)) in form_urlencoded::parse(raw_query.as_bytes()).enumerate() {
        if n >= MAX_PARAMS {
            return Err(QueryError::TooManyParameters);
        }
        let value = value.into_owned();
        if let Some(slot) = reserved.slot(&key) {
            slot.push(value);
            continue;
        }
        match index.get(key.as_ref()).and_then(|&i| groups.get_mut(i)) {
            Some((_, values)) => values.push(value),
            None => {
                index.insert(key.clone().into_owned(), groups.len());
                groups.push((key.into_owned(), vec![value]));
            }
        }
    }
    let mut filter = Filter::new();
    for (key, values) in &groups {
        add_conditions(&mut filter, key, values, schema)?;
    }
    let options = options::parse_options(&reserved, schema)?;
    Ok(ListQuery {
        filter,
        sort: options.sort,
        pagination: options.pagination,
        projection: options.projection,
        populate: options.populate,
        count: options.count,
        meta: options.meta,
    })
}

/// Splits a parameter name into field and operator. A name that is itself a declared (or
/// implicit) field is always plain equality, so a declared field such as `login_in` is not
/// misread as `login` + `_in`.
fn split_key<'k>(key: &'k str, schema: &Schema) -> (&'k str, Kind) {
    if schema.is_declared(key) {
        return (key, Kind::Eq);
    }
    SUFFIXES
        .iter()
        .find_map(|(suffix, kind)| key.strip_suffix(suffix).map(|field| (field, *kind)))
        .unwrap_or((key, Kind::Eq))
}

/// Turns one parameter (all its values, in order) into conditions.
fn add_conditions(filter: &mut Filter, key: &str, values: &[String], schema: &Schema) -> Result<(), QueryError> {
    let (field, kind) = split_key(key, schema);
    let path =
        FieldPath::new(field).map_err(|reason| QueryError::InvalidParameterName { param: key.to_owned(), reason })?;
    let ty = schema.field_type(path.as_str());
    let cast = |raw: &str| {
        value::cast_text(raw, ty).map_err(|e| QueryError::InvalidValue { param: key.to_owned(), expected: e.expected })
    };
    let too_many = || QueryError::TooManyValues { param: key.to_owned(), max: MAX_IN_VALUES };
    let mut push = |op| {
        filter.and(Condition::new(path.clone(), op));
    };
    match kind {
        Kind::Eq => match values {
            [one] => push(Op::Eq(cast(one)?)),
            many => {
                if many.len() > MAX_IN_VALUES {
                    return Err(too_many());
                }
                let items = many.iter().map(|v| cast(v)).collect::<Result<_, _>>()?;
                push(Op::In(items));
            }
        },
        Kind::In => {
            let mut items = Vec::new();
            for raw in split_list(values) {
                if items.len() == MAX_IN_VALUES {
                    return Err(too_many());
                }
                items.push(cast(raw)?);
            }
            push(Op::In(items));
        }
        Kind::Exists => {
            for raw in values {
                let exists = match raw.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(QueryError::InvalidExists { field: field.to_owned() });
                    }
                };
                push(Op::Exists(exists));
            }
        }
        Kind::Regex => {
            if let Some(t) = ty
                .map(FieldType::scalar_type)
                .filter(|t| matches!(t, FieldType::Number | FieldType::Boolean | FieldType::Date | FieldType::ObjectId))
            {
                return Err(QueryError::RegexOnNonText { param: key.to_owned(), field_type: t.name() });
            }
            for raw in values {
                let pattern = RegexPattern::new(raw).map_err(|e| match e {
                    PatternError::TooLong => QueryError::RegexTooLong { field: field.to_owned() },
                    PatternError::Invalid => QueryError::InvalidRegex { field: field.to_owned() },
                })?;
                push(Op::Regex(pattern));
            }
        }
        Kind::Gt | Kind::Gte | Kind::Lt | Kind::Lte | Kind::Ne => {
            for raw in values {
                let v = cast(raw)?;
                push(match kind {
                    Kind::Gt => Op::Gt(v),
                    Kind::Gte => Op::Gte(v),
                    Kind::Lt => Op::Lt(v),
                    Kind::Lte => Op::Lte(v),
                    _ => Op::Ne(v),
                });
            }
        }
    }
    Ok(())
}

/// The entries of comma lists given once or repeated: split on `,`, trimmed (JavaScript
/// `trim`), empty entries dropped.
pub(crate) fn split_list(values: &[String]) -> impl Iterator<Item = &str> {
    values.iter().flat_map(|v| v.split(',')).map(js_trim).filter(|s| !s.is_empty())
}
