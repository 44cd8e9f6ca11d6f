//! The writer thread: the only place that mutates tables, views and the
//! catalog. It executes commands in arrival order and makes each group of
//! commands durable with one flush before answering any of them (group
//! commit).
//!
//! Inserts of a group accumulate in one storage batch (with an overlay so a
//! primary-key insert sees earlier rows of the same group); a DELETE or DDL,
//! which scans storage, first applies what is pending. A failed command
//! contributes nothing: it builds its writes aside and merges them only on
//! success.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rivulet_catalog::ddl::{self, Created, DropTarget, NewObject};
use rivulet_catalog::{Catalog, Relation, StoredObject, ViewSpec};
use rivulet_expr::{decode_row, encode_row, encode_value_key, Expr, Row};
use rivulet_sql::{DropKind, Statement};
use rivulet_storage::{keys, Engine, WriteBatch};
use tokio::sync::{mpsc, oneshot};

use crate::database::{DdlOutcome, Shared};
use crate::dataflow::{consolidate, Change, Dataflow, EvalCtx};
use crate::{Error, Result};

/// Largest number of commands committed by one flush.
const MAX_GROUP: usize = 1024;

/// The storage format version written into a new data directory.
const FORMAT_VERSION: &[u8] = b"1";

pub(crate) struct Command {
    pub(crate) op: Op,
}

pub(crate) enum Op {
    Insert {
        table: u64,
        rows: Vec<Row>,
        reply: oneshot::Sender<Result<u64>>,
    },
    Delete {
        table: u64,
        filter: Option<Expr>,
        reply: oneshot::Sender<Result<u64>>,
    },
    Ddl {
        stmt: Box<Statement>,
        reply: oneshot::Sender<Result<DdlOutcome>>,
    },
    Shutdown,
}

/// Writes a view's row changes under the view's key space.
fn write_changes(view: u64, changes: &[Change], batch: &mut WriteBatch) {
    for c in changes {
        let key = keys::row(view, &c.key);
        match &c.new {
            Some(row) => batch.put(key, encode_row(row)),
            None => batch.delete(key),
        }
    }
}

/// A command's answer, held until its group is durable.
enum Reply {
    Count(oneshot::Sender<Result<u64>>, Result<u64>),
    Ddl(oneshot::Sender<Result<DdlOutcome>>, Result<DdlOutcome>),
}

impl Reply {
    fn send(self) {
        // A caller that went away (client disconnected) no longer needs the
        // answer; its write is committed regardless.
        match self {
            Reply::Count(tx, r) => drop(tx.send(r)),
            Reply::Ddl(tx, r) => drop(tx.send(r)),
        }
    }

    fn fail(self, e: &rivulet_storage::Error) {
        let err = || {
            Error::Storage(rivulet_storage::Error::Io(std::io::Error::other(
                e.to_string(),
            )))
        };
        match self {
            Reply::Count(tx, _) => drop(tx.send(Err(err()))),
            Reply::Ddl(tx, _) => drop(tx.send(Err(err()))),
        }
    }
}

/// State owned by the writer thread.
pub(crate) struct Writer {
    engine: Arc<dyn Engine>,
    /// The writer's own catalog: ahead of the published one by at most the
    /// group being committed.
    catalog: Catalog,
    /// Next hidden row id of each table without a primary key.
    next_row_id: HashMap<u64, u64>,
    /// Each materialized view's operators, by view id (so iteration runs
    /// upstream views first).
    flows: BTreeMap<u64, Dataflow>,
    /// For each relation, the views reading it, in id order (derived from
    /// `flows` and the catalog by [`Writer::index_readers`]).
    readers: HashMap<u64, Vec<u64>>,
    /// The catalog as of the last durable group, to return to if a group
    /// fails to commit.
    committed: Catalog,
    /// Writes of the current group not yet applied to storage.
    pending: WriteBatch,
    /// Index in `pending` of the latest write of each key.
    overlay: HashMap<Vec<u8>, usize>,
    /// Set when applying this group's writes failed: nothing in the group
    /// may then be acknowledged.
    group_failed: Option<String>,
}

impl Writer {
    /// Rebuilds the catalog from storage and the row-id counters.
    pub(crate) fn recover(engine: Arc<dyn Engine>) -> Result<(Writer, Catalog)> {
        if engine.get(&keys::meta("format_version"))?.is_none() {
            let mut b = WriteBatch::new();
            b.put(keys::meta("format_version"), FORMAT_VERSION.to_vec());
            engine.apply(b)?;
            engine.flush()?;
        }
        let mut catalog = Catalog::new();
        let mut next_row_id = HashMap::new();
        for (key, value) in engine.scan_prefix(&keys::catalog_prefix())? {
            let stored = StoredObject::decode(&value)?;
            let mut stmts =
                rivulet_sql::parse(&stored.sql).map_err(rivulet_catalog::Error::from)?;
            let mut stmt = stmts.pop().ok_or_else(|| {
                rivulet_catalog::Error::Corrupted(format!("empty definition under {key:?}"))
            })?;
            if let (Statement::CreateSecret { value, .. }, Some(v)) =
                (&mut stmt, &stored.secret_value)
            {
                *value = v.clone();
            }
            match ddl::create(&stmt, stored.id, &catalog)? {
                Created::New(NewObject::Secret(s)) => catalog.insert_secret(s),
                Created::New(NewObject::Relation(r)) => {
                    if r.table().is_some_and(|t| t.primary_key.is_empty()) {
                        let last = engine.last_key_with_prefix(&keys::rows_prefix(r.id))?;
                        let next = last
                            .and_then(|k| keys::parse_row_id(keys::row_key_of(&k)))
                            .map_or(1, |id| id + 1);
                        next_row_id.insert(r.id, next);
                    }
                    catalog.insert_relation(*r);
                }
                Created::Skipped(_) => {
                    return Err(rivulet_catalog::Error::Corrupted(format!(
                        "duplicate catalog object {}",
                        stored.id
                    ))
                    .into())
                }
            }
        }
        let mut writer = Writer {
            engine,
            flows: BTreeMap::new(),
            readers: HashMap::new(),
            committed: catalog.clone(),
            catalog: catalog.clone(),
            next_row_id,
            pending: WriteBatch::new(),
            overlay: HashMap::new(),
            group_failed: None,
        };
        writer.rebuild_flows()?;
        Ok((writer, catalog))
    }

    /// The writer loop: take a group, execute it, flush once, publish, reply.
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Command>, shared: Arc<Shared>) {
        let mut stopping = false;
        while !stopping {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(c) => group.push(c),
                    Err(_) => break,
                }
            }
            let mut replies = Vec::with_capacity(group.len());
            let mut catalog_changed = false;
            for cmd in group {
                match cmd.op {
                    Op::Insert { table, rows, reply } => {
                        replies.push(Reply::Count(reply, self.insert(table, rows)));
                    }
                    Op::Delete {
                        table,
                        filter,
                        reply,
                    } => {
                        replies.push(Reply::Count(reply, self.delete(table, filter)));
                    }
                    Op::Ddl { stmt, reply } => {
                        let r = self.ddl(&stmt);
                        catalog_changed |= r.is_ok();
                        replies.push(Reply::Ddl(reply, r));
                    }
                    Op::Shutdown => stopping = true,
                }
            }
            let committed = match self.group_failed.take() {
                Some(msg) => Err(rivulet_storage::Error::Io(std::io::Error::other(msg))),
                None => self.apply_pending().and_then(|()| self.engine.flush()),
            };
            match committed {
                Ok(()) => {
                    if catalog_changed {
                        self.committed = self.catalog.clone();
                        shared.publish(Arc::new(self.catalog.clone()));
                    }
                    replies.into_iter().for_each(Reply::send);
                }
                Err(e) => {
                    tracing::error!(
                        "flush failed, {} command(s) not acknowledged: {e}",
                        replies.len()
                    );
                    replies.into_iter().for_each(|r| r.fail(&e));
                    // Memory ran ahead of storage: return to what is durable.
                    self.catalog = self.committed.clone();
                    self.pending = WriteBatch::new();
                    self.overlay.clear();
                    if let Err(e) = self.rebuild_flows() {
                        tracing::error!("cannot rebuild views after a failed commit: {e}");
                    }
                }
            }
        }
        // Drain so nobody waits forever on a command that will never run.
        rx.close();
        while let Ok(cmd) = rx.try_recv() {
            match cmd.op {
                Op::Insert { reply, .. } | Op::Delete { reply, .. } => {
                    let _ = reply.send(Err(Error::ShuttingDown));
                }
                Op::Ddl { reply, .. } => {
                    let _ = reply.send(Err(Error::ShuttingDown));
                }
                Op::Shutdown => {}
            }
        }
    }

    /// Applies the group's pending writes to storage (not yet durable).
    fn apply_pending(&mut self) -> rivulet_storage::Result<()> {
        self.overlay.clear();
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self.engine.apply(std::mem::take(&mut self.pending));
        if let Err(e) = &result {
            self.group_failed = Some(e.to_string());
        }
        result
    }

    /// Adds a successful command's writes to the group. A key written
    /// again in the same group (an aggregate row updated by many events,
    /// say) replaces its earlier pending write instead of adding another.
    fn merge(&mut self, batch: WriteBatch) {
        for (k, v) in batch.ops {
            match self.overlay.get(&k) {
                Some(&i) => self.pending.ops[i].1 = v,
                None => {
                    self.overlay.insert(k.clone(), self.pending.ops.len());
                    self.pending.ops.push((k, v));
                }
            }
        }
    }

    /// Reads a key as the group sees it: pending writes first.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.overlay.get(key) {
            Some(&i) => Ok(self.pending.ops[i].1.clone()),
            None => Ok(self.engine.get(key)?),
        }
    }

    fn table(&self, id: u64) -> Result<Arc<Relation>> {
        self.catalog
            .relation_by_id(id)
            .filter(|r| r.table().is_some())
            .cloned()
            .ok_or(Error::RelationGone(id))
    }

    /// Pushes `changes` of relation `rel` through every view downstream,
    /// writing each view's changed rows into `batch`. Views run in id
    /// order, so a view always runs after the views it reads.
    fn propagate(
        &mut self,
        rel: u64,
        changes: &[Change],
        batch: &mut WriteBatch,
        ctx: &mut EvalCtx,
    ) {
        if changes.is_empty() {
            return;
        }
        let readers = self.readers.get(&rel).cloned().unwrap_or_default();
        for id in readers {
            let Some(flow) = self.flows.get_mut(&id) else {
                continue;
            };
            let out = flow.push(rel, changes, ctx);
            write_changes(id, &out, batch);
            self.propagate(id, &out, batch, ctx);
        }
    }

    /// The stored rows of a relation as insertions (DDL applies the
    /// group's pending writes before it reads).
    fn scan_as_inserts(&self, rel: u64) -> Result<Vec<Change>> {
        crate::database::scan_inserts(self.engine.as_ref(), rel)
    }

    /// Builds a view's operators and fills their state from its sources'
    /// stored rows; returns the view's full contents as insertions.
    fn build_flow(&self, spec: &ViewSpec) -> Result<(Dataflow, Vec<Change>)> {
        let mut ctx = EvalCtx::lenient();
        let mut flow = Dataflow::new(&spec.plan);
        let mut out = flow.init(&mut ctx);
        for &src in &spec.sources {
            let rows = self.scan_as_inserts(src)?;
            out.extend(flow.push(src, &rows, &mut ctx));
        }
        Ok((flow, consolidate(out)))
    }

    /// Recomputes which views read each relation.
    fn index_readers(&mut self) {
        self.readers.clear();
        for &id in self.flows.keys() {
            if let Some(spec) = self.catalog.relation_by_id(id).and_then(|r| r.view()) {
                for &src in &spec.sources {
                    self.readers.entry(src).or_default().push(id);
                }
            }
        }
    }

    /// Rebuilds every view's operator state from storage (at start-up, and
    /// after a failed commit left memory ahead of disk). Each source is read
    /// and decoded once and fed to every view that reads it.
    fn rebuild_flows(&mut self) -> Result<()> {
        self.flows.clear();
        let mut views: Vec<Arc<Relation>> = self
            .catalog
            .relations()
            .filter(|r| r.view().is_some())
            .cloned()
            .collect();
        views.sort_by_key(|r| r.id);
        let mut ctx = EvalCtx::lenient();
        let mut sources: Vec<u64> = Vec::new();
        for v in &views {
            if let Some(spec) = v.view() {
                let mut flow = Dataflow::new(&spec.plan);
                flow.init(&mut ctx);
                self.flows.insert(v.id, flow);
                sources.extend(
                    spec.sources
                        .iter()
                        .filter(|s| !sources.contains(s))
                        .copied()
                        .collect::<Vec<_>>(),
                );
            }
        }
        self.index_readers();
        for src in sources {
            let rows = self.scan_as_inserts(src)?;
            for id in self.readers.get(&src).cloned().unwrap_or_default() {
                if let Some(flow) = self.flows.get_mut(&id) {
                    flow.push(src, &rows, &mut ctx);
                }
            }
        }
        Ok(())
    }

    fn insert(&mut self, table: u64, rows: Vec<Row>) -> Result<u64> {
        let rel = self.table(table)?;
        let pk = rel
            .table()
            .map(|t| t.primary_key.clone())
            .unwrap_or_default();
        let mut batch = WriteBatch::new();
        let mut changes: Vec<Change> = Vec::with_capacity(rows.len());
        // Rows written earlier in this command, for primary-key overwrites
        // within one request.
        let mut written: HashMap<Vec<u8>, usize> = HashMap::new();
        let count = rows.len() as u64;
        for row in rows {
            if row.len() != rel.columns.len() {
                return Err(Error::Expr(rivulet_expr::Error::Corrupted(
                    "row does not match table",
                )));
            }
            let key = if pk.is_empty() {
                let id = self.next_row_id.entry(table).or_insert(1);
                let key = keys::row_id(*id).to_vec();
                *id += 1;
                key
            } else {
                let mut k = Vec::new();
                for &i in &pk {
                    if row[i].is_null() {
                        return Err(rivulet_catalog::Error::NotNullViolation {
                            column: rel.columns[i].name.clone(),
                            table: rel.name.clone(),
                        }
                        .into());
                    }
                    encode_value_key(&mut k, &row[i]);
                }
                k
            };
            let old = if pk.is_empty() {
                None
            } else if let Some(&i) = written.get(&key) {
                changes[i].new.clone()
            } else {
                self.get(&keys::row(table, &key))?
                    .map(|b| decode_row(&b))
                    .transpose()?
            };
            if old.as_ref() == Some(&row) {
                continue; // identical payload: stored once, nothing changes
            }
            batch.put(keys::row(table, &key), encode_row(&row));
            written.insert(key.clone(), changes.len());
            changes.push(Change {
                key,
                old,
                new: Some(row),
            });
        }
        let mut ctx = EvalCtx::lenient();
        self.propagate(table, &changes, &mut batch, &mut ctx);
        self.merge(batch);
        Ok(count)
    }

    fn delete(&mut self, table: u64, filter: Option<Expr>) -> Result<u64> {
        let rel = self.table(table)?;
        self.apply_pending()?;
        let mut batch = WriteBatch::new();
        let mut changes = Vec::new();
        for (key, value) in self.engine.scan_prefix(&keys::rows_prefix(rel.id))? {
            let row = decode_row(&value)?;
            if let Some(f) = &filter {
                if !f.eval_predicate(&row)? {
                    continue;
                }
            }
            batch.delete(key.clone());
            changes.push(Change {
                key: keys::row_key_of(&key).to_vec(),
                old: Some(row),
                new: None,
            });
        }
        let count = changes.len() as u64;
        let mut ctx = EvalCtx::lenient();
        self.propagate(table, &changes, &mut batch, &mut ctx);
        self.engine.apply(batch)?;
        Ok(count)
    }

    fn ddl(&mut self, stmt: &Statement) -> Result<DdlOutcome> {
        self.apply_pending()?;
        match stmt {
            Statement::Drop { kind, .. } => self.drop(stmt, *kind),
            _ => self.create(stmt),
        }
    }

    fn create(&mut self, stmt: &Statement) -> Result<DdlOutcome> {
        let mut next = self.catalog.clone();
        let id = next.allocate_id();
        let tag = match stmt {
            Statement::CreateSecret { .. } => "CREATE_SECRET",
            Statement::CreateTable { .. } => "CREATE_TABLE",
            _ => "CREATE_MATERIALIZED_VIEW",
        };
        let obj = match ddl::create(stmt, id, &next)? {
            Created::Skipped(notice) => {
                return Ok(DdlOutcome {
                    tag,
                    notices: vec![notice],
                })
            }
            Created::New(obj) => obj,
        };
        let mut batch = WriteBatch::new();
        match obj {
            NewObject::Secret(secret) => {
                let stored = StoredObject {
                    id,
                    sql: stmt.to_string(),
                    secret_value: Some(secret.value().to_string()),
                };
                batch.put(keys::catalog(id), stored.encode());
                next.insert_secret(secret);
            }
            NewObject::Relation(rel) => {
                let stored = StoredObject {
                    id,
                    sql: rel.definition.to_string(),
                    secret_value: None,
                };
                batch.put(keys::catalog(id), stored.encode());
                if let Some(spec) = rel.view() {
                    // Back-fill from the rows already in the sources.
                    let (flow, rows) = self.build_flow(spec)?;
                    write_changes(id, &rows, &mut batch);
                    self.flows.insert(id, flow);
                }
                if rel.table().is_some_and(|t| t.primary_key.is_empty()) {
                    self.next_row_id.insert(id, 1);
                }
                next.insert_relation(*rel);
            }
        }
        self.engine.apply(batch)?;
        self.catalog = next;
        self.index_readers();
        Ok(DdlOutcome {
            tag,
            notices: vec![],
        })
    }

    fn drop(&mut self, stmt: &Statement, kind: DropKind) -> Result<DdlOutcome> {
        let tag = match kind {
            DropKind::Table => "DROP_TABLE",
            DropKind::MaterializedView => "DROP_MATERIALIZED_VIEW",
            DropKind::Secret => "DROP_SECRET",
        };
        let (targets, notices) = ddl::drop(stmt, &self.catalog)?;
        let mut next = self.catalog.clone();
        let mut batch = WriteBatch::new();
        for t in targets {
            match t {
                DropTarget::Relation(rel) => {
                    for (key, _) in self.engine.scan_prefix(&keys::rows_prefix(rel.id))? {
                        batch.delete(key);
                    }
                    batch.delete(keys::catalog(rel.id));
                    next.remove_relation(&rel.name);
                    self.next_row_id.remove(&rel.id);
                    self.flows.remove(&rel.id);
                }
                DropTarget::Secret(name) => {
                    if let Some(s) = next.remove_secret(&name) {
                        batch.delete(keys::catalog(s.id));
                    }
                }
            }
        }
        self.engine.apply(batch)?;
        self.catalog = next;
        self.index_readers();
        Ok(DdlOutcome { tag, notices })
    }
}
