//! The master's PSYNC decision, as a pure function over the replication identity and the
//! backlog range (Redis's `masterTryPartialResynchronization`), tested without sockets.

/// What a replica asked for: `PSYNC <replid> <offset>`, where offset is the first byte it
/// wants (its processed offset + 1), or `PSYNC ? -1` without history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsyncRequest {
    /// The replication id the replica follows, `?` when it has none.
    pub replid: String,
    /// The first stream byte it wants.
    pub offset: i64,
}

/// What the master knows, at the instant of the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsyncView<'a> {
    /// `master_replid`.
    pub replid: &'a str,
    /// `master_replid2`.
    pub replid2: &'a str,
    /// `second_repl_offset`.
    pub second_offset: i64,
    /// A backlog exists.
    pub backlog_active: bool,
    /// Oldest offset held.
    pub first_byte: u64,
    /// `master_repl_offset`.
    pub end: u64,
}

/// Why a full resync is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullReason {
    /// `PSYNC ? -1`, or SYNC.
    NoHistory,
    /// The replica follows another history.
    ReplidMismatch,
    /// The id matches our previous one, but the offset is past where that history ended.
    PastSecondOffset,
    /// We keep no backlog.
    NoBacklog,
    /// The requested bytes are no longer (or not yet) in the backlog.
    OffsetOutOfRange,
    /// An operator asked for it.
    Forced,
}

impl FullReason {
    /// Every reason, in the order of [`FullReason::index`].
    pub const ALL: [FullReason; 6] = [
        FullReason::NoHistory,
        FullReason::ReplidMismatch,
        FullReason::PastSecondOffset,
        FullReason::NoBacklog,
        FullReason::OffsetOutOfRange,
        FullReason::Forced,
    ];

    /// A stable code for metrics labels (`replikv_full_resyncs_total{cause}`) and the
    /// sync history; docs/metrics.md says what each means and what to do about it.
    pub fn code(&self) -> &'static str {
        match self {
            FullReason::NoHistory => "no_history",
            FullReason::ReplidMismatch => "replid_mismatch",
            FullReason::PastSecondOffset => "past_previous_history",
            FullReason::NoBacklog => "no_backlog",
            FullReason::OffsetOutOfRange => "offset_out_of_range",
            FullReason::Forced => "forced",
        }
    }

    /// Position in [`FullReason::ALL`].
    pub fn index(&self) -> usize {
        match self {
            FullReason::NoHistory => 0,
            FullReason::ReplidMismatch => 1,
            FullReason::PastSecondOffset => 2,
            FullReason::NoBacklog => 3,
            FullReason::OffsetOutOfRange => 4,
            FullReason::Forced => 5,
        }
    }

    /// Words for the sync history and logs.
    pub fn describe(&self) -> &'static str {
        match self {
            FullReason::NoHistory => "replica has no replication history",
            FullReason::ReplidMismatch => "replication id mismatch",
            FullReason::PastSecondOffset => "offset past the end of the previous replication id",
            FullReason::NoBacklog => "no backlog",
            FullReason::OffsetOutOfRange => "requested offset not in the backlog",
            FullReason::Forced => "full sync requested by an operator",
        }
    }

    /// True when the refusal counts in `sync_partial_err` (everything but "no history").
    pub fn counts_as_partial_error(&self) -> bool {
        !matches!(self, FullReason::NoHistory | FullReason::Forced)
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PsyncDecision {
    /// Continue from `from` (send the backlog from there).
    Continue {
        /// First byte to send.
        from: u64,
    },
    /// A full resync is needed.
    FullResync(FullReason),
}

/// Decides between a partial and a full resync.
pub fn decide(view: &PsyncView, req: &PsyncRequest) -> PsyncDecision {
    if req.replid == "?" {
        return PsyncDecision::FullResync(FullReason::NoHistory);
    }
    let same = req.replid.eq_ignore_ascii_case(view.replid);
    let previous = req.replid.eq_ignore_ascii_case(view.replid2);
    if !same {
        if !previous {
            return PsyncDecision::FullResync(FullReason::ReplidMismatch);
        }
        if req.offset > view.second_offset {
            return PsyncDecision::FullResync(FullReason::PastSecondOffset);
        }
    }
    if !view.backlog_active {
        return PsyncDecision::FullResync(FullReason::NoBacklog);
    }
    if req.offset < view.first_byte as i64 || req.offset > view.end as i64 + 1 {
        return PsyncDecision::FullResync(FullReason::OffsetOutOfRange);
    }
    PsyncDecision::Continue {
        from: req.offset as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_have_distinct_codes_and_indexes() {
        let codes: std::collections::HashSet<&str> =
            FullReason::ALL.iter().map(FullReason::code).collect();
        assert_eq!(codes.len(), FullReason::ALL.len());
        for (i, r) in FullReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }

    const ID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OLD: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn view() -> PsyncView<'static> {
        PsyncView {
            replid: ID,
            replid2: OLD,
            second_offset: 101,
            backlog_active: true,
            first_byte: 50,
            end: 200,
        }
    }

    fn req(id: &str, off: i64) -> PsyncRequest {
        PsyncRequest {
            replid: id.into(),
            offset: off,
        }
    }

    #[test]
    fn partial_when_id_and_offset_fit() {
        assert_eq!(
            decide(&view(), &req(ID, 50)),
            PsyncDecision::Continue { from: 50 }
        );
        assert_eq!(
            decide(&view(), &req(ID, 201)),
            PsyncDecision::Continue { from: 201 }
        );
        assert_eq!(
            decide(&view(), &req(&ID.to_uppercase(), 100)),
            PsyncDecision::Continue { from: 100 }
        );
    }

    #[test]
    fn previous_id_up_to_second_offset() {
        assert_eq!(
            decide(&view(), &req(OLD, 101)),
            PsyncDecision::Continue { from: 101 }
        );
        assert_eq!(
            decide(&view(), &req(OLD, 102)),
            PsyncDecision::FullResync(FullReason::PastSecondOffset)
        );
    }

    #[test]
    fn full_otherwise() {
        assert_eq!(
            decide(&view(), &req("?", -1)),
            PsyncDecision::FullResync(FullReason::NoHistory)
        );
        assert_eq!(
            decide(&view(), &req("c", 60)),
            PsyncDecision::FullResync(FullReason::ReplidMismatch)
        );
        assert_eq!(
            decide(&view(), &req(ID, 49)),
            PsyncDecision::FullResync(FullReason::OffsetOutOfRange)
        );
        assert_eq!(
            decide(&view(), &req(ID, 202)),
            PsyncDecision::FullResync(FullReason::OffsetOutOfRange)
        );
        let none = PsyncView {
            backlog_active: false,
            ..view()
        };
        assert_eq!(
            decide(&none, &req(ID, 60)),
            PsyncDecision::FullResync(FullReason::NoBacklog)
        );
        assert!(!FullReason::NoHistory.counts_as_partial_error());
        assert!(FullReason::ReplidMismatch.counts_as_partial_error());
    }
}
