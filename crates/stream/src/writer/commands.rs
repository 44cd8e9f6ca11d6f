//! Executing commands: row writes, the view changes they cause, and DDL.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use rivulet_catalog::ddl::{self, Created, DropTarget, NewObject};
use rivulet_catalog::{Relation, StoredObject};
use rivulet_expr::{decode_row, encode_row, encode_value_key, Expr, Row};
use rivulet_sql::{DropKind, Statement};
use rivulet_storage::keys;
use tokio::sync::oneshot;

use super::commit::{GroupEffects, Reply};
use super::DdlOutcome;
use super::Writer;
use crate::dataflow::{Change, EvalCtx};
use crate::rows;
use crate::rows::decode_count;
use crate::state::{StateStore, Store};
use crate::{Error, Result};

/// Reads a stored row count.
pub(super) fn read_count(store: &mut Store, rel: u64) -> Result<i64> {
    Ok(store
        .get(&keys::row_count(rel))?
        .map_or(0, |b| decode_count(&b)))
}

/// What a DELETE or an UPDATE does to each row it matches.
#[derive(Clone, Copy)]
enum Edit<'a> {
    Delete,
    /// Each assigned column's position and its value over the old row.
    Update(&'a [(usize, Expr)]),
}

/// A DDL command's failure, with the reply channel handed back.
pub(super) type DdlError = (oneshot::Sender<Result<DdlOutcome>>, Error);

impl Writer {
    fn table(&self, id: u64) -> Result<Arc<Relation>> {
        self.catalog
            .relation_by_id(id)
            .filter(|r| r.table().is_some())
            .cloned()
            .ok_or(Error::RelationGone(id))
    }

    /// Writes a view's row changes under the view's key space, counting
    /// rows that appear and disappear. A packed view's new rows are
    /// appended (see [`Store::append`](crate::state::Store::append)) and
    /// packed when the group commits; its other changes rewrite the
    /// entries holding their rows.
    pub(super) fn write_view_changes(&mut self, view: u64, changes: &[Change]) -> Result<()> {
        let packed = self.packed.contains(&view);
        let mut delta = 0;
        let mut in_entries: Vec<&Change> = Vec::new();
        for c in changes {
            delta += i64::from(c.new.is_some()) - i64::from(c.old.is_some());
            match (&c.old, &c.new) {
                (None, Some(row)) if packed => {
                    // A row of a new source row: its id is above every
                    // entry the view holds.
                    let id = keys::parse_row_id(&c.key).ok_or(Error::Expr(
                        rivulet_expr::Error::Corrupted("packed view row key"),
                    ))?;
                    self.store.append(view, id, row);
                }
                _ if packed => in_entries.push(c),
                (_, Some(row)) => self.store.put(keys::row(view, &c.key), encode_row(row)),
                (_, None) => self.store.delete(keys::row(view, &c.key)),
            }
        }
        if !in_entries.is_empty() {
            self.change_in_entries(view, in_entries)?;
        }
        self.count(view, delta);
        Ok(())
    }

    /// Applies changes to rows of a packed relation that may sit inside
    /// packs: each entry holding some of them is read and rewritten once.
    fn change_in_entries(&mut self, rel: u64, mut changes: Vec<&Change>) -> Result<()> {
        changes.sort_by(|a, b| a.key.cmp(&b.key));
        let prefix = keys::rows_prefix(rel);
        let mut i = 0;
        while i < changes.len() {
            // The entry that holds the row, if stored: the first at or
            // after its key (entries never overlap).
            let at = keys::row(rel, &changes[i].key);
            let mut entry: Option<(Vec<u8>, Vec<u8>)> = None;
            self.store.scan_from(&prefix, &at, &mut |k, v| {
                entry = Some((keys::row_key_of(k).to_vec(), v.to_vec()));
                false
            })?;
            let Some((entry_key, value)) = entry.filter(|(_, v)| rows::is_pack(v)) else {
                // A row of its own (or none): written as it is.
                let c = changes[i];
                match &c.new {
                    Some(row) => self.store.put(at, encode_row(row)),
                    None => self.store.delete(at),
                }
                i += 1;
                continue;
            };
            let mut held: std::collections::BTreeMap<u64, Vec<u8>> = Default::default();
            let value = rows::plain_slice(&value)?;
            rows::each_row(&entry_key, &value, &mut |key, range| {
                if let Some(id) = keys::parse_row_id(key) {
                    held.insert(id, value[range].to_vec());
                }
                Ok(true)
            })?;
            let base = keys::parse_row_id(&entry_key).unwrap_or(0);
            while let Some(c) = changes
                .get(i)
                .filter(|c| c.key.as_slice() <= entry_key.as_slice())
            {
                let id = keys::parse_row_id(&c.key)
                    .filter(|id| base - id <= u64::from(u32::MAX))
                    .ok_or(Error::Expr(rivulet_expr::Error::Corrupted(
                        "packed view row key",
                    )))?;
                match &c.new {
                    Some(row) => held.insert(id, encode_row(row)),
                    None => held.remove(&id),
                };
                i += 1;
            }
            let key = keys::row(rel, &entry_key);
            if held.is_empty() {
                self.store.delete(key);
            } else {
                let kept: Vec<(u64, &[u8])> = held.iter().map(|(id, b)| (*id, &b[..])).collect();
                self.store.put(key, rows::repack(&entry_key, &kept));
            }
        }
        Ok(())
    }

    /// Notes `delta` more rows in relation `rel`.
    pub(super) fn count(&mut self, rel: u64, delta: i64) {
        if delta != 0 {
            *self.counts.entry(rel).or_insert(0) += delta;
        }
    }

    /// Adds the counted row changes to the stored row counts.
    pub(super) fn settle_counts(&mut self) -> Result<()> {
        for (rel, delta) in std::mem::take(&mut self.counts) {
            let n = read_count(&mut self.store, rel)? + delta;
            self.store
                .put(keys::row_count(rel), n.to_le_bytes().to_vec());
        }
        Ok(())
    }

    /// Runs one command inside a savepoint: on success its row counts are
    /// settled; on failure its writes are undone.
    pub(super) fn in_savepoint<T>(
        &mut self,
        f: impl FnOnce(&mut Writer) -> Result<T>,
    ) -> Result<T> {
        self.store.begin();
        let feed = self.logs.feed_mark();
        let r = f(self).and_then(|v| self.settle_counts().map(|()| v));
        if r.is_err() {
            self.store.rollback();
            self.counts.clear();
            self.logs.feed_rollback(feed);
        } else {
            self.store.release();
        }
        r
    }

    /// Pushes `changes` of relation `rel` through every view downstream,
    /// writing each view's changed rows. Views run in id order, so a view
    /// always runs after the views it reads.
    pub(super) fn propagate(
        &mut self,
        rel: u64,
        changes: &[Change],
        ctx: &mut EvalCtx,
    ) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        self.log_changes(rel, changes);
        let readers = self.readers.get(&rel).cloned().unwrap_or_default();
        // The rows with the expressions their readers share, computed once.
        let wide = self.shared.get(&rel).and_then(|s| s.widen(changes));
        for id in readers {
            let backfilling = self.backfill.as_ref().filter(|b| b.view() == id);
            let (flow, input): (_, Cow<'_, [Change]>) =
                match (backfilling, &wide, self.wide_flows.get(&id)) {
                    (Some(b), ..) => (self.flows.get(&id), b.visible(rel, changes)),
                    (None, Some(wide), Some(flow)) => (Some(flow), Cow::Borrowed(&wide[..])),
                    (None, ..) => (self.flows.get(&id), Cow::Borrowed(changes)),
                };
            let Some(flow) = flow else {
                continue;
            };
            let started = std::time::Instant::now();
            let out = flow.push(rel, &input, ctx, &mut self.store)?;
            *self.view_time.entry(id).or_default() += started.elapsed().as_secs_f64();
            self.write_view_changes(id, &out)?;
            self.propagate(id, &out, ctx)?;
        }
        Ok(())
    }

    pub(super) fn insert(&mut self, table: u64, rows: Vec<Row>) -> Result<u64> {
        let rel = self.table(table)?;
        let pk = rel
            .table()
            .map(|t| t.primary_key.clone())
            .unwrap_or_default();
        let mut changes: Vec<Change> = Vec::with_capacity(rows.len());
        // Rows written earlier in this command, for primary-key overwrites
        // within one request.
        let mut written: HashMap<Vec<u8>, usize> = HashMap::new();
        let count = rows.len() as u64;
        let mut appended = 0;
        for row in rows {
            if row.len() != rel.columns.len() {
                return Err(Error::Expr(rivulet_expr::Error::Corrupted(
                    "row does not match table",
                )));
            }
            if pk.is_empty() {
                // A new row under the next hidden id: nothing to replace.
                let next = self.next_row_id.entry(table).or_insert(1);
                let id = *next;
                *next += 1;
                self.fresh.entry(table).or_insert(id);
                self.store.append(table, id, &row);
                appended += 1;
                changes.push(Change {
                    key: keys::row_id(id).to_vec(),
                    old: None,
                    new: Some(row),
                });
                continue;
            }
            let mut key = Vec::new();
            for &i in &pk {
                if row[i].is_null() {
                    return Err(rivulet_catalog::Error::NotNullViolation {
                        column: rel.columns[i].name.clone(),
                        table: rel.name.clone(),
                    }
                    .into());
                }
                encode_value_key(&mut key, &row[i]);
            }
            let old = if let Some(&i) = written.get(&key) {
                changes[i].new.clone()
            } else {
                self.store
                    .get(&keys::row(table, &key))?
                    .map(|b| decode_row(&b))
                    .transpose()?
            };
            if old.as_ref() == Some(&row) {
                continue; // identical payload: stored once, nothing changes
            }
            self.store.put(keys::row(table, &key), encode_row(&row));
            if old.is_none() {
                self.count(table, 1);
            }
            written.insert(key.clone(), changes.len());
            changes.push(Change {
                key,
                old,
                new: Some(row),
            });
        }
        self.count(table, appended);
        // The views see the change when the group's inserts into this
        // table are done (see `flush_inserts`).
        match &mut self.unpropagated {
            Some((t, pending)) if *t == table => pending.extend(changes),
            _ => {
                self.flush_inserts()?;
                self.unpropagated = Some((table, changes));
            }
        }
        Ok(count)
    }

    /// Pushes the changes of consecutive inserts into one table through
    /// the views as one batch: a group of single-event requests then
    /// touches each aggregate group, join key and state entry once rather
    /// than once per request. Called between commands (before any that is
    /// not another insert into the same table) and before the group
    /// commits; a failure here fails the whole group.
    pub(super) fn flush_inserts(&mut self) -> Result<()> {
        let Some((table, changes)) = self.unpropagated.take() else {
            return Ok(());
        };
        let mut ctx = EvalCtx::lenient();
        self.propagate(table, &changes, &mut ctx)?;
        self.settle_counts()
    }

    /// Deletes the rows matching `filter` (all rows if `None`); see
    /// [`edit_rows`](Writer::edit_rows).
    pub(super) fn delete(&mut self, table: u64, filter: Option<Expr>) -> Result<u64> {
        self.edit_rows(table, filter.as_ref(), Edit::Delete)
    }

    /// Sets the `assigned` columns of the rows matching `filter`, each
    /// value computed from the row as it was; see
    /// [`edit_rows`](Writer::edit_rows).
    pub(super) fn update(
        &mut self,
        table: u64,
        assigned: &[(usize, Expr)],
        filter: Option<Expr>,
    ) -> Result<u64> {
        self.edit_rows(table, filter.as_ref(), Edit::Update(assigned))
    }

    /// Deletes or updates (`edit`) the rows matching
    /// `filter`, a chunk of rows at a time so that only the changes (not
    /// the rows read) are held until the group commits; the statement
    /// still commits or fails as a whole. A pack with changed rows is
    /// rewritten once. An update keeps each row under its key (primary-key
    /// columns cannot be assigned), so rows never move and the scan never
    /// meets a row it has already changed. Returns how many rows matched,
    /// as PostgreSQL counts them (an update that leaves a row as it was
    /// still counts, though views see no change).
    fn edit_rows(&mut self, table: u64, filter: Option<&Expr>, edit: Edit<'_>) -> Result<u64> {
        const CHUNK: usize = 4096;
        let rel = self.table(table)?;
        let prefix = keys::rows_prefix(rel.id);
        let mut from = prefix.clone();
        let mut count = 0u64;
        let mut ctx = EvalCtx::lenient();
        loop {
            // Whole entries: (entry key, value).
            let mut stored: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let mut read = 0usize;
            self.store.scan_from(&prefix, &from, &mut |k, v| {
                stored.push((keys::row_key_of(k).to_vec(), v.to_vec()));
                read += if rows::is_pack(v) { rows::PACK_ROWS } else { 1 };
                read < CHUNK
            })?;
            let Some((last, _)) = stored.last() else {
                break;
            };
            // The smallest key after the chunk's last entry.
            from = keys::row(rel.id, last);
            from.push(0);
            let done = read < CHUNK;
            let mut changes = Vec::new();
            for (entry, value) in stored {
                // The entry's rows after the statement, by row id (packs).
                let mut kept: Vec<(u64, Cow<'_, [u8]>)> = Vec::new();
                let mut matched = 0u64;
                let value = rows::plain_slice(&value)?;
                rows::each_row(&entry, &value, &mut |key, range| {
                    let row = decode_row(&value[range.clone()])?;
                    if let Some(f) = filter {
                        if !f.eval_predicate(&row)? {
                            if let Some(id) = keys::parse_row_id(key) {
                                kept.push((id, Cow::Borrowed(&value[range])));
                            }
                            return Ok(true);
                        }
                    }
                    matched += 1;
                    let new = if let Edit::Update(assigned) = edit {
                        let mut new = row.clone();
                        for (i, e) in assigned {
                            new[*i] = e.eval(&row)?;
                        }
                        if let Some(id) = keys::parse_row_id(key) {
                            kept.push((id, Cow::Owned(encode_row(&new))));
                        }
                        (new != row).then_some(new)
                    } else {
                        None
                    };
                    if matches!(edit, Edit::Delete) || new.is_some() {
                        changes.push(Change {
                            key: key.to_vec(),
                            old: Some(row),
                            new,
                        });
                    }
                    Ok(true)
                })?;
                if matched == 0 {
                    continue;
                }
                count += matched;
                let key = keys::row(rel.id, &entry);
                if !rows::is_pack(&value) {
                    // A row of its own: the last change, if any, is its.
                    match changes.last().filter(|c| c.key == entry) {
                        Some(Change { new: Some(row), .. }) => self.store.put(key, encode_row(row)),
                        Some(Change { new: None, .. }) => self.store.delete(key),
                        None => {}
                    }
                } else if kept.is_empty() {
                    self.store.delete(key);
                } else {
                    let kept: Vec<(u64, &[u8])> =
                        kept.iter().map(|(id, b)| (*id, b.as_ref())).collect();
                    self.store.put(key, rows::repack(&entry, &kept));
                }
            }
            let removed = changes.iter().filter(|c| c.new.is_none()).count();
            self.count(table, -(removed as i64));
            self.propagate(table, &changes, &mut ctx)?;
            if done {
                break;
            }
        }
        Ok(count)
    }

    /// Runs a CREATE or DROP. Returns the reply to send once the group is
    /// durable, or `None` when a back-fill took the reply to send when it
    /// ends.
    pub(super) fn ddl(
        &mut self,
        stmt: &Statement,
        reply: oneshot::Sender<Result<DdlOutcome>>,
        effects: &mut GroupEffects,
    ) -> std::result::Result<Option<Reply>, DdlError> {
        let outcome = match stmt {
            Statement::Drop { kind, .. } => self.drop(stmt, *kind, effects),
            _ => match self.create(stmt, effects) {
                Ok(Some(outcome)) => Ok(outcome),
                Ok(None) => {
                    // A view: its back-fill answers.
                    if let Some(b) = &mut self.backfill {
                        b.set_reply(reply);
                    }
                    return Ok(None);
                }
                Err(e) => Err(e),
            },
        };
        match outcome {
            Ok(o) => Ok(Some(Reply::Ddl(reply, Ok(o)))),
            Err(e) => Err((reply, e)),
        }
    }

    /// Creates a secret or table; for a view, starts its back-fill and
    /// returns `None`.
    fn create(
        &mut self,
        stmt: &Statement,
        effects: &mut GroupEffects,
    ) -> Result<Option<DdlOutcome>> {
        let mut next = self.catalog.clone();
        let id = next.allocate_id();
        let tag = match stmt {
            Statement::CreateSecret { .. } => "CREATE_SECRET",
            Statement::CreateTable { .. } => "CREATE_TABLE",
            Statement::CreateSubscription { .. } => "CREATE_SUBSCRIPTION",
            Statement::CreateView { .. } => "CREATE_VIEW",
            Statement::Comment { .. } => "COMMENT",
            _ => "CREATE_MATERIALIZED_VIEW",
        };
        let obj = match ddl::create(stmt, id, &next)? {
            Created::Skipped(notice) => {
                return Ok(Some(DdlOutcome {
                    tag,
                    notices: vec![notice],
                }))
            }
            Created::New(obj) => obj,
        };
        let mut notices = Vec::new();
        match obj {
            NewObject::Comment {
                relation,
                attnum,
                text,
            } => {
                // The comment is a catalog object of its own (restored
                // after its relation); a new one replaces the old.
                let stored = text.as_ref().map(|_| StoredObject {
                    id,
                    sql: stmt.to_string(),
                    secret_value: None,
                });
                if let Some(stored) = stored {
                    self.store.put(keys::catalog(id), stored.encode());
                }
                if let Some(before) = next.set_comment(relation, attnum, text.map(|t| (id, t))) {
                    self.store.delete(keys::catalog(before));
                }
            }
            NewObject::Secret(secret) => {
                let stored = StoredObject {
                    id,
                    sql: stmt.to_string(),
                    secret_value: Some(secret.value().to_string()),
                };
                self.store.put(keys::catalog(id), stored.encode());
                next.insert_secret(secret);
            }
            NewObject::Subscription(sub) => {
                let stored = StoredObject {
                    id,
                    sql: sub.definition.to_string(),
                    secret_value: None,
                };
                self.store.put(keys::catalog(id), stored.encode());
                let rel = sub.relation;
                next.insert_subscription(*sub);
                self.catalog = next;
                // Changes from here on (this group's later commands
                // included) are logged; what a log may hold from before
                // is not this subscription's.
                self.start_log(rel);
                self.index_logs();
                effects.catalog_changed = true;
                return Ok(Some(DdlOutcome { tag, notices }));
            }
            NewObject::Relation(rel) => {
                if rel.view().is_some() {
                    self.start_backfill(*rel)?;
                    return Ok(None);
                }
                let stored = StoredObject {
                    id,
                    sql: rel.definition.to_string(),
                    secret_value: None,
                };
                self.store.put(keys::catalog(id), stored.encode());
                if rel.table().is_some_and(|t| t.primary_key.is_empty()) {
                    self.next_row_id.insert(id, 1);
                }
                let webhook = rel.table().and_then(|t| t.webhook.as_ref());
                if webhook.is_some_and(|w| w.validate.is_none()) {
                    notices.push(format!(
                        "table \"{}\" has no VALIDATE: it accepts unsigned requests from anyone who can reach the webhook port",
                        rel.name
                    ));
                }
                next.insert_relation(*rel);
            }
        }
        self.catalog = next;
        effects.catalog_changed = true;
        Ok(Some(DdlOutcome { tag, notices }))
    }

    fn drop(
        &mut self,
        stmt: &Statement,
        kind: DropKind,
        effects: &mut GroupEffects,
    ) -> Result<DdlOutcome> {
        let tag = match kind {
            DropKind::Table => "DROP_TABLE",
            DropKind::MaterializedView => "DROP_MATERIALIZED_VIEW",
            DropKind::View => "DROP_VIEW",
            DropKind::Secret => "DROP_SECRET",
            DropKind::Subscription => "DROP_SUBSCRIPTION",
        };
        let (targets, notices) = ddl::drop(stmt, &self.catalog)?;
        let mut next = self.catalog.clone();
        for t in targets {
            match t {
                DropTarget::Relation(rel) => {
                    // The catalog entry goes now; rows and state are
                    // removed in the background (the marker makes that
                    // survive a restart). Its comments go with it.
                    self.store.delete(keys::catalog(rel.id));
                    let comments: Vec<u64> = next
                        .comments()
                        .filter(|(r, ..)| *r == rel.id)
                        .map(|(_, _, object, _)| object)
                        .collect();
                    for object in comments {
                        self.store.delete(keys::catalog(object));
                    }
                    self.store.put(keys::purge(rel.id), Vec::new());
                    effects.dropped.push(rel.id);
                    next.remove_relation(&rel.name);
                    self.next_row_id.remove(&rel.id);
                    self.flows.remove(&rel.id);
                }
                DropTarget::Secret(name) => {
                    if let Some(s) = next.remove_secret(&name) {
                        self.store.delete(keys::catalog(s.id));
                    }
                }
                DropTarget::Subscription(name) => {
                    if let Some(s) = next.remove_subscription(&name) {
                        self.store.delete(keys::catalog(s.id));
                    }
                }
            }
        }
        self.catalog = next;
        self.index_readers();
        effects.catalog_changed = true;
        Ok(DdlOutcome { tag, notices })
    }
}
