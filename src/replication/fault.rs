//! Fault points: named places in a sync where a test can cut or stall the link, so a
//! scenario test can lose the link in exactly the phase it names (the way TiKV's
//! `fail_point!` hooks are used), instead of hoping a `kill` lands at the right moment.
//!
//! A point is named after the side and the phase it sits in, as the span and the history
//! entry are: `repl.replica.receive`, `repl.master.transfer`, ... (see [`point`]).
//!
//! Built only with the `fault-points` cargo feature (`scripts/test` enables it); without it
//! [`at`] is an empty inline function and a release binary carries no table and no hook.
//! With it, rules come from the `REPLIKV_FAULTS` environment variable at start
//! (`name=action;name=action`) and from `DEBUG FAULT name action` at run time. An action is
//! `cut` (the phase fails: the link drops as on a network error), `stall(ms)` (the phase
//! waits, as a peer that stopped sending) or `off`; `N*` before it limits it to the next N
//! passes (`2*cut`: the next two syncs lose their link there, the third goes through).

use super::abort::LinkError;
use super::phase::{Phase, Side};

/// The fault point of `phase` on `side`: `repl.<side>.<phase>`, the name of its span.
pub fn point(side: Side, phase: Phase) -> String {
    format!("repl.{}.{}", side.as_str(), phase.as_str())
}

/// What a rule does when its point is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The phase fails; the link drops.
    Cut,
    /// The phase waits this long before it goes on.
    Stall(std::time::Duration),
}

/// A rule: the fault and how many more passes it applies to (`None`: every pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// What happens.
    pub fault: Fault,
    /// Passes left.
    pub remaining: Option<u32>,
}

/// Parses an action: `cut`, `stall(ms)`, `N*cut`, `N*stall(ms)`; `off` is `None`.
pub fn parse_action(text: &str) -> Result<Option<Rule>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let (remaining, action) = match text.split_once('*') {
        Some((n, action)) => {
            let n: u32 = n
                .trim()
                .parse()
                .map_err(|_| format!("bad fault count in '{text}'"))?;
            (Some(n), action.trim())
        }
        None => (None, text),
    };
    let fault = if action.eq_ignore_ascii_case("cut") {
        Fault::Cut
    } else if let Some(ms) = action
        .strip_prefix("stall(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        let ms: u64 = ms
            .trim()
            .parse()
            .map_err(|_| format!("bad stall duration in '{text}'"))?;
        Fault::Stall(std::time::Duration::from_millis(ms))
    } else {
        return Err(format!(
            "unknown fault action '{text}' (cut, stall(ms), N*action or off)"
        ));
    };
    Ok(Some(Rule { fault, remaining }))
}

#[cfg(feature = "fault-points")]
mod table {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    use parking_lot::Mutex;

    use super::{parse_action, Fault, Rule};

    /// The rules by point name, read from `REPLIKV_FAULTS` on first use.
    fn rules() -> &'static Mutex<HashMap<String, Rule>> {
        static RULES: OnceLock<Mutex<HashMap<String, Rule>>> = OnceLock::new();
        RULES.get_or_init(|| {
            let mut map = HashMap::new();
            if let Ok(spec) = std::env::var("REPLIKV_FAULTS") {
                for item in spec.split(';').filter(|s| !s.trim().is_empty()) {
                    match item
                        .split_once('=')
                        .map(|(n, a)| (n.trim(), parse_action(a)))
                    {
                        Some((name, Ok(Some(rule)))) => {
                            map.insert(name.to_string(), rule);
                        }
                        Some((_, Ok(None))) => {}
                        Some((_, Err(e))) => tracing::warn!("REPLIKV_FAULTS: {e}"),
                        None => tracing::warn!("REPLIKV_FAULTS: '{item}' is not name=action"),
                    }
                }
            }
            Mutex::new(map)
        })
    }

    /// Sets (or with `None` clears) the rule of `name`.
    pub fn set(name: &str, rule: Option<Rule>) {
        let mut map = rules().lock();
        match rule {
            Some(rule) => map.insert(name.to_string(), rule),
            None => map.remove(name),
        };
    }

    /// The fault due at `name` on this pass, counting the pass.
    pub fn take(name: &str) -> Option<Fault> {
        let mut map = rules().lock();
        let rule = map.get_mut(name)?;
        let fault = rule.fault;
        if let Some(left) = rule.remaining.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                map.remove(name);
            }
        }
        Some(fault)
    }
}

/// True when this binary was built with fault points.
pub const ENABLED: bool = cfg!(feature = "fault-points");

/// Sets the rule of point `name` (`DEBUG FAULT`); an error when fault points are not built.
pub fn configure(name: &str, action: &str) -> Result<(), String> {
    let rule = parse_action(action)?;
    #[cfg(feature = "fault-points")]
    {
        table::set(name, rule);
        tracing::warn!(point = name, action, "fault point set");
        Ok(())
    }
    #[cfg(not(feature = "fault-points"))]
    {
        let _ = (name, rule);
        Err("fault points are not built in (build with --features fault-points)".to_string())
    }
}

/// Passes the fault point of `phase` on `side`: `Err` when a rule cuts the link here,
/// after the wait when one stalls it.
#[cfg(feature = "fault-points")]
pub async fn at(side: Side, phase: Phase) -> Result<(), LinkError> {
    let name = point(side, phase);
    match table::take(&name) {
        None => Ok(()),
        Some(Fault::Cut) => {
            tracing::warn!("fault point {name}: link cut");
            Err(LinkError::new(
                super::abort::AbortCode::FaultInjected,
                format!("fault injected at {name}"),
            ))
        }
        Some(Fault::Stall(d)) => {
            tracing::warn!("fault point {name}: stall for {} ms", d.as_millis());
            tokio::time::sleep(d).await;
            Ok(())
        }
    }
}

/// Without the `fault-points` feature a fault point is nothing.
#[cfg(not(feature = "fault-points"))]
#[inline(always)]
pub async fn at(_side: Side, _phase: Phase) -> Result<(), LinkError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn actions_parse_with_counts_and_refuse_nonsense() {
        assert_eq!(parse_action("off").unwrap(), None);
        assert_eq!(
            parse_action("cut").unwrap(),
            Some(Rule {
                fault: Fault::Cut,
                remaining: None
            })
        );
        assert_eq!(
            parse_action(" 2*stall(150) ").unwrap(),
            Some(Rule {
                fault: Fault::Stall(Duration::from_millis(150)),
                remaining: Some(2)
            })
        );
        for bad in ["", "cut!", "x*cut", "stall(x)", "stall(5", "panic"] {
            assert!(parse_action(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn points_are_named_as_the_spans() {
        assert_eq!(point(Side::Replica, Phase::Receive), "repl.replica.receive");
        assert_eq!(point(Side::Master, Phase::Transfer), "repl.master.transfer");
    }

    #[cfg(feature = "fault-points")]
    #[tokio::test]
    async fn a_counted_rule_applies_that_many_times_then_goes() {
        configure("repl.replica.load", "2*cut").unwrap();
        assert!(at(Side::Replica, Phase::Load).await.is_err());
        assert!(at(Side::Replica, Phase::Load).await.is_err());
        assert!(at(Side::Replica, Phase::Load).await.is_ok());
        configure("repl.replica.load", "cut").unwrap();
        assert!(at(Side::Replica, Phase::Load).await.is_err());
        configure("repl.replica.load", "off").unwrap();
        assert!(at(Side::Replica, Phase::Load).await.is_ok());
    }
}
