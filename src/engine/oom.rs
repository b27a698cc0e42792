//! `oom-score-adj`: how readily the Linux OOM killer picks this process, by role, as Redis
//! 7.0 sets it: `oom-score-adj-values` holds the score for a master, a replica and a
//! background child (replikv saves from threads, so it has no child and the third value is
//! kept only for compatibility). `relative` (or `yes`) adds the value to the score the
//! process started with, `absolute` writes it as is, `no` restores the starting score.
//! The score is applied at start-up, when the directives change and when the role changes.

use parking_lot::Mutex;

use crate::config::{OomScoreAdj, Settings};

const PROC_FILE: &str = "/proc/self/oom_score_adj";

/// The score the process had before replikv first changed it; `None` while replikv has not.
static BASE: Mutex<Option<i32>> = Mutex::new(None);

/// Applies the score `settings` give a master (or a replica, when `is_replica`). An error
/// names what could not be read or written (lowering the score needs CAP_SYS_RESOURCE).
pub fn apply(settings: &Settings, is_replica: bool) -> Result<(), String> {
    let mut base = BASE.lock();
    let value = match settings.oom_score_adj {
        OomScoreAdj::No => match base.take() {
            Some(start) => start,
            None => return Ok(()),
        },
        mode => {
            let start = match *base {
                Some(start) => start,
                None => {
                    let text = std::fs::read_to_string(PROC_FILE)
                        .map_err(|e| format!("Unable to read oom_score_adj: {e}"))?;
                    let start = text.trim().parse().unwrap_or(0);
                    *base = Some(start);
                    start
                }
            };
            let wanted = settings.oom_score_adj_values[usize::from(is_replica)];
            let value = if mode == OomScoreAdj::Relative {
                wanted + start
            } else {
                wanted
            };
            value.clamp(-1000, 1000)
        }
    };
    std::fs::write(PROC_FILE, format!("{value}\n"))
        .map_err(|e| format!("Unable to write oom_score_adj: {e}"))
}

/// Applies the score after a role change, logging a failure (the change itself stands).
pub fn apply_for_role(settings: &Settings, is_replica: bool) {
    if settings.oom_score_adj == OomScoreAdj::No {
        return;
    }
    if let Err(e) = apply(settings, is_replica) {
        tracing::warn!("{e}");
    }
}
