//! One test suite, run against every engine.

use crate::{keys, Engine, FjallEngine, MemoryEngine, SledEngine, WriteBatch};

fn suite(e: &dyn Engine) {
    let mut b = WriteBatch::new();
    for id in [3u64, 1, 2, 300] {
        b.put(keys::row(7, &keys::row_id(id)), id.to_string().into_bytes());
    }
    b.put(keys::row(8, &keys::row_id(1)), b"other".to_vec());
    b.put(keys::catalog(1), b"cat".to_vec());
    e.apply(b).unwrap();
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
    e.apply(b).unwrap();
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
