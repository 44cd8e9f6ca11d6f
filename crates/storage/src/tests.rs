//! One test suite, run against every engine.

use crate::{keys, Engine, FjallEngine, MemoryEngine, SledEngine, WriteBatch};

fn suite(e: &dyn Engine) {
    let mut b = WriteBatch::new();
    for id in [3u64, 1, 2, 300] {
        b.put(keys::row(7, &keys::row_id(id)), id.to_string().into_bytes());
    }
    b.put(keys::row(8, &keys::row_id(1)), b"other".to_vec());
    b.put(keys::catalog(1), b"cat".to_vec());
    e.apply(&b).unwrap();
    e.flush().unwrap();

    let rows = e.scan_prefix(&keys::rows_prefix(7)).unwrap();
    let ids: Vec<u64> = rows
        .iter()
        .map(|(k, _)| keys::parse_row_id(keys::row_key_of(k)).unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![1, 2, 3, 300],
        "numeric order, other relations excluded"
    );
    assert_eq!(
        e.last_key_with_prefix(&keys::rows_prefix(7)).unwrap(),
        Some(keys::row(7, &keys::row_id(300)))
    );
    assert_eq!(e.last_key_with_prefix(&keys::rows_prefix(9)).unwrap(), None);
    let mut seen = Vec::new();
    e.for_each_prefix(&keys::rows_prefix(7), &mut |k, _| {
        seen.push(keys::parse_row_id(keys::row_key_of(k)).unwrap());
        seen.len() < 3
    })
    .unwrap();
    assert_eq!(seen, vec![1, 2, 3], "in order, stopping when asked");
    let mut seen = Vec::new();
    e.for_each_prefix_rev(&keys::rows_prefix(7), &mut |k, _| {
        seen.push(keys::parse_row_id(keys::row_key_of(k)).unwrap());
        seen.len() < 2
    })
    .unwrap();
    assert_eq!(seen, vec![300, 3], "descending, stopping when asked");
    let mut seen = Vec::new();
    e.for_each_prefix_from(
        &keys::rows_prefix(7),
        &keys::row(7, &keys::row_id(3)),
        &mut |k, _| {
            seen.push(keys::parse_row_id(keys::row_key_of(k)).unwrap());
            true
        },
    )
    .unwrap();
    assert_eq!(seen, vec![3, 300], "from a key, within the prefix");
    let mut values = Vec::new();
    e.for_each_value(&keys::rows_prefix(7), &mut |_, v| {
        values.push(v);
        true
    })
    .unwrap();
    assert_eq!(values, vec![&b"1"[..], b"2", b"3", b"300"]);

    let mut b = WriteBatch::new();
    b.delete(keys::row(7, &keys::row_id(2)));
    b.put(keys::row(7, &keys::row_id(1)), b"x".to_vec());
    b.put(keys::row(7, &keys::row_id(1)), b"y".to_vec());
    e.apply(&b).unwrap();
    assert_eq!(
        e.get(&keys::row(7, &keys::row_id(1))).unwrap(),
        Some(b"y".to_vec())
    );
    assert_eq!(e.get(&keys::row(7, &keys::row_id(2))).unwrap(), None);
    assert_eq!(e.scan_prefix(&keys::rows_prefix(7)).unwrap().len(), 3);
    assert_eq!(e.scan_prefix(&keys::catalog_prefix()).unwrap().len(), 1);
}

#[test]
fn memory_engine() {
    suite(&MemoryEngine::new());
}

#[test]
fn sled_engine_and_reopen() {
    let dir = std::env::temp_dir().join(format!("rivulet-storage-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let e = SledEngine::open(&dir, 8 << 20).unwrap();
        suite(&e);
    }
    // sled releases its file lock from a background thread shortly after
    // the handle is dropped; give it a moment under load.
    let mut tries = 0;
    let e = loop {
        match SledEngine::open(&dir, 8 << 20) {
            Ok(e) => break e,
            Err(e) if tries < 50 => {
                tries += 1;
                eprintln!("reopen: {e}");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("reopen failed: {e}"),
        }
    };
    assert_eq!(
        e.get(&keys::row(7, &keys::row_id(1))).unwrap(),
        Some(b"y".to_vec())
    );
    drop(e);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fjall_engine_and_reopen() {
    let dir = std::env::temp_dir().join(format!("rivulet-fjall-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let e = FjallEngine::open(
            &dir,
            crate::StorageBudget {
                cache: 8 << 20,
                memtable: 4 << 20,
            },
        )
        .unwrap();
        suite(&e);
    }
    let e = FjallEngine::open(
        &dir,
        crate::StorageBudget {
            cache: 8 << 20,
            memtable: 4 << 20,
        },
    )
    .unwrap();
    assert_eq!(
        e.get(&keys::row(7, &keys::row_id(1))).unwrap(),
        Some(b"y".to_vec())
    );
    drop(e);
    let _ = std::fs::remove_dir_all(&dir);
}

fn budget() -> crate::StorageBudget {
    crate::StorageBudget {
        cache: 8 << 20,
        memtable: 4 << 20,
    }
}

/// Every key of `e`, in order, forwards and backwards, and the pairs a
/// few prefixes select.
fn everything(e: &dyn Engine) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut views = vec![e.scan_prefix(&[]).unwrap()];
    let mut back = Vec::new();
    e.for_each_prefix_rev(&[], &mut |k, v| {
        back.push((k.to_vec(), v.to_vec()));
        true
    })
    .unwrap();
    back.reverse();
    views.push(back);
    for prefix in [
        vec![2u8],
        keys::rows_prefix(5),
        keys::rows_prefix(6),
        keys::state_prefix(6),
        keys::catalog_prefix(),
        keys::meta(""),
    ] {
        views.push(e.scan_prefix(&prefix).unwrap());
        let last = e.last_key_with_prefix(&prefix).unwrap();
        assert_eq!(last.as_ref(), views.last().unwrap().last().map(|(k, _)| k));
    }
    let mut from = Vec::new();
    e.for_each_prefix_from(&[], &keys::row(6, &keys::row_id(3)), &mut |k, v| {
        from.push((k.to_vec(), v.to_vec()));
        true
    })
    .unwrap();
    views.push(from);
    views
}

fn mixed_batch() -> WriteBatch {
    let mut b = WriteBatch::new();
    for rel in [6u64, 5, 300, 1 << 40] {
        for id in [9u64, 1, 5, 3] {
            b.put(
                keys::row(rel, &keys::row_id(id)),
                format!("{rel}/{id}").into_bytes(),
            );
        }
    }
    b.put(keys::row(6, &[0xff, 0xff]), b"pk".to_vec());
    b.put(keys::state_table(6, 1), b"state".to_vec());
    b.put(keys::state_table(5, 0), b"state5".to_vec());
    b.put(keys::catalog(5), b"cat".to_vec());
    b.put(keys::row_count(6), b"4".to_vec());
    b.delete(keys::row(77, &keys::row_id(1)));
    b
}

#[test]
fn fjall_keeps_key_order_across_relation_keyspaces() {
    let dir = std::env::temp_dir().join(format!("rivulet-fjall-order-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let memory = MemoryEngine::new();
    memory.apply(&mixed_batch()).unwrap();
    {
        let e = FjallEngine::open(&dir, budget()).unwrap();
        e.apply(&mixed_batch()).unwrap();
        assert_eq!(everything(&e), everything(&memory));
        e.flush().unwrap();
    }
    let e = FjallEngine::open(&dir, budget()).unwrap();
    assert_eq!(everything(&e), everything(&memory), "after reopening");
    assert!(dir.join("keyspaces").is_dir());

    // Dropping a relation's rows leaves every other key.
    assert!(e.drop_rows(6).unwrap());
    let mut b = WriteBatch::new();
    b.delete(keys::row(6, &[0xff, 0xff]));
    for id in [9u64, 1, 5, 3] {
        b.delete(keys::row(6, &keys::row_id(id)));
    }
    memory.apply(&b).unwrap();
    assert_eq!(everything(&e), everything(&memory));
    e.flush().unwrap();
    drop(e);
    let e = FjallEngine::open(&dir, budget()).unwrap();
    assert_eq!(everything(&e), everything(&memory), "the drop is durable");
    assert_eq!(e.get(&keys::row(6, &keys::row_id(9))).unwrap(), None);
    drop(e);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fjall_moves_rows_out_of_a_single_keyspace() {
    let dir = std::env::temp_dir().join(format!("rivulet-fjall-move-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let memory = MemoryEngine::new();
    let mut b = mixed_batch();
    // More rows than one move batch.
    for id in 0..25_000u64 {
        b.put(keys::row(8, &keys::row_id(id)), id.to_le_bytes().to_vec());
    }
    memory.apply(&b).unwrap();
    {
        // Everything in one keyspace, as versions before relation
        // keyspaces wrote it.
        let db = fjall::Database::builder(&dir).open().unwrap();
        let data = db
            .keyspace("data", fjall::KeyspaceCreateOptions::default)
            .unwrap();
        let mut batch = db.batch();
        for (k, v) in b.ops {
            if let Some(v) = v {
                batch.insert(&data, k, v);
            }
        }
        batch.commit().unwrap();
        db.persist(fjall::PersistMode::SyncAll).unwrap();
    }
    let e = FjallEngine::open(&dir, budget()).unwrap();
    assert_eq!(everything(&e), everything(&memory));
    assert_eq!(e.scan_prefix(&keys::rows_prefix(8)).unwrap().len(), 25_000);
    assert!(
        e.drop_rows(8).unwrap(),
        "the rows have a keyspace of their own"
    );
    assert!(e.scan_prefix(&keys::rows_prefix(8)).unwrap().is_empty());
    drop(e);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fjall_bounds_all_memtables_together() {
    let dir = std::env::temp_dir().join(format!("rivulet-fjall-memtables-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let budget = crate::StorageBudget {
        cache: 8 << 20,
        memtable: 1 << 20,
    };
    let e = FjallEngine::open(&dir, budget).unwrap();
    // 40 relations, 256 KiB each: ten times the budget, every relation
    // far below the budget on its own.
    for round in 0..4u64 {
        for rel in 0..40u64 {
            let mut b = WriteBatch::new();
            for i in 0..16u64 {
                b.put(keys::row(rel, &keys::row_id(round * 16 + i)), vec![7; 4096]);
            }
            e.apply(&b).unwrap();
        }
    }
    let started = std::time::Instant::now();
    while e.unflushed_memtable_bytes() > 2 << 20 && started.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        e.unflushed_memtable_bytes() <= 2 << 20,
        "{} bytes in memtables",
        e.unflushed_memtable_bytes()
    );
    assert_eq!(e.scan_prefix(&[2]).unwrap().len(), 40 * 64);
    drop(e);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fjall_readies_a_relation_before_its_first_rows() {
    let dir = std::env::temp_dir().join(format!("rivulet-fjall-prepare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let e = FjallEngine::open(&dir, budget()).unwrap();
    assert!(!e.has_keyspace(5));
    e.prepare_relation(5).unwrap();
    e.prepare_relation(5).unwrap();
    assert!(e.has_keyspace(5));
    // Nothing was written: nothing reads back, before or after a reopen.
    assert!(e.scan_prefix(&keys::rows_prefix(5)).unwrap().is_empty());
    let mut b = WriteBatch::new();
    b.put(keys::row(5, &keys::row_id(1)), b"r".to_vec());
    e.apply(&b).unwrap();
    e.flush().unwrap();
    drop(e);
    let e = FjallEngine::open(&dir, budget()).unwrap();
    assert!(e.has_keyspace(5));
    assert_eq!(e.scan_prefix(&keys::rows_prefix(5)).unwrap().len(), 1);
    drop(e);
    let _ = std::fs::remove_dir_all(&dir);
}
