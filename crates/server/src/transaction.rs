//! Transaction blocks as a session sees them. Rivulet commits every
//! statement on its own, but clients wrap work in `BEGIN ... COMMIT` and
//! savepoints, so the session keeps PostgreSQL's bookkeeping: whether a
//! block is open, its savepoints, and whether it wrote anything (a
//! rollback then warns that the writes stay).

use std::sync::Mutex;

use crate::error::{Error, Result};

/// A NOTICE or WARNING sent ahead of a statement's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `NOTICE` or `WARNING`.
    pub severity: &'static str,
    /// The SQLSTATE (`00000` for a plain notice).
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl Notice {
    /// A NOTICE.
    pub fn info(message: impl Into<String>) -> Notice {
        Notice {
            severity: "NOTICE",
            code: "00000",
            message: message.into(),
        }
    }

    /// A WARNING with its SQLSTATE.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Notice {
        Notice {
            severity: "WARNING",
            code,
            message: message.into(),
        }
    }
}

/// An open transaction block.
#[derive(Debug, Default)]
struct Block {
    /// Savepoint names, oldest first.
    savepoints: Vec<String>,
    /// Whether a write ran inside the block.
    wrote: bool,
    /// Whether a statement failed in the block (until ROLLBACK (TO)).
    failed: bool,
}

/// One session's transaction block, if it has one open.
#[derive(Debug, Default)]
pub struct Transaction(Mutex<Option<Block>>);

/// What ROLLBACK says when the block wrote: the writes stay.
const WRITES_STAY: &str =
    "each statement commits on its own; the writes of this transaction block are not undone";

impl Transaction {
    fn with<T>(&self, f: impl FnOnce(&mut Option<Block>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether a block is open.
    pub fn in_block(&self) -> bool {
        self.with(|b| b.is_some())
    }

    /// `BEGIN`.
    pub fn begin(&self) -> Vec<Notice> {
        self.with(|b| match b {
            Some(_) => vec![Notice::warning(
                "25001",
                "there is already a transaction in progress",
            )],
            None => {
                *b = Some(Block::default());
                vec![]
            }
        })
    }

    /// `COMMIT`: its notices, and whether the block had failed (so it
    /// was rolled back instead).
    pub fn commit(&self) -> (Vec<Notice>, bool) {
        self.with(|b| match b.take() {
            Some(block) => (vec![], block.failed),
            None => (
                vec![Notice::warning(
                    "25P01",
                    "there is no transaction in progress",
                )],
                false,
            ),
        })
    }

    /// Whether the open block has failed.
    pub fn failed(&self) -> bool {
        self.with(|b| b.as_ref().is_some_and(|b| b.failed))
    }

    /// Marks the open block failed (a statement in it raised an error).
    pub fn fail(&self) {
        self.with(|b| {
            if let Some(block) = b {
                block.failed = true;
            }
        });
    }

    /// `ROLLBACK`.
    pub fn rollback(&self) -> Vec<Notice> {
        self.with(|b| match b.take() {
            Some(block) if block.wrote => vec![Notice::info(WRITES_STAY)],
            Some(_) => vec![],
            None => vec![Notice::warning(
                "25P01",
                "there is no transaction in progress",
            )],
        })
    }

    /// Notes a write (INSERT, DELETE, DDL) for a later rollback's warning.
    pub fn wrote(&self) {
        self.with(|b| {
            if let Some(block) = b {
                block.wrote = true;
            }
        });
    }

    /// `SAVEPOINT name`.
    pub fn savepoint(&self, name: &str) -> Result<()> {
        self.with(|b| match b {
            Some(block) => {
                block.savepoints.push(name.to_string());
                Ok(())
            }
            None => Err(Error::NoTransactionBlock("SAVEPOINT")),
        })
    }

    /// `RELEASE SAVEPOINT name`: forgets it and every later one.
    pub fn release(&self, name: &str) -> Result<()> {
        self.with(|b| {
            let block = b
                .as_mut()
                .ok_or(Error::NoTransactionBlock("RELEASE SAVEPOINT"))?;
            let at = block
                .savepoints
                .iter()
                .rposition(|s| s == name)
                .ok_or_else(|| Error::UndefinedSavepoint(name.to_string()))?;
            block.savepoints.truncate(at);
            Ok(())
        })
    }

    /// `ROLLBACK TO SAVEPOINT name`: forgets the later ones, keeps it.
    pub fn rollback_to(&self, name: &str) -> Result<Vec<Notice>> {
        self.with(|b| {
            let block = b
                .as_mut()
                .ok_or(Error::NoTransactionBlock("ROLLBACK TO SAVEPOINT"))?;
            let at = block
                .savepoints
                .iter()
                .rposition(|s| s == name)
                .ok_or_else(|| Error::UndefinedSavepoint(name.to_string()))?;
            block.savepoints.truncate(at + 1);
            block.failed = false;
            Ok(if block.wrote {
                vec![Notice::info(WRITES_STAY)]
            } else {
                vec![]
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn savepoints_follow_postgres_rules() {
        let t = Transaction::default();
        assert!(matches!(
            t.savepoint("a"),
            Err(Error::NoTransactionBlock("SAVEPOINT"))
        ));
        assert_eq!(t.commit().0.len(), 1);
        assert!(t.begin().is_empty());
        assert_eq!(t.begin().len(), 1);
        t.savepoint("a").unwrap();
        t.savepoint("b").unwrap();
        t.release("a").unwrap();
        assert!(matches!(t.release("b"), Err(Error::UndefinedSavepoint(_))));
        t.savepoint("c").unwrap();
        assert!(t.rollback_to("c").unwrap().is_empty());
        t.wrote();
        assert_eq!(t.rollback_to("c").unwrap().len(), 1);
        t.fail();
        assert!(t.failed());
        t.rollback_to("c").unwrap();
        assert!(!t.failed());
        assert_eq!(t.rollback().len(), 1);
        assert!(!t.in_block());
        t.begin();
        t.fail();
        assert_eq!(t.commit(), (vec![], true));
    }
}
