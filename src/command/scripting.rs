//! Scripting commands: EVAL / EVALSHA (and their `_RO` forms), SCRIPT, FCALL / FCALL_RO and
//! FUNCTION, as Redis 7.0 has them.
//!
//! A script runs inside its caller's command, under the engine lock, so it is atomic; the
//! commands it sends go through [`call`] like a client's (statistics, keyspace events,
//! propagation). What a script wrote reaches replicas as those commands (wrapped in
//! MULTI/EXEC when there are several), never as the script: Redis 7.0's effects replication.

use std::sync::Arc;

use bytes::Bytes;

use super::call::{call, feed_monitors};
use super::ctx::{Action, CallMode, Ctx};
use super::error::{self, CmdError, CmdResult};
use super::flags::*;
use super::reply::help_reply;
use super::{cmd, container, subcmd, Spec};
use crate::resp::{Proto, ReplyBuf};
use crate::scripting::control::{write_function_stats, KillOutcome, RunControl, RunningScript};
use crate::scripting::convert::{lua_to_reply, ReplyRules};
use crate::scripting::debugger::Console;
use crate::scripting::functions::{RestorePolicy, LOAD_TIMEOUT_MS};
use crate::scripting::shebang::ScriptFlags;
use crate::scripting::vm::{Host, Outcome, ScriptVm};

const NOSCRIPT_REPLY: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// The commands a script sends, run as the script's own client would run them (Redis's
/// `scriptCall`).
struct ScriptHost<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    control: Arc<RunControl>,
    /// The script chose RESP3 with `redis.setresp(3)`.
    resp3: bool,
    /// `redis.set_repl` flags: bit 1 = AOF, bit 2 = replicas.
    repl: u8,
    /// EVAL_RO / FCALL_RO, or a `no-writes` script.
    read_only: bool,
    /// A write command ran (later writes skip the state checks: the script cannot stop
    /// half way).
    wrote: bool,
    /// Memory was over `maxmemory` when the script started and the script did not declare
    /// `allow-oom`: commands that add data are refused until the script has written.
    deny_oom: bool,
}

impl ScriptHost<'_, '_> {
    /// Why the command may not run now; `None` when it may.
    fn refusal(&self, spec: &'static Spec) -> Option<String> {
        let engine = &*self.ctx.engine;
        let settings = &engine.settings;
        if spec.has(NOSCRIPT) && !engine.scripts.noscript_allowed {
            return Some("This Redis command is not allowed from script".into());
        }
        let stale = engine.is_replica && !engine.link_up && !settings.replica_serve_stale_data;
        if stale && !spec.has(STALE) {
            return Some("Can not execute the command on a stale replica".into());
        }
        if self.read_only && spec.has(WRITE | MAY_REPLICATE) {
            return Some("Write commands are not allowed from read-only scripts.".into());
        }
        if self.deny_oom && !self.wrote && spec.has(DENYOOM) && !self.ctx.session.is_master_link {
            return Some(format!("-{}", error::OOM));
        }
        if !spec.has(WRITE) || self.wrote {
            return None;
        }
        if engine.is_replica && settings.replica_read_only && !self.ctx.session.is_master_link {
            return Some(format!("-{}", error::READONLY));
        }
        if crate::engine::persistence::writes_denied(engine) {
            return Some(format!("-{}", error::MISCONF));
        }
        if !engines_replicas_good(self.ctx) {
            return Some(format!("-{}", error::NOREPLICAS));
        }
        None
    }
}

/// False when `min-replicas-to-write` is not met (a master only).
fn engines_replicas_good(ctx: &Ctx) -> bool {
    let s = &ctx.engine.settings;
    if ctx.engine.is_replica || s.min_replicas_to_write == 0 || s.min_replicas_max_lag == 0 {
        return true;
    }
    let good = ctx.state.repl.replicas.good_count(s.min_replicas_max_lag);
    good as u64 >= s.min_replicas_to_write
}

impl Host for ScriptHost<'_, '_> {
    fn call(&mut self, argv: Vec<Bytes>) -> Result<Vec<u8>, String> {
        let spec = match self.ctx.table.resolve(&argv) {
            Ok(spec) if spec.arity_ok(argv.len()) => spec,
            Ok(_) | Err((Some(_), CmdError::WrongArity(_))) => {
                return Err("Wrong number of args calling Redis command from script".into())
            }
            Err(_) => return Err("Unknown Redis command called from script".into()),
        };
        if let Some(denied) = super::permissions::denial(
            self.ctx.table,
            self.ctx.engine,
            self.ctx.session,
            spec,
            &argv,
            "lua",
        ) {
            let text = format!(
                "The user executing the script {}",
                super::permissions::script_text(denied)
            );
            let stats = &mut self.ctx.engine.stats;
            stats.count_error(format!("ERR {text}").as_bytes());
            stats.count_rejected(spec.fullname);
            return Err(text);
        }
        if let Some(refusal) = self.refusal(spec) {
            // Counted under its code: `-CODE text`, or ERR for a bare message.
            let counted = match refusal.strip_prefix('-') {
                Some(coded) => coded.to_string(),
                None => format!("ERR {refusal}"),
            };
            let stats = &mut self.ctx.engine.stats;
            stats.count_error(counted.as_bytes());
            stats.count_rejected(spec.fullname);
            return Err(refusal);
        }
        if spec.has(WRITE) {
            self.wrote = true;
            self.control.mark_wrote();
        }
        let proto = if self.resp3 {
            Proto::Resp3
        } else {
            Proto::Resp2
        };
        let caller_proto = std::mem::replace(&mut self.ctx.session.proto, proto);
        let mut out = ReplyBuf::new(proto);
        let mark = self.ctx.engine.propagation_mark();
        let _ = call(
            self.ctx.state,
            self.ctx.engine,
            self.ctx.session,
            self.ctx.table,
            spec,
            &argv,
            &mut out,
            CallMode::Script,
        );
        if self.repl != 3 {
            let targets = crate::engine::Targets {
                repl: self.repl & 2 != 0,
                aof: self.repl & 1 != 0,
            };
            self.ctx.engine.limit_propagation_since(mark, targets);
        }
        // A script that reads makes its caller track every key it declared (Redis 7.0).
        if spec.has(READONLY) {
            super::call::remember_reads(
                self.ctx.engine,
                self.ctx.session,
                self.ctx.spec,
                self.ctx.argv,
            );
        }
        self.ctx.session.proto = caller_proto;
        Ok(out.buf)
    }

    fn set_resp(&mut self, resp3: bool) {
        self.resp3 = resp3;
    }

    fn set_repl(&mut self, flags: u8) {
        self.repl = flags;
    }

    fn acl_check_cmd(&self, argv: &[Bytes]) -> Option<bool> {
        let spec = self.ctx.table.resolve(argv).ok()?;
        Some(super::permissions::allowed(
            self.ctx.table,
            self.ctx.engine,
            self.ctx.session,
            spec,
            argv,
        ))
    }
}

/// `numkeys` of EVAL / FCALL, checked against the arguments given.
fn parse_numkeys(ctx: &Ctx, bad_number: &'static str) -> Result<usize, CmdError> {
    let n = crate::resp::parser::parse_i64(ctx.arg(2)).ok_or(CmdError::Fixed(bad_number))?;
    if n > (ctx.argv.len() - 3) as i64 {
        return Err(CmdError::Fixed(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(CmdError::Fixed("ERR Number of keys can't be negative"));
    }
    Ok(n as usize)
}

/// Redis's `scriptPrepareForRun`: the checks a script passes before it starts, from its
/// declared flags (a script without a shebang is checked command by command instead).
///
/// Redis makes a script's declared flags the command's own flags, so a client's EVAL or
/// FCALL meets most of these refusals at the command gate, with the gate's texts; inside
/// EXEC the script's own texts apply. Both are reproduced.
fn check_before_run(ctx: &Ctx, flags: ScriptFlags, ro: bool) -> CmdResult {
    let engine = &*ctx.engine;
    let settings = &engine.settings;
    let at_gate = ctx.mode == CallMode::Normal;
    let stale = engine.is_replica && !engine.link_up && !settings.replica_serve_stale_data;
    if flags.compat {
        if stale {
            return Err(CmdError::Fixed(error::MASTERDOWN));
        }
        return Ok(());
    }
    if stale && !flags.allow_stale {
        return Err(CmdError::Fixed(if at_gate {
            error::MASTERDOWN
        } else {
            "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script."
        }));
    }
    if !flags.no_writes {
        if engine.is_replica && settings.replica_read_only && !ctx.session.is_master_link {
            return Err(CmdError::Fixed(if at_gate {
                error::READONLY
            } else {
                "READONLY Can not run script with write flag on readonly replica"
            }));
        }
        if crate::engine::persistence::writes_denied(engine) && !ctx.session.is_master_link {
            return Err(CmdError::Fixed(if at_gate {
                error::MISCONF
            } else {
                "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
            }));
        }
        if ro {
            return Err(CmdError::Fixed(
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
        if !engines_replicas_good(ctx) {
            return Err(CmdError::Fixed(error::NOREPLICAS));
        }
    }
    Ok(())
}

/// What one script run needs.
struct Run<'a> {
    vm: ScriptVm,
    function: mlua::Function,
    /// How errors name the script: its SHA-1 or the function's name.
    name: &'a str,
    eval_mode: bool,
    flags: ScriptFlags,
    ro: bool,
    numkeys: usize,
    /// SCRIPT DEBUG SYNC: the client's connection, for the debugger to talk over.
    debugger: Option<Box<dyn Console>>,
}

/// Runs a script for the current command and writes its reply.
fn run_script(ctx: &mut Ctx, run: Run) -> CmdResult {
    check_before_run(ctx, run.flags, run.ro)?;
    let control = ctx.engine.scripts.control.clone();
    let threshold = ctx.engine.settings.busy_reply_threshold;
    let functions = &ctx.engine.scripts.functions;
    let running = RunningScript {
        name: run.name.to_string(),
        command: ctx.argv.to_vec(),
        libraries: functions.libraries().count(),
        functions: functions.function_count(),
    };
    control.begin(
        running,
        run.eval_mode,
        ctx.session.is_master_link,
        threshold,
    );
    ctx.engine.frozen_now_ms = Some(ctx.now);
    let ctx_argv = ctx.argv;
    let keys = &ctx_argv[3..3 + run.numkeys];
    let args = &ctx_argv[3 + run.numkeys..];
    let db = ctx.session.db;
    let deny_oom = (run.flags.compat || !run.flags.allow_oom)
        && ctx.engine.settings.maxmemory > 0
        && crate::engine::eviction::perform(ctx.state, ctx.engine)
            != crate::engine::eviction::Outcome::Fits;
    let mut host = ScriptHost {
        ctx,
        control: control.clone(),
        resp3: false,
        repl: 3,
        read_only: run.ro || (!run.flags.compat && run.flags.no_writes),
        wrote: false,
        deny_oom,
    };
    let (outcome, console) = match run.debugger {
        Some(console) => {
            let source = &ctx_argv[1];
            run.vm.run_debugged(
                console,
                source,
                threshold,
                &run.function,
                run.name,
                keys,
                args,
                &mut host,
            )
        }
        None => (
            run.vm.run(
                &run.function,
                run.name,
                run.eval_mode,
                keys,
                args,
                &mut host,
            ),
            None,
        ),
    };
    let script_resp3 = host.resp3;
    if let Some(console) = console {
        // The connection goes back to its task, which closes it after this reply: the
        // end of a debugging session (as Redis's `ldbEndSession`).
        ctx.session.debug_console = Some(console);
        ctx.action = Action::Close;
    }
    ctx.session.db = db;
    ctx.engine.frozen_now_ms = None;
    control.end();
    match outcome {
        Outcome::Return(value) => {
            for (error, counted) in lua_to_reply(&value, ctx.out, ReplyRules { script_resp3 }) {
                if counted {
                    ctx.engine.stats.count_error(&error);
                }
                ctx.replied_error = true;
            }
            Ok(())
        }
        Outcome::Error { message, counted } => {
            if counted {
                Err(CmdError::Other(message))
            } else {
                ctx.out.error(&message);
                ctx.replied_error = true;
                Ok(())
            }
        }
    }
}

fn eval_generic(ctx: &mut Ctx, by_sha: bool, ro: bool) -> CmdResult {
    // Scripts skip the executor's MONITOR feed so that they show before the commands they
    // run, as in Redis.
    feed_monitors(ctx.engine, ctx.session, ctx.mode, ctx.argv, &[]);
    if by_sha && ctx.session.lua_debug {
        return Err(CmdError::Fixed(
            "ERR Please use EVAL instead of EVALSHA for debugging",
        ));
    }
    let numkeys = parse_numkeys(ctx, error::NOT_INTEGER)?;
    let body = ctx.argv[1].clone();
    let sha = if by_sha {
        if body.len() != 40 {
            return Err(CmdError::Fixed(NOSCRIPT_REPLY));
        }
        String::from_utf8_lossy(&body).to_ascii_lowercase()
    } else {
        crate::scripting::sha1_hex(&body)
    };
    let cache = &mut ctx.engine.scripts.eval;
    if cache.get(&sha).is_none() {
        if by_sha {
            return Err(CmdError::Fixed(NOSCRIPT_REPLY));
        }
        cache.create(&body).map_err(CmdError::Other)?;
    }
    let Some(script) = cache.get(&sha).cloned() else {
        return Err(CmdError::Fixed(NOSCRIPT_REPLY));
    };
    let vm = cache.vm();
    // Debugged when the client asked for it and its connection was lent for it.
    let debugger = ctx
        .session
        .lua_debug
        .then(|| ctx.session.debug_console.take())
        .flatten();
    run_script(
        ctx,
        Run {
            vm,
            function: script.function,
            name: &sha,
            eval_mode: true,
            flags: script.flags,
            ro,
            numkeys,
            debugger,
        },
    )
}

fn eval(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, false)
}

fn eval_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, true)
}

fn evalsha(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, false)
}

fn evalsha_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, true)
}

fn fcall_generic(ctx: &mut Ctx, ro: bool) -> CmdResult {
    feed_monitors(ctx.engine, ctx.session, ctx.mode, ctx.argv, &[]);
    let name = String::from_utf8_lossy(ctx.arg(1)).into_owned();
    let Some(function) = ctx.engine.scripts.functions.get(&name).cloned() else {
        return Err(CmdError::Fixed("ERR Function not found"));
    };
    let numkeys = parse_numkeys(ctx, "ERR Bad number of keys provided")?;
    let vm = ctx.engine.scripts.functions.vm();
    run_script(
        ctx,
        Run {
            vm,
            function: function.callback,
            name: &name,
            eval_mode: false,
            flags: function.flags,
            ro,
            numkeys,
            debugger: None,
        },
    )
}

fn fcall(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, false)
}

fn fcall_ro(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, true)
}

fn script_load(ctx: &mut Ctx) -> CmdResult {
    let body = ctx.argv[2].clone();
    let sha = ctx
        .engine
        .scripts
        .eval
        .create(&body)
        .map_err(CmdError::Other)?;
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

fn script_exists(ctx: &mut Ctx) -> CmdResult {
    ctx.out.array(ctx.argv.len() - 2);
    for sha in &ctx.argv[2..] {
        let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
        let known = ctx.engine.scripts.eval.get(&sha).is_some();
        ctx.out.int(known as i64);
    }
    Ok(())
}

/// A fresh interpreter that failed to start (memory exhausted), as an error reply.
fn interpreter_error(e: mlua::Error) -> CmdError {
    CmdError::Other(format!("ERR {e}"))
}

/// The ASYNC / SYNC argument of SCRIPT FLUSH and FUNCTION FLUSH (both free at once here).
fn flush_mode_ok(ctx: &Ctx) -> bool {
    match ctx.argv.len() {
        2 => true,
        3 => ctx.arg(2).eq_ignore_ascii_case(b"sync") || ctx.arg(2).eq_ignore_ascii_case(b"async"),
        _ => false,
    }
}

fn script_flush(ctx: &mut Ctx) -> CmdResult {
    if !flush_mode_ok(ctx) {
        return Err(CmdError::Fixed(
            "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
        ));
    }
    ctx.engine.scripts.eval.flush().map_err(interpreter_error)?;
    ctx.out.ok();
    Ok(())
}

fn kill_reply(ctx: &mut Ctx, outcome: KillOutcome) -> CmdResult {
    match outcome {
        KillOutcome::Killed => {
            ctx.out.ok();
            Ok(())
        }
        KillOutcome::Refused(text) => Err(CmdError::Fixed(text)),
    }
}

fn script_kill(ctx: &mut Ctx) -> CmdResult {
    let outcome = ctx.engine.scripts.control.request_kill(true);
    kill_reply(ctx, outcome)
}

fn script_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Print this help.",
        ],
    )
}

/// SCRIPT DEBUG YES|SYNC|NO. YES (a forked session whose writes are thrown away) needs a
/// fork, which replikv does not do: it is refused with a pointer to SYNC.
fn script_debug(ctx: &mut Ctx) -> CmdResult {
    if !ctx.out.is_empty() {
        return Err(CmdError::Fixed(
            "ERR SCRIPT DEBUG must be called outside a pipeline",
        ));
    }
    let mode = ctx.arg(2);
    if mode.eq_ignore_ascii_case(b"no") {
        ctx.session.lua_debug = false;
    } else if mode.eq_ignore_ascii_case(b"sync") {
        ctx.session.lua_debug = true;
    } else if mode.eq_ignore_ascii_case(b"yes") {
        return Err(CmdError::Fixed(
            "ERR SCRIPT DEBUG YES (a forked session that discards its writes) is not supported: replikv does not fork. Use SCRIPT DEBUG SYNC (redis-cli --ldb-sync-mode), which keeps the script's writes",
        ));
    } else {
        return Err(CmdError::Fixed("ERR Use SCRIPT DEBUG YES/SYNC/NO"));
    }
    ctx.out.ok();
    Ok(())
}

fn function_load(ctx: &mut Ctx) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < ctx.argv.len() - 1 {
        if ctx.arg(i).eq_ignore_ascii_case(b"replace") {
            replace = true;
            i += 1;
            continue;
        }
        return Err(CmdError::Other(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(ctx.arg(i))
        )));
    }
    if i >= ctx.argv.len() {
        return Err(CmdError::Fixed("ERR Function code is missing"));
    }
    let code = ctx.argv[i].clone();
    let timeout = if ctx.session.must_obey() {
        0
    } else {
        LOAD_TIMEOUT_MS
    };
    let name = ctx
        .engine
        .scripts
        .functions
        .load(&code, replace, timeout)
        .map_err(CmdError::Other)?;
    ctx.dirty += 1;
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

fn function_delete(ctx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    if !ctx.engine.scripts.functions.delete(&name) {
        return Err(CmdError::Fixed("ERR Library not found"));
    }
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn function_flush(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(CmdError::Fixed(
            "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.",
        ));
    }
    if !flush_mode_ok(ctx) {
        return Err(CmdError::Fixed(
            "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    ctx.engine
        .scripts
        .functions
        .flush()
        .map_err(interpreter_error)?;
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn function_list(ctx: &mut Ctx) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<Bytes> = None;
    let mut i = 2;
    while i < ctx.argv.len() {
        let arg = ctx.arg(i);
        if !with_code && arg.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && arg.eq_ignore_ascii_case(b"libraryname") {
            if i >= ctx.argv.len() - 1 {
                return Err(CmdError::Fixed("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(ctx.argv[i].clone());
        } else {
            return Err(CmdError::Other(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(arg)
            )));
        }
        i += 1;
    }
    let libraries: Vec<_> = ctx
        .engine
        .scripts
        .functions
        .libraries()
        .filter(|l| {
            pattern
                .as_ref()
                .is_none_or(|p| crate::glob::matches(p, l.name.as_bytes(), true))
        })
        .cloned()
        .collect();
    let out = &mut *ctx.out;
    out.array(libraries.len());
    for library in &libraries {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(library.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(library.functions.len());
        for f in &library.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d.as_bytes()),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names = f.flags.names();
            out.set(names.len());
            for n in names {
                out.simple(n);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&library.code);
        }
    }
    Ok(())
}

fn function_stats(ctx: &mut Ctx) -> CmdResult {
    let functions = &ctx.engine.scripts.functions;
    let libraries = functions.libraries().count();
    let count = functions.function_count();
    write_function_stats(ctx.out, None, libraries, count);
    Ok(())
}

fn function_kill(ctx: &mut Ctx) -> CmdResult {
    let outcome = ctx.engine.scripts.control.request_kill(false);
    kill_reply(ctx, outcome)
}

/// FUNCTION DUMP: every library's code as RDB function records, with the DUMP footer.
fn function_dump(ctx: &mut Ctx) -> CmdResult {
    let codes = ctx.engine.scripts.functions.codes();
    let payload = crate::rdb::encode::function_dump_payload(&codes);
    ctx.out.bulk(&payload);
    Ok(())
}

fn function_restore(ctx: &mut Ctx) -> CmdResult {
    let policy = match ctx.argv.get(3) {
        None => RestorePolicy::Append,
        Some(p) if ctx.argv.len() == 4 => {
            if p.eq_ignore_ascii_case(b"append") {
                RestorePolicy::Append
            } else if p.eq_ignore_ascii_case(b"replace") {
                RestorePolicy::Replace
            } else if p.eq_ignore_ascii_case(b"flush") {
                RestorePolicy::Flush
            } else {
                return Err(CmdError::Fixed("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."));
            }
        }
        Some(_) => return Err(CmdError::Fixed(
            "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.",
        )),
    };
    let codes = crate::rdb::decode::function_dump_payload(ctx.arg(2))
        .map_err(|e| CmdError::Other(format!("ERR {e}")))?;
    ctx.engine
        .scripts
        .functions
        .restore(&codes, policy)
        .map_err(CmdError::Other)?;
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

fn function_help(ctx: &mut Ctx) -> CmdResult {
    help_reply(
        ctx,
        &[
            "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
            "HELP",
            "    Print this help.",
        ],
    )
}

static SCRIPT_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "script",
        "debug",
        3,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        script_debug
    ),
    subcmd!(
        "script",
        "exists",
        -3,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        script_exists
    ),
    subcmd!(
        "script",
        "flush",
        -2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        script_flush
    ),
    subcmd!(
        "script",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "scripting",
        script_help
    ),
    subcmd!(
        "script",
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        script_kill
    ),
    subcmd!(
        "script",
        "load",
        3,
        NOSCRIPT | STALE,
        (0, 0, 0),
        "scripting",
        script_load
    ),
];

static FUNCTION_SUBCOMMANDS: &[Spec] = &[
    subcmd!(
        "function",
        "delete",
        3,
        WRITE | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        function_delete
    ),
    subcmd!(
        "function",
        "dump",
        2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        function_dump
    ),
    subcmd!(
        "function",
        "flush",
        -2,
        WRITE | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        function_flush
    ),
    subcmd!(
        "function",
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "scripting",
        function_help
    ),
    subcmd!(
        "function",
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        function_kill
    ),
    subcmd!(
        "function",
        "list",
        -2,
        NOSCRIPT,
        (0, 0, 0),
        "scripting",
        function_list
    ),
    subcmd!(
        "function",
        "load",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        function_load
    ),
    subcmd!(
        "function",
        "restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT,
        (0, 0, 0),
        "scripting",
        function_restore
    ),
    subcmd!(
        "function",
        "stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        (0, 0, 0),
        "scripting",
        function_stats
    ),
];

/// Scripting commands.
pub static COMMANDS: &[Spec] = &[
    cmd!(
        "eval",
        -3,
        NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | MOVABLEKEYS,
        (0, 0, 0),
        "scripting",
        eval
    ),
    cmd!(
        "eval_ro",
        -3,
        NOSCRIPT | SKIP_MONITOR | STALE | READONLY | MOVABLEKEYS,
        (0, 0, 0),
        "scripting",
        eval_ro
    ),
    cmd!(
        "evalsha",
        -3,
        NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | MOVABLEKEYS,
        (0, 0, 0),
        "scripting",
        evalsha
    ),
    cmd!(
        "evalsha_ro",
        -3,
        NOSCRIPT | SKIP_MONITOR | STALE | READONLY | MOVABLEKEYS,
        (0, 0, 0),
        "scripting",
        evalsha_ro
    ),
    cmd!(
        "fcall",
        -3,
        NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | STALE | MOVABLEKEYS,
        (0, 0, 0),
        "scripting",
        fcall
    ),
    cmd!(
        "fcall_ro",
        -3,
        NOSCRIPT | SKIP_MONITOR | STALE | READONLY | MOVABLEKEYS,
        (0, 0, 0),
        "scripting",
        fcall_ro
    ),
    Spec {
        name: "script",
        fullname: "script",
        arity: -2,
        flags: 0,
        first_key: 0,
        last_key: 0,
        step: 0,
        group: "scripting",
        handler: container,
        subcommands: SCRIPT_SUBCOMMANDS,
    },
    Spec {
        name: "function",
        fullname: "function",
        arity: -2,
        flags: 0,
        first_key: 0,
        last_key: 0,
        step: 0,
        group: "scripting",
        handler: container,
        subcommands: FUNCTION_SUBCOMMANDS,
    },
];
