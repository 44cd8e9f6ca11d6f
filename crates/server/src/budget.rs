//! The memory budget: one figure, split between the caches.

use rivulet_storage::StorageBudget;

/// How `--memory-budget` is divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The storage engine's block cache and write buffer.
    pub storage: StorageBudget,
    /// The writer's cache of committed operator state.
    pub state_cache: u64,
    /// Webhook request bodies held at once (at least one largest body).
    pub request_bodies: u64,
}

impl Budget {
    /// Three eighths for the storage engine's block cache, one eighth for
    /// its write buffer (at most 32 MiB: larger buffers only delay
    /// flushing), one eighth for cached operator state and one eighth for
    /// webhook bodies in flight (raised to one largest body by the
    /// listener). The rest is headroom for what no budget bounds: the
    /// group being committed, operator-state writes waiting for a
    /// checkpoint (a quarter of the state cache's share at most), query
    /// state and allocator slack.
    pub fn split(total: u64) -> Budget {
        Budget {
            storage: StorageBudget {
                cache: total / 8 * 3,
                memtable: (total / 8).min(32 << 20),
            },
            state_cache: total / 8,
            request_bodies: total / 8,
        }
    }
}

/// Parses a byte size: a number with an optional `B`, `KiB`, `MiB` or `GiB`
/// (also `K`, `M`, `G`, `KB`, `MB`, `GB`, all powers of 1024) suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?}: expected a number such as 256MiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => {
            return Err(format!(
                "invalid size unit {other:?} in {s:?}: use KiB, MiB or GiB"
            ))
        }
    };
    let bytes = n
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("size {s:?} is too large"))?;
    if bytes < 16 << 20 {
        return Err(format!("size {s:?} is below the minimum of 16MiB"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("33554432"), Ok(32 << 20));
        assert!(parse_size("1MiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
        assert_eq!(
            Budget::split(256 << 20),
            Budget {
                storage: StorageBudget {
                    cache: 96 << 20,
                    memtable: 32 << 20
                },
                state_cache: 32 << 20,
                request_bodies: 32 << 20
            }
        );
    }
}
