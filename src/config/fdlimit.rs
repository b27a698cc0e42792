//! File descriptors for `maxclients`, as Redis accounts them: at start-up the soft
//! `RLIMIT_NOFILE` is raised so that every client the configuration allows, plus what the
//! server needs for itself, can be open at once. When the system refuses, `maxclients` is
//! lowered to what fits, with log lines in Redis's words; without that, connections past
//! the limit would hang in the accept queue while the listener logs `accept failed`.

/// Connections the HTTP control plane serves at once; more wait in its accept queue.
pub const HTTP_MAX_CONNECTIONS: u64 = 64;

/// Descriptors kept for the server itself: Redis's `CONFIG_MIN_RESERVED_FDS` (listeners,
/// RDB files, the log, replica links, the link to a master) plus the control plane's.
pub const RESERVED_FDS: u64 = 32 + HTTP_MAX_CONNECTIONS;

/// The process's `RLIMIT_NOFILE` as (soft, hard).
fn nofile() -> std::io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

fn set_nofile(soft: u64, hard: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads the struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the soft limit towards `needed` as far as the system allows (past the hard limit
/// only when privileged). Returns the limit now in force, the limit before, and why it could
/// not reach `needed`.
fn raise_to(needed: u64) -> std::io::Result<(u64, u64, Option<std::io::Error>)> {
    let (soft, hard) = nofile()?;
    if soft >= needed {
        return Ok((soft, soft, None));
    }
    let mut error = None;
    for candidate in [needed, hard.min(needed)] {
        if candidate <= soft {
            continue;
        }
        match set_nofile(candidate, hard.max(candidate)) {
            Ok(()) => return Ok((candidate, soft, error)),
            Err(e) => error = Some(e),
        }
    }
    Ok((soft, soft, error))
}

/// Makes room for `maxclients` clients plus `reserved` descriptors at start-up and returns
/// the `maxclients` that fits (the requested one, or fewer with Redis's warnings). An error
/// when not even the reserved descriptors are available: the server must not start.
pub fn fit_maxclients(maxclients: u64, reserved: u64) -> Result<u64, String> {
    let needed = maxclients.saturating_add(reserved);
    let (best, before, error) =
        raise_to(needed).map_err(|e| format!("cannot read the open files limit: {e}"))?;
    if best >= needed {
        if best > before {
            tracing::info!(
                "Increased maximum number of open files to {best} (it was originally set to {before})."
            );
        }
        return Ok(maxclients);
    }
    tracing::warn!(
        "You requested maxclients of {maxclients} requiring at least {needed} max file descriptors."
    );
    if let Some(e) = error {
        tracing::warn!("Server can't set maximum open files to {needed} because of OS error: {e}.");
    }
    if best <= reserved {
        return Err(format!(
            "Your current 'ulimit -n' of {best} is not enough for the server to start. Please increase your open file limit to at least {}. Exiting.",
            reserved + 1
        ));
    }
    let fitted = best - reserved;
    tracing::warn!(
        "Current maximum open files is {best}. maxclients has been reduced to {fitted} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
    );
    Ok(fitted)
}

/// Whether `maxclients` clients fit (CONFIG SET maxclients raises the soft limit when it
/// can); when they do not, the number that would.
pub fn fits_now(maxclients: u64, reserved: u64) -> Result<(), u64> {
    match raise_to(maxclients.saturating_add(reserved)) {
        Ok((best, _, _)) if best >= maxclients.saturating_add(reserved) => Ok(()),
        Ok((best, _, _)) => Err(best.saturating_sub(reserved)),
        Err(_) => Err(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_already_fits_is_kept() {
        let (soft, _) = nofile().expect("getrlimit");
        assert!(soft > RESERVED_FDS + 1);
        assert_eq!(fit_maxclients(1, RESERVED_FDS), Ok(1));
    }
}
