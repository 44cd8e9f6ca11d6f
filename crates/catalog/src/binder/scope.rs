//! Scopes: the columns an expression may name, and how a (qualified)
//! name resolves to one of them.

use rivulet_expr::DataType;
use rivulet_sql as ast;

use crate::{Error, Result};

/// A column visible to an expression.
#[derive(Debug, Clone)]
pub struct ScopeColumn {
    /// The relation name it can be qualified with, if any.
    pub qualifier: Option<String>,
    /// The column's name.
    pub name: String,
    /// The column's type.
    pub ty: DataType,
    /// Reachable only by its qualified name, and left out of `*`: the
    /// right-hand copy of a column a join merges with USING.
    pub hidden: bool,
    /// A system column (`tableoid`): named like any other, but left out
    /// of `*`.
    pub system: bool,
    /// For a system catalog's column, the PostgreSQL type Rivulet
    /// stands in for.
    pub catalog_type: CatalogType,
    /// The relation column it is, where it is one as such.
    pub origin: Option<crate::ColumnOrigin>,
}

/// PostgreSQL types of catalog columns that Rivulet keeps as one of its
/// own but that behave differently where clients rely on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatalogType {
    /// The column's own type.
    #[default]
    Plain,
    /// `name` (kept as text): subscripted, it gives the character at a
    /// 0-based position (`typname[0] = '_'`).
    Name,
    /// `int2vector` or `oidvector` (kept as an array, which `unnest` and
    /// `generate_subscripts` read): selected as such, it prints as
    /// PostgreSQL prints a vector, space-separated (`2 1`).
    Vector,
}

/// The columns an expression may reference; `Expr::Column(i)` refers to
/// the `i`th entry.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The columns, by position.
    pub columns: Vec<ScopeColumn>,
    /// The positions `*` lists, in its order, when that is not simply the
    /// visible columns in order (a JOIN ... USING lists each merged column
    /// first).
    pub star: Option<Vec<usize>>,
}

impl Scope {
    /// A scope of one relation's columns.
    pub fn of_relation(name: &str, columns: &[crate::Column]) -> Scope {
        Scope {
            columns: columns
                .iter()
                .map(|c| ScopeColumn {
                    qualifier: Some(name.to_string()),
                    name: c.name.clone(),
                    ty: c.ty,
                    hidden: false,
                    system: false,
                    catalog_type: CatalogType::Plain,
                    origin: None,
                })
                .collect(),
            star: None,
        }
    }

    /// The positions `*` lists, in order (never a hidden column).
    pub fn star_order(&self) -> Vec<usize> {
        let visible = |&i: &usize| !self.columns[i].hidden && !self.columns[i].system;
        match &self.star {
            Some(order) => order.iter().copied().filter(visible).collect(),
            None => (0..self.columns.len()).filter(visible).collect(),
        }
    }

    /// Appends `right`'s columns (a join's right side) after this scope's.
    pub fn join(&mut self, right: Scope) {
        let lw = self.columns.len();
        if self.star.is_some() || right.star.is_some() {
            let mut order = self.star_order();
            order.extend(right.star_order().into_iter().map(|j| lw + j));
            self.star = Some(order);
        }
        self.columns.extend(right.columns);
    }

    /// The relation column `parts` names, if it is one as such.
    pub(crate) fn origin(&self, parts: &[ast::Ident]) -> Option<crate::ColumnOrigin> {
        let (i, _) = self.resolve(parts).ok()?;
        self.columns.get(i)?.origin
    }

    /// The PostgreSQL type of the catalog column `parts` names.
    pub(crate) fn catalog_type(&self, parts: &[ast::Ident]) -> CatalogType {
        self.resolve(parts)
            .ok()
            .and_then(|(i, _)| self.columns.get(i))
            .map_or(CatalogType::Plain, |c| c.catalog_type)
    }

    /// Whether `name` (as an error names a column: dotted when qualified)
    /// resolves in this scope.
    pub fn has(&self, name: &str) -> bool {
        let parts: Vec<ast::Ident> = name.split('.').map(|p| ast::Ident(p.to_string())).collect();
        self.resolve(&parts).is_ok()
    }

    pub(super) fn resolve(&self, parts: &[ast::Ident]) -> Result<(usize, DataType)> {
        let full = parts
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let (qualifier, name) = match parts {
            [name] => (None, name.as_str()),
            [.., q, name] => (Some(q.as_str()), name.as_str()),
            [] => return Err(Error::UndefinedColumn(full)),
        };
        let mut found = None;
        for (i, c) in self.columns.iter().enumerate() {
            let qualifier_ok = match qualifier {
                None => !c.hidden,
                Some(q) => c.qualifier.as_deref() == Some(q),
            };
            if c.name == name && qualifier_ok {
                if found.is_some() {
                    return Err(Error::AmbiguousColumn(full));
                }
                found = Some((i, c.ty));
            }
        }
        if found.is_none() && qualifier.is_none() {
            // A whole-row reference to a one-column FROM item (a
            // set-returning function's `AS item`) is its one value.
            let mut of_item = self
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.qualifier.as_deref() == Some(name));
            if let (Some((i, c)), None) = (of_item.next(), of_item.next()) {
                found = Some((i, c.ty));
            }
        }
        found.ok_or(Error::UndefinedColumn(full))
    }
}
