//! ACL users, as Redis 7.0 keeps them: each user has flags, password hashes and selectors
//! (the root one and any added with `(...)`); a selector allows commands (a bit per
//! command, first arguments for the deprecated `+cmd|arg`), key patterns with read/write
//! permissions, and channel patterns. A command runs when one selector allows all of it.
//!
//! The rules' grammar and texts, the way a user is described back (`ACL LIST`, `ACL
//! GETUSER`: `+@all`/`-@all`, then the best-fitting categories, then single commands) and the
//! ACL log follow Redis 7.0's acl.c. The engine does not know the command table: the
//! command layer hands a [`Catalog`] of command ids, names and categories to every call
//! that needs one.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// The command table as ACL rules see it: ids in table order (each container followed by
/// its subcommands), full names (`client|kill`), categories, the tree.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Full name of each id.
    pub names: Vec<&'static str>,
    /// ACL category bits of each id.
    pub categories: Vec<u32>,
    /// The container of a subcommand.
    pub parent: Vec<Option<usize>>,
    /// The subcommands of a container.
    pub children: Vec<Vec<usize>>,
    /// Commands that need no authentication (AUTH, HELLO...): never refused by rules.
    pub no_auth: Vec<bool>,
    /// Id by lower-case full name.
    pub by_name: HashMap<String, usize>,
}

/// ACL category names, in the order of their bits (Redis's order: ACL CAT, COMMAND INFO).
pub const CATEGORY_NAMES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

impl Catalog {
    /// The id of `name` (`get`, `client|kill`, case-insensitive).
    pub fn lookup(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    fn category_bit(&self, name: &str) -> Option<u32> {
        CATEGORY_NAMES
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .map(|i| 1 << i)
    }

    /// Top-level ids, each followed by its subcommands (the order rules are described in).
    fn walk(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.names.len())
            .filter(|&id| self.parent[id].is_none())
            .flat_map(move |id| std::iter::once(id).chain(self.children[id].iter().copied()))
    }
}

/// Read permission on a key pattern.
pub const PERM_READ: u8 = 1;
/// Write permission on a key pattern.
pub const PERM_WRITE: u8 = 2;
/// Both.
pub const PERM_ALL: u8 = PERM_READ | PERM_WRITE;

/// Why a rule was refused (Redis's texts, after "Error in ACL SETUSER modifier '...': ").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// ENOENT.
    UnknownName,
    /// EINVAL.
    Syntax,
    /// EEXIST.
    KeyAfterAll,
    /// EISDIR.
    ChannelAfterAll,
    /// ENODEV.
    NoSuchPassword,
    /// EBADMSG.
    BadHash,
    /// ECHILD.
    FirstArgOfSubcommand,
}

impl RuleError {
    /// Redis's message.
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// What a selector allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// Every key (`allkeys`, `~*`).
    pub allkeys: bool,
    /// Every channel (`allchannels`, `&*`).
    pub allchannels: bool,
    /// Every command (`allcommands`, `+@all`), until a command is removed.
    pub allcommands: bool,
    /// Set by `+@all` and cleared only by `-@all`: the rules are described from `+@all`.
    pub future_commands: bool,
    /// A bit per command id (ids past its end have the value `rest`).
    pub commands: Vec<u64>,
    /// The bit of every id past `commands` (set by `+@all`, cleared by `-@all`).
    pub rest: bool,
    /// Allowed first arguments of otherwise refused commands (`+select|0`).
    pub first_args: BTreeMap<usize, Vec<String>>,
    /// Key patterns and their permissions, in the order given.
    pub keys: Vec<(Vec<u8>, u8)>,
    /// Channel patterns, in the order given.
    pub channels: Vec<Vec<u8>>,
}

impl Selector {
    fn new(allchannels_default: bool) -> Selector {
        Selector {
            allchannels: allchannels_default,
            ..Selector::default()
        }
    }

    /// True when command `id`'s bit is set.
    pub fn allows_bit(&self, id: usize) -> bool {
        self.commands
            .get(id / 64)
            .map_or(self.rest, |w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if self.commands.len() <= id / 64 {
            let fill = if self.rest { u64::MAX } else { 0 };
            self.commands.resize(id / 64 + 1, fill);
        }
        if on {
            self.commands[id / 64] |= 1 << (id % 64);
        } else {
            self.commands[id / 64] &= !(1 << (id % 64));
            self.allcommands = false;
        }
    }

    fn set_all(&mut self, on: bool) {
        self.commands.clear();
        self.rest = on;
        self.allcommands = on;
        self.future_commands = on;
        self.first_args.clear();
    }

    /// Redis's `ACLChangeSelectorPerm`: a command and all its subcommands.
    fn change(&mut self, cat: &Catalog, id: usize, on: bool) {
        self.set_bit(id, on);
        self.first_args.remove(&id);
        for &sub in &cat.children[id] {
            self.set_bit(sub, on);
        }
    }

    fn change_category(&mut self, cat: &Catalog, bit: u32, on: bool) {
        for id in cat.walk() {
            if cat.categories[id] & bit != 0 {
                self.change(cat, id, on);
            }
        }
    }

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    pub fn apply(&mut self, cat: &Catalog, op: &str) -> Result<(), RuleError> {
        let lower = op.to_ascii_lowercase();
        match lower.as_str() {
            "allkeys" | "~*" => {
                self.allkeys = true;
                self.keys.clear();
            }
            "resetkeys" => {
                self.allkeys = false;
                self.keys.clear();
            }
            "allchannels" | "&*" => {
                self.allchannels = true;
                self.channels.clear();
            }
            "resetchannels" => {
                self.allchannels = false;
                self.channels.clear();
            }
            "allcommands" | "+@all" => self.set_all(true),
            "nocommands" | "-@all" => self.set_all(false),
            _ => return self.apply_pattern_or_command(cat, op),
        }
        Ok(())
    }

    fn apply_pattern_or_command(&mut self, cat: &Catalog, op: &str) -> Result<(), RuleError> {
        let bytes = op.as_bytes();
        match bytes.first() {
            Some(b'~') | Some(b'%') => {
                if self.allkeys {
                    return Err(RuleError::KeyAfterAll);
                }
                let (perm, pattern) = if bytes[0] == b'%' {
                    let mut perm = 0;
                    let mut at = 1;
                    loop {
                        match bytes.get(at).map(|b| b.to_ascii_uppercase()) {
                            Some(b'R') if perm & PERM_READ == 0 => perm |= PERM_READ,
                            Some(b'W') if perm & PERM_WRITE == 0 => perm |= PERM_WRITE,
                            Some(b'~') => {
                                at += 1;
                                break;
                            }
                            _ => return Err(RuleError::Syntax),
                        }
                        at += 1;
                    }
                    (perm, &bytes[at..])
                } else {
                    (PERM_ALL, &bytes[1..])
                };
                if has_spaces(pattern) {
                    return Err(RuleError::Syntax);
                }
                match self.keys.iter_mut().find(|(p, _)| p == pattern) {
                    Some((_, f)) => *f |= perm,
                    None => self.keys.push((pattern.to_vec(), perm)),
                }
                self.allkeys = false;
            }
            Some(b'&') => {
                if self.allchannels {
                    return Err(RuleError::ChannelAfterAll);
                }
                let pattern = &bytes[1..];
                if has_spaces(pattern) {
                    return Err(RuleError::Syntax);
                }
                if !self.channels.iter().any(|p| p == pattern) {
                    self.channels.push(pattern.to_vec());
                }
                self.allchannels = false;
            }
            Some(b'+') if bytes.get(1) != Some(&b'@') => {
                let name = &op[1..];
                match name.rfind('|') {
                    None => {
                        let id = cat.lookup(name).ok_or(RuleError::UnknownName)?;
                        self.change(cat, id, true);
                    }
                    Some(bar) => {
                        let (parent, sub) = (&name[..bar], &name[bar + 1..]);
                        let id = cat.lookup(parent).ok_or(RuleError::UnknownName)?;
                        if cat.parent[id].is_some() {
                            return Err(RuleError::FirstArgOfSubcommand);
                        }
                        if sub.is_empty() {
                            return Err(RuleError::Syntax);
                        }
                        if cat.children[id].is_empty() {
                            tracing::warn!("Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{name})");
                            let args = self.first_args.entry(id).or_default();
                            if !args.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                                args.push(sub.to_string());
                            }
                        } else {
                            let sub_id = cat.lookup(name).ok_or(RuleError::UnknownName)?;
                            self.change(cat, sub_id, true);
                        }
                    }
                }
            }
            Some(b'-') if bytes.get(1) != Some(&b'@') => {
                let id = cat.lookup(&op[1..]).ok_or(RuleError::UnknownName)?;
                self.change(cat, id, false);
            }
            Some(b'+') | Some(b'-') => {
                let bit = cat.category_bit(&op[2..]).ok_or(RuleError::UnknownName)?;
                self.change_category(cat, bit, bytes[0] == b'+');
            }
            _ => return Err(RuleError::Syntax),
        }
        Ok(())
    }

    /// The command rules that rebuild this selector's bits (Redis's
    /// `ACLDescribeSelectorCommandRules`): `+@all` or `-@all`, then the categories that fit
    /// best, then single commands and first arguments.
    pub fn describe_commands(&self, cat: &Catalog) -> String {
        let mut rules = String::new();
        let additive = !self.future_commands;
        let mut fake = Selector::default();
        if additive {
            rules.push_str("-@all ");
            fake.set_all(false);
        } else {
            rules.push_str("+@all ");
            fake.set_all(true);
        }
        let mut temp = self.clone();
        let mut applied = [false; 32];
        loop {
            let mut best = None;
            let (mut min_diff, mut max_same) = (u64::MAX, 0u64);
            for (j, name) in CATEGORY_NAMES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let bit = 1u32 << j;
                let (mut on, mut off) = (0u64, 0u64);
                for id in cat.walk() {
                    if cat.categories[id] & bit != 0 {
                        if temp.allows_bit(id) {
                            on += 1;
                        } else {
                            off += 1;
                        }
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < min_diff || (diff == min_diff && same > max_same)) {
                    best = Some((j, *name));
                    min_diff = diff;
                    max_same = same;
                }
            }
            let Some((j, name)) = best else { break };
            fake.change_category(cat, 1 << j, additive);
            temp.change_category(cat, 1 << j, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(name);
            rules.push(' ');
            applied[j] = true;
        }
        for id in cat.walk() {
            let user_bit = self.allows_bit(id);
            if user_bit != fake.allows_bit(id) {
                rules.push(if user_bit { '+' } else { '-' });
                rules.push_str(cat.names[id]);
                rules.push(' ');
                fake.change(cat, id, user_bit);
            }
            if !user_bit {
                for arg in self.first_args.get(&id).into_iter().flatten() {
                    rules.push_str(&format!("+{}|{} ", cat.names[id], arg));
                }
            }
        }
        rules.pop();
        rules
    }

    /// The key patterns as rules (`~*`, or `~a %R~b`), space-separated.
    pub fn describe_keys(&self) -> String {
        if self.allkeys {
            return "~*".into();
        }
        let parts: Vec<String> = self
            .keys
            .iter()
            .map(|(p, perm)| {
                let prefix = match *perm {
                    PERM_READ => "%R~",
                    PERM_WRITE => "%W~",
                    _ => "~",
                };
                format!("{prefix}{}", String::from_utf8_lossy(p))
            })
            .collect();
        parts.join(" ")
    }

    /// The channel patterns as rules (`&*`, or `&a &b`).
    pub fn describe_channels(&self) -> String {
        if self.allchannels {
            return "&*".into();
        }
        let parts: Vec<String> = self
            .channels
            .iter()
            .map(|p| format!("&{}", String::from_utf8_lossy(p)))
            .collect();
        parts.join(" ")
    }

    /// The whole selector as rules (Redis's `ACLDescribeSelector`).
    pub fn describe(&self, cat: &Catalog) -> String {
        let mut out = String::new();
        if self.allkeys {
            out.push_str("~* ");
        } else {
            for k in self.describe_keys().split(' ').filter(|s| !s.is_empty()) {
                out.push_str(k);
                out.push(' ');
            }
        }
        if self.allchannels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for c in self
                .describe_channels()
                .split(' ')
                .filter(|s| !s.is_empty())
            {
                out.push_str(c);
                out.push(' ');
            }
        }
        out.push_str(&self.describe_commands(cat));
        out
    }

    /// True when `key` may be used with the `need` permissions (Redis's
    /// `ACLSelectorCheckKey`).
    pub fn key_allowed(&self, key: &[u8], need: u8) -> bool {
        self.allkeys
            || self
                .keys
                .iter()
                .any(|(p, perm)| perm & need == need && crate::glob::matches(p, key, false))
    }

    /// True when `channel` may be used; a pattern (PSUBSCRIBE) must be allowed literally.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.allchannels || subscription_allowed(&self.channels, channel, is_pattern)
    }
}

fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&b| b.is_ascii_whitespace() || b == 0)
}

/// The SHA-256 of a password, as lower-case hex (how users keep passwords).
pub fn hash_password(clear: &[u8]) -> String {
    Sha256::digest(clear)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The hash a password rule names: `>clear` and `<clear` hashed, `#hash` and `!hash` as
/// given (checked).
fn rule_hash(op: &str) -> Result<String, RuleError> {
    let rest = &op[1..];
    match op.as_bytes()[0] {
        b'>' | b'<' => Ok(hash_password(rest.as_bytes())),
        _ if valid_hash(rest) => Ok(rest.to_string()),
        _ => Err(RuleError::BadHash),
    }
}

fn valid_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its name.
    pub name: Vec<u8>,
    /// `on`.
    pub enabled: bool,
    /// `nopass`: any password works.
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)), `skip-sanitize-payload` (Some(false)), or neither.
    pub sanitize_payload: Option<bool>,
    /// Password hashes, in the order added.
    pub passwords: Vec<String>,
    /// The root selector first, then the added ones.
    pub selectors: Vec<Selector>,
}

impl User {
    /// A new user: off, no passwords, no permissions (Redis's `ACLCreateUser`).
    pub fn new(name: &[u8], allchannels_default: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize_payload: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(allchannels_default)],
        }
    }

    /// Applies one rule (Redis's `ACLSetUser`).
    pub fn apply(
        &mut self,
        cat: &Catalog,
        op: &str,
        allchannels_default: bool,
    ) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let lower = op.to_ascii_lowercase();
        match lower.as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "skip-sanitize-payload" => self.sanitize_payload = Some(false),
            "sanitize-payload" => self.sanitize_payload = Some(true),
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "clearselectors" => self.selectors.truncate(1),
            "reset" => {
                self.nopass = false;
                self.passwords.clear();
                let root = &mut self.selectors[0];
                root.allkeys = false;
                root.keys.clear();
                root.allchannels = allchannels_default;
                root.channels.clear();
                self.enabled = false;
                self.sanitize_payload = Some(true);
                self.selectors.truncate(1);
                self.selectors[0].set_all(false);
            }
            _ => return self.apply_other(cat, op, allchannels_default),
        }
        Ok(())
    }

    fn apply_other(
        &mut self,
        cat: &Catalog,
        op: &str,
        allchannels_default: bool,
    ) -> Result<(), RuleError> {
        let first = op.as_bytes()[0];
        match first {
            b'>' | b'#' => {
                let hash = rule_hash(op)?;
                if !self.passwords.contains(&hash) {
                    self.passwords.push(hash);
                }
                self.nopass = false;
            }
            b'<' | b'!' => {
                let hash = rule_hash(op)?;
                let at = self
                    .passwords
                    .iter()
                    .position(|p| *p == hash)
                    .ok_or(RuleError::NoSuchPassword)?;
                self.passwords.remove(at);
            }
            b'(' if op.ends_with(')') => {
                let mut selector = Selector::new(allchannels_default);
                let inner = &op[1..op.len() - 1];
                let args =
                    crate::resp::parser::split_args(inner.as_bytes()).ok_or(RuleError::Syntax)?;
                for a in args {
                    selector.apply(cat, &String::from_utf8_lossy(&a))?;
                }
                self.selectors.push(selector);
            }
            _ => self.selectors[0].apply(cat, op)?,
        }
        Ok(())
    }

    /// The flags in Redis's order (`on`/`off`, `nopass`, `skip-sanitize-payload` or
    /// `sanitize-payload`).
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut out = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            out.push("nopass");
        }
        match self.sanitize_payload {
            Some(false) => out.push("skip-sanitize-payload"),
            Some(true) => out.push("sanitize-payload"),
            None => {}
        }
        out
    }

    /// The user as ACL LIST and ACL files write it, without the `user <name> ` prefix.
    pub fn describe(&self, cat: &Catalog) -> String {
        let mut out = String::new();
        for f in self.flag_names() {
            out.push_str(f);
            out.push(' ');
        }
        for p in &self.passwords {
            out.push('#');
            out.push_str(p);
            out.push(' ');
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if i == 0 {
                out.push_str(&s.describe(cat));
            } else {
                out.push_str(&format!(" ({})", s.describe(cat)));
            }
        }
        out
    }

    /// True when `password` opens this user (in constant time per stored hash).
    pub fn password_ok(&self, password: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let hashed = hash_password(password);
        self.passwords.iter().any(|p| {
            use subtle::ConstantTimeEq;
            bool::from(p.as_bytes().ct_eq(hashed.as_bytes()))
        })
    }

    /// True when the user may do anything (the default user as shipped): the checks are
    /// skipped.
    pub fn unrestricted(&self) -> bool {
        self.selectors
            .iter()
            .any(|s| s.allcommands && s.allkeys && s.allchannels)
    }
}

/// Why the ACL refused something (the order matters: a later reason is more relevant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    /// The command (ACL_DENIED_CMD).
    Command,
    /// A key (ACL_DENIED_KEY), at this argument.
    Key(usize),
    /// Authentication (ACL_DENIED_AUTH).
    Auth,
    /// A channel (ACL_DENIED_CHANNEL), at this argument.
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(i) => (2, i),
            Denied::Auth => (3, 0),
            Denied::Channel(i) => (4, i),
        }
    }
}

/// What a command asks of the ACL: its id, keys with the permissions each needs, and
/// channels (with whether each is a pattern); built by the command layer.
#[derive(Debug, Default)]
pub struct Request<'a> {
    /// Command id in the catalog.
    pub id: usize,
    /// The command line.
    pub argv: &'a [bytes::Bytes],
    /// `(argument index, PERM_* needed)`.
    pub keys: Vec<(usize, u8)>,
    /// `(argument index, is_pattern)` of channels published or subscribed to.
    pub channels: Vec<(usize, bool)>,
}

impl User {
    /// Checks a command against every selector (Redis's `ACLCheckAllUserCommandPerm`):
    /// allowed when one selector allows all of it, else the most relevant refusal.
    pub fn check(&self, cat: &Catalog, req: &Request) -> Result<(), Denied> {
        let mut worst = Denied::Command;
        for s in &self.selectors {
            match check_selector(s, cat, req) {
                Ok(()) => return Ok(()),
                Err(d) if d.rank() > worst.rank() => worst = d,
                Err(_) => {}
            }
        }
        Err(worst)
    }
}

impl User {
    /// True when a selector that allows the command also grants `need` on every key
    /// (Redis's `ACLUserCheckCmdWithUnrestrictedKeyAccess`: SORT's BY and GET read keys
    /// no argument names).
    pub fn unrestricted_key_access(&self, cat: &Catalog, req: &Request, need: u8) -> bool {
        self.selectors.iter().any(|s| {
            check_selector(s, cat, req).is_ok()
                && (s.allkeys
                    || s.keys
                        .iter()
                        .any(|(p, perm)| perm & need == need && p.as_slice() == b"*"))
        })
    }
}

fn check_selector(s: &Selector, cat: &Catalog, req: &Request) -> Result<(), Denied> {
    if !s.allcommands && !cat.no_auth[req.id] && !s.allows_bit(req.id) {
        let idx = if cat.parent[req.id].is_some() { 2 } else { 1 };
        let ok = req.argv.get(idx).is_some_and(|arg| {
            s.first_args
                .get(&req.id)
                .is_some_and(|args| args.iter().any(|a| a.as_bytes().eq_ignore_ascii_case(arg)))
        });
        if !ok {
            return Err(Denied::Command);
        }
    }
    if !s.allkeys {
        for &(i, need) in &req.keys {
            if !s.key_allowed(&req.argv[i], need) {
                return Err(Denied::Key(i));
            }
        }
    }
    if !s.allchannels {
        for &(i, is_pattern) in &req.channels {
            if !s.channel_allowed(&req.argv[i], is_pattern) {
                return Err(Denied::Channel(i));
            }
        }
    }
    Ok(())
}

/// An entry of the ACL log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// Times it happened (grouped within a minute).
    pub count: u64,
    /// `command`, `key`, `channel`, `auth`.
    pub reason: &'static str,
    /// `toplevel`, `multi`, `lua`.
    pub context: &'static str,
    /// The command, key, channel, or AUTH as typed.
    pub object: Vec<u8>,
    /// The user.
    pub username: Vec<u8>,
    /// Unix ms of the latest occurrence.
    pub at_ms: i64,
    /// The client's CLIENT LIST line.
    pub client_info: String,
}

/// The default user's state that accepting a connection needs, published outside the
/// engine lock (see `EngineLock::default_user`).
#[derive(Debug)]
pub struct DefaultUserAccess {
    /// On and `nopass`: a new connection starts authenticated.
    open: AtomicBool,
    /// `nopass` (protected mode admits non-local peers only without it).
    nopass: AtomicBool,
    /// The `Users::epoch` last published, so that an unchanged user list costs one
    /// comparison per release of the engine lock.
    epoch: AtomicU64,
}

impl Default for DefaultUserAccess {
    fn default() -> Self {
        DefaultUserAccess {
            open: AtomicBool::new(false),
            nopass: AtomicBool::new(false),
            epoch: AtomicU64::new(u64::MAX),
        }
    }
}

impl DefaultUserAccess {
    /// Records what `users` says of the default user now, when it changed since the
    /// last call.
    pub fn publish(&self, users: &Users) {
        if self.epoch.load(Ordering::Relaxed) == users.epoch {
            return;
        }
        self.open.store(users.default_is_open(), Ordering::Relaxed);
        self.nopass
            .store(users.default_has_nopass(), Ordering::Relaxed);
        self.epoch.store(users.epoch, Ordering::Relaxed);
    }

    /// True when the default user needs no password (new connections start authenticated).
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    /// True when the default user is `nopass`.
    pub fn has_nopass(&self) -> bool {
        self.nopass.load(Ordering::Relaxed)
    }
}

/// Every user, the default one included, and the ACL log.
#[derive(Debug)]
pub struct Users {
    /// By name, in byte order (ACL LIST, ACL USERS).
    pub users: BTreeMap<Vec<u8>, User>,
    /// Newest first.
    pub log: VecDeque<LogEntry>,
    /// Bumped on every change: sessions re-read their user when it moved.
    pub epoch: u64,
}

impl Default for Users {
    fn default() -> Self {
        Users::new()
    }
}

impl Users {
    /// Only the default user: on, no password, every key, channel and command.
    pub fn new() -> Users {
        let cat = Catalog::default();
        let mut default = User::new(b"default", false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = default.apply(&cat, op, false);
        }
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), default);
        Users {
            users,
            log: VecDeque::new(),
            epoch: 0,
        }
    }

    /// `requirepass`: the default user's only password, or `nopass` when empty.
    pub fn set_default_password(&mut self, password: &str) {
        let cat = Catalog::default();
        if let Some(u) = self.users.get_mut(&b"default"[..]) {
            let _ = u.apply(&cat, "resetpass", false);
            if password.is_empty() {
                let _ = u.apply(&cat, "nopass", false);
            } else {
                let _ = u.apply(&cat, &format!(">{password}"), false);
            }
        }
        self.epoch += 1;
    }

    /// ACL SETUSER: applies `rules` to a copy of the user (a new one when missing) and
    /// keeps it only if every rule applied. Errors are Redis's full texts.
    pub fn set_user(
        &mut self,
        cat: &Catalog,
        name: &[u8],
        rules: &[String],
        allchannels_default: bool,
    ) -> Result<(), String> {
        let merged = merge_selector_args(rules)?;
        let mut user = self
            .users
            .get(name)
            .cloned()
            .unwrap_or_else(|| User::new(name, allchannels_default));
        for op in &merged {
            user.apply(cat, op, allchannels_default)
                .map_err(|e| format!("Error in ACL SETUSER modifier '{op}': {}", e.text()))?;
        }
        self.users.insert(name.to_vec(), user);
        self.epoch += 1;
        Ok(())
    }

    /// Adds an entry to the log, grouping it with a recent identical one (Redis groups
    /// within 60 s among the 10 newest), and trims to `max_len`.
    pub fn log(&mut self, mut entry: LogEntry, max_len: usize) {
        let found = self.log.iter().take(10).position(|e| {
            e.reason == entry.reason
                && e.context == entry.context
                && (e.at_ms - entry.at_ms).abs() <= 60_000
                && e.object == entry.object
                && e.username == entry.username
        });
        if let Some(i) = found {
            let mut old = self.log.remove(i).expect("found");
            old.count += 1;
            old.at_ms = entry.at_ms;
            old.client_info = std::mem::take(&mut entry.client_info);
            self.log.push_front(old);
        } else {
            self.log.push_front(entry);
            self.log.truncate(max_len);
        }
    }
}

impl Users {
    /// AUTH's check (Redis's `ACLCheckUserCredentials`): the user exists, is on, and the
    /// password opens it.
    pub fn credentials_ok(&self, name: &[u8], password: &[u8]) -> bool {
        self.users
            .get(name)
            .is_some_and(|u| u.enabled && u.password_ok(password))
    }

    /// True when the default user has `nopass` (protected mode's test, as Redis 7.0).
    pub fn default_has_nopass(&self) -> bool {
        self.users.get(&b"default"[..]).is_some_and(|u| u.nopass)
    }

    /// True when the default user needs no password (new connections start authenticated).
    pub fn default_is_open(&self) -> bool {
        self.users
            .get(&b"default"[..])
            .is_some_and(|u| u.enabled && u.nopass)
    }
}

/// The channel patterns `new` allows, or `None` when it allows every channel: what the
/// subscribers of a user changed from `old` to `new` are checked against, when `new` lost a
/// channel `old` had (Redis's `ACLKillPubsubClientsIfNeeded`).
pub fn revoked_channels(old: &User, new: &User) -> Option<Vec<Vec<u8>>> {
    if new.selectors.iter().any(|s| s.allchannels) {
        return None;
    }
    let upcoming: Vec<Vec<u8>> = new
        .selectors
        .iter()
        .flat_map(|s| s.channels.iter().cloned())
        .collect();
    let kept = old
        .selectors
        .iter()
        .all(|s| !s.allchannels && s.channels.iter().all(|c| upcoming.contains(c)));
    (!kept).then_some(upcoming)
}

/// True when a subscription (`is_pattern` for PSUBSCRIBE) is still allowed by `allowed`.
pub fn subscription_allowed(allowed: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    allowed.iter().any(|p| {
        if is_pattern {
            p == channel
        } else {
            crate::glob::matches(p, channel, false)
        }
    })
}

/// Joins a selector given over several arguments (`(~a`, `+get)`) into one, as Redis's
/// `ACLMergeSelectorArguments`.
pub fn merge_selector_args(args: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, a) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(' ');
            sel.push_str(a);
            if a.ends_with(')') {
                out.push(open.take().expect("open").1);
            }
            continue;
        }
        if a.starts_with('(') && !a.ends_with(')') {
            open = Some((i, a.clone()));
            continue;
        }
        out.push(a.clone());
    }
    if let Some((i, _)) = open {
        return Err(format!(
            "Unmatched parenthesis in acl selector starting at '{}'.",
            args[i]
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        // get (string, read, fast), set (string, write, slow), client + client|kill (admin).
        let names = vec!["get", "set", "client", "client|kill"];
        let categories = vec![
            1 << 7 | 1 << 1 | 1 << 14,
            1 << 7 | 1 << 2 | 1 << 15,
            1 << 15,
            1 << 13 | 1 << 17 | 1 << 15,
        ];
        let mut by_name = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            by_name.insert(n.to_string(), i);
        }
        Catalog {
            names,
            categories,
            parent: vec![None, None, None, Some(2)],
            children: vec![vec![], vec![], vec![3], vec![]],
            no_auth: vec![false; 4],
            by_name,
        }
    }

    fn user(cat: &Catalog, rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        for r in rules {
            u.apply(cat, r, false).unwrap();
        }
        u
    }

    #[test]
    fn default_user_describes_as_redis() {
        let cat = catalog();
        let users = Users::new();
        assert_eq!(
            users.users[&b"default"[..]].describe(&cat),
            "on nopass ~* &* +@all"
        );
        assert_eq!(
            User::new(b"x", false).describe(&cat),
            "off resetchannels -@all"
        );
    }

    #[test]
    fn command_rules_describe_back_to_the_same_bits() {
        let cat = catalog();
        // client|kill is all of @admin here: the category fits best, as in Redis.
        let u = user(&cat, &["+@all", "-client|kill"]);
        assert_eq!(u.selectors[0].describe_commands(&cat), "+@all -@admin");
        let u = user(&cat, &["+@string"]);
        assert_eq!(u.selectors[0].describe_commands(&cat), "-@all +@string");
        let u = user(&cat, &["+get", "+set|x"]);
        assert_eq!(
            u.selectors[0].describe_commands(&cat),
            "-@all +@read +set|x"
        );
    }

    #[test]
    fn keys_need_the_permission_the_pattern_grants() {
        let cat = catalog();
        let u = user(&cat, &["%R~r*", "%W~w*", "~a*"]);
        let s = &u.selectors[0];
        assert!(s.key_allowed(b"r1", PERM_READ));
        assert!(!s.key_allowed(b"r1", PERM_WRITE));
        assert!(s.key_allowed(b"w1", PERM_WRITE));
        assert!(s.key_allowed(b"a1", PERM_ALL));
        assert_eq!(s.describe_keys(), "%R~r* %W~w* ~a*");
        assert_eq!(
            User::new(b"u", false).apply(&cat, "%X~a", false),
            Err(RuleError::Syntax)
        );
        let mut all = user(&cat, &["allkeys"]);
        assert_eq!(all.apply(&cat, "~a", false), Err(RuleError::KeyAfterAll));
    }

    #[test]
    fn passwords_hash_and_remove() {
        let cat = catalog();
        let mut u = user(&cat, &[">secret", "on"]);
        assert!(u.password_ok(b"secret"));
        assert!(!u.password_ok(b"other"));
        assert_eq!(
            u.apply(&cat, "<other", false),
            Err(RuleError::NoSuchPassword)
        );
        u.apply(&cat, "<secret", false).unwrap();
        assert!(u.passwords.is_empty());
        assert_eq!(u.apply(&cat, "#abc", false), Err(RuleError::BadHash));
    }

    #[test]
    fn one_selector_must_allow_the_whole_command() {
        let cat = catalog();
        let mut u = user(&cat, &["+get", "~a*"]);
        u.apply(&cat, "(+set ~b*)", false).unwrap();
        let argv: Vec<bytes::Bytes> = vec!["get".into(), "b1".into()];
        let req = Request {
            id: 0,
            argv: &argv,
            keys: vec![(1, PERM_READ)],
            channels: vec![],
        };
        // get on b1: the root allows get but not b1; the selector allows b1 but not get.
        assert_eq!(u.check(&cat, &req), Err(Denied::Key(1)));
        assert_eq!(
            u.describe(&cat),
            "off ~a* resetchannels -@all +@read (~b* resetchannels -@all +@write)"
        );
    }

    #[test]
    fn selectors_split_over_arguments_are_merged() {
        let args: Vec<String> = ["on", "(~a", "+get)", ">p"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            merge_selector_args(&args).unwrap(),
            ["on", "(~a +get)", ">p"]
        );
        let bad: Vec<String> = ["(~a", "+get"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            merge_selector_args(&bad).unwrap_err(),
            "Unmatched parenthesis in acl selector starting at '(~a'."
        );
    }
}
