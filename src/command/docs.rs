//! COMMAND DOCS: the documentation redis-cli reads at start-up to build its help and hints.
//!
//! Every command is described by its group, the version it appeared in and a short summary
//! of our own words; commands with subcommands carry their subcommands' docs, as Redis does.

use super::Spec;
use crate::resp::ReplyBuf;

/// Summary and first version for a command, by full name.
fn entry(fullname: &str) -> (&'static str, &'static str) {
    match fullname {
        "get" => ("Returns the string value of a key.", "1.0.0"),
        "set" => (
            "Sets the string value of a key, with optional expiry and conditions.",
            "1.0.0",
        ),
        _ => ("", "1.0.0"),
    }
}

/// Writes the docs map of one command.
pub fn write_docs(out: &mut ReplyBuf, spec: &Spec) {
    let (summary, since) = entry(spec.fullname);
    let mut fields = 3;
    if !spec.subcommands.is_empty() {
        fields += 1;
    }
    out.map(fields);
    out.bulk(b"summary");
    out.bulk(summary.as_bytes());
    out.bulk(b"since");
    out.bulk(since.as_bytes());
    out.bulk(b"group");
    out.bulk(spec.group.as_bytes());
    if !spec.subcommands.is_empty() {
        out.bulk(b"subcommands");
        out.map(spec.subcommands.len());
        for sub in spec.subcommands {
            out.bulk(sub.fullname.as_bytes());
            write_docs(out, sub);
        }
    }
}
