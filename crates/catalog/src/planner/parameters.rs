//! Parameters: the types `$1..$n` take from where they are used.

use rivulet_expr::{DataType, Expr};

/// The types parameters `$1..$n` take from their contexts in `exprs`: a
/// parameter cast to a type (as an unknown-typed value is cast where a type
/// is expected) has that type; one used nowhere typed is text.
pub fn infer_parameter_types(n: usize, exprs: &mut dyn Iterator<Item = &Expr>) -> Vec<DataType> {
    let mut types = vec![DataType::Unknown; n];
    for e in exprs {
        e.walk(&mut |x| {
            if let Expr::Cast(inner, ty) = x {
                if let Expr::Param(i) = **inner {
                    if types.get(i) == Some(&DataType::Unknown) {
                        types[i] = *ty;
                    }
                }
            }
        });
    }
    types
        .into_iter()
        .map(|t| {
            if t == DataType::Unknown {
                DataType::Text
            } else {
                t
            }
        })
        .collect()
}
